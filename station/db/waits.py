"""Bounded waits for PostgreSQL: psycopg connections that give up on an answer that does
not come, and a short check of a pooled connection before it is used.

psycopg has no read timeout. When the network goes silent without a reset (or the
server hangs), a query already sent waits for its answer for ever: TCP keepalives and
tcp_user_timeout only notice a peer whose kernel stops acknowledging, and a cancel
request cannot reach a silent server. So every wait of a station's connection carries a
deadline; past it the connection is closed (what the server did is unknown) and
OperationalError raised, which SQLAlchemy takes for a lost connection: the pool is
invalidated and the next use connects afresh (within connect_timeout).

Imported only by `station.db.engine` for a PostgreSQL engine.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors
from sqlalchemy import Engine, event

#: psycopg's own interval between checks for Ctrl-C while it waits.
_INTERVAL = 0.1


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait for the server (a statement, a fetch, a
    COMMIT) ends after `answer_limit` seconds (None: no limit)."""

    answer_limit: float | None = None

    def wait(self, gen: Any, interval: float = _INTERVAL, timeout: float | None = None) -> Any:
        limit = self.answer_limit
        if timeout is not None or limit is None:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, limit)
        except errors._WaitTimeout as error:  # psycopg's own deadline error
            self.pgconn.finish()  # half-way through a message: never usable again
            raise psycopg.OperationalError(
                f"the database did not answer within {limit:g} s (connection closed)"
            ) from error


def bound(engine: Engine, answer: float | None, ping: float | None) -> None:
    """Make `engine`'s connections BoundedConnection with `answer` as their limit, and
    bound the check of a pooled connection (pool_pre_ping) by `ping` seconds, so that a
    dead pooled connection and a fresh connect together stay within the station's
    timeout."""

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> BoundedConnection:
        connection = BoundedConnection.connect(*cargs, **cparams)
        connection.answer_limit = answer
        return connection

    dialect: Any = engine.dialect
    check = dialect.do_ping

    def _ping(connection: BoundedConnection) -> bool:
        previous = connection.answer_limit
        connection.answer_limit = ping
        try:
            return bool(check(connection))
        finally:
            connection.answer_limit = previous

    dialect.do_ping = _ping
