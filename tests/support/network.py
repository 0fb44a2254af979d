"""Loopback endpoints that are not a Manager at all: a port that never answers
and a port with nothing listening (for timeout and "connection refused" tests); and how the
relays end a relayed connection."""

from __future__ import annotations

import socket


def shut_down(*socks: socket.socket) -> None:
    """End both directions of relayed sockets, so the relay's other direction stops too;
    a socket that is already gone is fine."""
    for sock in socks:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Blackhole:
    """A loopback port that never answers.

    mode "read": connections are accepted by the kernel but never served →
    read timeouts. mode "connect": the accept backlog is full → SYNs are
    dropped → connect timeouts (Linux; ``works`` is False where it isn't so).
    """

    def __init__(self, mode: str = "read") -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0 if mode == "connect" else 16)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._fillers: list[socket.socket] = []
        self.works = True
        if mode == "connect":
            self.works = self._fill_backlog()

    def _fill_backlog(self) -> bool:
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.settimeout(0.2)
            try:
                filler.connect(("127.0.0.1", self.port))
            except OSError:
                filler.close()
                return True
            self._fillers.append(filler)
        return False

    def close(self) -> None:
        for sock in [*self._fillers, self._listener]:
            sock.close()

    def __enter__(self) -> Blackhole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def free_port() -> int:
    """A loopback port with nothing listening (for "connection refused")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
