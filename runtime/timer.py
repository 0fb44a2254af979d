"""The one persistent bpy.app.timers callback that applies background results.

Blender unregisters a timer whose function raises or returns None, which would
silently stop every later result from arriving. `tick` therefore never raises and
always returns an interval.
"""

from __future__ import annotations

import logging
from typing import Callable, Optional

import bpy

from .bridge import Bridge

log = logging.getLogger(__name__)

bridge = Bridge()

# Main-thread time allowed per tick; a poll result is small, so a few ms is plenty
# and keeps the UI at full frame rate even when many results arrive at once.
TICK_BUDGET_SECONDS = 0.004
BUSY_INTERVAL = 0.05
IDLE_INTERVAL = 0.25

# Other parts of the add-on (monitoring) add per-tick work here; each must be quick.
tick_hooks: list[Callable[[], None]] = []


def tick() -> float:
    try:
        bridge.drain(TICK_BUDGET_SECONDS)
        for hook in list(tick_hooks):
            try:
                hook()
            except Exception:  # noqa: BLE001 - a broken hook must not stop the timer
                log.exception("Flamenco Desk tick hook failed")
        return BUSY_INTERVAL if bridge.pending() else IDLE_INTERVAL
    except Exception:  # noqa: BLE001 - the timer must survive anything
        log.exception("Flamenco Desk timer failed; it keeps running")
        return IDLE_INTERVAL


def register() -> None:
    if not bpy.app.timers.is_registered(tick):
        # persistent: survives loading another .blend file.
        bpy.app.timers.register(tick, first_interval=0.0, persistent=True)


def unregister() -> None:
    if bpy.app.timers.is_registered(tick):
        bpy.app.timers.unregister(tick)
    bridge.shutdown()


def run(work: Callable[[], object], on_success: Optional[Callable[[object], None]] = None,
        on_error: Optional[Callable[[BaseException], None]] = None, key: Optional[str] = None) -> None:
    """Shorthand for `bridge.run`, so callers need not know about the bridge object."""
    bridge.run(work, on_success, on_error, key)
