"""The serial patterns a station generates serials with (`serial_pattern`, SPEC §3.1 step
6): the rules a generated serial meets, and the check made when a pattern is set, so
that a pattern the catalog refuses is refused then, not discovered at a posting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from station import options as opts
from station.db import catalog, company
from station.documents import Product
from station.rules import Problem, check_serial_rules


def check_generated(
    product: Product, serial: str, station_length: int, charset: str = "ascii"
) -> None:
    """The rules a scanned serial of `product` meets (text under the company's
    serial_charset — printable ASCII when it is not known —, length, format), for a
    generated one: SERIAL_INVALID, SERIAL_BAD_LENGTH, SERIAL_BAD_FORMAT."""
    options = {"require_unique_serial": False, "serial_length": station_length}
    check_serial_rules(product, serial, doc_keys=frozenset(), options=options, charset=charset)


def pattern_problem(
    connection: Connection, text: str, station: str, station_length: int, today: datetime
) -> str | None:
    """Why the station `station` cannot generate serials with pattern `text` for the
    catalog as it is (checked when the pattern is set): a serial that can exceed 64
    characters, or a sample serial that a serialized product's own rule (or the
    station's serial_length, or the company's serial_charset) refuses. None when every
    product accepts it."""
    pattern = opts.parse_pattern(text)
    fields = opts.pattern_fields("", station, today)
    problem = opts.pattern_length_problem(pattern, fields, f" with station name {station!r}")
    if problem:
        return problem
    refused: list[tuple[Product, str]] = []
    charset = company.serial_charset(connection)  # as the posting will judge the serials
    for product in catalog.serialized_products(connection):
        fields = opts.pattern_fields(product.sku, station, today)
        problem = opts.pattern_length_problem(pattern, fields, f" for {product.sku}")
        if problem:
            return problem
        try:
            check_generated(product, pattern.render(1, fields), station_length, charset)
        except Problem as refusal:
            refused.append((product, refusal.message.rstrip(".")))
    if not refused:
        return None
    product, reason = refused[0]
    more = f"; {len(refused) - 1} more product(s) too" if len(refused) > 1 else ""
    return f"makes serials that {product.sku} refuses ({reason}{more})"
