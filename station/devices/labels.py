"""Serial labels and packing slips: ZPL from the templates in `resources/labels/`, ESC/POS
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

Templates are read from `resources/labels/` next to the `station` package (a source
checkout or an editable install); `STATION_LABELS_DIR` points elsewhere.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

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


def labels_dir() -> Path:
    override = os.environ.get("STATION_LABELS_DIR")
    return Path(override) if override else Path(__file__).parents[2] / "resources" / "labels"


@cache
def _template_text(name: str, directory: Path) -> str:
    return (directory / name).read_text(encoding="utf-8")


def template(name: str) -> str:
    return _template_text(name, labels_dir())


def _sections(text: str) -> dict[str, Template]:
    parts = re.split(r"^\[(\w+)\]\n", text, flags=re.MULTILINE)
    return {parts[i]: Template(parts[i + 1]) for i in range(1, len(parts), 2)}


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
    text = Template(template("serial_label.zpl")).substitute(
        name=zpl_text(label.name),
        sku=zpl_text(label.sku),
        module=_module_width(values),
        barcode=barcode,
        text=zpl_text(label.text),
    )
    return text.encode("ascii")


def packing_slip_zpl(slip: PackingSlip) -> bytes:
    parts = _sections(template("packing_slip.zpl"))
    rows: list[str] = []
    y = 300
    for line in slip.lines:
        rows.append(
            parts["line"].substitute(
                y=y, qty=line.qty, sku=zpl_text(line.sku), name=zpl_text(line.name)
            )
        )
        y += 36
        for serial in line.serials:
            rows.append(parts["serial"].substitute(y=y, serial=zpl_text(serial)))
            y += 30
    values = code128.values_for(slip.order.encode("utf-8"))
    head = parts["head"].substitute(
        length=y + 60,
        order=zpl_text(slip.order),
        customer=zpl_text(slip.customer),
        module=_module_width(values),
        barcode=zpl_code128(slip.order),
    )
    foot = parts["foot"].substitute(y=y + 10, units=slip.units)
    return (head + "".join(rows) + foot).encode("ascii")


# --- ESC/POS ---------------------------------------------------------------------------

ESC, GS = b"\x1b", b"\x1d"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def escpos_text(value: object) -> str:
    """A field value as printable ESC/POS text: every control character (below 0x20,
    DEL, and the C1 range 0x80-0x9F) becomes `?`, so no customer name, SKU or serial can
    send a command (ESC p drawer kick, GS V cut, CAN, a line feed…) to the printer."""
    return _CONTROL.sub("?", str(value))


def _escpos_barcode(printer: Dummy, data: bytes, *, gs1_gtin: str | None = None) -> None:
    """Hardware Code 128 (GS k 73) when the data allows it, else a bitmap of the symbol.

    The command is written directly: python-escpos's `barcode()` prints a notice to stdout,
    which would corrupt `station label --format escpos` output.
    """
    if gs1_gtin is not None:
        digits = "01" + gs1_gtin + "21"
        pairs = bytes(int(digits[i : i + 2]) for i in range(0, len(digits), 2))
        payload = b"{C{1" + pairs + b"{B" + data
    elif all(0x20 <= byte < 0x7F for byte in data):
        payload = b"{B" + data.replace(b"{", b"{{")
    else:
        payload = b""
    if payload and len(payload) <= 255:
        printer._raw(ESC + b"a\x01")  # centre
        printer._raw(GS + b"h" + bytes([80]) + GS + b"w\x02" + GS + b"H\x00")
        printer._raw(GS + b"kI" + bytes([len(payload)]) + payload)
        printer._raw(b"\n" + ESC + b"a\x00")
        return
    values = code128.values_for(data)
    printer.image(_barcode_image(code128.modules(values), 2, 80), center=True)
    printer._raw(ESC + b"a\x00")


def _escpos_printer() -> Dummy:
    from escpos.printer import Dummy

    printer = Dummy(profile=ESCPOS_PROFILE)
    printer.hw("INIT")
    return printer


def serial_label_escpos(label: SerialLabel) -> bytes:
    printer = _escpos_printer()
    printer.set(bold=True)
    printer.textln(escpos_text(label.name))
    printer.set(bold=False)
    printer.textln(f"SKU: {escpos_text(label.sku)}")
    _escpos_barcode(
        printer, label.serial.encode("utf-8"), gs1_gtin=label.gtin if label.gs1 else None
    )
    printer.textln(escpos_text(label.text))
    printer.cut()
    return printer.output


def packing_slip_escpos(slip: PackingSlip) -> bytes:
    printer = _escpos_printer()
    printer.set(bold=True, double_height=True, double_width=True)
    printer.textln(f"Packing slip {escpos_text(slip.order)}")
    printer.set(bold=False, double_height=False, double_width=False, normal_textsize=True)
    printer.textln(f"Customer: {escpos_text(slip.customer)}")
    printer.ln()
    for line in slip.lines:
        qty, sku, name = escpos_text(line.qty), escpos_text(line.sku), escpos_text(line.name)
        printer.textln(f"{qty} x {sku}  {name}")
        for serial in line.serials:
            printer.textln(f"    {escpos_text(serial)}")
    printer.ln()
    printer.textln(f"{escpos_text(slip.units)} units")
    _escpos_barcode(printer, slip.order.encode("utf-8"))
    printer.textln(escpos_text(slip.order))
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
    """A PNG of the label, drawn from its ZPL (the subset of ZPL our templates use)."""
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
