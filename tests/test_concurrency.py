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
