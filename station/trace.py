"""Lookup and trace of a serial (SPEC §3.3): what the unit is, where it is, where it came
from and went, and every event in its history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, overload

from sqlalchemy import Connection, Engine, Row

from station.codes import Code, StationError
from station.db import lookup
from station.db.engine import reading_briefly
from station.scanning import serial_key, show


@overload
def _utc(moment: datetime) -> datetime: ...
@overload
def _utc(moment: None) -> None: ...
def _utc(moment: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite hands them back without a zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _cost(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _place(warehouse: str | None, bin_: str | None) -> str | None:
    if warehouse is None and bin_ is None:
        return None
    return f"{warehouse or '?'}/{bin_}" if bin_ else warehouse


def location(unit: lookup.UnitRecord) -> str:
    """Where a unit is or, for one that left, where it went (SPEC §3.3): a shipped
    unit's order, customer and shipment, a returned unit's vendor. A unit not found or
    scrapped names the place the ledger last had it; the others their warehouse/bin."""
    place = _place(unit.warehouse, unit.bin) or "?"
    if unit.status == "shipped":
        went = "Shipped"
        if unit.order:
            went += f" on order {unit.order}"
        if unit.customer:
            went += f" to {unit.customer}"
        return went + (f", shipment {unit.shipment}" if unit.shipment else "")
    if unit.status == "returned_to_vendor":
        return "Returned to vendor" + (f" {unit.vendor}" if unit.vendor else "")
    if unit.status == "not_found":
        return f"Not found at {place}"
    if unit.status == "scrapped":
        return f"Scrapped (was at {place})"
    return place


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One entry of a unit's audit trail."""

    kind: str
    at: datetime
    station: str | None
    user: str | None
    from_warehouse: str | None
    from_bin: str | None
    to_warehouse: str | None
    to_bin: str | None
    document_kind: str | None
    document_number: str | None
    #: What the event did besides moving the unit ("as W1-000007": relabeled).
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": _iso(self.at),
            "station": self.station,
            "user": self.user,
            "from_warehouse": self.from_warehouse,
            "from_bin": self.from_bin,
            "to_warehouse": self.to_warehouse,
            "to_bin": self.to_bin,
            "document_kind": self.document_kind,
            "document_number": self.document_number,
            **({"note": self.note} if self.note else {}),
        }

    def as_text(self) -> str:
        parts = [f"{_when(self.at)}  {self.kind:<18}"]
        if self.note:
            parts.append(self.note)
        source = _place(self.from_warehouse, self.from_bin)
        target = _place(self.to_warehouse, self.to_bin)
        if source and target:
            parts.append(f"{source} -> {target}")
        elif target:
            parts.append(f"to {target}")
        elif source:
            parts.append(f"from {source}")
        if self.document_number:
            parts.append(f"{self.document_kind or 'document'} {self.document_number}")
        who = " / ".join(x for x in (self.station, self.user) if x)
        if who:
            parts.append(f"by {who}")
        return "  ".join(parts)


