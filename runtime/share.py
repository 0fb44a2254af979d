"""UI work that touches shared storage (a job's output folder), each on a thread of its own.

Not the bridge's pool: a hung Samba/NFS share holds the thread that asked for as long as it
hangs, and four listings of a frozen share must not leave no thread for polling the Manager.
The answer comes back through the bridge queue like any other; while a call makes no progress
for `STALL_SECONDS`, `waiting` names it and the panel says "Waiting for shared storage…".
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional

from .. import state
from . import timer

STALL_SECONDS = 1.0

_running: dict[str, str] = {}  # key -> what it does (main thread only)
waiting: dict[str, str] = {}  # the ones the share has not answered for STALL_SECONDS
# The last answer for the panel (e.g. "No rendered frames found in …"); main thread only.
last_message: Optional[str] = None


def busy(key: str) -> bool:
    return key in _running


def run(key: str, what: str, work: Callable[[], Any], on_success: Callable[[Any], None],
        on_error: Callable[[BaseException], None]) -> bool:
    """Start `work` on its own daemon thread; False when the same `key` still waits."""
    if key in _running:
        return False
    _running[key] = what
    done = threading.Event()

    def stalled() -> None:
        if not done.is_set():
            timer.bridge.post(_stalled, (key, what))

    def body() -> None:
        try:
            value, callback = work(), on_success
        except BaseException as ex:  # noqa: BLE001 - every failure must reach the UI
            value, callback = ex, on_error  # type: ignore[assignment]
        done.set()
        watch.cancel()
        timer.bridge.post(_finished, (key, callback, value))

    watch = threading.Timer(STALL_SECONDS, stalled)
    watch.daemon = True
    threading.Thread(target=body, name=f"flamenco-desk-share-{key}", daemon=True).start()
    watch.start()
    return True


def wait_for(key: str, timeout: float) -> bool:
    """Headless (`blender -b`, the bpy module): drain until `key` is answered."""
    deadline = time.monotonic() + timeout
    while key in _running:
        timer.bridge.drain(budget_seconds=0.05)
        if key not in _running:
            break
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def lines() -> list[str]:
    """What the panel shows: each call the share does not answer, then the last answer."""
    shown = [f"Waiting for shared storage ({what})…" for what in waiting.values()]
    return shown + ([last_message] if last_message else [])


def _stalled(item: Any) -> None:
    key, what = item
    if key in _running:
        waiting[key] = what
        state.redraw()


def _finished(item: Any) -> None:
    key, callback, value = item
    _running.pop(key, None)
    waiting.pop(key, None)
    callback(value)
    state.redraw()
