r"""Serial identity (SPEC §2): which text may be a serial, under the company setting
`serial_charset`, and how it is named in a message.

The key a serial is stored, checked and looked up by is `station.scanning.serial_key`,
one function for every charset. This module only says whether a text may be a serial:

- `ascii` (default): every character is printable ASCII (space to tilde), as barcodes
  carry;
- `unicode`: every character is printable and visible (a space separator counts: the key
  collapses whitespace; a variation selector, a Hangul filler or another default-ignorable
  character does not), and the text does not mix look-alike scripts ("AВC" with a
  Cyrillic В) nor is it written wholly in letters of another script that look like Latin
  ones ("АВС123" in Cyrillic). The look-alike data is Unicode's confusables table
  (UTS #39) and its script table, as shipped by the `confusable-homoglyphs` package; as
  in UTS #39, Han mixed with Hiragana and Katakana (Japanese), Hangul (Korean) or
  Bopomofo is one writing.

In both, the text and its key are at most 64 characters long (the key can grow: "㎏"
keys as "KG").

A product's serial format (its `serial_pattern`, a regular expression) is run by RE2
(the `google-re2` package), which matches in time linear in the serial whatever the
pattern: no pattern can hang a scan or a posting. The serial must match the whole
pattern (like Python's `re.fullmatch`), character by character on the serial as
scanned. RE2 has no backreferences or lookaround, and its `\d`, `\w`, `\s` and `\b`
are ASCII (write `\p{Nd}` or `\p{L}` for other scripts).
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from typing import Any

from station.scanning import serial_key, show

CHARSETS = ("ascii", "unicode")
DEFAULT_CHARSET = "ascii"
MAX_SERIAL_LENGTH = 64

_NEUTRAL = frozenset({"COMMON", "INHERITED", "Unknown"})
#: Scripts written together, so never "mixed" (UTS #39 Jpan, Kore, Hanb).
_WRITINGS = (
    frozenset({"HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"HAN", "HANGUL"}),
    frozenset({"HAN", "BOPOMOFO"}),
)


def describe(char: str) -> str:
    """One character as a message names it: 'Ａ' (U+FF21 FULLWIDTH LATIN CAPITAL LETTER A)."""
    name = unicodedata.name(char, "unnamed character")
    shown = show(char) if _printable(char) else char.encode("unicode_escape").decode("ascii")
    return f"'{shown}' (U+{ord(char):04X} {name})"


def serial_problem(serial: str, charset: str) -> str | None:
    """Why `serial` cannot be a serial under `charset`, or None when it can. The reason
    names the serial and the first offending character."""
    if not serial.strip():
        return "The serial is empty."
    if serial.isascii() and serial.isprintable():  # the common case, at C speed
        if len(serial) > MAX_SERIAL_LENGTH:
            return _too_long(serial, len(serial))
        return None
    if charset == "unicode":
        bad = next((c for c in serial if not _printable(c)), None)
    else:
        bad = next((c for c in serial if not " " <= c <= "~"), None)
    if bad is not None:
        rule = (
            "serials are printable, with no invisible characters"
            if charset == "unicode"
            else "serials are printable ASCII (serial_charset = ascii)"
        )
        return f"Serial {show(serial)} has {describe(bad)}: {rule}."
    if len(serial) > MAX_SERIAL_LENGTH:
        return _too_long(serial, len(serial))
    key = serial_key(serial)
    if len(key) > MAX_SERIAL_LENGTH:
        return _too_long(serial, len(key), " once normalized")
    return look_alike_problem(serial)


#: The longest serial format (a product's `serial_pattern`), as the ledger stores it.
MAX_FORMAT_LENGTH = 400
#: The memory RE2 may use for one compiled format (its program and match cache): a
#: serial format that needs more is refused when it is imported, not found at a scan.
#: `\p{L}{1,64}` fits; a serial is at most 64 characters, so `\p{L}+` says the same.
FORMAT_MEMORY = 2 << 20


def format_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be a product's serial format, or None when it can."""
    return _compiled(pattern)[1]


def fits_format(serial: str, pattern: str) -> bool:
    """True when the whole of `serial` matches the serial format `pattern`. A ValueError
    says why the pattern cannot be used (see `format_problem`)."""
    return serial_format(pattern).fullmatch(serial) is not None


