"""A TCP proxy on 127.0.0.1 that a test can silence: the broken network of SPEC §8.

Silenced, it forwards nothing in either direction and closes nothing: the client's
kernel still has its connection (the proxy's kernel acknowledges every byte), so
neither TCP keepalives nor tcp_user_timeout notice anything — only a client that
bounds its own waits does. `heal` closes the connections that were silenced (their
client gave up on them; a healed network would carry its close to the server) and
forwards new ones again. `slow` delays every chunk forwarded (a slow network).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType


class SilentProxy:
    def __init__(self, host: str, port: int, *, listen: int = 0) -> None:
        """Forwards to `host`:`port`; listens on 127.0.0.1:`listen` (0: any free port)."""
        self.target = (host, port)
        self.silent = False
        self.delay = 0.0  # seconds each chunk waits before it is forwarded
        self._trigger: tuple[bytes, bool] | None = None
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.create_server(("127.0.0.1", listen))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    # --- what a test does -----------------------------------------------------------

    def silence(self) -> None:
        """From now on no byte passes, either way; every socket stays open."""
        self.silent = True

    def slow(self, seconds: float) -> None:
        """From now on every chunk, either way, arrives `seconds` late (0: at once)."""
        self.delay = seconds

    def silence_at(self, marker: bytes, *, deliver: bool) -> None:
        """Go silent when the client sends bytes holding `marker` (b"COMMIT"): after
        forwarding them (`deliver`: the server acts, its answer is lost) or before
        (the server never sees them)."""
        self._trigger = (marker, deliver)

    def heal(self) -> None:
        """Close the silenced connections; new connections are forwarded again."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self.silent, self._trigger = False, None
        for pair in pairs:
            for sock in pair:
                _close(sock)

    def close(self) -> None:
        self._closed = True
        _close(self._listener)
        self.heal()

    def __enter__(self) -> SilentProxy:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- forwarding -----------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.silent:  # the client's kernel connected; nothing answers it
                with self._lock:
                    self._pairs.append((client, client))
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, upstream: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:  # closed: passed on only while the network works
                if not self.silent:
                    with contextlib.suppress(OSError):
                        target.shutdown(socket.SHUT_WR)
                return
            trigger = self._trigger
            if upstream and trigger is not None and trigger[0] in data and not self.silent:
                if trigger[1]:
                    with contextlib.suppress(OSError):
                        target.sendall(data)
                self.silent = True
                continue
            if self.silent:
                continue  # dropped: a silent network delivers nothing
            if self.delay:
                time.sleep(self.delay)
            try:
                target.sendall(data)
            except OSError:
                return


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a pump blocked in recv on it
    with contextlib.suppress(OSError):
        sock.close()
