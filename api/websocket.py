"""A minimal RFC 6455 websocket client over the standard library.

Only what the Manager's event stream needs: the client side, text and binary messages,
fragmentation, ping/pong/close, no extensions (the Manager's gorilla/websocket server
negotiates none unless asked), ws:// and wss://. Written here rather than bundled as a
wheel: Blender installs extension wheels into one site-packages shared by every extension
(another extension's websocket library version would clash with ours), and this subset
is small enough to test completely (tests/api/test_websocket.py).

The object is used by one thread (the event stream's); only `abort` may be called from
another thread, to wake a blocked read during shutdown.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import os
import socket
import ssl
import struct
import time
import urllib.parse
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_CONTROL = frozenset({OP_CLOSE, OP_PING, OP_PONG})
_DATA = frozenset({OP_TEXT, OP_BINARY})

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEADER_BYTES = 16 * 1024
# Far above any Manager event (a job update is about 250 bytes); a bound so a broken peer
# cannot make us buffer without end.
DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024
READ_CHUNK = 64 * 1024

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009


class WebSocketError(Exception):
    """Anything that ends a websocket connection; `str()` is one readable sentence."""


class HandshakeFailed(WebSocketError):
    """The server answered the upgrade request with something other than 101."""

    def __init__(self, status: Optional[int], reason: str) -> None:
        self.status = status
        super().__init__(reason)


class ProtocolError(WebSocketError):
    def __init__(self, reason: str, close_code: int = CLOSE_PROTOCOL_ERROR) -> None:
        self.close_code = close_code
        super().__init__(reason)


class ConnectionClosed(WebSocketError):
    def __init__(self, code: Optional[int] = None, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        text = "the connection was closed"
        if code is not None:
            text += f" (code {code}{': ' + reason if reason else ''})"
        super().__init__(text)


@dataclass(frozen=True)
class Frame:
    fin: bool
    opcode: int
    payload: bytes


@dataclass(frozen=True)
class Message:
    """A whole data message, or a control frame (ping, pong, close)."""

    opcode: int
    data: bytes
    text: Optional[str] = None  # for OP_TEXT


def encode_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, mask_key: Optional[bytes] = None) -> bytes:
    """One client frame; clients must mask (RFC 6455 §5.3), with a fresh key per frame."""
    if opcode in _CONTROL and (len(payload) > 125 or not fin):
        raise ValueError("control frames carry at most 125 bytes and are never fragmented")
    key = os.urandom(4) if mask_key is None else mask_key
    if len(key) != 4:
        raise ValueError("the mask key is 4 bytes")
    head = bytearray([(0x80 if fin else 0) | opcode])
    length = len(payload)
    if length < 126:
        head.append(0x80 | length)
    elif length < 1 << 16:
        head.append(0x80 | 126)
        head += struct.pack("!H", length)
    else:
        head.append(0x80 | 127)
        head += struct.pack("!Q", length)
    head += key
    return bytes(head) + mask(payload, key)


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the repeated 4-byte key, done as one big-integer operation (fast in C)."""
    if not payload:
        return b""
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    value = int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")
    return value.to_bytes(len(payload), "big")


class FrameReader:
    """Splits a byte stream from the server into frames."""

    def __init__(self, max_payload: int = DEFAULT_MAX_MESSAGE) -> None:
        self._buffer = bytearray()
        self.max_payload = max_payload

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def has_frame(self) -> bool:
        return self._parse(consume=False) is not None

    def frames(self) -> Iterator[Frame]:
        while True:
            frame = self._parse(consume=True)
            if frame is None:
                return
            yield frame

    def _parse(self, consume: bool) -> Optional[Frame]:
        buf = self._buffer
        if len(buf) < 2:
            return None
        first, second = buf[0], buf[1]
        if first & 0x70:
            raise ProtocolError("the server set reserved bits (no extension was negotiated)")
        opcode = first & 0x0F
        fin = bool(first & 0x80)
        if second & 0x80:
            raise ProtocolError("the server sent a masked frame")
        length = second & 0x7F
        offset = 2
        if length == 126:
            if len(buf) < 4:
                return None
            (length,) = struct.unpack_from("!H", buf, 2)
            offset = 4
        elif length == 127:
            if len(buf) < 10:
                return None
            (length,) = struct.unpack_from("!Q", buf, 2)
            if length >> 63:
                raise ProtocolError("the frame length has its most significant bit set")
            offset = 10
        if opcode in _CONTROL and (length > 125 or not fin):
            raise ProtocolError("a control frame was too long or fragmented")
        if opcode not in _CONTROL and opcode not in _DATA and opcode != OP_CONTINUATION:
            raise ProtocolError(f"unknown opcode {opcode}")
        if length > self.max_payload:
            raise ProtocolError(f"a frame of {length} bytes is larger than allowed", CLOSE_TOO_BIG)
        if len(buf) < offset + length:
            return None
        frame = Frame(fin, opcode, bytes(buf[offset : offset + length]))
        if consume:
            del buf[: offset + length]
        return frame


