"""The journal survives crashes: torn lines, restarts, growth past its first block."""

from __future__ import annotations

from pathlib import Path

from station.journal import BLOCK, Journal


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
