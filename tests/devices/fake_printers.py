"""Stand-ins for network printers: TCP servers on 127.0.0.1 (ephemeral ports)."""

from __future__ import annotations

import re
import socket
import threading

ZPL_STATUS_OK = (
    b"\x02030,0,0,1245,000,0,0,0,000,0,0,0\x03\r\n"
    b"\x02000,0,0,0,0,2,4,0,00000000,1,000\x03\r\n"
    b"\x021234,0\x03\r\n"
)
ZPL_STATUS_PAPER_OUT = ZPL_STATUS_OK.replace(b"\x02030,0,0", b"\x02030,1,0", 1)
ESCPOS_STATUS_OK = b"\x12"
_QUERIES = re.compile(rb"^(~HS|\x10\x04[\x01-\x04])+")


class FakePrinter:
    """A raw-port printer: serves one connection at a time, answers status queries
    (`~HS`, `DLE EOT n`) and records each job's bytes (queries removed).

    While `hanging` is set it accepts connections and neither reads nor answers them
    (a hung printer); cleared, it serves new connections again (the printer is fixed)."""

    def __init__(self, zpl_status: bytes = ZPL_STATUS_OK) -> None:
        self.zpl_status = zpl_status
        self.jobs: list[bytes] = []
        self.hanging = threading.Event()
        self._held: list[socket.socket] = []
        self._changed = threading.Condition()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _addr = self._server.accept()
            except OSError:
                return
            if self.hanging.is_set():
                with self._changed:
                    self._held.append(conn)
                    self._changed.notify_all()
                continue
            with conn:
                data = b""
                answered = 0
                while chunk := conn.recv(65536):
                    data += chunk
                    queries = re.findall(rb"~HS|\x10\x04[\x01-\x04]", data)
                    for query in queries[answered:]:
                        conn.sendall(self.zpl_status if query == b"~HS" else ESCPOS_STATUS_OK)
                    answered = len(queries)
            with self._changed:
                self.jobs.append(_QUERIES.sub(b"", data))
                self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[bytes]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.jobs) >= count, timeout), (
                f"{len(self.jobs)} of {count} jobs arrived"
            )
            return list(self.jobs)

    def wait_held(self, count: int, timeout: float = 10.0) -> None:
        """Wait until the hanging printer holds `count` connections it does not answer."""
        with self._changed:
            assert self._changed.wait_for(lambda: len(self._held) >= count, timeout), (
                f"{len(self._held)} of {count} connections arrived"
            )

    def close(self) -> None:
        self._server.close()
        for conn in self._held:
            conn.close()
