"""Fixtures for the hostile-response and hostile-input tests.

``stream_stub``: a loopback HTTP server that streams a body it never holds whole (a 200 MB
answer would otherwise sit in this process and hide the client's own memory use), for
faults the fault proxy (tests/support/fault_proxy.py, which buffers answers) cannot serve.
Its bodies are built from the real Manager's answers by the tests, never defined here.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class Streamed:
    chunks: Callable[[], Iterable[bytes]]
    length: int | None = None  # Content-Length to declare; None: chunked transfer encoding
    content_type: str = "application/json"


@dataclass
class StreamStub:
    url: str = ""
    routes: dict[str, Streamed] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)  # path → bytes written before the client left

    def serve(self, path: str, chunks: Callable[[], Iterable[bytes]], length: int | None = None,
              content_type: str = "application/json") -> None:
        self.routes[path] = Streamed(chunks, length, content_type)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stub: StreamStub

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        route = self.stub.routes.get(path)
        if route is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", route.content_type)
        if route.length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(route.length))
        self.end_headers()
        sent = 0
        try:
            for chunk in route.chunks():
                if route.length is None:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                else:
                    self.wfile.write(chunk)
                sent += len(chunk)
            if route.length is None:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the client stopped reading: what we want to see
        finally:
            self.stub.sent[path] = sent


@pytest.fixture
def stream_stub() -> Iterator[StreamStub]:
    stub = StreamStub()
    handler = type("Handler", (_Handler,), {"stub": stub})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield stub
    server.shutdown()
    server.server_close()
