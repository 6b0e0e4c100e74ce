"""Keyboard-wedge decoder: scanner bursts versus human typing, by key timestamps."""

from __future__ import annotations

from station.devices.wedge import WedgeDecoder, WedgeInput


def keys(decoder: WedgeDecoder, text: str, start: float, step: float) -> list[WedgeInput]:
    results: list[WedgeInput] = []
    for index, ch in enumerate(text):
        results += decoder.feed(ch, start + index * step)
    return results


def test_fast_burst_ending_in_enter_is_a_scan() -> None:
    assert keys(WedgeDecoder(), "SN-0001\r", 1000, 8) == [WedgeInput("scan", "SN-0001")]


def test_every_terminator_ends_a_scan() -> None:
    for terminator in "\r\n\t\x04":
        assert keys(WedgeDecoder(), "ABC" + terminator, 0, 5) == [WedgeInput("scan", "ABC")]


def test_gs1_with_group_separators_is_kept_inside_the_scan() -> None:
    data = "]C10109506000134352\x1d21SER1\x1d10LOT"
    assert keys(WedgeDecoder(), data + "\r", 0, 3) == [WedgeInput("scan", data)]


def test_human_typing_is_passed_through_as_typed_text() -> None:
    decoder = WedgeDecoder()
    results = keys(decoder, "abc\r", 0, 150)
    assert [r.kind for r in results] == ["typed"] * 4
    assert "".join(r.text for r in results) == "abc\r"


def test_slow_average_is_typing_even_when_no_gap_is_long() -> None:
    # every gap 45 ms (≤ 50) but the average is over 30 ms
    assert keys(WedgeDecoder(), "abcd\r", 0, 45) == [WedgeInput("typed", "abcd\r")]


def test_typing_then_a_scan_are_told_apart() -> None:
    decoder = WedgeDecoder()
    results = keys(decoder, "hi", 0, 200) + keys(decoder, "SER9\r", 1000, 4)
    assert results == [
        WedgeInput("typed", "h"),
        WedgeInput("typed", "i"),
        WedgeInput("scan", "SER9"),
    ]


def test_pending_keys_expire_as_typed_text_and_the_deadline_is_reported() -> None:
    decoder = WedgeDecoder()
    assert decoder.feed("x", 100) == []
    assert decoder.deadline_ms == 150
    assert decoder.expire(120) == []
    assert decoder.expire(151) == [WedgeInput("typed", "x")]
    assert decoder.deadline_ms is None


def test_callbacks_and_configurable_thresholds() -> None:
    scans: list[str] = []
    typed: list[str] = []
    decoder = WedgeDecoder(
        max_gap_ms=150, max_average_ms=120, on_scan=scans.append, on_typed=typed.append
    )
    keys(decoder, "SLOW1\r", 0, 100)  # a scanner with an inter-character delay
    keys(decoder, "\r", 5000, 1)  # Enter alone is typing
    assert scans == ["SLOW1"]
    assert typed == ["\r"]


def test_text_with_several_characters_in_one_event() -> None:
    assert WedgeDecoder().feed("AB12\r", 7) == [WedgeInput("scan", "AB12")]
