"""Many stations posting at the same moment: no duplicate unit ever (SPEC §8).

Real processes, each with its own connection, released together by a barrier.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from sqlalchemy import Engine, insert, text

from station.db.models import OrderLine, POLine, PurchaseOrder, SalesOrder
from tests.seed import seed

WORKERS = 4
SERIALS_EACH = 15
STEP = 10  # worker i scans C-(10i) … C-(10i+14): five serials shared with its neighbour


def _serials(worker: int) -> list[str]:
    return [f"C-{worker * STEP + k:03d}" for k in range(SERIALS_EACH)]


def _receive_worker(url: str, data_dir: str, worker: int, barrier: Any, results: Any) -> None:
    import os

    os.environ["STATION_DATA_DIR"] = data_dir
    from station.app import open_session
    from station.db.engine import make_engine

    engine = make_engine(url)
    session = open_session(
        engine, f"DOCK-{worker}", "receive", f"PO-C{worker}", journal=False
    ).session
    verdicts = [session.scan(s) for s in ["W1", *_serials(worker)]]
    scanned_ok = all(v.ok for v in verdicts)
    session_id = session.session_id
    barrier.wait(timeout=60)
    result = session.save()
    results.put((worker, scanned_ok, session_id, result.as_dict()))
    engine.dispose()


def _ship_worker(url: str, data_dir: str, worker: int, barrier: Any, results: Any) -> None:
    import os

    os.environ["STATION_DATA_DIR"] = data_dir
    from station.app import open_session
    from station.db.engine import make_engine

    engine = make_engine(url)
    session = open_session(engine, f"PACK-{worker}", "ship", f"SO-C{worker}", journal=False).session
    scanned_ok = session.scan("W1").ok and session.scan("WS-1").ok
    barrier.wait(timeout=60)
    result = session.save()
    results.put((worker, scanned_ok, session.session_id, result.as_dict()))
    engine.dispose()


def _run(target: Any, url: str, data_dir: str, count: int) -> list[tuple[Any, ...]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(count)
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(url, data_dir, i, barrier, results))
        for i in range(count)
    ]
    for process in processes:
        process.start()
    collected = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return sorted(collected)


def _add_documents(engine: Engine, count: int) -> None:
    with engine.begin() as c:
        for i in range(count):
            po = c.execute(
                insert(PurchaseOrder)
                .values(number=f"PO-C{i}", vendor_id=1, warehouse_id=1)
                .returning(PurchaseOrder.id)
            ).scalar_one()
            c.execute(insert(POLine).values(po_id=po, line_no=1, product_id=1, qty_ordered=20))
            order = c.execute(
                insert(SalesOrder)
                .values(number=f"SO-C{i}", customer=f"Customer {i}", warehouse_id=1)
                .returning(SalesOrder.id)
            ).scalar_one()
            c.execute(insert(OrderLine).values(order_id=order, line_no=1, product_id=1, qty=1))


def _prepare(engine: Engine) -> None:
    seed(engine)
    _add_documents(engine, WORKERS)


def test_overlapping_receipts_at_the_same_moment(engine: Engine, db_url: str, tmp_path) -> None:
    _prepare(engine)
    results = _run(_receive_worker, db_url, str(tmp_path / "data"), WORKERS)
    assert all(scanned for _, scanned, _, _ in results)
    winners = [r for r in results if r[3]["posted"]]
    losers = [r for r in results if not r[3]["posted"]]
    assert winners and losers
    with engine.connect() as c:
        dupes = c.execute(
            text("SELECT serial_key FROM units GROUP BY serial_key HAVING count(*) > 1")
        ).all()
        assert dupes == []
        stored = set(c.execute(text("SELECT serial FROM units WHERE serial LIKE 'C-%'")).scalars())
        received = {
            int(number[4:]): qty
            for number, qty in c.execute(
                text(
                    "SELECT p.number, l.qty_received FROM po_lines l"
                    " JOIN purchase_orders p ON p.id = l.po_id WHERE p.number LIKE 'PO-C%'"
                )
            )
        }
        receipts = set(c.execute(text("SELECT session_id FROM receipts")).scalars())
    won = set().union(*(set(_serials(w)) for w, *_ in winners))
    assert stored == won
    for worker, _, session_id, result in losers:
        assert result["code"] == "SERIAL_ALREADY_EXISTS"
        named = set(result["serials"])
        assert named and named <= set(_serials(worker)) & won
        assert session_id not in receipts
        assert received[worker] == 0
    for worker, _, session_id, result in winners:
        assert session_id in receipts and received[worker] == SERIALS_EACH
        assert result["units"] == SERIALS_EACH


def test_two_stations_shipping_the_same_unit(engine: Engine, db_url: str, tmp_path) -> None:
    _prepare(engine)
    results = _run(_ship_worker, db_url, str(tmp_path / "data"), 2)
    assert all(scanned for _, scanned, _, _ in results)
    posted = [r for r in results if r[3]["posted"]]
    refused = [r for r in results if not r[3]["posted"]]
    assert len(posted) == 1 and len(refused) == 1
    winner = posted[0][0]
    message = refused[0][3]["message"]
    assert refused[0][3]["code"] == "SERIAL_NOT_IN_STOCK"
    assert f"SO-C{winner}" in message and "WS-1" in message
    with engine.connect() as c:
        row = c.execute(
            text(
                "SELECT u.status, o.number FROM units u JOIN order_lines l ON l.id ="
                " u.order_line_id JOIN sales_orders o ON o.id = l.order_id WHERE u.serial = 'WS-1'"
            )
        ).one()
        assert tuple(row) == ("shipped", f"SO-C{winner}")
        loser_order = f"SO-C{refused[0][0]}"
        shipped = c.execute(
            text(
                "SELECT l.qty_shipped FROM order_lines l JOIN sales_orders o ON o.id = l.order_id"
                " WHERE o.number = :n"
            ),
            {"n": loser_order},
        ).scalar_one()
        assert shipped == 0


def _move_or_ship_worker(url: str, data_dir: str, worker: int, barrier: Any, results: Any) -> None:
    """Worker 0 moves WS-1 to A-02; worker 1 ships it on SO-C1; both save at once."""
    import os

    os.environ["STATION_DATA_DIR"] = data_dir
    from station.app import open_session
    from station.db.engine import make_engine

    engine = make_engine(url)
    if worker == 0:
        session = open_session(engine, "DOCK-M", "move", "A-02", journal=False).session
        scanned_ok = session.scan("WS-1").ok
    else:
        session = open_session(engine, "PACK-1", "ship", "SO-C1", journal=False).session
        scanned_ok = session.scan("W1").ok and session.scan("WS-1").ok
    barrier.wait(timeout=60)
    result = session.save()
    results.put((worker, scanned_ok, session.session_id, result.as_dict()))
    engine.dispose()


def test_a_move_and_a_shipment_of_the_same_unit_at_once(
    engine: Engine, db_url: str, tmp_path
) -> None:
    """Exactly one wins; the other is refused whole and says what became of the unit."""
    _prepare(engine)
    results = _run(_move_or_ship_worker, db_url, str(tmp_path / "data"), 2)
    assert all(scanned for _, scanned, _, _ in results)
    posted = [r for r in results if r[3]["posted"]]
    refused = [r for r in results if not r[3]["posted"]]
    assert len(posted) == 1 and len(refused) == 1, results
    # the one that lost is told what the other did (the move is refused by its rules: the
    # unit shipped; the shipment because the unit moved after it was scanned)
    loser = "SERIAL_NOT_IN_STOCK" if posted[0][0] == 1 else "UNIT_CHANGED_MEANWHILE"
    assert refused[0][3]["code"] == loser, refused
    with engine.connect() as c:
        unit = tuple(c.execute(text("SELECT status, bin FROM units WHERE serial = 'WS-1'")).one())
        events = (
            c.execute(
                text(
                    "SELECT e.kind FROM events e JOIN units u ON u.id = e.unit_id"
                    " WHERE u.serial = 'WS-1' AND e.kind IN ('moved', 'shipped')"
                )
            )
            .scalars()
            .all()
        )
    if posted[0][0] == 0:  # the move won: in A-02, not shipped
        assert unit == ("in_stock", "A-02") and events == ["moved"]
        assert refused[0][3]["message"].startswith(
            "Nothing shipped: WS-1 was moved by TRF-000001 at DOCK-M after it was scanned here"
        )
    else:  # the shipment won: shipped, never moved
        assert unit[0] == "shipped" and events == ["shipped"]
        assert refused[0][3]["message"].startswith("Nothing moved: Serial WS-1 is shipped")


def _count_worker(url: str, data_dir: str, worker: int, barrier: Any, results: Any) -> None:
    """Two counters count A-01 at once: worker 0 finds WS-1..3, worker 1 only WS-1."""
    import os

    os.environ["STATION_DATA_DIR"] = data_dir
    from station.app import open_session
    from station.db.engine import make_engine

    engine = make_engine(url)
    session = open_session(engine, f"COUNT-{worker}", "count", "A-01", journal=False).session
    scans = ["WS-1", "WS-2", "WS-3"] if worker == 0 else ["WS-1"]
    scanned_ok = all(session.scan(serial).ok for serial in scans)
    barrier.wait(timeout=60)
    result = session.save()
    results.put((worker, scanned_ok, session.session_id, result.as_dict()))
    engine.dispose()


def test_two_counts_of_one_bin_at_once_mark_no_unit_twice(
    engine: Engine, db_url: str, tmp_path
) -> None:
    _prepare(engine)
    results = _run(_count_worker, db_url, str(tmp_path / "data"), 2)
    assert all(scanned for _, scanned, _, _ in results)
    assert all(r[3]["posted"] for r in results), results
    with engine.connect() as c:
        marked = c.execute(
            text(
                "SELECT u.serial, count(*) FROM events e JOIN units u ON u.id = e.unit_id"
                " WHERE e.kind = 'not_found' GROUP BY u.serial ORDER BY u.serial"
            )
        ).all()
        counts = c.execute(text("SELECT number, station FROM counts ORDER BY id")).all()
    # every unit missing from either count is marked once, never twice
    assert all(times == 1 for _serial, times in marked), marked
    missing = {serial for _, _, _, result in results for serial in result["missing"]}
    assert {serial for serial, _ in marked} == missing
    assert {"WS-4", "WS-OPEN", "GSN0000001"} <= missing
    second = next(r for r in results if r[3]["document"] == counts[1][0])
    assert f"The bin was counted meanwhile ({counts[0][0]}, {counts[0][1]})" in second[3]["message"]
