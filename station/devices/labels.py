"""Serial labels and packing slips: ZPL from the templates in `station/resources/labels/`, ESC/POS
through python-escpos's Dummy printer, and a PNG preview rendered from the ZPL itself.

Every field value is escaped. Text fields use `^FH` hex escapes (`_`, `^`, `~`, `\\`,
control characters and every non-ASCII UTF-8 byte become `_XX`; `^CI28` makes the printer
read the bytes as UTF-8). Code 128 data uses the ZPL invocation codes of `^BC` in no-mode:
`>0` for `>`, `><` for `^`, `>=` for `~`, `>1` for DEL, `>4` (SHIFT) before a control
character and `>6` (FNC4) before each byte above 127, so a serial's exact UTF-8 bytes are
in the symbol. A serial such as `AB^XA~JR` prints as exactly those characters and the
label has one `^XA` and one `^XZ` whatever the data.

The preview (`render_zpl_png`) draws the ZPL that would be sent, so it shows the same
layout; it understands the subset of ZPL these templates use.

Templates are package data (`station.resources`, read with `importlib.resources`, so a
wheel carries them); `STATION_LABELS_DIR` points at a folder of the site's own. A template
that cannot be read or filled is refused with `LABEL_TEMPLATE_MISSING` or
`LABEL_TEMPLATE_INVALID`, naming it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from string import Template
from typing import TYPE_CHECKING

from station import resources
from station.codes import Code, StationError
from station.devices import code128

if TYPE_CHECKING:  # imported by the renderers that use them: the labels' data stays light
    from escpos.printer import Dummy
    from PIL import Image, ImageFont

LABEL_WIDTH = 812  # dots: 4 in at 203 dpi
BARCODE_WIDTH = 752  # dots available for a barcode
ESCPOS_PROFILE = "TM-T88V"
_GS1_SERIAL = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")


@dataclass(frozen=True, slots=True)
class SerialLabel:
    """One unit's label: product name, SKU and serial; GS1-128 (01)+(21) with a GTIN."""

    sku: str
    name: str
    serial: str
    gtin: str | None = None

    @property
    def gs1(self) -> bool:
        """True when the label carries GS1-128: a GTIN-14 and a serial GS1 allows in (21)."""
        return bool(
            self.gtin
            and len(self.gtin) == 14
            and self.gtin.isdigit()
            and _GS1_SERIAL.match(self.serial)
        )

    @property
    def text(self) -> str:
        return f"(01){self.gtin}(21){self.serial}" if self.gs1 else self.serial


@dataclass(frozen=True, slots=True)
class SlipLine:
    sku: str
    name: str
    qty: int
    serials: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class PackingSlip:
    """A shipment's packing slip: order, customer, lines and every serial shipped."""

    order: str
    customer: str
    lines: Sequence[SlipLine]

    @property
    def units(self) -> int:
        return sum(line.qty for line in self.lines)


@cache
def _template_text(name: str, overrides: tuple[str | None, str | None]) -> str:
    found = resources.labels_folder().joinpath(name)
    try:
        return found.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as error:
        labels_dir, resources_dir = overrides
        fix = (
            "fix STATION_LABELS_DIR"
            if labels_dir
            else "fix STATION_RESOURCES_DIR"
            if resources_dir
            else "reinstall Station"
        )
        raise StationError(
            Code.LABEL_TEMPLATE_MISSING,
            f"The label template {name} cannot be read from {found}"
            f" ({getattr(error, 'strerror', None) or error}). Nothing was printed; {fix}.",
        ) from None


def template(name: str) -> str:
    """A label template's text (cached per STATION_LABELS_DIR / STATION_RESOURCES_DIR)."""
    env = os.environ
    return _template_text(name, (env.get("STATION_LABELS_DIR"), env.get("STATION_RESOURCES_DIR")))


