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
    assert {r.kind for r in results} == {"typed"}  # "ab" may be held together (first gap)
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
    assert decoder.deadline_ms == 250  # one key pending: the first gap may be 150 ms
    assert decoder.expire(240) == []
    assert decoder.feed("y", 240) == []
    assert decoder.deadline_ms == 290  # later gaps: 50 ms
    assert decoder.expire(280) == []
    assert decoder.expire(291) == [WedgeInput("typed", "xy")]
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


def test_one_fast_key_and_enter_is_typing() -> None:
    # a fast typist: "5", then Enter 25 ms later
    assert keys(WedgeDecoder(), "5\r", 0, 25) == [WedgeInput("typed", "5\r")]


def test_a_higher_min_length_makes_short_bursts_typing() -> None:
    decoder = WedgeDecoder(min_length=4)
    assert keys(decoder, "123\r", 0, 20) == [WedgeInput("typed", "123\r")]
    assert keys(decoder, "1234\r", 1000, 20) == [WedgeInput("scan", "1234")]


def slow_first_key(decoder: WedgeDecoder, first_gap: float) -> list[WedgeInput]:
    """A scanner that pauses after its first key: S, then N12345 and Enter 5 ms apart."""
    return decoder.feed("S", 0) + keys(decoder, "N12345\r", first_gap, 5)


def test_a_scan_whose_first_key_is_slow_stays_one_scan() -> None:
    decoder = WedgeDecoder()
    assert slow_first_key(decoder, 80) == [WedgeInput("scan", "SN12345")]
    assert slow_first_key(decoder, 150) == [WedgeInput("scan", "SN12345")]


def test_the_first_gap_allowance_has_a_limit_and_only_covers_the_first_gap() -> None:
    assert slow_first_key(WedgeDecoder(), 200) == [
        WedgeInput("typed", "S"),
        WedgeInput("scan", "N12345"),
    ]
    assert slow_first_key(WedgeDecoder(first_gap_ms=50), 80) == [
        WedgeInput("typed", "S"),
        WedgeInput("scan", "N12345"),
    ]
    # an 80 ms gap after the second key is still a break
    decoder = WedgeDecoder()
    results = keys(decoder, "SN", 0, 5) + keys(decoder, "12345\r", 85, 5)
    assert results == [WedgeInput("typed", "SN"), WedgeInput("scan", "12345")]


def test_the_average_leaves_out_the_first_gap() -> None:
    # first gap 140 ms, then 20 ms apart: the average over the later gaps is 20 ms
    decoder = WedgeDecoder()
    assert slow_first_key(decoder, 140) == [WedgeInput("scan", "SN12345")]
    # later gaps 40 ms each: every gap is under 50 ms but their average is over 30 ms
    decoder = WedgeDecoder()
    results = decoder.feed("S", 0) + keys(decoder, "N1234\r", 10, 40)
    assert results == [WedgeInput("typed", "SN1234\r")]


def test_a_person_typing_slowly_is_still_typing() -> None:
    decoder = WedgeDecoder()
    results = keys(decoder, "ab\r", 0, 120)  # the second key is within 150 ms
    assert "".join(r.text for r in results) == "ab\r"
    assert {r.kind for r in results} == {"typed"}
