"""Every registered workflow (station/resources/workflows.toml) through `station scan`,
driven from the registry: a new workflow gets these checks by adding its row to OPEN."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import Engine

from station.cli import main
from station.workflow import Workflow, workflow
from station.workflows import REGISTRY
from tests.seed import seed, seed_returns
from tests.workflow import configure, run_scan

#: An open document of the seed ledger for each registered workflow.
OPEN = {
    "receive": "PO-1",
    "ship": "SO-1",
    "return": "SO-3",
    "free_return": "FREE",
    "supplier_return": "Acme Supply",
    "scrap": "SCRAP",
    "release": "A-02",
    "move": "A-02",
    "transfer": "EAST/B-07",
    "count": "A-02",
}


def _args(flow: Workflow) -> list[str]:
    """`station scan`'s arguments for the workflow's OPEN document (a workflow on no
    document: its flag alone)."""
    number = [] if flow.facts.fixed_number else [OPEN[flow.kind]]
    reason = ["--reason", "registry test"] if flow.facts.needs_reason else []
    return ["--station", "DOCK-1", flow.facts.flag, *number, *reason]


def test_every_registered_workflow_has_a_case_here() -> None:
    assert set(OPEN) == {facts.kind for facts in REGISTRY}


@pytest.fixture(params=REGISTRY, ids=lambda facts: facts.kind)
def flow(request: pytest.FixtureRequest, engine: Engine) -> Workflow:
    """Each registered workflow in turn, on the seed ledger (with its shipped SO-3)."""
    seed(engine)
    seed_returns(engine)
    return workflow(request.param.kind)


def test_an_unknown_document_is_refused_with_the_workflows_own_code_and_words(
    flow: Workflow,
    engine: Engine,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with engine.connect() as connection:
        if flow.load(connection, "NO-SUCH-1") is not None:
            pytest.skip("a workflow on no document (or on any bin) has no unknown one")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status = main(["--db", db_url, "scan", "--station", "DOCK-1", flow.facts.flag, "NO-SUCH-1"])
    err = capsys.readouterr().err
    assert status == 1
    assert err == f"station: {flow.missing_code}: {flow.words.missing.format(number='NO-SUCH-1')}\n"
    # a number typed with a control character is shown escaped, never raw
    status = main(["--db", db_url, "scan", "--station", "DOCK-1", flow.facts.flag, "NO\x1b[2J"])
    err = capsys.readouterr().err
    assert status == 1 and "\x1b" not in err and "NO\\x1b[2J" in err


def test_the_shared_commands_answer_the_same_in_every_workflow(
    flow: Workflow,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing to save, nothing to undo, an unknown command, and a cancel: the core's
    answers, with the workflow's words."""
    args = _args(flow)
    status, lines = run_scan(
        monkeypatch, capsys, db_url, args, ["CMD-SAVE", "CMD-UNDO", "CMD-NOSUCH", "CMD-CANCEL"]
    )
    assert [(line.get("ok", line.get("posted")), line["code"]) for line in lines] == [
        (False, "NOTHING_TO_POST"),
        (False, "NOTHING_TO_UNDO"),
        (False, "UNKNOWN_COMMAND"),
        (True, "OK"),
    ]
    assert lines[0]["message"] == flow.words.nothing
    assert lines[2]["message"] == "Unknown command CMD-NOSUCH."
    assert status != 0


def test_an_item_not_on_the_document_is_refused_with_the_workflows_code(
    flow: Workflow,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """X9 is in the catalog and on no seed document."""
    args = _args(flow)
    _status, (line,) = run_scan(monkeypatch, capsys, db_url, args, ["X9"])
    if flow.open_lines:  # its lines come as items are scanned: X9 is one
        assert (line["ok"], line["kind"], line["sku"]) == (True, "item", "X9"), line
        return
    assert line["code"] == flow.item_not_on_document
    document = flow.words.document_short
    assert line["message"] == f"Other Thing (X9) is not on {document} {OPEN[flow.kind]}."


#: For each registered workflow: a station's options, the scans of a posting that leaves
#: its OPEN document partly done, and what the posting's verdict says stays open.
PARTIAL = {
    "receive": (
        {},
        ["CABLE3", "CMD-SAVE"],
        "Received 1 unit(s) on PO-1: receipt RCV-000001. PO-1 stays open: 3 of Widget One,"
        " 2 of Gadget Two, 1 of Cable Three and 1 more line to come.",
    ),
    "ship": (
        {"allow_partial_ship": True},
        ["CABLE3", "CMD-SAVE"],
        "Shipped 1 unit(s) on SO-1: shipment SHP-000001. SO-1 stays open: 2 of Widget One"
        " left to ship.",
    ),
    "free_return": ({}, ["CABLE3", "CMD-SAVE"], "Returned 1 unit(s) with no order: RMA-000001."),
    "supplier_return": (
        {},
        ["WS-1", "CMD-SAVE"],
        "Returned 1 unit(s) to Acme Supply: RTV-000001.",
    ),
    "scrap": ({}, ["WS-1", "CMD-SAVE"], "Scrapped 1 unit(s): adjustment ADJ-000001."),
    "release": (
        {},
        ["WS-QC", "CMD-SAVE"],
        "Released 1 unit(s) from quarantine into A-02: adjustment ADJ-000001.",
    ),
    "move": ({}, ["WS-1", "CMD-SAVE"], "Moved 1 unit(s) to A-02: transfer TRF-000001."),
    "transfer": (
        {},
        ["WS-1", "CMD-SAVE"],
        "Transferred 1 unit(s) to EAST/B-07: transfer TRF-000001.",
    ),
    "count": (
        {},
        ["WS-1", "CMD-SAVE"],
        "Counted 1 unit(s) in A-02: count CNT-000001. Misplaced: 1 (WS-1).",
    ),
    "return": (
        {},
        ["WS-OUT", "CMD-SAVE"],
        "Returned 1 unit(s) on SO-3: RMA-000001. SO-3: 2 of Gadget Two, 2 of Cable Three"
        " may still come back.",
    ),
}


def test_every_registered_workflow_has_a_partial_posting_here() -> None:
    assert set(PARTIAL) == {facts.kind for facts in REGISTRY}


def test_a_posting_that_leaves_its_document_open_says_what_stays_open(
    flow: Workflow,
    engine: Engine,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The posting result's message names the lines still open, with how many of each;
    the JSON result keeps the fields SPEC §7 names."""
    options, scans, said = PARTIAL[flow.kind]
    configure(engine, "DOCK-1", **options)
    args = _args(flow)
    status, lines = run_scan(monkeypatch, capsys, db_url, args, scans)
    posted = lines[-1]
    assert status == 0
    assert posted["posted"] is True and posted["units"] == 1, posted
    lists = {"missing", "misplaced", "found"} if flow.kind == "count" else set()  # SPEC §7
    assert set(posted) == {"posted", "document", "units", "message", *lists}
    assert posted["message"] == said
