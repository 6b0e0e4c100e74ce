"""The ledger's tables as SQLAlchemy 2 typed models (SPEC §2).

Every invariant is a database constraint: unique serial per product (and per scope),
unique barcodes and document numbers, non-negative quantities, append-only events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UNIT_STATUSES = (
    "in_stock",
    "quarantined",
    "shipped",
    "returned_to_vendor",
    "not_found",
    "scrapped",
)
EVENT_KINDS = (
    "received",
    "shipped",
    "returned",
    "returned_to_vendor",
    "transferred",
    "moved",
    "counted",
    "not_found",
    "found",
    "adjusted",
    "relabeled",
)
PO_STATUSES = ("open", "partial", "received", "closed")
ORDER_STATUSES = ("open", "partial", "shipped", "cancelled")
ROLES = ("clerk", "packer", "supervisor")
#: Why a PIN was refused (pin_failures.reason).
PIN_FAILURES = ("wrong_pin", "unknown_user", "locked")
#: The settings row claimed with the first user: its key is unique, so two first runs at
#: once cannot both create a first supervisor.
FIRST_SUPERVISOR = "first_supervisor"
STATION_KINDS = ("receive", "ship", "both")

# SQLite has no BIGINT autoincrement; INTEGER PRIMARY KEY is its 64-bit rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Money = Numeric(14, 4)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Setting(Base):
    """Company-wide settings (`serial_scope`)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Warehouse(Base):
    __tablename__ = "warehouses"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Bin(Base):
    """A known location of a warehouse (SPEC §3.3 location barcodes): where a location
    scan may send units. Made by a supervisor (`station bins add`, or a location scanned
    twice in a supervisor's session), by the stock import for the bins it names, and for
    a station's own receiving and returns bins when a posting first puts units there."""

    __tablename__ = "bins"
    __table_args__ = (UniqueConstraint("warehouse_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    #: As units carry it (units.bin), and as the supervisor spelt it.
    code: Mapped[str] = mapped_column(String(64))
    #: `serial_key(code)`: a bin is found by its key, so "a-01", "A-01" and the
    #: fullwidth "Ａ-01" name one bin, and no two bins of a warehouse read the same.
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))


