"""Engine.IO 3 / Socket.IO 2 packets, as the Manager's event stream speaks them over a
websocket (one packet per text message; no binary packets, no polling transport).

Engine.IO packet = one digit type + payload: 0 open (a JSON handshake), 1 close, 2 ping,
3 pong, 4 message, 5 upgrade, 6 noop. A message carries a Socket.IO packet: one digit type
(0 connect, 1 disconnect, 2 event, 3 ack, 4 error), an optional "/namespace," (the Manager
uses only the default one), an optional ack id, then JSON: `42["/jobs",{...}]`,
`421["/subscription",{...}]` (asks for an ack), `431["ok"]` (the ack).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

EIO_OPEN = "0"
EIO_CLOSE = "1"
EIO_PING = "2"
EIO_PONG = "3"
EIO_MESSAGE = "4"
EIO_UPGRADE = "5"
EIO_NOOP = "6"

SIO_CONNECT = "0"
SIO_DISCONNECT = "1"
SIO_EVENT = "2"
SIO_ACK = "3"
SIO_ERROR = "4"


class PacketError(ValueError):
    """A packet that is not Engine.IO 3 / Socket.IO 2."""


@dataclass(frozen=True)
class Packet:
    """A decoded packet. `kind` is one of: open, close, ping, pong, noop, upgrade,
    connect, disconnect, event, ack, error."""

    kind: str
    name: str = ""  # event name
    args: list[Any] = field(default_factory=list)  # event arguments or ack values
    ack_id: Optional[int] = None
    handshake: Optional[dict[str, Any]] = None  # for open
    namespace: str = "/"


_EIO_KINDS = {EIO_CLOSE: "close", EIO_PING: "ping", EIO_PONG: "pong", EIO_UPGRADE: "upgrade", EIO_NOOP: "noop"}
_SIO_KINDS = {SIO_CONNECT: "connect", SIO_DISCONNECT: "disconnect", SIO_EVENT: "event", SIO_ACK: "ack", SIO_ERROR: "error"}


def decode(text: str) -> Packet:
    if not text:
        raise PacketError("an empty packet")
    kind = text[0]
    if kind == EIO_OPEN:
        try:
            handshake = json.loads(text[1:])
        except ValueError:
            raise PacketError("the open packet's handshake is not JSON") from None
        if not isinstance(handshake, dict):
            raise PacketError("the open packet's handshake is not an object")
        return Packet("open", handshake=handshake)
    if kind in _EIO_KINDS:
        return Packet(_EIO_KINDS[kind])
    if kind != EIO_MESSAGE:
        raise PacketError(f"unknown Engine.IO packet type {kind!r}")
    return _decode_socketio(text[1:])


def _decode_socketio(text: str) -> Packet:
    if not text or text[0] not in _SIO_KINDS:
        raise PacketError(f"unknown Socket.IO packet {text[:10]!r}")
    kind, rest = _SIO_KINDS[text[0]], text[1:]
    namespace = "/"
    if rest.startswith("/"):
        end = rest.find(",")
        namespace, rest = (rest, "") if end < 0 else (rest[:end], rest[end + 1 :])
    digits = 0
    while digits < len(rest) and rest[digits].isdigit():
        digits += 1
    ack_id = int(rest[:digits]) if digits else None
    rest = rest[digits:]
    if kind in ("connect", "disconnect"):
        return Packet(kind, ack_id=ack_id, namespace=namespace)
    try:
        payload = json.loads(rest) if rest else None
    except ValueError:
        raise PacketError(f"the {kind} packet's payload is not JSON") from None
    if kind == "error":
        return Packet(kind, args=[payload], namespace=namespace)
    if not isinstance(payload, list):
        raise PacketError(f"the {kind} packet's payload is not a list")
    if kind == "event":
        if not payload or not isinstance(payload[0], str):
            raise PacketError("the event packet has no name")
        return Packet(kind, name=payload[0], args=payload[1:], ack_id=ack_id, namespace=namespace)
    return Packet(kind, args=payload, ack_id=ack_id, namespace=namespace)


def encode_event(name: str, *args: Any, ack_id: Optional[int] = None) -> str:
    """`42["name",arg…]`, or `42<id>[…]` when the server should acknowledge."""
    body = json.dumps([name, *args], separators=(",", ":"))
    return EIO_MESSAGE + SIO_EVENT + ("" if ack_id is None else str(ack_id)) + body


def encode_ping() -> str:
    return EIO_PING


def encode_pong() -> str:
    return EIO_PONG