class MessageAssembler:
    """Joins fragmented data frames into messages; control frames pass straight through
    (they may arrive between the fragments of a message)."""

    def __init__(self, max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self.max_message = max_message
        self._opcode: Optional[int] = None
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, frame: Frame) -> Optional[Message]:
        if frame.opcode in _CONTROL:
            return Message(frame.opcode, frame.payload)
        if frame.opcode == OP_CONTINUATION:
            if self._opcode is None:
                raise ProtocolError("a continuation frame without a message to continue")
        else:
            if self._opcode is not None:
                raise ProtocolError("a new message started before the previous one ended")
            self._opcode = frame.opcode
        self._parts.append(frame.payload)
        self._size += len(frame.payload)
        if self._size > self.max_message:
            raise ProtocolError(f"a message of more than {self.max_message} bytes", CLOSE_TOO_BIG)
        if not frame.fin:
            return None
        opcode, data = self._opcode, b"".join(self._parts)
        self._opcode, self._parts, self._size = None, [], 0
        assert opcode is not None
        if opcode == OP_TEXT:
            try:
                return Message(opcode, data, codecs.decode(data, "utf-8"))
            except UnicodeDecodeError:
                raise ProtocolError("a text message is not valid UTF-8", CLOSE_INVALID_DATA) from None
        return Message(opcode, data)


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + _GUID).encode("ascii")).digest()).decode("ascii")


def _parse_headers(head: bytes) -> tuple[int, str, dict[str, str]]:
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise HandshakeFailed(None, f"the server did not answer with HTTP ({lines[0][:60]!r})")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