def _fill(template_name: str, text: str, /, **values: object) -> str:
    """A template's text with its `$fields` filled (every value is escaped already)."""
    try:
        return Template(text).substitute(**values)
    except (KeyError, ValueError) as error:
        raise _invalid(template_name, f"{type(error).__name__}: {error}", values) from None


def _invalid(name: str, problem: str, values: dict[str, object] | None = None) -> StationError:
    fields = f" its fields are ${', $'.join(sorted(values))};" if values else ""
    return StationError(
        Code.LABEL_TEMPLATE_INVALID,
        f"The label template {name} cannot be used ({problem});{fields} nothing was printed.",
    )


def _ascii(name: str, zpl: str) -> bytes:
    try:
        return zpl.encode("ascii")
    except UnicodeError:
        raise _invalid(
            name, "it holds characters that are not ASCII; write them as ^FH hex"
        ) from None


def _sections(name: str, text: str) -> dict[str, str]:
    """`[head]`, `[line]`, `[serial]` and `[foot]` of a template made of sections."""
    parts = re.split(r"^\[(\w+)\]\n", text, flags=re.MULTILINE)
    found = {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}
    lacking = [part for part in ("head", "line", "serial", "foot") if part not in found]
    if lacking:
        raise _invalid(name, "it has no section " + ", ".join(f"[{p}]" for p in lacking))
    return found


# --- ZPL escaping ----------------------------------------------------------------------

_TEXT_SAFE = {c for c in range(0x20, 0x7F)} - {ord(c) for c in "_^~\\"}


def zpl_text(value: str) -> str:
    """Field data for `^FH^FD…^FS`: hex escapes for everything but plain safe ASCII."""
    return "".join(
        chr(byte) if byte in _TEXT_SAFE else f"_{byte:02X}" for byte in value.encode("utf-8")
    )


_BC_SPECIAL = {ord(">"): ">0", ord("^"): "><", ord("~"): ">=", 0x7F: ">1"}


def _zpl_code128_chars(data: bytes) -> str:
    out: list[str] = []
    for byte in data:
        if byte >= 128:
            out.append(">6")  # FNC4 in code set B: the next character + 128
            byte -= 128
        if byte < 32:
            out.append(f">4_{byte:02X}")  # SHIFT: one character from code set A
        elif byte in _BC_SPECIAL:
            out.append(_BC_SPECIAL[byte])
        elif byte in _TEXT_SAFE:
            out.append(chr(byte))
        else:
            out.append(f"_{byte:02X}")  # `_` and `\`, through ^FH
    return "".join(out)


def zpl_code128(data: str) -> str:
    """`^BC` no-mode data for Code 128 of `data` (code set B)."""
    return ">:" + _zpl_code128_chars(data.encode("utf-8"))


def zpl_gs1_128(gtin: str, serial: str) -> str:
    """`^BC` data for GS1-128: start C, FNC1, 01 + GTIN + 21, code B, the serial."""
    return ">;>801" + gtin + "21>6" + _zpl_code128_chars(serial.encode("utf-8"))


def _module_width(values: list[int]) -> int:
    width = len(code128.modules(values, quiet=0))
    return 2 if width * 2 <= BARCODE_WIDTH else 1


# --- ZPL documents ---------------------------------------------------------------------


def serial_label_zpl(label: SerialLabel) -> bytes:
    if label.gs1:
        assert label.gtin is not None
        barcode = zpl_gs1_128(label.gtin, label.serial)
        values = code128.gs1_values(label.gtin, label.serial.encode())
    else:
        barcode = zpl_code128(label.serial)
        values = code128.values_for(label.serial.encode("utf-8"))
    file = "serial_label.zpl"
    text = _fill(
        file,
        template(file),
        name=zpl_text(label.name),
        sku=zpl_text(label.sku),
        module=_module_width(values),
        barcode=barcode,
        text=zpl_text(label.text),
    )
    return _ascii(file, text)