class Vendor(Base):
    __tablename__ = "vendors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("serial_length IS NULL OR serial_length BETWEEN 1 AND 64", "length"),
        CheckConstraint("serial_min_length IS NULL OR serial_min_length >= 1", "min_length"),
        CheckConstraint(
            "serial_max_length IS NULL OR serial_max_length BETWEEN 1 AND 64", "max_length"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    serialized: Mapped[bool] = mapped_column(default=True)
    serial_length: Mapped[int | None]
    serial_min_length: Mapped[int | None]
    serial_max_length: Mapped[int | None]
    serial_pattern: Mapped[str | None] = mapped_column(String(400))


class Barcode(Base):
    """Any number of barcodes per product; each unique across products."""

    __tablename__ = "barcodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # The GTIN-14 form of a numeric UPC/EAN/GTIN, so a GS1 (01) scan finds its product.
    gtin: Mapped[str | None] = mapped_column(String(14), index=True)


class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"
    __table_args__ = (CheckConstraint(_in("status", PO_STATUSES), "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class POLine(Base):
    __tablename__ = "po_lines"
    __table_args__ = (
        CheckConstraint("qty_ordered >= 0", "qty_ordered"),
        CheckConstraint("qty_received >= 0", "qty_received"),
        UniqueConstraint("po_id", "line_no"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    po_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"))
    line_no: Mapped[int]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    qty_ordered: Mapped[int]
    qty_received: Mapped[int] = mapped_column(default=0)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)


class SalesOrder(Base):
    __tablename__ = "sales_orders"
    __table_args__ = (CheckConstraint(_in("status", ORDER_STATUSES), "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    customer: Mapped[str] = mapped_column(String(200))
    ship_to: Mapped[str | None] = mapped_column(Text)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("qty >= 0", "qty"),
        CheckConstraint("qty_shipped >= 0", "qty_shipped"),
        CheckConstraint("qty_returned >= 0", "qty_returned"),
        CheckConstraint("qty_returned <= qty_shipped", "returned_shipped"),
        UniqueConstraint("order_id", "line_no"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    line_no: Mapped[int]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    qty: Mapped[int]
    qty_shipped: Mapped[int] = mapped_column(default=0)
    # Units of the line customers sent back (RMAs): never more than shipped.
    # (a server default only: rows written before migration 0006's column are written
    # the same way)
    qty_returned: Mapped[int] = mapped_column(server_default="0")


@dataclass(frozen=True, slots=True)
class DocumentTables:
    """Where a kind of document lives: its header and line tables, the lines' key to
    the header, the line columns of what is wanted and what is done so far, and the
    column naming its party (vendor or customer)."""

    header: type[PurchaseOrder] | type[SalesOrder]
    lines: type[POLine] | type[OrderLine]
    link: InstrumentedAttribute[int]
    qty: InstrumentedAttribute[int]
    done: InstrumentedAttribute[int]
    party: InstrumentedAttribute[str]
    #: The statuses of a document a session may open; () for "any with a line not done".
    open_states: tuple[str, ...] = ("open", "partial")


#: The tables of each kind of document (`station.documents.Document.kind`): "po" and
#: "order"; "return" is a sales order seen by a customer return — what may come back is
#: what shipped, what is done is what was returned.
DOCUMENT_TABLES = {
    "po": DocumentTables(
        PurchaseOrder, POLine, POLine.po_id, POLine.qty_ordered, POLine.qty_received, Vendor.name
    ),
    "order": DocumentTables(
        SalesOrder,
        OrderLine,
        OrderLine.order_id,
        OrderLine.qty,
        OrderLine.qty_shipped,
        SalesOrder.customer,
    ),
    "return": DocumentTables(
        SalesOrder,
        OrderLine,
        OrderLine.order_id,
        OrderLine.qty_shipped,
        OrderLine.qty_returned,
        SalesOrder.customer,
        (),
    ),
}


class AllocatedSerial(Base):
    """Serials pre-allocated to an order line: only these may ship on it."""

    __tablename__ = "allocated_serials"
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), primary_key=True)
    serial_key: Mapped[str] = mapped_column(String(64), primary_key=True)


class Station(Base):
    __tablename__ = "stations"
    __table_args__ = (CheckConstraint(_in("kind", STATION_KINDS), "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="both")
    last_seen: Mapped[datetime | None]


class StationOption(Base):
    """One option value per station, JSON-encoded; absent means the default."""

    __tablename__ = "station_options"
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class OptionChange(Base):
    """Audit of option changes: who, when, old → new. Append-only."""

    __tablename__ = "option_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str] = mapped_column(Text)
    user_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    pin_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # PIN throttling: wrong PINs since the last right one or lock, locks since the last
    # right PIN (each lock lasts twice the one before), and until when it is locked.
    failed_pins: Mapped[int] = mapped_column(default=0, server_default="0")
    lockouts: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]


class PinFailure(Base):
    """Audit of every refused PIN: the name given, when, at which station (when known)
    and why. Append-only (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "pin_failures"
    __table_args__ = (CheckConstraint(_in("reason", PIN_FAILURES), "reason"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(String(100), index=True)
    station: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PostingHeader:
    """The columns every posting header has: its number (RCV-000001), the session it
    posted (unique: a session posts once), where, by whom, how many units, when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[str] = mapped_column(String(64), unique=True)
    station: Mapped[str] = mapped_column(String(100))
    user_name: Mapped[str | None] = mapped_column(String(100))
    units: Mapped[int] = mapped_column(default=0)
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Receipt(PostingHeader, Base):
    """One posted receive session."""

    __tablename__ = "receipts"
    po_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), index=True)


class Shipment(PostingHeader, Base):
    __tablename__ = "shipments"
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"), index=True)


class Rma(PostingHeader, Base):
    """One posted customer return (RMA-000001): against the order it shipped on, or a
    free return (no order)."""

    __tablename__ = "rmas"
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_orders.id"), index=True)


class Rtv(PostingHeader, Base):
    """One posted supplier return (RTV-000001): units sent back to one vendor."""

    __tablename__ = "rtvs"
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)


class Transfer(PostingHeader, Base):
    """One posted move or transfer (TRF-000001): units of one warehouse sent to a bin of
    the same warehouse (a bin move) or of another (a transfer)."""

    __tablename__ = "transfers"
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    to_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    to_bin: Mapped[str] = mapped_column(String(64))


class Count(PostingHeader, Base):
    """One posted cycle count of a bin (CNT-000001): how many units were missing (now
    not_found), misplaced (moved into the bin) and found (back in stock); the units
    themselves are in its events."""

    __tablename__ = "counts"
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    bin: Mapped[str] = mapped_column(String(64))
    missing: Mapped[int] = mapped_column(default=0)
    misplaced: Mapped[int] = mapped_column(default=0)
    found: Mapped[int] = mapped_column(default=0)


ADJUSTMENT_KINDS = ("scrap", "release", "add")


class Adjustment(PostingHeader, Base):
    """One posted adjustment (ADJ-000001) by a supervisor, always with its reason:
    units scrapped, quarantined units released to stock, units added."""

    __tablename__ = "adjustments"
    __table_args__ = (
        CheckConstraint(_in("kind", ADJUSTMENT_KINDS), "kind"),
        CheckConstraint("length(trim(reason)) > 0", "reason"),
    )
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    bin: Mapped[str | None] = mapped_column(String(64))


#: A unit's links to the documents that come after its arrival: empty (NULL) on most
#: units, so their indexes hold only the units that have one (a partial index), and a
#: receipt's new units write none of them.
UNIT_LINKS_SET_LATER = (
    "order_line_id",
    "shipment_id",
    "rma_id",
    "rtv_id",
    "relabels_id",
    "adjustment_id",
)


def _when_set(name: str, column: str) -> Index:
    """An index of the rows where `column` is set. Both databases use it for
    `column = x` and `column IN (...)` (which imply IS NOT NULL)."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, postgresql_where=where, sqlite_where=where)


class Unit(Base):
    """One physical item of a serialized product.

    `scope_id` carries the company's `serial_scope`: the product id under `product`
    scope, 0 under `global`; unique (scope_id, serial_key) makes the database refuse
    a duplicate in either scope, and unique (product_id, serial_key) always holds.
    """

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("product_id", "serial_key"),
        UniqueConstraint("scope_id", "serial_key"),
        CheckConstraint(_in("status", UNIT_STATUSES), "status"),
        CheckConstraint("length(serial_key) BETWEEN 1 AND 64", "serial_key"),
        Index("ix_units_serial_key", "serial_key"),
        Index("ix_units_bin", "warehouse_id", "bin"),
        *(_when_set(f"ix_units_{column}", column) for column in UNIT_LINKS_SET_LATER),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    scope_id: Mapped[int]
    serial: Mapped[str] = mapped_column(String(64))
    serial_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), default="in_stock")
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    bin: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(24))  # po | opening | adjustment | return
    po_line_id: Mapped[int | None] = mapped_column(ForeignKey("po_lines.id"), index=True)
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"), index=True)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    shipped_at: Mapped[datetime | None]
    # The last customer return and supplier return that moved the unit.
    rma_id: Mapped[int | None] = mapped_column(ForeignKey("rmas.id"))
    rtv_id: Mapped[int | None] = mapped_column(ForeignKey("rtvs.id"))
    # A unit made for one whose label was lost (CMD-NOLABEL): the unit it replaces.
    relabels_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"))
    # The last adjustment that moved the unit (scrapped, released from quarantine).
    adjustment_id: Mapped[int | None] = mapped_column(ForeignKey("adjustments.id"))
    # How many postings changed the unit (optimistic concurrency: UNIT_CHANGED_MEANWHILE).
    # (a server default only: rows written by older stations, and old ledgers' inserts)
    version: Mapped[int] = mapped_column(server_default="0")


class SerialKeyConflict(Base):
    """A unit whose serial, keyed by today's `serial_key`, reads as another unit's serial
    (found by migration 0003 or `station db rekey`). It is never merged: it keeps its old
    key until a supervisor resolves it (README, "Serial key conflicts")."""

    __tablename__ = "serial_key_conflicts"
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"), primary_key=True)
    serial: Mapped[str] = mapped_column(String(64))
    old_key: Mapped[str] = mapped_column(String(64))
    new_key: Mapped[str] = mapped_column(Text)
    # The unit whose key the new key is; None when the new key cannot be a key (too long).
    other_unit_id: Mapped[int | None] = mapped_column(BigId)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockLevel(Base):
    """Quantity on hand of a non-serialized product per warehouse."""

    __tablename__ = "stock_levels"
    __table_args__ = (CheckConstraint("qty >= 0", "qty"),)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    qty: Mapped[int] = mapped_column(default=0)


class Event(Base):
    """Append-only audit of every change to a unit (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "events"
    __table_args__ = (CheckConstraint(_in("kind", EVENT_KINDS), "kind"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    station: Mapped[str | None] = mapped_column(String(100))
    user_name: Mapped[str | None] = mapped_column(String(100))
    from_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    from_bin: Mapped[str | None] = mapped_column(String(64))
    to_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    to_bin: Mapped[str | None] = mapped_column(String(64))
    document_kind: Mapped[str | None] = mapped_column(String(24))
    document_number: Mapped[str | None] = mapped_column(String(64))


class SerialSequence(Base):
    """Counters for generated serials: one row per pattern prefix, locked on use."""

    __tablename__ = "serial_sequences"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger, default=0)


class PrintJob(Base):
    """Every print job, recorded against its document so it can be reprinted."""

    __tablename__ = "print_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    printer: Mapped[str] = mapped_column(String(200))
    # The station that queued it: only that station resumes it after a restart, so two
    # stations sharing a printer never print each other's jobs twice.
    station: Mapped[str | None] = mapped_column(String(100), index=True)
    document_kind: Mapped[str] = mapped_column(String(24))
    document_number: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(64))  # serial_label | packing_slip | test
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    printed_at: Mapped[datetime | None]
