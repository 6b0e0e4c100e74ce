"""Code 128 symbols as module patterns, for previews and for bitmap barcodes.

Bar patterns come from python-barcode's table. Its encoder only knows 7-bit text, so the
symbol values are chosen here: code set B, SHIFT for control characters, FNC4 for bytes
above 127 (a serial's UTF-8 bytes survive the trip; readers report them as bytes), and
GS1-128 (start C, FNC1, (01) GTIN and (21) serial).
"""

from __future__ import annotations

START_A, START_B, START_C = 103, 104, 105
SHIFT, CODE_B, FNC4_B, FNC1 = 98, 100, 100, 102
STOP_PATTERN = "1100011101011"
QUIET_MODULES = 10


def _byte_values(data: bytes) -> list[int]:
    """Symbol values for bytes in code set B."""
    values: list[int] = []
    for byte in data:
        if byte >= 128:
            values.append(FNC4_B)
            byte -= 128
        if byte < 32:
            values += [SHIFT, byte + 64]  # one character from code set A
        else:
            values.append(byte - 32)
    return values


def values_for(data: bytes) -> list[int]:
    """Start B, the data, checksum and nothing else (stop is a pattern of its own)."""
    return with_checksum([START_B, *_byte_values(data)])


def gs1_values(gtin: str, serial: bytes) -> list[int]:
    """GS1-128 with (01) GTIN-14 and (21) serial: start C, FNC1, digit pairs, code B."""
    digits = "01" + gtin + "21"
    pairs = [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
    return with_checksum([START_C, FNC1, *pairs, CODE_B, *_byte_values(serial)])


def with_checksum(values: list[int]) -> list[int]:
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], 1))) % 103
    return [*values, check]


def modules(values: list[int], quiet: int = QUIET_MODULES) -> str:
    """The symbol as a string of '1' (bar) and '0' (space) modules, quiet zones included."""
    from barcode.charsets.code128 import CODES  # python-barcode loads PIL: only when drawing

    return "0" * quiet + "".join(CODES[v] for v in values) + STOP_PATTERN + "0" * quiet
