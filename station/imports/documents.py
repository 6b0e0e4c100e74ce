"""The document imports: purchase orders and sales orders, one row per line, read,
checked and written by one path; a `DocumentImport` record says what differs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, Engine

from station.db import bulk, lookup
from station.db.models import DOCUMENT_TABLES
from station.imports import checks, files
from station.imports.checks import MAX_QTY, RowError, Rows
from station.imports.writing import ImportSummary, write


@dataclass(frozen=True, slots=True)
class DocumentImport:
    """What one kind of document import reads and writes."""

    name: str  # the import ("pos", "orders"), as `station import` names it
    document: str  # the document's kind in the ledger ("po", "order")
    what: str  # one document, as messages name it
    number: str  # the column of the document number
    party: str  # the column of the vendor or customer
    cost: bool  # whether a line has a unit_cost column
    party_column: str  # where the document holds its party
    #: Creates the parties named that the ledger lacks, returning ids by name and how
    #: many were created; None when the document holds the party's name itself.
    ensure_parties: Callable[[Connection, Iterable[str]], tuple[dict[str, int], int]] | None
    counted: str  # the summary's name for the documents written
    fills: tuple[str, ...]  # the tables written: analyzed once committed (bulk.analyze)

    @property
    def header(self) -> tuple[str, ...]:
        costs = ("unit_cost",) if self.cost else ()
        return (self.number, self.party, "warehouse", "sku", "qty", *costs)


PURCHASE_ORDERS = DocumentImport(
    name="pos",
    document="po",
    what="PO",
    number="po_number",
    party="vendor",
    cost=True,
    party_column="vendor_id",
    ensure_parties=bulk.ensure_vendors,
    counted="purchase_orders",
    fills=("purchase_orders", "po_lines", "vendors", "warehouses"),
)
SALES_ORDERS = DocumentImport(
    name="orders",
    document="order",
    what="order",
    number="order_number",
    party="customer",
    cost=False,
    party_column="customer",
    ensure_parties=None,
    counted="orders",
    fills=("sales_orders", "order_lines", "warehouses"),
)


def import_pos(engine: Engine, path: str | Path) -> ImportSummary:
    """Import purchase orders (`po_number,vendor,warehouse,sku,qty,unit_cost`).

    One row per PO line; rows of one PO share vendor and warehouse. Vendors and
    warehouses named are created; a PO number already in the ledger is a bad row.
    """
    return import_documents(engine, Path(path), PURCHASE_ORDERS)


def import_orders(engine: Engine, path: str | Path) -> ImportSummary:
    """Import sales orders (`order_number,customer,warehouse,sku,qty`).

    One row per order line; rows of one order share customer and warehouse.
    Warehouses named are created; an order number already in the ledger is a bad row.
    """
    return import_documents(engine, Path(path), SALES_ORDERS)


@dataclass(slots=True)
class _Document:
    line: int
    number: str
    party: str
    warehouse: str
    lines: list[tuple[int, int, Decimal | None]] = field(default_factory=list)  # product, qty, cost
    skus: dict[str, int] = field(default_factory=dict)  # sku -> line in the file


def import_documents(engine: Engine, path: Path, kind: DocumentImport) -> ImportSummary:
    """Import the documents of a file of `kind`, one row per line. Warehouses (and
    parties kept as rows of their own) named are created."""
    rows, documents = _documents(engine, path, kind)
    tables = DOCUMENT_TABLES[kind.document]

    def work(connection: Connection) -> ImportSummary:
        warehouses, new_warehouses = bulk.ensure_warehouses(
            connection, (d.warehouse for d in documents.values())
        )
        parties: dict[str, int] | None = None
        created: dict[str, int] = {}
        if kind.ensure_parties is not None:
            parties, created[f"{kind.party}s"] = kind.ensure_parties(
                connection, (d.party for d in documents.values())
            )
        ordered = list(documents.values())
        ids = bulk.insert_returning_ids(
            connection,
            tables.header,
            [
                {
                    "number": d.number,
                    kind.party_column: d.party if parties is None else parties[d.party],
                    "warehouse_id": warehouses[d.warehouse],
                    "status": "open",
                }
                for d in ordered
            ],
        )
        lines = [
            {
                tables.link.key: id_,
                "line_no": number,
                "product_id": product_id,
                tables.qty.key: qty,
                tables.done.key: 0,
                **({"unit_cost": cost} if kind.cost else {}),
            }
            for id_, d in zip(ids, ordered, strict=True)
            for number, (product_id, qty, cost) in enumerate(d.lines, start=1)
        ]
        bulk.insert_rows(connection, tables.lines, lines)
        counts = {kind.counted: len(ordered), "lines": len(lines), **created}
        return ImportSummary(kind.name, rows.count, {**counts, "warehouses": new_warehouses})

    return write(path, engine, kind.fills, work)


def _documents(
    engine: Engine, path: Path, kind: DocumentImport
) -> tuple[Rows, dict[str, _Document]]:
    """Read and check the rows of a document file, grouped by document number."""
    rows = Rows(path)
    with engine.connect() as connection:
        known = lookup.catalog(connection)
    documents: dict[str, _Document] = {}
    for line, values in files.rows(path, kind.header):
        rows.count += 1
        number, party, warehouse, sku, qty = values[:5]
        problems: list[str] = []
        checks.text(problems, kind.number, number, 64)
        checks.text(problems, kind.party, party, 200)
        checks.text(problems, "warehouse", warehouse, 64)
        checks.text(problems, "sku", sku, 64)
        product = known.get(sku)
        if sku and product is None:
            problems.append(f"unknown SKU {sku!r}")
        amount = checks.whole_number(problems, "qty", qty, 1, MAX_QTY)
        if not qty:
            problems.append("qty is empty")
        cost = checks.cost(problems, values[5]) if kind.cost else None
        document = documents.get(number) if number else None
        if document is not None:
            if party and party != document.party:
                problems.append(
                    f"{kind.party} {party!r} differs from {document.party!r} on line "
                    f"{document.line} for {number}"
                )
            if warehouse and warehouse != document.warehouse:
                problems.append(
                    f"warehouse {warehouse!r} differs from {document.warehouse!r} on line "
                    f"{document.line} for {number}"
                )
            if sku and sku in document.skus:
                problems.append(f"{sku} is also on line {document.skus[sku]} of {number}")
        if rows.bad(line, problems) or product is None or amount is None:
            continue
        if document is None:
            document = documents[number] = _Document(line, number, party, warehouse)
        document.skus[sku] = line
        document.lines.append((product.id, amount, cost))
    with engine.connect() as connection:
        taken = lookup.document_ids(connection, kind.document, documents)
    for number in sorted(taken):
        for line in documents[number].skus.values():
            rows.errors.append(RowError(line, f"{kind.what} {number} exists already"))
    rows.check()
    return rows, documents
