"""The journal survives crashes: torn lines, restarts, growth past its first block; its
name is its session's alone, and damage is found, counted and kept aside."""

from __future__ import annotations

from pathlib import Path

from station.journal import BLOCK, Journal, journal_path, parse


def test_records_survive_growth_and_a_new_reader(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.start({"session_id": "s1"})
    records = [{"scan": f"SERIAL-{i:05d}", "op": "scan", "pad": "x" * 300} for i in range(500)]
    for record in records:
        journal.append(record)
    assert (tmp_path / "j.jsonl").stat().st_size > BLOCK  # grew past its first block
    header, read = Journal(tmp_path / "j.jsonl").read()  # another process, after a crash
    assert header == {"session_id": "s1"} and read == records


def test_a_torn_last_line_is_dropped_and_a_restart_writes_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.start({"session_id": "s1"})
    journal.append({"scan": "A", "op": "scan"})
    journal.append({"scan": "B", "op": "scan"})
    journal.close()
    data = bytearray(path.read_bytes())
    end = data.index(0)
    data[end : end + 9] = b'{"scan": '  # a crash in the middle of writing a third record
    path.write_bytes(bytes(data))
    header, records = Journal(path).read()
    assert [r["scan"] for r in records] == ["A", "B"]
    # The restarted session rewrites its journal whole, then appends after it.
    again = Journal(path)
    again.start(header or {}, records)
    again.append({"scan": "C", "op": "scan"})
    assert [r["scan"] for r in Journal(path).read()[1]] == ["A", "B", "C"]


def test_clear_removes_the_journal(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.start({"session_id": "s1"})
    journal.append({"scan": "A"})
    journal.clear()
    assert Journal(tmp_path / "j.jsonl").read() == (None, [])


def test_names_that_differ_only_in_punctuation_or_case_never_share_a_file() -> None:
    names = [
        ("receive", "A-7", "PO-1"),
        ("receive", "A_7", "PO-1"),
        ("receive", "a-7", "PO-1"),
        ("receive", "A 7", "PO-1"),
        ("receive", "DOCK-1", "A-7"),
        ("receive", "DOCK-1", "A_7"),
        ("ship", "DOCK-1", "A-7"),
        ("receive", "DOCK-1-A", "7"),  # the slugs join to the same text as the next
        ("receive", "DOCK-1", "A-7-"),
    ]
    paths = [journal_path(*n) for n in names]
    assert len({p.name for p in paths}) == len(names)
    assert len({p.name.lower() for p in paths}) == len(names)  # case-insensitive disks
    assert paths[0].name.startswith("receive-A-7-PO-1-") and paths[0].suffix == ".jsonl"
    assert journal_path("ship", "S/../..", "SO-1").parent == paths[0].parent  # stays inside
    long = journal_path("receive", "S" * 300, "P" * 300)
    assert len(long.name) < 160


def _journal_bytes(*lines: bytes, padding: int = 64) -> bytes:
    return b"".join(line + b"\n" for line in lines) + bytes(padding)


HEADER = b'{"header": {"session_id": "s1"}}'
A, B, C = (f'{{"scan": "{s}", "op": "scan"}}'.encode() for s in "ABC")


def test_a_torn_last_record_is_not_damage_but_a_damaged_line_is() -> None:
    torn = parse(_journal_bytes(HEADER, A, B, padding=0) + b'{"scan": "C", "o' + bytes(9))
    assert torn.damage is None and [r["scan"] for r in torn.records] == ["A", "B"]
    torn_no_padding = parse(_journal_bytes(HEADER, A, padding=0) + b'{"scan"')
    assert torn_no_padding.damage is None and len(torn_no_padding.records) == 1

    middle = parse(_journal_bytes(HEADER, A, b'{"scan": "B", "op": "sc\xffan', B, C))
    assert middle.damage == "line 3 cannot be read" and middle.lost == 3
    assert [r["scan"] for r in middle.records] == ["A"]

    two_on_a_line = parse(_journal_bytes(HEADER, A, B + b", " + C, A))
    assert two_on_a_line.damage == "line 3 cannot be read" and two_on_a_line.lost == 2

    not_an_object = parse(_journal_bytes(HEADER, A, b"[1, 2, 3]", C))
    assert not_an_object.damage == "line 3 cannot be read" and not_an_object.lost == 2

    no_header = parse(_journal_bytes(b"garbage", A, B))
    assert no_header.header is None and no_header.lost == 2 and no_header.damage

    beyond = parse(_journal_bytes(HEADER, A) + _journal_bytes(B, C))  # zeros, then more
    assert beyond.damage == "it has data past its end" and beyond.lost == 2
    assert len(beyond.records) == 1

    empty = parse(bytes(BLOCK))
    assert empty.damage == "it holds no journal header" and empty.lost is None


def test_a_directory_or_an_unreadable_file_in_its_place_is_damage(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.mkdir()
    (path / "inside").write_text("x")
    journal = Journal(path)
    contents = journal.contents()
    assert contents.damage == "a directory is in its place" and contents.lost is None
    assert journal.read() == (None, [])
    kept = journal.keep_damaged()
    assert kept is not None and kept.name.startswith("j.jsonl.damaged-")
    assert (kept / "inside").read_text() == "x" and not path.exists()


def test_damage_is_kept_aside_and_the_file_stays_until_replaced(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    data = _journal_bytes(HEADER, A, b"{bad", B)
    path.write_bytes(data)
    journal = Journal(path)
    first, second = journal.keep_damaged(), journal.keep_damaged()
    assert first is not None and second is not None and first != second
    assert first.read_bytes() == data == second.read_bytes() == path.read_bytes()
