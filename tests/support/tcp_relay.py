"""A loopback TCP relay in front of the real Manager, for the event stream's faults a real
Manager cannot produce on demand: every connection dropped at once (a network blip), and
websocket upgrades refused (a proxy that blocks websockets, i.e. a Manager without an event
stream), or left unanswered (a hung Manager). It also counts the bytes both ways
(benchmarks).

Only the first request of each connection is looked at (the websocket client opens a
connection of its own for the upgrade); everything else is passed through untouched.

    with TcpRelay(farm.url) as relay:
        relay.block_websockets = True
        monitor_url = relay.url
"""

from __future__ import annotations

import socket
import threading
import urllib.parse
from typing import Optional

from .network import shut_down

_REFUSAL = (b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 27\r\nConnection: close\r\n\r\n"
            b"websockets are blocked here")


class TcpRelay:
    def __init__(self, upstream: str) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.block_websockets = False
        self.hold_websockets = False  # upgrades get no answer at all (a hung Manager)
        self.bytes_up = 0  # client → Manager
        self.bytes_down = 0  # Manager → client
        self.websocket_attempts = 0
        self.websocket_refusals = 0
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener: Optional[socket.socket] = None
        self._port = 0
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> TcpRelay:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self._port))
        listener.listen(64)
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._stopped.clear()
        threading.Thread(target=self._accept, args=(listener,), name="tcp-relay", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        self.drop_connections()

    def __enter__(self) -> TcpRelay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def drop_connections(self) -> None:
        """Cut every open connection (both sides see it end)."""
        with self._lock:
            conns = list(self._conns)
            self._conns.clear()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    @property
    def bytes_total(self) -> int:
        return self.bytes_up + self.bytes_down

    # -- plumbing -------------------------------------------------------------------------------

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._conns.update(socks)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._track(client)
        head = b""
        try:
            client.settimeout(10.0)
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = client.recv(65536)
                if not chunk:
                    client.close()
                    return
                head += chunk
            client.settimeout(None)
        except OSError:
            client.close()
            return
        first = head.split(b"\r\n\r\n", 1)[0].lower()
        if b"upgrade: websocket" in first:
            with self._lock:
                self.websocket_attempts += 1
                refuse = self.block_websockets
                if refuse:
                    self.websocket_refusals += 1
            if self.hold_websockets:
                return  # tracked: answered by nothing until drop_connections() or stop()
            if refuse:
                self._count(True, len(head))
                self._count(False, len(_REFUSAL))
                try:
                    client.sendall(_REFUSAL)
                except OSError:
                    pass
                client.close()
                return
        try:
            upstream = socket.create_connection(self.upstream, timeout=5.0)
            upstream.settimeout(None)
        except OSError:
            client.close()  # the Manager is down: the client sees its connection end
            return
        self._track(upstream)
        self._count(True, len(head))
        try:
            upstream.sendall(head)
        except OSError:
            pass
        threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()
        self._pump(client, upstream, True)

    def _count(self, up: bool, n: int) -> None:
        with self._lock:
            if up:
                self.bytes_up += n
            else:
                self.bytes_down += n

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._count(up, len(data))
                dst.sendall(data)
        except OSError:
            pass
        shut_down(src, dst)
        with self._lock:
            self._conns.discard(src)
            self._conns.discard(dst)
        src.close()