def packing_slip_zpl(slip: PackingSlip) -> bytes:
    file = "packing_slip.zpl"
    parts = _sections(file, template(file))
    rows: list[str] = []
    y = 300
    for line in slip.lines:
        rows.append(
            _fill(
                file, parts["line"], y=y, qty=line.qty, sku=zpl_text(line.sku),
                name=zpl_text(line.name),
            )
        )  # fmt: skip
        y += 36
        for serial in line.serials:
            rows.append(_fill(file, parts["serial"], y=y, serial=zpl_text(serial)))
            y += 30
    values = code128.values_for(slip.order.encode("utf-8"))
    head = _fill(
        file,
        parts["head"],
        length=y + 60,
        order=zpl_text(slip.order),
        customer=zpl_text(slip.customer),
        module=_module_width(values),
        barcode=zpl_code128(slip.order),
    )
    foot = _fill(file, parts["foot"], y=y + 10, units=slip.units)
    return _ascii(file, head + "".join(rows) + foot)


# --- ESC/POS ---------------------------------------------------------------------------

ESC, GS = b"\x1b", b"\x1d"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def escpos_text(value: object) -> str:
    """A field value as printable ESC/POS text: every control character (below 0x20,
    DEL, and the C1 range 0x80-0x9F) becomes `?`, so no customer name, SKU or serial can
    send a command (ESC p drawer kick, GS V cut, CAN, a line feed…) to the printer."""
    return _CONTROL.sub("?", str(value))


#: Text python-escpos sends as GB18030, whole (its MagicEncode does so for these).
_GB18030 = re.compile("[\u4e00-\u9fa5]")
NO_BARCODE = "(no barcode: too long for this printer)"


def _media_width(printer: Dummy) -> int:
    """Dots the printer's profile can print across (512 for the TM-T88V)."""
    try:
        return int(printer.profile.profile_data["media"]["width"]["pixels"])
    except (KeyError, TypeError, ValueError):
        return 512


def undrawable(printer: Dummy, text: str) -> list[str]:
    """The characters of `text` that no code page of the printer's profile holds (they
    would print as `?`); python-escpos sends text with Chinese characters as GB18030."""
    if _GB18030.search(text):
        return [c for c in text if ord(c) > 0x7F and not _GB18030.match(c)]
    encoder = printer.magic.encoder
    return [c for c in text if ord(c) > 0x7F and encoder.find_suitable_encoding(c) is None]


def _drawn(printer: Dummy, value: object) -> str:
    """`escpos_text(value)` with each character the printer cannot draw written as
    `<U+XXXX>`, so a slip or a name never shows a `?` that reads as another serial."""
    text = escpos_text(value)
    for char in set(undrawable(printer, text)):
        text = text.replace(char, f"<U+{ord(char):04X}>")
    return text


def _escpos_barcode(printer: Dummy, data: bytes, *, gs1_gtin: str | None = None) -> bool:
    """Code 128 of `data`: the printer's own (GS k 73) when the data allows it and the
    symbol fits at 2 dots a module, else a bitmap at 2 or 1 dots a module; False (nothing
    written) when not even that fits the paper.

    The command is written directly: python-escpos's `barcode()` prints a notice to stdout,
    which would corrupt `station label --format escpos` output.
    """
    if gs1_gtin is not None:
        values = code128.gs1_values(gs1_gtin, data)
        digits = "01" + gs1_gtin + "21"
        pairs = bytes(int(digits[i : i + 2]) for i in range(0, len(digits), 2))
        payload = b"{C{1" + pairs + b"{B" + data
    else:
        values = code128.values_for(data)
        plain = all(0x20 <= byte < 0x7F for byte in data)
        payload = b"{B" + data.replace(b"{", b"{{") if plain else b""
    width = _media_width(printer)
    if payload and len(payload) <= 255 and len(code128.modules(values, quiet=0)) * 2 <= width:
        printer._raw(ESC + b"a\x01")  # centre
        printer._raw(GS + b"h" + bytes([80]) + GS + b"w\x02" + GS + b"H\x00")
        printer._raw(GS + b"kI" + bytes([len(payload)]) + payload)
        printer._raw(b"\n" + ESC + b"a\x00")
        return True
    pattern = code128.modules(values)
    for module in (2, 1):
        if len(pattern) * module <= width:
            printer.image(_barcode_image(pattern, module, 80), center=True)
            printer._raw(ESC + b"a\x00")
            return True
    return False