class WebSocket:
    """A connected client websocket. Create with `WebSocket.connect`."""

    def __init__(self, sock: socket.socket, leftover: bytes = b"", max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self.sock = sock
        self._reader = FrameReader(max_message)
        self._assembler = MessageAssembler(max_message)
        self._reader.feed(leftover)
        self.closed = False
        self._closed_by_peer: Optional[ConnectionClosed] = None
        self.bytes_received = 0
        self.bytes_sent = 0

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        headers: Optional[dict[str, str]] = None,
        max_message: int = DEFAULT_MAX_MESSAGE,
        ssl_context: Optional[ssl.SSLContext] = None,
        on_socket: Optional[Callable[[socket.socket], None]] = None,
    ) -> WebSocket:
        """Open a TCP (or TLS) connection and perform the opening handshake.

        `connect_timeout` bounds the TCP and TLS set-up, `read_timeout` the wait for the
        server's answer to the upgrade request. `on_socket` receives the socket as soon as
        it is connected, so another thread can shut it down to end a pending handshake."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"{url!r} is not a ws:// or wss:// URL")
        secure = parts.scheme == "wss"
        port = parts.port or (443 if secure else 80)
        sock = socket.create_connection((parts.hostname, port), timeout=connect_timeout)
        if on_socket is not None:
            on_socket(sock)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if secure:
                context = ssl_context or ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=parts.hostname)
            default_port = port == (443 if secure else 80)
            host = parts.hostname if default_port else f"{parts.hostname}:{port}"
            if ":" in parts.hostname:  # IPv6 literal
                host = f"[{parts.hostname}]" + ("" if default_port else f":{port}")
            key = base64.b64encode(os.urandom(16)).decode("ascii")
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            lines = [
                f"GET {target} HTTP/1.1",
                f"Host: {host}",
                "Upgrade: websocket",
                "Connection: Upgrade",
                f"Sec-WebSocket-Key: {key}",
                "Sec-WebSocket-Version: 13",
            ]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            sock.settimeout(read_timeout)
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            head, leftover = cls._read_head(sock, time.monotonic() + read_timeout)
            status, reason, answer = _parse_headers(head)
            if status != 101:
                raise HandshakeFailed(status, f"the server refused the websocket upgrade (HTTP {status} {reason})".strip())
            if answer.get("upgrade", "").lower() != "websocket" or "upgrade" not in answer.get("connection", "").lower():
                raise HandshakeFailed(status, "the server's answer is not a websocket upgrade")
            if answer.get("sec-websocket-accept") != accept_key(key):
                raise HandshakeFailed(status, "the server's Sec-WebSocket-Accept does not match the key")
            if answer.get("sec-websocket-extensions"):
                raise HandshakeFailed(status, "the server chose an extension that was not offered")
        except BaseException:
            sock.close()
            raise
        return cls(sock, leftover, max_message)

    @staticmethod
    def _read_head(sock: socket.socket, deadline: float) -> tuple[bytes, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no answer to the websocket upgrade in time")
            sock.settimeout(left)
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionClosed(None, "")
            data += chunk
            if len(data) > MAX_HEADER_BYTES and b"\r\n\r\n" not in data:
                raise HandshakeFailed(None, "the server's answer headers are too long")
        head, _, rest = data.partition(b"\r\n\r\n")
        return head, rest

    # -- reading -----------------------------------------------------------------------------

    def fileno(self) -> int:
        return self.sock.fileno()

    def buffered(self) -> bool:
        """Whether a message can be read without waiting on the socket (a frame already in
        our buffer, or decrypted TLS data that select() cannot see)."""
        if self._closed_by_peer is not None:
            return True  # the next read raises ConnectionClosed
        pending = getattr(self.sock, "pending", None)
        return self._reader.has_frame() or bool(pending and pending())

    def read(self, timeout: Optional[float] = None) -> list[Message]:
        """Receive once from the socket (waiting at most `timeout`, None = the socket's
        timeout) and return the messages completed by it. Pings are answered here. A close
        frame is answered and raises ConnectionClosed (after the messages that came before
        it were returned); so does the end of the stream."""
        if self._closed_by_peer is not None:
            raise self._closed_by_peer
        if not self._reader.has_frame():
            if timeout is not None:
                self.sock.settimeout(timeout)
            try:
                chunk = self.sock.recv(READ_CHUNK)
            except (BlockingIOError, socket.timeout):
                return []
            if not chunk:
                self.closed = True
                raise ConnectionClosed(None, "")
            self.bytes_received += len(chunk)
            self._reader.feed(chunk)
        messages: list[Message] = []
        try:
            for frame in self._reader.frames():
                message = self._assembler.add(frame)
                if message is None:
                    continue
                if message.opcode == OP_PING:
                    self._send(OP_PONG, message.data)
                elif message.opcode == OP_CLOSE:
                    self._closed_by_peer = self._answer_close(message.data)
                    if not messages:
                        raise self._closed_by_peer
                    break
                elif message.opcode != OP_PONG:
                    messages.append(message)
        except ProtocolError as ex:
            self.close(ex.close_code)
            raise
        return messages

    def _answer_close(self, payload: bytes) -> ConnectionClosed:
        code: Optional[int] = None
        reason = ""
        if len(payload) >= 2:
            (code,) = struct.unpack("!H", payload[:2])
            reason = payload[2:].decode("utf-8", "replace")
        try:
            self._send(OP_CLOSE, payload[:2])
        except OSError:
            pass
        self._shutdown()
        return ConnectionClosed(code, reason)

    # -- writing -----------------------------------------------------------------------------

    def _send(self, opcode: int, payload: bytes) -> None:
        frame = encode_frame(opcode, payload)
        self.sock.sendall(frame)
        self.bytes_sent += len(frame)

    def send_text(self, text: str) -> None:
        self._send(OP_TEXT, text.encode("utf-8"))

    def send_ping(self, payload: bytes = b"") -> None:
        self._send(OP_PING, payload)

    # -- closing -----------------------------------------------------------------------------

    def close(self, code: int = CLOSE_NORMAL) -> None:
        """Send a close frame (best effort, without waiting for the answer) and close."""
        if not self.closed:
            try:
                self.sock.settimeout(1.0)
                self._send(OP_CLOSE, struct.pack("!H", code))
            except OSError:
                pass
        self._shutdown()

    def abort(self) -> None:
        """From any thread: end the connection now; a blocked read returns at once."""
        self._shutdown()

    def _shutdown(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
