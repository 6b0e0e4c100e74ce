"""The registry of workflows: what each workflow is, as facts — the session kind, its
`station scan` option, the document it works on, who runs it, what its postings are
numbered and called, the words its screens show — read from
station/resources/workflows.toml, one table per workflow. `station scan`'s options, the
desktop app's pages and the table-driven tests are built from it; the behaviour is the
workflow's package (its module's `WORKFLOW`: `station.workflow.workflow(kind)`).

Adding a workflow is one package and one table. Reading the registry is cheap: the
command line builds its options from it before anything heavy is imported (`station
--help` stays fast).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from station.codes import Code

REGISTRY_FILE = "workflows.toml"


@dataclass(frozen=True, slots=True)
class Words:
    """What the screens and messages call a workflow's things."""

    title: str  # "Receive" — the wizard's first word
    menu: str  # "Receive": the home page's button
    choose: str  # the choose page's title
    doing: str  # "Receiving" — the scanning page's title
    document: str  # "purchase order"
    document_short: str  # "PO": in verdicts ("not on PO …")
    party: str  # "Vendor": the choose page's column
    before: str  # "Received": the lines column of what was done before
    now: str  # "Now": the lines column of this session's units
    left: str  # "{n} left to receive"
    done: str  # "All received"
    filter_hint: str  # the choose page's filter field
    save: str  # the save button
    preview: str  # the preview button: "Label preview"
    room: tuple[str, ...]  # OVER_RECEIPT's words: ("ordered", "received", "scanned")
    missing: str  # "No purchase order {number}."
    gone: str  # at posting: "PO {number} no longer exists."
    nothing: str  # NOTHING_TO_POST's message
    posted: str  # "Received {total} unit(s) on {document}: receipt {number}."
    stays_open: str  # lines left open by a posting: "{document} stays open: {lines} to come."
    complete: str  # the document done by a posting: "{document} is fully received."
    nothing_done: str  # a posting refused at the last moment: "nothing posted"


@dataclass(frozen=True, slots=True)
class Facts:
    """One workflow's facts (its table in workflows.toml)."""

    kind: str  # the session kind: journal names, `open_session(kind=…)`
    module: str  # the module whose WORKFLOW is the workflow object
    flag: str  # `station scan --receive PO`
    metavar: str
    document_kind: str  # the document its loader reads: "po", "order"
    station_kind: str  # the kind of station that runs it; a "both" station runs all
    key: str  # the desktop app's F-key
    roles: tuple[str, ...]  # the roles whose operators may run it (SPEC §1)
    posting: str  # its posting header: "receipt" (table, numbering, event documents)
    prefix: str  # its postings' numbers: "RCV" -> RCV-000001
    document_column: str  # the header's column naming the document: "po_id"
    event: str  # the event each unit it moves gets: "received"
    finished: str  # the document's status once every line is done: "received"
    prints: str  # what its postings print and its preview shows: "labels" or "slip"
    item_adds_unit: bool  # an item scan of a serialized line adds a unit awaiting its serial
    item_not_on_document: Code  # ITEM_NOT_ON_PO: an item of the catalog not on the document
    missing_code: Code  # PO_NOT_FOUND: no such document
    room_code: Code  # OVER_RECEIPT: a line with no room left
    words: Words
    #: A document number scanned on the home page opens this workflow (receive, ship);
    #: the others open from their button (a shipped order scanned opens no return).
    from_home: bool = True
    #: A workflow on no document (a free return): the number its sessions and journals
    #: go by; its `station scan` flag takes no value.
    fixed_number: str = ""
    #: Its sessions need a reason (`--reason`; REASON_REQUIRED without one): adjustments.
    needs_reason: bool = False
    #: A location barcode sets the bin of the units scanned after it (SPEC §3.3): the
    #: workflows that put units somewhere (receive, returns, release, move, transfer).
    takes_bins: bool = False


def _read() -> tuple[Facts, ...]:
    text = resources.files("station.resources").joinpath(REGISTRY_FILE).read_text("utf-8")
    entries = []
    codes = {"item_not_on_document", "missing_code", "room_code"}
    for kind, table in tomllib.loads(text).items():
        facts: dict[str, Any] = {name: table[name] for name in table if name != "words"}
        for name in codes:
            facts[name] = Code(facts[name])
        facts["roles"] = tuple(facts["roles"])
        words = {**table["words"], "room": tuple(table["words"]["room"])}
        entries.append(Facts(kind=kind, **facts, words=Words(**words)))
    return tuple(entries)


REGISTRY: tuple[Facts, ...] = _read()
_BY_KIND = {entry.kind: entry for entry in REGISTRY}


def facts(kind: str) -> Facts:
    """The facts of the workflow `kind`; ValueError for a kind there is none of."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise ValueError(f"unknown session kind {kind!r}") from None