def _escpos_printer() -> Dummy:
    from escpos.printer import Dummy

    printer = Dummy(profile=ESCPOS_PROFILE)
    printer.hw("INIT")
    return printer


def serial_label_escpos(label: SerialLabel) -> bytes:
    """The label on a receipt printer. A serial with characters none of the printer's
    code pages holds is refused (`LABEL_UNPRINTABLE`): its label would show another
    serial. A serial too long for a barcode across the paper prints as text alone."""
    printer = _escpos_printer()
    text = escpos_text(label.text)
    unknown = undrawable(printer, text)
    if unknown:
        chars = " ".join(f"{c} (U+{ord(c):04X})" for c in dict.fromkeys(unknown))
        raise StationError(
            Code.LABEL_UNPRINTABLE,
            f"The serial {label.serial!r} has characters the receipt printer's code pages"
            f" ({ESCPOS_PROFILE}) cannot print: {chars}. Nothing was printed; print its"
            " label on a ZPL label printer.",
            [label.serial],
        )
    printer.set(bold=True)
    printer.textln(_drawn(printer, label.name))
    printer.set(bold=False)
    printer.textln(f"SKU: {_drawn(printer, label.sku)}")
    drawn = _escpos_barcode(
        printer, label.serial.encode("utf-8"), gs1_gtin=label.gtin if label.gs1 else None
    )
    printer.textln(text)
    if not drawn:
        printer.textln(NO_BARCODE)
    printer.cut()
    return printer.output


def packing_slip_escpos(slip: PackingSlip) -> bytes:
    printer = _escpos_printer()
    printer.set(bold=True, double_height=True, double_width=True)
    printer.textln(f"Packing slip {_drawn(printer, slip.order)}")
    printer.set(bold=False, double_height=False, double_width=False, normal_textsize=True)
    printer.textln(f"Customer: {_drawn(printer, slip.customer)}")
    printer.ln()
    for line in slip.lines:
        sku, name = _drawn(printer, line.sku), _drawn(printer, line.name)
        printer.textln(f"{escpos_text(line.qty)} x {sku}  {name}")
        for serial in line.serials:
            printer.textln(f"    {_drawn(printer, serial)}")
    printer.ln()
    printer.textln(f"{escpos_text(slip.units)} units")
    drawn = _escpos_barcode(printer, slip.order.encode("utf-8"))
    printer.textln(_drawn(printer, slip.order))
    if not drawn:
        printer.textln(NO_BARCODE)
    printer.cut()
    return printer.output


# --- preview ---------------------------------------------------------------------------


def serial_label_png(label: SerialLabel) -> bytes:
    return render_zpl_png(serial_label_zpl(label))


def packing_slip_png(slip: PackingSlip) -> bytes:
    return render_zpl_png(packing_slip_zpl(slip))


_COMMAND = re.compile(r"\^([A-Z0-9@]{2})([^^]*)")
_HEX = re.compile(r"_([0-9A-Fa-f]{2})")


def _unhex(data: str) -> bytes:
    out = bytearray()
    pos = 0
    for match in _HEX.finditer(data):
        out += data[pos : match.start()].encode("latin-1")
        out.append(int(match.group(1), 16))
        pos = match.end()
    return bytes(out + data[pos:].encode("latin-1"))


_INVOKE_B = {"0": 30, "<": 62, "=": 94, "1": 95, "4": 98, "6": 100, "8": 102}