@dataclass(frozen=True, slots=True)
class UnitTrace(lookup.UnitRecord):
    """One unit with its product, place, documents (times in UTC) and full event
    timeline."""

    events: list[TraceEvent] = field(default_factory=list)
    #: CMD-NOLABEL: the serial of the unit this one replaces; the serials replacing it.
    relabeled_from: str | None = None
    relabeled_as: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (times as ISO 8601 UTC with Z, cost as a decimal string;
        relabeled_from / relabeled_as only for a unit a lost label links)."""
        relabeled: dict[str, Any] = {}
        if self.relabeled_from:
            relabeled["relabeled_from"] = self.relabeled_from
        if self.relabeled_as:
            relabeled["relabeled_as"] = list(self.relabeled_as)
        return {
            "sku": self.sku,
            "product": self.product,
            "serial": self.serial,
            "status": self.status,
            "warehouse": self.warehouse,
            "bin": self.bin,
            "origin": self.origin,
            "po": self.po,
            "vendor": self.vendor,
            "unit_cost": _cost(self.unit_cost),
            "received_at": _iso(self.received_at),
            "received_by": self.received_by,
            "receipt": self.receipt,
            "order": self.order,
            "customer": self.customer,
            "shipped_at": _iso(self.shipped_at),
            "shipped_by": self.shipped_by,
            "shipment": self.shipment,
            **relabeled,
            "events": [event.as_dict() for event in self.events],
        }

    def as_text(self) -> str:
        """A readable page: the unit's facts, then its timeline, oldest first."""
        source = self.po or self.origin
        if self.vendor:
            source += f" from {self.vendor}"
        facts = [
            ("Serial", self.serial),
            ("Product", f"{self.sku}  {self.product}"),
            ("Status", self.status),
            ("Location", location(self)),
            ("Origin", source),
            ("Unit cost", _cost(self.unit_cost) or "-"),
            (
                "Received",
                f"{_when(self.received_at)}"
                + (f" on {self.receipt}" if self.receipt else "")
                + (f" by {self.received_by}" if self.received_by else ""),
            ),
        ]
        if self.order or self.shipped_at:
            facts.append(
                (
                    "Shipped",
                    f"{_when(self.shipped_at)}"
                    + (f" on {self.shipment}" if self.shipment else "")
                    + (f" by {self.shipped_by}" if self.shipped_by else ""),
                )
            )
            facts.append(("Order", f"{self.order or '-'}  {self.customer or ''}".rstrip()))
        if self.relabeled_from:
            facts.append(("Relabeled", f"from {self.relabeled_from} (its label was lost)"))
        if self.relabeled_as:
            facts.append(("Relabeled", f"as {', '.join(self.relabeled_as)} (label lost)"))
        lines = [f"{name + ':':<11}{value}" for name, value in facts]
        lines.append(f"Events ({len(self.events)}):")
        lines.extend(f"  {event.as_text()}" for event in self.events)
        return "\n".join(lines)


def _traced(
    unit: lookup.UnitRecord,
    events: list[Row[Any]],
    relabels: tuple[str | None, list[str]] = (None, []),
) -> UnitTrace:
    """The unit's trace: its facts and its events (rows of `lookup.unit_histories`),
    times in UTC; `relabels` (`lookup.relabels`) names the other unit of a `relabeled`
    event."""
    facts = {name: getattr(unit, name) for name in lookup.UNIT_FIELDS}
    facts.update(received_at=_utc(unit.received_at), shipped_at=_utc(unit.shipped_at))
    made_from, made_as = relabels
    note = f"as {', '.join(made_as)}" if made_as else f"from {made_from}" if made_from else None
    timeline = [
        TraceEvent(
            **{name: getattr(event, name) for name in lookup.EVENT_FIELDS} | {"at": _utc(event.at)},
            note=note if event.kind == "relabeled" else None,
        )
        for event in events
    ]
    return UnitTrace(
        **facts, events=timeline, relabeled_from=made_from, relabeled_as=tuple(made_as)
    )


def trace(engine: Engine, serial: str, sku: str | None = None) -> list[UnitTrace]:
    """Every unit with this serial (one per product under product scope), or only the
    one of `sku`. Raises StationError(SERIAL_UNKNOWN) when there is none."""
    with reading_briefly(engine).connect() as connection:  # never waits for a writer
        return trace_on(connection, serial, sku)


def trace_on(connection: Connection, serial: str, sku: str | None = None) -> list[UnitTrace]:
    """`trace` on an open connection: one statement (the units by their serial key with
    their events), two when no unit of `sku` has the serial."""
    key = serial_key(serial)
    units = lookup.unit_histories(connection, key, sku) if key else []
    if not units:
        others = lookup.units_by_serial(connection, key) if key and sku else []
        if others:
            skus = ", ".join(unit.sku for unit in others)
            raise StationError(
                Code.SERIAL_UNKNOWN,
                f"Serial {show(serial)} exists for {skus}, not for {sku}.",
            )
        raise StationError(Code.SERIAL_UNKNOWN, f"No unit has serial {show(serial)}.")
    return [
        _traced(  # the other unit of a relabel: one more query, only for such a unit
            unit,
            events,
            lookup.relabels(connection, unit.unit_id)
            if any(event.kind == "relabeled" for event in events)
            else (None, []),
        )
        for unit, events in units
    ]


def as_json_ready(traces: list[UnitTrace]) -> list[dict[str, Any]]:
    """What `station trace --json` prints: a list, one object per unit."""
    return [unit.as_dict() for unit in traces]


def as_text(traces: list[UnitTrace]) -> str:
    """What `station trace` prints: one page per unit, separated by a blank line."""
    return "\n\n".join(unit.as_text() for unit in traces)
