"""Shared-storage I/O for background threads: placing the farm's copy of the .blend onto the
share, and noticing when the share stops answering.

A Samba/NFS share that hangs blocks whichever thread touches it, for as long as it hangs, and
no timeout can interrupt a system call. So Blender's main thread never touches the share: it
saves the farm's copy locally (`submitting.py`), and a background thread moves it onto the
share here. While a call on the share makes no progress for `STALL_SECONDS`, `ShareWatch`
says so, so the panel can show "Waiting for shared storage…" instead of a frozen progress bar.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Protocol

STALL_SECONDS = 1.0
WAITING_MESSAGE = "Waiting for shared storage"
# Large chunks: on a network share each write is a round trip; one per 8 MiB keeps a 1 GbE link busy.
CHUNK = 8 << 20


class _Cancel(Protocol):
    def check(self) -> None: ...


class ShareWatch:
    """Calls `on_change(True)` when an activity on the share has made no progress for
    `stall_seconds`, and `on_change(False)` when it moves again or ends. Any thread may
    `touch()`; `on_change` is called on the watch's own thread."""

    def __init__(self, on_change: Callable[[bool], None], stall_seconds: float = STALL_SECONDS) -> None:
        self._on_change = on_change
        self._stall = stall_seconds
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._depth = 0
        self._waiting = False
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def touch(self) -> None:
        with self._lock:
            self._last = time.monotonic()
            waiting, self._waiting = self._waiting, False
        if waiting:
            self._on_change(False)

    @contextmanager
    def active(self) -> Iterator[None]:
        """While inside, a stall of the share is reported."""
        with self._lock:
            self._depth += 1
            self._last = time.monotonic()
            if self._thread is None or not self._thread.is_alive():
                self._wake.clear()
                self._thread = threading.Thread(target=self._watch, name="flamenco-desk-share-watch", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                ending = self._depth == 0
                waiting = self._waiting and ending
                if ending:
                    self._waiting = False
                    self._wake.set()
            if waiting:
                self._on_change(False)

    def _watch(self) -> None:
        while not self._wake.wait(min(self._stall / 4, 0.25)):
            with self._lock:
                if self._depth == 0:
                    return
                report = not self._waiting and time.monotonic() - self._last >= self._stall
                if report:
                    self._waiting = True
            if report:
                self._on_change(True)


class WatchedProgress:
    """A packing `Progress` that also tells a `ShareWatch` that the pack is moving."""

    def __init__(self, inner: Any, watch: ShareWatch) -> None:
        self._inner = inner
        self._watch = watch

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            self._watch.touch()
            return method(*args, **kwargs)

        return call


def place_copy(source: Path, target: Path, cancel: Optional[_Cancel] = None,
               touch: Callable[[], None] = lambda: None) -> Path:
    """Copy `source` (a local file) to `target` on the share, never overwriting anything there
    (O_EXCL). A cancelled or failed copy removes what it wrote."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with open(source, "rb") as src, os.fdopen(fd, "wb", closefd=True) as dst:
            fd = -1  # owned by dst now
            while True:
                if cancel is not None:
                    cancel.check()
                chunk = src.read(CHUNK)
                if not chunk:
                    break
                dst.write(chunk)
                touch()
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            target.unlink()
        except OSError:
            pass
        raise
    return target