def code128_values_from_zpl(data: str) -> list[int]:
    """Symbol values a printer builds from `^BC` no-mode data (the subset written here)."""
    tokens = re.findall(r">.|_[0-9A-Fa-f]{2}|.", data, flags=re.DOTALL)
    values: list[int] = []
    charset = "B"
    shift = False
    digits = ""
    for token in tokens:
        if token in (">:", ">;", ">9"):
            charset = {">:": "B", ">;": "C", ">9": "A"}[token]
            values.append({"A": code128.START_A, "B": code128.START_B, "C": 105}[charset])
        elif charset == "C":
            if token == ">8":
                values.append(code128.FNC1)
            elif token == ">6":
                values.append(code128.CODE_B)
                charset = "B"
            else:
                digits += token
                if len(digits) == 2:
                    values.append(int(digits))
                    digits = ""
        elif token.startswith(">"):
            values.append(_INVOKE_B[token[1]])
            shift = token == ">4"
        else:
            byte = int(token[1:], 16) if token.startswith("_") else ord(token)
            values.append(byte + 64 if shift and byte < 32 else byte - 32)
            shift = False
    return code128.with_checksum(values)


def _barcode_image(pattern: str, module: int, height: int) -> Image.Image:
    from PIL import Image, ImageDraw

    image = Image.new("1", (len(pattern) * module, height), 1)
    draw = ImageDraw.Draw(image)
    for index, bit in enumerate(pattern):
        if bit == "1":
            draw.rectangle([index * module, 0, index * module + module - 1, height - 1], fill=0)
    return image


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, lines: int) -> list[str]:
    out: list[str] = []
    current = ""
    for ch in text:
        if font.getlength(current + ch) > width and current:
            out.append(current)
            current = ""
        current += ch
    out.append(current)
    return out[:lines]


def render_zpl_png(zpl: bytes) -> bytes:
    """A PNG of the label, drawn from its ZPL (the subset of ZPL our templates use); a
    site's own template the preview cannot read is refused with LABEL_TEMPLATE_INVALID."""
    try:
        return _render_png(zpl)
    except (ValueError, IndexError, KeyError, UnicodeError) as error:
        raise StationError(
            Code.LABEL_TEMPLATE_INVALID,
            f"The preview cannot draw this label template ({type(error).__name__}: {error});"
            " it draws the ZPL commands of the shipped templates.",
        ) from None


def _render_png(zpl: bytes) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    source = zpl.decode("ascii")
    commands = [(m.group(1), m.group(2).strip("\n")) for m in _COMMAND.finditer(source)]
    params = dict(commands)
    width = int(params.get("PW", LABEL_WIDTH))
    height = int(params.get("LL", 406))
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    x = y = 0
    font_height = 30
    block: tuple[int, int] | None = None
    module = 2
    barcode_height: int | None = None
    for name, arg in commands:
        if name == "FO":
            x, y = (int(v) for v in arg.split(",")[:2])
        elif name == "A0":
            font_height = int(arg.split(",")[1])
        elif name == "FB":
            fb = arg.split(",")
            block = (int(fb[0]), int(fb[1]))
        elif name == "BY":
            module = int(arg.split(",")[0])
        elif name == "BC":
            barcode_height = int(arg.split(",")[1])
        elif name == "FD":
            if barcode_height is not None:
                pattern = code128.modules(code128_values_from_zpl(arg), quiet=0)
                image.paste(_barcode_image(pattern, module, barcode_height), (x, y))
            else:
                font = ImageFont.load_default(size=font_height)
                text = _unhex(arg).decode("utf-8", "replace")
                box_width, lines = block or (width - x, 1)
                for row, piece in enumerate(_wrap(text, font, box_width, lines)):
                    draw.text((x, y + row * font_height), piece, font=font, fill=0)
        elif name == "FS":
            block, barcode_height = None, None
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