def serial_format(pattern: str) -> Any:
    """`pattern` compiled by RE2; a ValueError says why it cannot be a serial format: too
    long, control characters, or not in RE2's syntax (backreferences, lookaround,
    repetitions over 1000, a program over FORMAT_MEMORY)."""
    compiled, problem = _compiled(pattern)
    if problem is not None:
        raise ValueError(problem)
    return compiled


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> tuple[Any, str | None]:
    """RE2's program for `pattern` or why there is none, once per pattern (a refusal
    too: compiling a large pattern takes tens of milliseconds)."""
    if len(pattern) > MAX_FORMAT_LENGTH:
        return None, f"is longer than {MAX_FORMAT_LENGTH} characters"
    if not pattern.isprintable():
        return None, "holds control characters"
    import re2  # on the first pattern: most commands never need it

    options = re2.Options()
    options.log_errors = False  # RE2 would write to the process's stderr
    options.max_mem = FORMAT_MEMORY
    try:
        return re2.compile(pattern, options), None
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return None, (
            f"is not a regular expression Station can run ({reason}): serial formats use"
            " RE2 syntax, without backreferences or lookaround"
        )


def _too_long(serial: str, size: int, how: str = "") -> str:
    return f"Serial {show(serial)} is {size} characters long{how} (at most {MAX_SERIAL_LENGTH})."


#: Default-ignorable code points (Unicode DerivedCoreProperties) that Python counts as
#: printable: variation selectors, the combining grapheme joiner, Hangul fillers, … They
#: show nothing, so "AB-1" and "AB-1" + U+FE0F would be two units for one label. The
#: braille blank looks like a space but is no whitespace.
_INVISIBLE = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def _printable(char: str) -> bool:
    if any(low <= ord(char) <= high for low, high in _INVISIBLE):
        return False
    return char.isprintable() or unicodedata.category(char) == "Zs"


def look_alike_problem(serial: str, what: str = "Serial") -> str | None:
    """Why `serial` (or a name: `what`) reads as other text: letters of one script
    that look like Latin ones, or look-alikes of different scripts mixed; None if neither."""
    # Each character with the scripts of its decomposition: an accented letter has its
    # base letter's script (Cyrillic Ӓ is А and a diaeresis).
    chars = [(c, _scripts(c)) for c in dict.fromkeys(serial)]
    chars = [(c, scripts) for c, scripts in chars if scripts]
    scripts = {s for _, own in chars for s in own}
    if len(scripts) == 1 and scripts != {"LATIN"}:
        if all(_look_alike(c, {"LATIN"}) for c, _ in chars):
            return (
                f"{what} {show(serial)} is written in {next(iter(scripts)).title()} letters"
                " that look like Latin ones: scan the label's Latin serial."
            )
        return None
    if _one_writing(scripts):
        return None
    for char, own in sorted(chars, key=lambda pair: "LATIN" in pair[1]):
        others = {s for s in scripts | {"LATIN"} if not any(_one_writing({o, s}) for o in own)}
        like = _look_alike(char, others)
        if like is not None:
            return (
                f"{what} {show(serial)} mixes look-alike scripts"
                f" ({', '.join(sorted(s.title() for s in scripts))}): {describe(char)}"
                f" looks like a {like.title()} letter."
            )
    return None


@cache
def _scripts(char: str) -> frozenset[str]:
    """The scripts of a character's compatibility decomposition, neutral ones left out."""
    from confusable_homoglyphs import categories

    parts = unicodedata.normalize("NFKD", char)
    return frozenset(categories.alias(part) for part in parts) - _NEUTRAL


def _one_writing(scripts: set[str]) -> bool:
    return len(scripts) <= 1 or any(scripts <= writing for writing in _WRITINGS)


def _look_alike(char: str, scripts: set[str]) -> str | None:
    """The first of `scripts` (Latin first) holding a look-alike of `char` (a UTS #39
    confusable), or None."""
    for script in sorted(scripts, key=lambda s: (s != "LATIN", s)):
        if _confusable_with(char, script):
            return script
    return None


@cache
def _confusable_with(char: str, script: str) -> bool:
    from confusable_homoglyphs import confusables

    parts = unicodedata.normalize("NFKD", char)
    return any(confusables.is_confusable(part, preferred_aliases=[script]) for part in parts)
