"""A loopback proxy in front of a real Flamenco Manager that can misbehave on request.

Every answer comes from the real Manager unless a test asks for a fault a real Manager
cannot be made to produce on demand: a request held unanswered, a slow answer, a canned
5xx or garbage body, a response lost after the Manager acted on the request, refused
connections. Nothing here defines Manager behaviour of its own.

Websocket upgrades (the Manager's Socket.IO event stream at /socket.io/) are passed through:
the handshake is forwarded as received, then bytes are relayed both ways untouched, so a
client watches jobs live as it would against the Manager itself. ``websockets`` switches
that: "refuse" strips the upgrade, as a proxy without websocket support does, and the
Manager itself refuses it (503: the client falls back to polling); "hold" leaves upgrades
unanswered (a hung Manager). Upgrades are logged but neither validated (they are not
/api/v3) nor subject to hold/respond/...; refuse_connections() and stop() cut open streams
too. Engine.IO's polling requests, if a client made any, are forwarded like any request.

Every request and every real answer is validated against the API document that the
Manager's release serves; ``contract_violations`` collects what did not match (canned
answers are checked too, into ``intentional_violations``, so a test can see that its
garbage really is garbage).

A slow link (``slow``: the answer starts after 2 s, then trickles at 10 KB/s), a body cut in
half (``cut_body``), a reverse proxy's 502 HTML page (``bad_gateway``) and a callback at the
moment a request arrives (``on_request``: before forwarding it, or after the Manager acted on
it, the answer then lost; bench/faults.py freezes or kills the real Manager there) are the
fault table's.

    with FaultProxy(farm.url, farm.release) as proxy:
        proxy.drop_response(r"^/api/v3/jobs$", method="POST")
        client = ManagerClient(proxy.url)
        proxy.websockets = "refuse"  # the event stream is not available: clients poll
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import socket
import threading
import time
import urllib.parse
from typing import Any

from . import openapi_contract
from .faults import Fault, FaultInjection, LoggedRequest, Reply, _Dropped
from .loopback_http import _Handler as _HttpHandler
from .loopback_http import _Server
from .network import shut_down

# Headers that belong to one connection, not to the message (RFC 9110 §7.6.1).
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
               "content-length", "host"}

__all__ = ["Fault", "FaultProxy", "LoggedRequest", "Reply"]


def error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """A canned answer in the shape of the Manager's handler errors: {"code", "message"}."""
    return Reply(status, json.dumps({"code": status, "message": message}).encode(), "application/json",
                 dict(headers or {}))


class _Handler(_HttpHandler):
    def do_GET(self) -> None:
        if "websocket" in self.headers.get("Upgrade", "").lower():
            self.server.owner._upgrade(self)  # type: ignore[attr-defined]
        else:
            self._handle()


