"""What a posting does to units, as a plain record: the one shape every workflow's
posting hands to the one unit-movement primitive (`station.db.units.move`).

Receive creates units; ship changes their status; returns, moves, transfers and counts
are the other combinations (create, or change status, warehouse or bin). Every unit
moved gets one event of the posting's kind, with where it was and where it went.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class UnitChange:
    """An existing unit, locked by the posting: where it was (for its event), the
    columns that change, the status it must still have (else nothing is posted), and
    its event's kind when it is not the posting's (a return retiring the unit whose
    label was lost: "relabeled")."""

    unit_id: int
    from_warehouse_id: int
    from_bin: str | None
    values: tuple[tuple[str, Any], ...]
    expect_status: str = "in_stock"
    event: str | None = None


@dataclass(slots=True)
class Movement:
    """One posting's units: created (new unit rows; each unit's event records where it
    is when it is in stock or quarantined, else the warehouse it left; a new unit with
    `relabels_id` gets a second event, "relabeled"), changed (UnitChange), and the
    quantities of non-serialized products per (product id, warehouse id)."""

    at: datetime
    created: list[dict[str, Any]] = field(default_factory=list)
    changed: list[UnitChange] = field(default_factory=list)
    stock: list[tuple[int, int, int]] = field(default_factory=list)
    #: What was posted, for labels and slips: (document line index, serial, quantity).
    posted_units: list[tuple[int, str | None, int]] = field(default_factory=list)
    #: Serials the station generated for this posting.
    generated: list[str] = field(default_factory=list)
    #: What the posting's verdict says besides its count (a return: which unit a new
    #: serial replaces, or why none).
    notes: list[str] = field(default_factory=list)
    #: Lists the posting answers with (a count: "missing", "misplaced", "found" serials).
    lists: dict[str, list[str]] = field(default_factory=dict)
    #: Columns of the posting header the plan knows (a count: how many were missing).
    header: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who and what every event of one posting names."""

    event: str  # "received", "shipped", "not_found"
    at: datetime
    station: str
    user: str | None
    document_kind: str  # "receipt", "shipment", "order"
    document_number: str
