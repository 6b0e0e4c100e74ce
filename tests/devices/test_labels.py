"""Labels: exact ZPL and ESC/POS bytes, escaping of hostile values, PNG decode round trip."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from station.codes import Code, StationError
from station.devices.labels import (
    PackingSlip,
    SerialLabel,
    SlipLine,
    escpos_text,
    packing_slip_escpos,
    packing_slip_png,
    packing_slip_zpl,
    serial_label_escpos,
    serial_label_png,
    serial_label_zpl,
    zpl_code128,
    zpl_text,
)

HOSTILE = [
    "AB^XA~JR",
    "^XA^FDX",
    "~JA^XZ^XA",
    "back\\slash_under_",
    "a>b>>c",
    "Ünïcødé-ß-日本-€",
    "^~\\ÄÖÜ>_~^",
    "x" * 64,
]


def decode(png: bytes) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))


def test_serial_label_zpl_exact_bytes() -> None:
    zpl = serial_label_zpl(SerialLabel("SKU-1", "Widget", "SN-0001"))
    assert zpl == (
        b"^XA\n^CI28\n^PW812\n^LL406\n^LH0,0\n"
        b"^FO30,24^A0N,34,30^FB752,2,0,L,0^FH^FDWidget^FS\n"
        b"^FO30,104^A0N,28,26^FH^FDSKU: SKU-1^FS\n"
        b"^FO30,150^BY2^BCN,120,N,N,N,N^FH^FD>:SN-0001^FS\n"
        b"^FO30,300^A0N,34,30^FB752,2,0,L,0^FH^FDSN-0001^FS\n"
        b"^XZ\n"
    )


def test_field_escapes() -> None:
    assert zpl_text("AB^XA~JR") == "AB_5EXA_7EJR"
    assert zpl_text("a_b\\c") == "a_5Fb_5Cc"
    assert zpl_text("é") == "_C3_A9"
    assert zpl_code128("A>^~_") == ">:A>0><>=_5F"
    assert zpl_code128("é") == ">:>6C>6)"  # FNC4 + (byte - 128) for each UTF-8 byte


@pytest.mark.parametrize("serial", HOSTILE)
def test_hostile_serials_cannot_inject_commands(serial: str) -> None:
    label = SerialLabel("SKU^XZ", "Name ~JR ^XZ", serial)
    zpl = serial_label_zpl(label)
    assert zpl.count(b"^XA") == 1
    assert zpl.count(b"^XZ") == 1
    assert b"~" not in zpl
    fields = [part.split(b"^FS")[0] for part in zpl.split(b"^FD")[1:]]
    assert all(b"^" not in field for field in fields)
    assert all(byte < 0x80 for byte in zpl)


@pytest.mark.parametrize("serial", ["SN-0001", "12345678", *HOSTILE])
def test_png_preview_decodes_to_the_exact_serial(serial: str) -> None:
    found = decode(serial_label_png(SerialLabel("SKU-1", "Widget", serial)))
    assert [result.bytes.decode("utf-8") for result in found] == [serial]


def test_gs1_label_with_gtin_carries_01_and_21() -> None:
    label = SerialLabel("SKU-1", "Widget", "SER>1_a", gtin="09506000134352")
    assert b"^FD>;>8010950600013435221>6SER>01_5Fa^FS" in serial_label_zpl(label)
    [result] = decode(serial_label_png(label))
    assert result.content_type == zxingcpp.ContentType.GS1
    assert result.text == "(01)09506000134352(21)SER>1_a"


def test_gtin_with_a_serial_gs1_cannot_carry_falls_back_to_plain_code128() -> None:
    label = SerialLabel("SKU-1", "Widget", "AB^XA~JR", gtin="09506000134352")
    assert not label.gs1
    [result] = decode(serial_label_png(label))
    assert result.text == "AB^XA~JR"


def test_serial_label_escpos_exact_bytes() -> None:
    assert serial_label_escpos(SerialLabel("SKU-1", "Widget", "AB{^XA~JR")) == (
        b"\x1b@"  # init
        b"\x1bE\x01\x1bt\x00Widget\n\x1bE\x00SKU: SKU-1\n"
        b"\x1ba\x01\x1dhP\x1dw\x02\x1dH\x00"  # centre, height 80, width 2, no HRI
        b"\x1dkI\x0c{BAB{{^XA~JR\n"  # GS k 73 n, code set B, `{` doubled
        b"\x1ba\x00AB{^XA~JR\n"
        b"\x1bd\x06\x1dV\x00"  # feed, cut
    )


def test_escpos_gs1_and_non_ascii_serials() -> None:
    gs1 = serial_label_escpos(SerialLabel("S", "N", "SER1", gtin="09506000134352"))
    assert b"\x1dkI\x13{C{1" + bytes([1, 9, 50, 60, 0, 13, 43, 52, 21]) + b"{BSER1" in gs1
    bitmap = serial_label_escpos(SerialLabel("S", "N", "Ü-1"))
    assert b"\x1dkI" not in bitmap  # no hardware barcode for non-ASCII: a raster image
    assert b"\x1dv0" in bitmap


def test_packing_slip_has_every_serial_and_the_order_barcode() -> None:
    slip = PackingSlip(
        "SO-1001",
        "ACME ^XZ Corp",
        [SlipLine("W-1", "Widget", 2, ["A~1", "A^2"]), SlipLine("G-1", "Gadget", 1, ["Ö3"])],
    )
    zpl = packing_slip_zpl(slip)
    assert zpl.count(b"^XA") == 1
    assert zpl.count(b"^XZ") == 1
    for escaped in (b"A_7E1", b"A_5E2", b"_C3_963", b"ACME _5EXZ Corp", b">:SO-1001"):
        assert escaped in zpl
    assert b"3 units" in zpl
    [result] = decode(packing_slip_png(slip))
    assert result.text == "SO-1001"
    escpos = packing_slip_escpos(slip)
    assert b"\x1dkI\x09{BSO-1001" in escpos
    for text in (b"    A~1\n", b"    A^2\n", b"2 x W-1  Widget\n", b"Customer: ACME ^XZ Corp\n"):
        assert text in escpos


HOSTILE_NAME = "ACME\x1bp\x00\x19\xfa\x1dV\x00"  # drawer kick, CAN, a cut
CLEANED_NAME = "ACME?p??\xfa?V?"


def commands(data: bytes) -> list[bytes]:
    """Every ESC or GS command in ESC/POS output: the byte and the one after it."""
    return [data[i : i + 2] for i, byte in enumerate(data) if byte in (0x1B, 0x1D)]


def test_escpos_text_replaces_control_characters() -> None:
    assert escpos_text(HOSTILE_NAME) == CLEANED_NAME
    assert escpos_text("line\nbreak\ttab\x7fdel\x9bcsi") == "line?break?tab?del?csi"
    assert escpos_text("Ünïcode ~^{} ok") == "Ünïcode ~^{} ok"
    assert escpos_text(3) == "3"


def test_packing_slip_escpos_data_sends_no_commands() -> None:
    def slip(text: str) -> PackingSlip:
        return PackingSlip("SO-9", text, [SlipLine("W\x1bp" + text, text, 1, [text, "SN-1"])])

    hostile = packing_slip_escpos(slip(HOSTILE_NAME))
    clean = packing_slip_escpos(slip(CLEANED_NAME))
    assert hostile == clean
    assert commands(hostile) == commands(packing_slip_escpos(slip("ACME")))
    assert b"\x1bp" not in hostile
    assert hostile.count(b"\x1dV") == 1  # our own cut, at the end
    assert hostile.endswith(b"\x1dV\x00")
    assert b"Customer: ACME?p??" in hostile


def test_serial_label_escpos_data_sends_no_commands() -> None:
    def label(text: str) -> SerialLabel:
        return SerialLabel("SKU\x1d" + text, text, "SN-1")

    hostile = serial_label_escpos(label(HOSTILE_NAME))
    assert hostile == serial_label_escpos(label(CLEANED_NAME))
    assert commands(hostile) == commands(serial_label_escpos(label("ACME")))
    assert hostile.count(b"\x1dV") == 1
    # a hostile serial: its text line is escaped, its barcode is drawn as an image
    serial = "SN\x1bp\x00\x19"
    data = serial_label_escpos(SerialLabel("S", "N", serial))
    assert b"\x1ba\x00SN?p??\n" in data
    assert b"SN\x1bp" not in data
    assert data.count(b"\x1dV") == 1


def test_packing_slip_escpos_order_text_is_escaped() -> None:
    data = packing_slip_escpos(PackingSlip("SO\x1bp1", "C", [SlipLine("W", "W", 1, [])]))
    assert b"Packing slip SO?p1" in data
    assert b"SO\x1bp1" not in data


# --- serials a receipt printer cannot draw (python-escpos Dummy output) ------------------

GS_K, RASTER, CUT = b"\x1dkI", b"\x1dv0", b"\x1dV"


def test_an_emoji_serial_is_refused_on_escpos_with_its_code() -> None:
    """It raised python-escpos's ImageWidthError; no code page has the character, so the
    label would show another serial: refused, naming the character."""
    with pytest.raises(StationError) as refused:
        serial_label_escpos(SerialLabel("W1", "Widget", "SN-\U0001f600\U0001f600"))
    assert refused.value.code == Code.LABEL_UNPRINTABLE
    assert "'SN-\U0001f600\U0001f600'" in refused.value.message
    assert "\U0001f600 (U+1F600)" in refused.value.message
    assert "ZPL label printer" in refused.value.message


def test_a_serial_too_long_for_a_barcode_prints_as_text() -> None:
    """The code page draws it, but its Code 128 is wider than the paper at any module."""
    serial = "ÉTÉ-" + "é" * 24  # each é: two UTF-8 bytes, each FNC4 + a character
    data = serial_label_escpos(SerialLabel("W1", "Widget", serial))
    assert GS_K not in data and RASTER not in data  # no barcode of any kind
    assert serial.encode("cp437") + b"\n(no barcode: too long for this printer)\n" in data
    assert data.count(CUT) == 1 and data.endswith(b"\x1bd\x06\x1dV\x00")


def test_a_long_ascii_serial_gets_a_bitmap_that_fits_the_paper() -> None:
    """25 characters: the printer's own Code 128 at 2 dots a module is 574 dots, wider than
    the TM-T88V's 512; a bitmap at 1 dot a module fits and carries the exact serial."""
    serial = "LONG-SERIAL-0123456789ABC"
    data = serial_label_escpos(SerialLabel("W1", "Widget", serial))
    assert GS_K not in data
    start = data.index(RASTER)
    width_bytes = int.from_bytes(data[start + 4 : start + 6], "little")
    height = int.from_bytes(data[start + 6 : start + 8], "little")
    assert width_bytes * 8 <= 512 and height == 80
    assert b"\x1ba\x00" + serial.encode() + b"\n" in data
    bitmap = data[start + 8 : start + 8 + width_bytes * height]
    rows = [bitmap[r * width_bytes : (r + 1) * width_bytes] for r in range(height)]
    image = Image.frombytes("1", (width_bytes * 8, height), b"".join(rows)).point(lambda v: 255 - v)
    [found] = zxingcpp.read_barcodes(image.convert("L"))
    assert found.text == serial


def test_slip_lines_the_printer_cannot_draw_are_written_out() -> None:
    """A slip is read by people: `SN-<U+1F600>` rather than a `SN-?` that names another."""
    slip = PackingSlip(
        "SO-\U0001f4e6", "Café \U0001f600", [SlipLine("W1", "Widget", 1, ["SN-\U0001f600"])]
    )
    data = packing_slip_escpos(slip)
    assert b"    SN-<U+1F600>\n" in data
    assert b"Customer: Caf\x82 <U+1F600>\n" in data  # é from code page 437
    assert b"SO-<U+1F4E6>\n" in data and b"SN-?" not in data
    assert data.count(CUT) == 1
