"""Hand work to background threads and results back to the main thread.

Blender's UI runs on one thread; anything that may wait on the network runs on a
worker thread here. Results come back as plain data through a queue that the main
thread drains in small, time-boxed slices (see `drain`), so a slow or dead Manager
can never hold Blender's main thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

log = logging.getLogger(__name__)

SuccessCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


@dataclass
class _Outcome:
    key: Optional[str]
    callback: Optional[Callable[[Any], None]]
    value: Any


@dataclass
class DrainStats:
    """What one drain did: used by tests and benchmarks to see main-thread cost."""

    handled: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


_WorkItem = tuple[Callable[[], Any], Optional[SuccessCallback], Optional[ErrorCallback], Optional[str]]


class _Pool:
    """One generation of worker threads; `shutdown` retires it and starts a fresh one, so
    threads still finishing a slow request can never take work meant for their successors."""

    def __init__(self) -> None:
        self.work: "queue.SimpleQueue[Optional[_WorkItem]]" = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.idle = 0  # threads blocked waiting for work
        self.waiting = 0  # work items not yet taken by a thread


class Bridge:
    """A small thread pool whose results are applied on the thread that calls `drain`."""

    def __init__(self, max_workers: int = 4) -> None:
        self._max_workers = max_workers
        # Daemon threads (not concurrent.futures, whose threads are joined at exit): quitting
        # Blender must never wait for a request to a hung Manager to time out.
        self._pool = _Pool()
        self._results: "queue.SimpleQueue[_Outcome]" = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}

    # -- submitting work (main thread) ---------------------------------------------------

    def run(
        self,
        work: Callable[[], Any],
        on_success: Optional[SuccessCallback] = None,
        on_error: Optional[ErrorCallback] = None,
        key: Optional[str] = None,
    ) -> None:
        """Run `work()` on a background thread; its outcome is applied later by `drain`.

        `key` names the piece of work so callers can ask `busy(key)`, e.g. to refuse a
        second submission while the first is still on its way.
        """
        with self._lock:
            if key is not None:
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
            pool = self._pool
            pool.waiting += 1
            # A new thread whenever work would otherwise wait behind a (maybe hung) request.
            if pool.waiting > pool.idle and len(pool.threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._worker, args=(pool,), name=f"flamenco-desk-{len(pool.threads)}", daemon=True
                )
                pool.threads.append(thread)
                thread.start()
            pool.work.put((work, on_success, on_error, key))

    def _worker(self, pool: _Pool) -> None:
        while True:
            with self._lock:
                pool.idle += 1
            item = pool.work.get()
            with self._lock:
                pool.idle -= 1
                if item is not None:
                    pool.waiting -= 1
            if item is None:
                return
            self._call(*item)

    def post(self, callback: Callable[[Any], None], value: Any = None) -> None:
        """From a background thread: have `callback(value)` run on the main thread (used for
        progress messages while the work goes on)."""
        self._results.put(_Outcome(None, callback, value))

    def busy(self, key: str) -> bool:
        with self._lock:
            return self._in_flight.get(key, 0) > 0

    def _call(
        self,
        work: Callable[[], Any],
        on_success: Optional[SuccessCallback],
        on_error: Optional[ErrorCallback],
        key: Optional[str],
    ) -> None:
        try:
            value = work()
        except BaseException as ex:  # noqa: BLE001 - every failure must reach the UI
            if on_error is None:
                log.error("background work failed:\n%s", traceback.format_exc())
            self._results.put(_Outcome(key, on_error, ex))
            return
        self._results.put(_Outcome(key, on_success, value))

    # -- applying results (main thread) --------------------------------------------------

    def drain(self, budget_seconds: float = 0.004) -> DrainStats:
        """Apply finished results until the queue is empty or the budget is spent.

        At least one result is applied per call so that progress is guaranteed even with
        a tiny budget. A failing callback is logged and does not stop the others.
        """
        stats = DrainStats()
        start = time.perf_counter()
        while True:
            try:
                outcome = self._results.get_nowait()
            except queue.Empty:
                break
            try:
                if outcome.callback is not None:
                    outcome.callback(outcome.value)
            except Exception:  # noqa: BLE001 - one bad callback must not stop the rest
                stats.errors.append(traceback.format_exc())
                log.error("result callback failed:\n%s", stats.errors[-1])
            finally:
                if outcome.key is not None:
                    with self._lock:
                        left = self._in_flight.get(outcome.key, 1) - 1
                        if left > 0:
                            self._in_flight[outcome.key] = left
                        else:
                            self._in_flight.pop(outcome.key, None)
            stats.handled += 1
            if time.perf_counter() - start >= budget_seconds:
                break
        stats.seconds = time.perf_counter() - start
        return stats

    def pending(self) -> bool:
        """Whether anything is running or waiting to be applied."""
        with self._lock:
            running = any(self._in_flight.values())
        return running or not self._results.empty()

    def wait_for(self, key: str, timeout: float, poll: float = 0.02) -> bool:
        """Drain on the calling thread until `key` is done (headless mode only).

        Used where Blender has no UI to keep responsive (`blender -b`); returns False if
        the work did not finish in time.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.drain(budget_seconds=0.05)
            if not self.busy(key):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)

    def shutdown(self) -> None:
        """Stop accepting work; running threads finish on their own (they are not joined,
        so unregistering the add-on never waits on the network)."""
        with self._lock:
            old, self._pool = self._pool, _Pool()
            self._in_flight.clear()
        while True:  # work not started yet is dropped
            try:
                old.work.get_nowait()
            except queue.Empty:
                break
        for _ in old.threads:
            old.work.put(None)
        while not self._results.empty():
            try:
                self._results.get_nowait()
            except queue.Empty:
                break
