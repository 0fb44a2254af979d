"""The websocket client's framing (RFC 6455) and the Engine.IO 3 / Socket.IO 2 packets, on
the examples of the RFC and the packets the Manager's server sends. The handshake and the
whole client meet the real Manager in tests/api/test_event_stream.py."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from api import socketio
from api.websocket import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    ConnectionClosed,
    FrameReader,
    HandshakeFailed,
    MessageAssembler,
    ProtocolError,
    WebSocket,
    accept_key,
    encode_frame,
    mask,
)


def frames_of(data: bytes, chunk: int = 1) -> list[tuple[bool, int, bytes]]:
    """Feed byte by byte (or in chunks): a frame is only complete when all of it is there."""
    reader = FrameReader()
    out = []
    for i in range(0, len(data), chunk):
        reader.feed(data[i : i + chunk])
        out += [(f.fin, f.opcode, f.payload) for f in reader.frames()]
    return out


def test_rfc6455_examples_decode() -> None:
    # RFC 6455 §5.7
    assert frames_of(bytes([0x81, 0x05]) + b"Hello") == [(True, OP_TEXT, b"Hello")]
    assert frames_of(bytes([0x01, 0x03]) + b"Hel" + bytes([0x80, 0x02]) + b"lo") == [
        (False, OP_TEXT, b"Hel"), (True, 0, b"lo")]
    assert frames_of(bytes([0x89, 0x05]) + b"Hello") == [(True, OP_PING, b"Hello")]
    payload = bytes(range(256))
    assert frames_of(bytes([0x82, 0x7E, 0x01, 0x00]) + payload, 7) == [(True, OP_BINARY, payload)]
    big = b"x" * 65536
    assert frames_of(bytes([0x82, 0x7F]) + struct.pack("!Q", 65536) + big, 4096) == [(True, OP_BINARY, big)]


def test_client_frames_are_masked_as_in_the_rfc() -> None:
    # RFC 6455 §5.7: a masked "Hello" with key 37 fa 21 3d.
    key = bytes([0x37, 0xFA, 0x21, 0x3D])
    assert encode_frame(OP_TEXT, b"Hello", mask_key=key) == bytes(
        [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    assert mask(mask(b"any payload at all", key), key) == b"any payload at all"
    # Length forms: 7-bit, 16-bit, 64-bit.
    assert encode_frame(OP_BINARY, b"a" * 125)[1] == 0x80 | 125
    assert encode_frame(OP_BINARY, b"a" * 126)[1:4] == bytes([0x80 | 126, 0, 126])
    assert encode_frame(OP_BINARY, b"a" * 65536)[1:10] == bytes([0x80 | 127]) + struct.pack("!Q", 65536)
    a, b = encode_frame(OP_TEXT, b"same"), encode_frame(OP_TEXT, b"same")
    assert a[2:6] != b[2:6], "a fresh mask key per frame"
    with pytest.raises(ValueError):
        encode_frame(OP_PING, b"p" * 126)


def test_the_rfc_accept_key() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize(
    "data, problem",
    [
        (bytes([0xC1, 0x00]), "reserved bits"),
        (bytes([0x81, 0x85, 1, 2, 3, 4]) + b"xxxxx", "masked"),
        (bytes([0x89, 0x7E, 0x00, 0x7E]) + b"p" * 126, "control frame"),
        (bytes([0x09, 0x00]), "control frame"),
        (bytes([0x83, 0x00]), "unknown opcode"),
        (bytes([0x82, 0x7F]) + struct.pack("!Q", 1 << 63), "most significant bit"),
    ],
)
def test_malformed_frames_are_refused(data: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem):
        frames_of(data, len(data))


def test_frames_larger_than_allowed_are_refused_before_buffering() -> None:
    reader = FrameReader(max_payload=1000)
    reader.feed(bytes([0x82, 0x7E]) + struct.pack("!H", 1001))
    with pytest.raises(ProtocolError, match="larger than allowed") as info:
        list(reader.frames())
    assert info.value.close_code == 1009


def test_messages_are_assembled_around_control_frames() -> None:
    asm = MessageAssembler()
    reader = FrameReader()
    reader.feed(bytes([0x01, 0x02]) + b"he" + bytes([0x89, 0x01]) + b"!" + bytes([0x00, 0x02]) + b"ll"
                + bytes([0x80, 0x01]) + b"o")
    out = [asm.add(frame) for frame in reader.frames()]
    assert [m.opcode if m else None for m in out] == [None, OP_PING, None, OP_TEXT]
    assert out[-1] is not None and out[-1].text == "hello"
    with pytest.raises(ProtocolError, match="continuation"):
        MessageAssembler().add(next(iter(FrameReader().frames()), None) or _frame(0, b"x"))
    asm2 = MessageAssembler()
    asm2.add(_frame(OP_TEXT, b"a", fin=False))
    with pytest.raises(ProtocolError, match="before the previous one ended"):
        asm2.add(_frame(OP_TEXT, b"b"))
    with pytest.raises(ProtocolError, match="UTF-8"):
        MessageAssembler().add(_frame(OP_TEXT, b"\xff\xfe"))
    small = MessageAssembler(max_message=3)
    small.add(_frame(OP_TEXT, b"ab", fin=False))
    with pytest.raises(ProtocolError, match="more than 3 bytes"):
        small.add(_frame(0, b"cd"))


def _frame(opcode: int, payload: bytes, fin: bool = True) -> object:
    from api.websocket import Frame

    return Frame(fin, opcode, payload)


class _OneShotServer:
    """A loopback peer that answers the upgrade with `answer` and then sends `then`
    (for the few answers a real Manager never gives; the real handshake is tested against
    the Manager)."""

    def __init__(self, answer: bytes, then: bytes = b"") -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self._answer, self._then = answer, then
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            self.received = data
            key = next(line.split(":", 1)[1].strip() for line in data.decode().split("\r\n")
                       if line.lower().startswith("sec-websocket-key"))
            conn.sendall(self._answer.replace(b"{accept}", accept_key(key).encode()) + self._then)
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass
        self.sock.close()


UPGRADE = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"


def test_handshake_checks_the_accept_key_and_keeps_early_frames() -> None:
    server = _OneShotServer(UPGRADE, bytes([0x81, 0x02]) + b"40" + bytes([0x89, 0x00]) + bytes([0x88, 0x02, 0x03, 0xE8]))
    ws = WebSocket.connect(f"ws://127.0.0.1:{server.port}/socket.io/?EIO=3&transport=websocket",
                           connect_timeout=2, read_timeout=2)
    request = server.received.decode()
    assert request.startswith("GET /socket.io/?EIO=3&transport=websocket HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n" in request and "Sec-WebSocket-Version: 13" in request
    messages = ws.read(timeout=2)  # frames that came with the handshake answer
    assert [m.text for m in messages] == ["40"]
    with pytest.raises(ConnectionClosed) as info:
        while True:
            ws.read(timeout=2)
    assert info.value.code == 1000 and ws.closed

    wrong = _OneShotServer(UPGRADE.replace(b"{accept}", b"d3Jvbmc="))
    with pytest.raises(HandshakeFailed, match="Accept"):
        WebSocket.connect(f"ws://127.0.0.1:{wrong.port}/", connect_timeout=2, read_timeout=2)
    refused = _OneShotServer(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(HandshakeFailed, match="HTTP 403") as failed:
        WebSocket.connect(f"ws://127.0.0.1:{refused.port}/", connect_timeout=2, read_timeout=2)
    assert failed.value.status == 403


def test_a_silent_server_times_out_the_handshake() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    with pytest.raises((socket.timeout, TimeoutError)):
        WebSocket.connect(f"ws://127.0.0.1:{sock.getsockname()[1]}/", connect_timeout=1, read_timeout=0.3)
    sock.close()


def test_engineio_and_socketio_packets() -> None:
    opened = socketio.decode('0{"sid":"rmG9","upgrades":[],"pingInterval":30000,"pingTimeout":60000}')
    assert opened.kind == "open" and opened.handshake is not None and opened.handshake["pingInterval"] == 30000
    assert socketio.decode("40").kind == "connect"
    assert [socketio.decode(t).kind for t in ("1", "2", "3", "6", "41")] == ["close", "ping", "pong", "noop", "disconnect"]
    event = socketio.decode('42["/jobs",{"id":"x","status":"queued"}]')
    assert (event.kind, event.name, event.args, event.ack_id) == ("event", "/jobs", [{"id": "x", "status": "queued"}], None)
    ack = socketio.decode('4312["ok"]')
    assert (ack.kind, ack.ack_id, ack.args) == ("ack", 12, ["ok"])
    spaced = socketio.decode('42/admin,7["x",1]')
    assert (spaced.namespace, spaced.ack_id, spaced.name, spaced.args) == ("/admin", 7, "x", [1])
    assert socketio.encode_event("/subscription", {"op": "subscribe", "type": "allJobs"}, ack_id=3) == \
        '423["/subscription",{"op":"subscribe","type":"allJobs"}]'
    assert socketio.encode_event("/x", 1) == '42["/x",1]'
    for bad in ("", "9", "4", "42", "42{}", "42[1]", "0[", "4x"):
        with pytest.raises(socketio.PacketError):
            socketio.decode(bad)
