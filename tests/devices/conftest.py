"""Fixtures for device tests: loopback printers that record, refuse or hang."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from fake_printers import FakePrinter


@pytest.fixture
def printer_server() -> Iterator[FakePrinter]:
    server = FakePrinter()
    yield server
    server.close()


@pytest.fixture
def refusing_port() -> int:
    """A port nobody listens on: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def hanging_port() -> Iterator[int]:
    """A printer that accepts connections and never answers or reads."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()
    for conn in accepted:
        conn.close()
