"""The event stream wired to the monitor: the stream's thread hands events to an inbox,
the main thread applies them in slices of at most BUDGET seconds (through the bridge's
`post`, drained by the add-on's timer). bpy-free: tests pass a Bridge's `post` and drain it.

Events for the same object are coalesced while they wait (the newest state of a job, a
task, a worker is all that matters), so a burst — 20,000 jobs created, a mass requeue —
costs the main thread one application per object, spread over as many ticks as needed.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Any, Callable, Hashable, Optional

from ..api import events
from ..api.event_stream import EventStream, StreamStatus
from . import ordering
from .monitor import Monitor

log = logging.getLogger(__name__)
Post = Callable[[Callable[[Any], None], Any], None]
BUDGET = 0.003  # main-thread seconds per slice (the timer's whole tick budget is 4 ms)
_unique = itertools.count()


def coalesce_key(item: object) -> Hashable:
    if isinstance(item, events.JobUpdate):
        return ("job", item.id)
    if isinstance(item, events.TaskUpdate):
        return ("task", item.id)
    if isinstance(item, events.WorkerUpdate):
        return ("worker", item.id)
    if isinstance(item, events.WorkerTagUpdate):
        return ("tag", item.tag_id)
    if isinstance(item, events.FarmStatusUpdate):
        return ("farm-status",)
    if isinstance(item, events.LastRenderedUpdate):
        return ("last-rendered", item.job_id)
    return ("once", next(_unique))  # stream status, subscriptions: each one counts, in order


def merge(old: object, new: object) -> object:
    """One event for two about the same object (they can arrive out of order: see
    core/ordering.py), keeping a request to re-read a job's tasks from either."""
    if isinstance(old, events.JobUpdate) and isinstance(new, events.JobUpdate):
        return replace(ordering.combine(old, new), refresh_tasks=old.refresh_tasks or new.refresh_tasks,
                       was_deleted=old.was_deleted or new.was_deleted)
    if isinstance(old, events.TaskUpdate) and isinstance(new, events.TaskUpdate):
        return ordering.combine(old, new)
    old_time, new_time = getattr(old, "updated", None), getattr(new, "updated", None)
    return old if old_time is not None and new_time is not None and new_time < old_time else new


class Inbox:
    def __init__(self, post: Post, apply: Callable[[object], None], budget: float = BUDGET,
                 clock: Callable[[], float] = time.perf_counter,
                 after_slice: Optional[Callable[[], None]] = None) -> None:
        self._post = post
        self._apply = apply
        self._after_slice = after_slice
        self._budget = budget
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._scheduled = False  # a _flush is waiting in the bridge's queue
        self._more = False  # the last slice ran out of budget: pump() schedules the next
        self._closed = False
        self.applied = 0
        self.slices = 0

    def put(self, item: object) -> None:
        """Any thread."""
        key = coalesce_key(item)
        with self._lock:
            if self._closed:
                return
            old = self._items.get(key)
            self._items[key] = item if old is None else merge(old, item)
            if self._scheduled:
                return
            self._scheduled = True
        self._post(self._flush, None)

    def pump(self) -> None:
        """Main thread, once per timer tick (after the bridge was drained): continue a
        backlog. Not re-posted from the slice itself, which would run it again within the
        same drain and overrun the tick's budget."""
        with self._lock:
            if not self._more or self._scheduled or self._closed:
                return
            self._more, self._scheduled = False, True
        self._post(self._flush, None)

    def pending(self) -> int:
        with self._lock:
            return len(self._items)

    def close(self) -> None:
        """Nothing put from now on is applied (a stopped stream's last words)."""
        with self._lock:
            self._closed = True
            self._items.clear()

    def _flush(self, _: Any = None) -> None:
        """Main thread: apply until the budget is spent; the rest waits for the next slice."""
        start = self._clock()
        self.slices += 1
        try:
            while True:
                with self._lock:
                    if self._closed or not self._items:
                        self._scheduled = False
                        return
                    _, item = self._items.popitem(last=False)
                try:
                    self._apply(item)
                except Exception:  # noqa: BLE001 - one bad event must not stop the rest
                    log.exception("applying an event failed")
                self.applied += 1
                if self._clock() - start >= self._budget:
                    break
            with self._lock:
                self._scheduled = False
                self._more = bool(self._items)  # pump() continues on the next tick
        finally:
            if self._after_slice is not None:
                self._after_slice()


class LiveLink:
    """One Manager's event stream feeding one monitor."""

    def __init__(
        self,
        base_url: str,
        monitor: Monitor,
        post: Post,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        on_applied: Optional[Callable[[], None]] = None,
        stream_factory: Callable[..., EventStream] = EventStream,
        **stream_options: Any,
    ) -> None:
        self.monitor = monitor
        self.inbox = Inbox(post, self._apply, after_slice=on_applied)
        self.stream = stream_factory(
            base_url, on_event=self.inbox.put, on_status=self.inbox.put,
            connect_timeout=connect_timeout, read_timeout=read_timeout, **stream_options,
        )

    def start(self) -> None:
        self.stream.start()

    def update(self, active: bool = True) -> None:
        """Main thread, every tick: hold the subscriptions for what is watched now."""
        self.inbox.pump()
        self.stream.want(self.monitor.subscriptions() if active else set())

    def stop(self) -> None:
        """Returns at once (the stream's thread is not joined)."""
        self.inbox.close()
        self.stream.stop()

    def _apply(self, item: object) -> None:
        if isinstance(item, StreamStatus):
            self.monitor.set_stream(item)
        else:
            self.monitor.apply_event(item)  # type: ignore[arg-type]
