"""What packing reports while it works, and how it is told to stop.

Modelled on BAT's `pack.progress.Callback`: one method per event, called on the packing
threads (never on Blender's main thread). The add-on's implementation hands each event to
the main thread through the bridge queue; headless mode prints lines. The library never
touches a UI.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import PackResult
    from .survey import Survey


class Cancelled(Exception):
    """The artist cancelled; whatever was written has been removed."""


class Progress:
    """Packing events; every method may be called from a background thread."""

    def stage(self, text: str) -> None:
        """A new phase began ("Tracing dependencies", "Hashing", "Copying", "Uploading"…)."""

    def traced(self, survey: Survey) -> None:
        """Tracing finished: what will be sent, and the problems found."""

    def file_started(self, path: str, size: int, number: int, count: int) -> None:
        """Work on one file started (number counts from 1 within the current stage)."""

    def bytes_done(self, done: int, total: int) -> None:
        """Bytes handled so far in the current stage, out of `total`."""

    def done(self, result: PackResult) -> None:
        """Packing or uploading finished; the farm can read the files."""

    def aborted(self, reason: str) -> None:
        """Stopped by a cancel or an error; nothing that looks complete was left behind."""


class CancelFlag:
    """Set from any thread (the Cancel button); checked between chunks of every file."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("Cancelled")
