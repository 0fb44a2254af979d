"""The Manager's event stream: a Socket.IO 2 / Engine.IO 3 client over a websocket, on a
daemon thread of its own, that keeps itself connected.

    stream = EventStream("http://flamenco:8080", on_event=..., on_status=...)
    stream.start()
    stream.want({Subscription("allJobs"), Subscription("job", job_id)})
    ...
    stream.stop()  # returns at once; the thread ends by itself within milliseconds

Callbacks run on the stream's thread: hand their values to the main thread (the add-on
posts them to its bridge). What the Manager's server (graarh/golang-socketio) expects:
- the client keeps the connection alive: the server closes a connection it heard nothing
  from for 60 s, so we ping every `ping_interval` (25 s) and answer its pings;
- subscriptions live as long as the connection: after every (re)connect they are sent
  again, and each acknowledged one is reported as a `Subscribed` event, since nothing from
  before that moment is replayed (the caller resyncs over REST);
- the server emits each event from its own goroutine, so events may arrive out of order:
  receivers compare `updated` timestamps.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from enum import StrEnum
from typing import Callable, Iterable, Optional

from . import socketio
from .client import normalise_base_url
from .errors import InvalidResponse
from .events import Event, Subscribed, Subscription, parse_event
from .websocket import ConnectionClosed, HandshakeFailed, ProtocolError, WebSocket, WebSocketError

log = logging.getLogger(__name__)

PING_INTERVAL = 25.0  # the server closes a connection silent for 60 s
RETRY_MIN = 1.0
RETRY_MAX = 20.0
# A connection that stayed up this long was healthy: the next failure starts a fresh backoff.
HEALTHY_AFTER = 30.0


class StreamState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    DOWN = "down"
    STOPPED = "stopped"


@dataclass(frozen=True)
class StreamStatus:
    state: StreamState
    detail: str = ""  # why the stream is down, one sentence
    connects: int = 0  # successful connections so far (a new one means: resync)
    retry_in: float = 0.0  # when down: seconds until the next attempt
    refused: bool = False  # something answered HTTP but refused the websocket upgrade


@dataclass
class StreamStats:
    bytes_received: int = 0
    bytes_sent: int = 0
    events: int = 0


def stream_url(base_url: str) -> str:
    """ws(s)://host:port[/prefix]/socket.io/?EIO=3&transport=websocket for a Manager URL."""
    parts = urllib.parse.urlsplit(normalise_base_url(base_url))
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = parts.path.rstrip("/") + "/socket.io/"
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, "EIO=3&transport=websocket", ""))


class _Stopped(Exception):
    pass


def describe(ex: BaseException, read_timeout: float) -> str:
    """One readable reason why the stream is down."""
    if isinstance(ex, HandshakeFailed):
        return f"the Manager offers no event stream here: {ex}"
    if isinstance(ex, ConnectionRefusedError):
        return "the connection was refused (is the Manager running?)"
    if isinstance(ex, socket.gaierror):
        return "the host name could not be found"
    if isinstance(ex, (socket.timeout, TimeoutError)):
        return f"no answer within {read_timeout:g} s" if not str(ex) else str(ex)
    if isinstance(ex, ConnectionClosed):
        return "the Manager closed the connection"
    if isinstance(ex, (ConnectionResetError, BrokenPipeError)):
        return "the connection was reset"
    if isinstance(ex, (WebSocketError, socketio.PacketError, InvalidResponse)):
        return str(ex)
    if isinstance(ex, OSError):
        return ex.strerror or str(ex) or type(ex).__name__
    return f"{type(ex).__name__}: {ex}"


