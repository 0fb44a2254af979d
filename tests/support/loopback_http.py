"""HTTP plumbing of the fault proxy: a threading server whose handler hands every request
to its owner's ``_dispatch`` and writes back the ``Reply``."""

from __future__ import annotations

import http.server
import socket
import time
from typing import Any, Protocol

from .faults import Reply, _Dropped


class Owner(Protocol):
    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply: ...

    def _track(self, conn: socket.socket, add: bool) -> None: ...


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: Owner


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # Idle keep-alive connections give up eventually instead of pinning threads.
    timeout = 30

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            reply = self.server.owner._dispatch(self.command, self.path, dict(self.headers.items()), body)
        except _Dropped:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            if reply.content_type and reply.status != 204:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.status != 204:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.status != 204 and self.command != "HEAD":
                self._write_body(reply)
        except OSError:
            # The client gave up (timeout) before we answered.
            self.close_connection = True

    def _write_body(self, reply: Reply) -> None:
        body = reply.body if reply.cut_at is None else reply.body[:reply.cut_at]
        if reply.pace_bps <= 0:
            self.wfile.write(body)
        else:
            chunk = max(1, int(reply.pace_bps / 10))  # ten writes a second
            for start in range(0, len(body), chunk):
                self.wfile.write(body[start:start + chunk])
                self.wfile.flush()
                time.sleep(chunk / reply.pace_bps)
        if reply.cut_at is not None:
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _handle