class FaultProxy(FaultInjection):
    def __init__(self, upstream: str, release: str, *, upstream_timeout: float = 60.0) -> None:
        super().__init__()
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = upstream.rstrip("/")
        self._upstream_host = parts.hostname or "127.0.0.1"
        self._upstream_port = parts.port or 80
        self._upstream_timeout = upstream_timeout
        self.flamenco_release = release  # not `release`: that is the method freeing held requests
        self.requests_log: list[LoggedRequest] = []
        self.contract_violations: list[str] = []
        self.intentional_violations: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._state_lock = threading.Lock()
        self.websockets = "pass"  # | "refuse" | "hold": see the module's docstring

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("FaultProxy is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> FaultProxy:
        self._stopping.clear()
        self._listen()
        return self

    def _listen(self) -> None:
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.owner = self
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fault-proxy-{self._port}", daemon=True
        )
        self._thread.start()

    def _unlisten(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        # Keep-alive connections would otherwise keep talking to a "dead" Manager.
        with self._state_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        """Release held requests (unanswered) and close everything."""
        self._stopping.set()
        with self._fault_lock:
            for fault in self._faults:
                fault.released.set()
        self._unlisten()

    def refuse_connections(self) -> None:
        """Close the listening socket: new connections get "connection refused"."""
        self._unlisten()

    def resume(self) -> None:
        """Listen again on the same port after refuse_connections()."""
        if self._server is None:
            self._listen()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._state_lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # -- inspection ------------------------------------------------------------------------

    def requests_to(self, path_regex: str, method: str | None = None) -> list[LoggedRequest]:
        pattern = re.compile(path_regex)
        return [r for r in list(self.requests_log) if pattern.search(r.path) and (method is None or r.method == method)]

    def assert_contract_clean(self) -> None:
        if self.contract_violations:
            raise AssertionError(
                "Traffic violated the Flamenco API contract:\n  " + "\n  ".join(self.contract_violations)
            )

    # -- request handling ------------------------------------------------------------------

    def _forward(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        conn = http.client.HTTPConnection(self._upstream_host, self._upstream_port, timeout=self._upstream_timeout)
        try:
            out = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(method, raw_path, body=body or None, headers=out)
            response = conn.getresponse()
            data = response.read()
        except OSError as exc:
            # The Manager is down: the client sees its connection end, as it would.
            raise _Dropped() from exc
        finally:
            conn.close()
        # The proxy's HTTP server writes its own Date and Server: not twice.
        own = _HOP_BY_HOP | {"content-type", "date", "server"}
        passed = {k: v for k, v in response.getheaders() if k.lower() not in own}
        return Reply(response.status, data, response.getheader("Content-Type"), passed)

    def _upgrade(self, handler: _Handler) -> None:
        """A websocket upgrade: logged like any request, but not part of the REST contract
        (not /api/v3), so not validated; what follows it is the Manager's stream, relayed."""
        parts = urllib.parse.urlsplit(handler.path)
        headers = dict(handler.headers.items())
        self.requests_log.append(LoggedRequest("GET", parts.path, urllib.parse.parse_qs(parts.query), headers, None,
                                               b"", time.time()))
        handler.close_connection = True  # whatever happens, this connection has done with HTTP
        client = handler.connection
        # Checked until the switch changes, so a test can let a held upgrade go on.
        while self.websockets == "hold":
            if self._stopping.wait(0.05):
                return
        upstream = None
        try:
            if self.websockets == "refuse":
                handler._send(self._forward("GET", handler.path, headers, b""))  # upgrade headers stripped
                return
            upstream = socket.create_connection((self._upstream_host, self._upstream_port), timeout=5.0)
            head = f"GET {handler.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            upstream.sendall(head.encode("latin-1") + b"\r\n")
            # No idle timeout from here on: a quiet stream is not a dead one (pings are 25 s apart).
            upstream.settimeout(None)
            client.settimeout(None)
            down = threading.Thread(target=self._relay, args=(upstream.recv, client, upstream), daemon=True,
                                    name=f"fault-proxy-ws-{self._port}")
            down.start()
            # From the client through rfile: it may hold bytes read ahead past the headers.
            self._relay(handler.rfile.read1, upstream, client)
            down.join(timeout=5.0)
        except (OSError, _Dropped):
            pass  # the Manager is down or the client left: the client sees its connection end
        finally:
            if upstream is not None:
                upstream.close()
            shut_down(client)

    @staticmethod
    def _relay(read: Any, dst: socket.socket, src: socket.socket) -> None:
        """Copy until either side ends, then end both (so the other direction stops too)."""
        try:
            while data := read(65536):
                dst.sendall(data)
        except (OSError, ValueError):  # ValueError: rfile closed under us
            pass
        shut_down(src, dst)

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urllib.parse.urlsplit(raw_path)
        path = parts.path
        url = f"http://127.0.0.1:{self._port}{raw_path}"
        try:
            parsed_body: Any = json.loads(body) if body else None
        except ValueError:
            parsed_body = None
        self.requests_log.append(
            LoggedRequest(method, path, urllib.parse.parse_qs(parts.query), headers, parsed_body, body, time.time())
        )

        faults = self._take_faults(method, path)
        drop = False
        for fault in faults:
            if fault.kind == "hold":
                with self._fault_lock:
                    fault.waiting += 1
                fault.released.wait()
                with self._fault_lock:
                    fault.waiting -= 1
                if self._stopping.is_set():
                    raise _Dropped()
            elif fault.kind == "delay":
                if self._stopping.wait(fault.seconds):
                    raise _Dropped()
            elif fault.kind == "drop":
                drop = True
            elif fault.kind == "slow":
                if self._stopping.wait(fault.seconds):
                    raise _Dropped()
            elif fault.kind == "call" and fault.when == "before" and fault.callback is not None:
                fault.callback()
        canned = next((f.reply for f in faults if f.kind == "respond"), None)

        for problem in openapi_contract.request_problems(method, url, headers, body, release=self.flamenco_release):
            self.contract_violations.append(f"request {method} {path}: {problem}")

        if canned is not None:
            reply, sink = canned, self.intentional_violations
        else:
            # A dropped response is one the Manager did act on: forward first, then hang up.
            reply, sink = self._forward(method, raw_path, headers, body), self.contract_violations
        for fault in faults:
            if fault.kind == "call" and fault.when == "after" and fault.callback is not None:
                fault.callback()
                if fault.reply is None:
                    drop = True
                else:  # a gateway's answer in place of the Manager's
                    reply, sink = fault.reply, self.intentional_violations
        if drop:
            raise _Dropped()
        for fault in faults:
            if fault.kind == "slow":
                reply = dataclasses.replace(reply, pace_bps=fault.bytes_per_second)
            elif fault.kind == "cut":
                reply = dataclasses.replace(reply, cut_at=len(reply.body) // 2)

        headers_out = dict(reply.headers)
        if reply.content_type:
            headers_out["Content-Type"] = reply.content_type
        for problem in openapi_contract.response_problems(
            method, url, reply.status, headers_out, reply.body, release=self.flamenco_release
        ):
            sink.append(f"response {reply.status} to {method} {path}: {problem}")
        return reply
