"""Golden sessions: what `station scan` answers and posts, recorded once and replayed.

Each script in tests/golden/sessions.json is a list of `station scan` runs (arguments and
input lines; a line may be {"hex": "..."} for raw bytes) on the seed ledger, with options
stored for its stations first. The replay must give exactly the recorded exit statuses,
output lines and posted rows (tests/golden/<script>.json) on SQLite and on PostgreSQL —
the behaviour a reshaping of the core must keep. After a deliberate change of behaviour,
record again with STATION_RECORD_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from station.cli import main
from tests.seed import seed
from tests.workflow import configure

GOLDEN = Path(__file__).with_name("golden")
SCRIPTS: dict[str, dict[str, Any]] = json.loads(
    (GOLDEN / "sessions.json").read_text(encoding="utf-8")
)
RECORD = os.environ.get("STATION_RECORD_GOLDEN") == "1"

#: The posted rows, in an order that does not depend on ids or the database.
SNAPSHOT = {
    "units": "SELECT p.sku, u.serial, u.serial_key, u.status, w.code AS warehouse, u.bin,"
    " u.origin, r.number AS receipt, s.number AS shipment FROM units u"
    " JOIN products p ON p.id = u.product_id JOIN warehouses w ON w.id = u.warehouse_id"
    " LEFT JOIN receipts r ON r.id = u.receipt_id LEFT JOIN shipments s ON s.id = u.shipment_id"
    " ORDER BY p.sku, u.serial_key",
    "events": "SELECT u.serial, e.kind, e.station, e.user_name, e.from_bin, e.to_bin,"
    " e.document_kind, e.document_number FROM events e JOIN units u ON u.id = e.unit_id"
    " ORDER BY u.serial_key, e.kind, e.document_number",
    "receipts": "SELECT r.number, p.number AS po, r.station, r.user_name, r.units FROM receipts r"
    " JOIN purchase_orders p ON p.id = r.po_id ORDER BY r.number",
    "shipments": "SELECT s.number, o.number AS order_number, s.station, s.user_name, s.units"
    " FROM shipments s JOIN sales_orders o ON o.id = s.order_id ORDER BY s.number",
    "po_lines": "SELECT p.number, l.line_no, l.qty_ordered, l.qty_received, p.status"
    " FROM po_lines l JOIN purchase_orders p ON p.id = l.po_id ORDER BY p.number, l.line_no",
    "order_lines": "SELECT o.number, l.line_no, l.qty, l.qty_shipped, o.status"
    " FROM order_lines l JOIN sales_orders o ON o.id = l.order_id ORDER BY o.number, l.line_no",
    "stock": "SELECT p.sku, w.code, s.qty FROM stock_levels s JOIN products p ON p.id ="
    " s.product_id JOIN warehouses w ON w.id = s.warehouse_id ORDER BY p.sku, w.code",
}


def _input(scans: list[str | dict[str, str]]) -> bytes:
    return b"".join(
        (bytes.fromhex(s["hex"]) if isinstance(s, dict) else s.encode()) + b"\n" for s in scans
    )


def _plain(value: Any, tmp: str) -> Any:
    """What varies from run to run, written as a placeholder: the test's folder, today."""
    if isinstance(value, dict):
        return {key: _plain(item, tmp) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, tmp) for item in value]
    if not isinstance(value, str):
        return value
    today = datetime.now(UTC)
    value = value.replace(tmp, "<tmp>")
    value = re.sub(today.strftime("%Y-%m-%d") + r" \d\d:\d\d", "<today> <hh:mm>", value)
    value = value.replace(today.strftime("%y%m%d"), "<yymmdd>")
    return re.sub(r"\d{8}T\d{6}Z", "<stamp>", value)


def replay(
    name: str, engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, Any]:  # fmt: skip
    script = SCRIPTS[name]
    seed(engine)
    for station, values in script.get("options", {}).items():
        configure(engine, station, **values)
    runs = []
    for session in script["sessions"]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(_input(session["scans"]))))
        capsys.readouterr()
        status = main(["--db", db_url, "scan", *session["args"]])
        captured = capsys.readouterr()
        runs.append(
            {
                "args": session["args"],
                "status": status,
                "out": [json.loads(line) for line in captured.out.splitlines()],
                "err": captured.err.splitlines(),
            }
        )
    with engine.connect() as connection:
        rows = {
            table: [dict(row._mapping) for row in connection.execute(text(query))]
            for table, query in SNAPSHOT.items()
        }
    return _plain({"runs": runs, "ledger": rows}, str(tmp_path))


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_golden_session_replays_exactly(
    name: str,
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    got = json.loads(json.dumps(replay(name, engine, db_url, tmp_path, monkeypatch, capsys),
                                default=str))  # fmt: skip
    path = GOLDEN / f"{name}.json"
    if RECORD and db_url.startswith("sqlite"):
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    for number, (run, want) in enumerate(zip(got["runs"], expected["runs"], strict=True), 1):
        assert run == want, f"run {number} of {name} differs"
    assert got["ledger"] == expected["ledger"]
