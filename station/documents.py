"""Plain records the data layer hands to the workflows: products, documents, units."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from station.serials import serial_format


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    sku: str
    name: str
    serialized: bool
    serial_length: int | None = None
    serial_min_length: int | None = None
    serial_max_length: int | None = None
    serial_pattern: str | None = None
    barcodes: tuple[str, ...] = ()
    gtins: tuple[str, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """Everything a scan of this item may read: SKU, barcodes and their GTIN-14s."""
        return (self.sku, *self.barcodes, *self.gtins)

    @property
    def gtin(self) -> str | None:
        return self.gtins[0] if self.gtins else None

    def pattern(self) -> Any:
        """The serial format compiled by RE2 (`station.serials.serial_format`), or None
        when the product has none; a ValueError when the stored pattern cannot be run."""
        return serial_format(self.serial_pattern) if self.serial_pattern else None


@dataclass(slots=True)
class DocumentLine:
    """A PO line or an order line: `done` is received (PO) or shipped (order) so far."""

    id: int
    line_no: int
    product: Product
    qty: int
    done: int
    unit_cost: Decimal | None = None
    allocated: frozenset[str] = frozenset()

    @property
    def open_qty(self) -> int:
        return max(self.qty - self.done, 0)


@dataclass(slots=True)
class Document:
    """A purchase order (kind 'po') or a sales order (kind 'order')."""

    kind: str
    id: int
    number: str
    party: str  # vendor or customer
    warehouse_id: int
    warehouse: str
    status: str
    lines: list[DocumentLine] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """One unit as the rules need to see it, with the facts its messages name."""

    id: int
    product_id: int
    sku: str
    serial: str
    serial_key: str
    status: str
    warehouse_id: int
    warehouse: str
    bin: str
    origin: str
    po_number: str | None
    received_at: datetime | None
    receipt: str | None
    received_by: str | None
    order: str | None
    shipment: str | None
    order_line_id: int | None = None  # the order line it last shipped on
    vendor_id: int | None = None  # the vendor of the PO it was received on
    vendor: str | None = None
    rma: str | None = None  # the customer return that last brought it back
    #: Counts the postings that changed the unit: a session keeps the version it saw,
    #: and a posting refuses a unit changed since (UNIT_CHANGED_MEANWHILE).
    version: int = 0