class EventStream:
    def __init__(
        self,
        base_url: str,
        on_event: Callable[[Event], None],
        on_status: Callable[[StreamStatus], None],
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        ping_interval: float = PING_INTERVAL,
        retry_min: float = RETRY_MIN,
        retry_max: float = RETRY_MAX,
        user_agent: str = "flamenco-desk",
    ) -> None:
        self.url = stream_url(base_url)
        self.on_event = on_event
        self.on_status = on_status
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.ping_interval = ping_interval
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.user_agent = user_agent
        self.stats = StreamStats()
        self.status = StreamStatus(StreamState.CONNECTING)
        self._lock = threading.Lock()
        self._wanted: frozenset[Subscription] = frozenset()
        self._stop = threading.Event()
        self._retry = threading.Event()  # cuts a backoff wait short (stop, retry_now)
        self._ws: Optional[WebSocket] = None
        self._connecting: Optional[socket.socket] = None
        self._thread: Optional[threading.Thread] = None
        self._wake_r: Optional[socket.socket] = None
        self._wake_w: Optional[socket.socket] = None
        self._connects = 0
        self._ack_id = 0

    # -- control (any thread) ---------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        # Wakes the select() of a live connection when the wanted subscriptions change.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="flamenco-desk-events", daemon=True)
        self._thread.start()

    def want(self, subscriptions: Iterable[Subscription]) -> None:
        """The subscriptions to hold; sent (again after every reconnect) by the thread."""
        wanted = frozenset(subscriptions)
        with self._lock:
            if wanted == self._wanted:
                return
            self._wanted = wanted
        self._wake()

    def retry_now(self) -> None:
        """Skip the rest of a backoff wait (e.g. the Manager answered a REST request again)."""
        if self.status.state == StreamState.DOWN:
            self._retry.set()

    def stop(self) -> None:
        """End the stream without waiting for the thread: it notices at once (its socket is
        shut down, its waits are woken) and exits by itself."""
        self._stop.set()
        self._retry.set()
        self._wake()
        with self._lock:
            ws, pending = self._ws, self._connecting
        if ws is not None:
            ws.abort()
        if pending is not None:  # a handshake still waiting for its answer
            try:
                pending.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _wake(self) -> None:
        if self._wake_w is None:
            return
        try:
            self._wake_w.send(b"!")
        except OSError:  # buffer full (already woken) or closed (stopped)
            pass

    # -- the thread ------------------------------------------------------------------------------

    def _set_status(self, status: StreamStatus) -> None:
        self.status = status
        try:
            self.on_status(status)
        except Exception:  # noqa: BLE001 - a broken callback must not end the stream
            log.exception("event stream status callback failed")

    def _run(self) -> None:
        delay = self.retry_min
        try:
            while not self._stop.is_set():
                self._set_status(StreamStatus(StreamState.CONNECTING, connects=self._connects))
                try:
                    self._session()
                except _Stopped:
                    break
                except Exception as ex:  # noqa: BLE001 - every failure means: down, retry later
                    reason, refused = describe(ex, self.read_timeout), isinstance(ex, HandshakeFailed)
                    log.debug("event stream down: %s", reason)
                finally:
                    self._drop_connection()
                if self._stop.is_set():
                    break
                if self._live_since is not None and time.monotonic() - self._live_since >= HEALTHY_AFTER:
                    delay = self.retry_min
                self._retry.clear()  # before saying "down": a retry_now() from then on counts
                self._set_status(StreamStatus(StreamState.DOWN, reason, self._connects, delay, refused))
                if self._retry.wait(delay) and self._stop.is_set():
                    break
                delay = min(delay * 2, self.retry_max)
        finally:
            self._set_status(StreamStatus(StreamState.STOPPED, connects=self._connects))
            for sock in (self._wake_r, self._wake_w):
                if sock is not None:
                    sock.close()

    _live_since: Optional[float] = None

    def _drop_connection(self) -> None:
        with self._lock:
            ws, self._ws = self._ws, None
        if ws is not None:
            self.stats.bytes_received += ws.bytes_received
            self.stats.bytes_sent += ws.bytes_sent
            ws.close()

    def _session(self) -> None:
        self._live_since = None
        try:
            ws = WebSocket.connect(
                self.url, connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                headers={"User-Agent": self.user_agent}, on_socket=self._connecting_on,
            )
        finally:
            with self._lock:
                self._connecting = None
        with self._lock:
            self._ws = ws
        if self._stop.is_set():
            raise _Stopped()
        self._handshake(ws)
        self._connects += 1
        self._live_since = time.monotonic()
        self._set_status(StreamStatus(StreamState.LIVE, connects=self._connects))
        self._serve(ws)

    def _connecting_on(self, sock: socket.socket) -> None:
        with self._lock:
            self._connecting = sock
        if self._stop.is_set():
            sock.shutdown(socket.SHUT_RDWR)

    def _handshake(self, ws: WebSocket) -> None:
        """Engine.IO open, then the Socket.IO connect of the default namespace."""
        deadline = time.monotonic() + self.read_timeout
        opened = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no Socket.IO handshake within {self.read_timeout:g} s")
            for message in ws.read(timeout=left):
                packet = socketio.decode(message.text or "")
                if packet.kind == "open":
                    interval = (packet.handshake or {}).get("pingInterval")
                    if isinstance(interval, (int, float)) and interval > 0:
                        # Never less often than the server asks for.
                        self._server_ping = min(self.ping_interval, interval / 1000.0)
                    opened = True
                elif packet.kind == "connect" and opened:
                    return
                elif packet.kind == "ping":
                    ws.send_text(socketio.encode_pong())
                elif packet.kind in ("close", "disconnect", "error"):
                    raise ConnectionClosed(None, f"the Manager ended the session ({packet.kind})")

    _server_ping = PING_INTERVAL

    def _serve(self, ws: WebSocket) -> None:
        """Until the connection fails (always by raising): keep the subscriptions, pings."""
        held: set[Subscription] = set()  # subscribed (or asked for) on this connection
        pending: dict[int, tuple[str, Subscription, float]] = {}  # ack id -> (op, sub, sent)
        ping_every = min(self.ping_interval, self._server_ping)
        now = time.monotonic()
        last_heard, next_ping = now, now + ping_every
        while True:
            if self._stop.is_set():
                raise _Stopped()
            with self._lock:
                wanted = self._wanted
            for sub in sorted(wanted - held):
                pending[self._send_subscription(ws, "subscribe", sub)] = ("subscribe", sub, time.monotonic())
                held.add(sub)
            for sub in sorted(held - wanted):
                pending[self._send_subscription(ws, "unsubscribe", sub)] = ("unsubscribe", sub, time.monotonic())
                held.discard(sub)

            wait = max(0.0, next_ping - time.monotonic())
            readable = ws.buffered()
            if not readable:
                assert self._wake_r is not None
                ready, _, _ = select.select([ws.sock, self._wake_r], [], [], wait)
                if self._wake_r in ready:
                    self._drain_wake()
                readable = ws.sock in ready
            if readable:
                messages = ws.read(timeout=self.read_timeout)
                last_heard = time.monotonic()
                for message in messages:
                    self._handle(ws, message.text, pending, wanted)
            now = time.monotonic()
            if now >= next_ping:
                ws.send_text(socketio.encode_ping())
                next_ping = now + ping_every
            if now - last_heard > ping_every + self.read_timeout:
                raise TimeoutError(f"the Manager did not answer pings for {now - last_heard:.0f} s")
            late = [sent for _, _, sent in pending.values() if now - sent > self.read_timeout]
            if late:
                raise TimeoutError(f"the Manager did not acknowledge a subscription within {self.read_timeout:g} s")

    def _drain_wake(self) -> None:
        try:
            while self._wake_r is not None and self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    def _send_subscription(self, ws: WebSocket, op: str, sub: Subscription) -> int:
        self._ack_id += 1
        ws.send_text(socketio.encode_event("/subscription", sub.request(op), ack_id=self._ack_id))
        return self._ack_id

    def _handle(
        self,
        ws: WebSocket,
        text: Optional[str],
        pending: dict[int, tuple[str, Subscription, float]],
        wanted: frozenset[Subscription],
    ) -> None:
        if text is None:
            raise ProtocolError("the Manager sent a binary message")
        packet = socketio.decode(text)
        if packet.kind == "ping":
            ws.send_text(socketio.encode_pong())
        elif packet.kind == "event":
            self.stats.events += 1
            try:
                event = parse_event(packet.name, packet.args[0] if packet.args else None)
            except InvalidResponse as ex:
                log.warning("ignoring a malformed event: %s", ex)
                return
            if event is not None:
                self._deliver(event)
        elif packet.kind == "ack" and packet.ack_id is not None:
            op, sub, _ = pending.pop(packet.ack_id, ("", Subscription(""), 0.0))
            answer = packet.args[0] if packet.args else None
            if op == "subscribe" and answer == "ok":
                self._deliver(Subscribed(sub))
            elif op and answer != "ok":
                log.warning("the Manager refused to %s %s: %s", op, sub, answer)
        elif packet.kind in ("close", "disconnect"):
            raise ConnectionClosed(None, "the Manager ended the session")
        elif packet.kind == "error":
            raise ProtocolError(f"the Manager reported a Socket.IO error: {packet.args[:1]}")

    def _deliver(self, event: Event) -> None:
        try:
            self.on_event(event)
        except Exception:  # noqa: BLE001 - a broken callback must not end the stream
            log.exception("event stream callback failed")
