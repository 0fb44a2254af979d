"""Which of two states of a job or task is the newer one, when the Manager's events can
arrive out of order and carry times that do not order them. bpy-free.

What the real Manager does (3.6 and 3.8.5, read in its source and seen in tests):
- each event is sent from its own goroutine, so two events for a job can arrive swapped;
- a status change is saved with a new `updated` in the database, but its event carries the
  `updated` of the job as it was read before the change (the same as, or older than, the
  steps update sent just before it);
- only status-change events (`previous_status` set) speak for the status: the steps update
  of a job's last task says "active, 5/5" and may arrive after the "completed" event.

So a status is taken from a status change that starts at the status held, whatever its
time, and never from an event that is not a status change once a status is held. Everything
else goes by `updated`. Watched jobs are re-read over REST after a status change all the same
(core/monitor.py); these rules keep what is shown meanwhile, and the "All Jobs" rows that are
not re-read, from sticking at a state the job has left.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Callable, Optional, Protocol, TypeVar


class StatusEvent(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def updated(self) -> Optional[datetime]: ...

    @property
    def previous_status(self) -> Optional[str]: ...


E = TypeVar("E", bound=StatusEvent)
H = TypeVar("H")  # a held dataclass with `status` and `updated` (a job, a task summary)


def resolve(held_status: str, held_updated: Optional[datetime], event: StatusEvent) -> Optional[tuple[str, bool]]:
    """What to take from `event` over a held state: None when nothing (it is older), else the
    status to hold and whether the event's other fields are newer than the held ones."""
    changes_status = event.previous_status is not None
    older = event.updated is not None and held_updated is not None and event.updated < held_updated
    if older:
        if changes_status and event.previous_status == held_status and event.status != held_status:
            return event.status, False  # the change from what is held, sent with an old time
        return None
    if not changes_status and event.status != held_status:
        return held_status, True  # newer steps or name; the status comes with its own event
    return event.status, True


def combine(earlier: E, later: E) -> E:
    """One event standing for two about the same object (`later` arrived last), as if both
    had been applied in turn: waiting events are coalesced (core/live.py)."""
    resolved = resolve(earlier.status, earlier.updated, later)
    if resolved is None:
        return earlier
    status, newer = resolved
    base = later if newer else earlier
    previous = earlier.previous_status if earlier.previous_status is not None else later.previous_status
    if status == base.status and previous == base.previous_status:
        return base
    return replace(base, status=status, previous_status=previous)  # type: ignore[type-var]


def merge(held: H, event: StatusEvent, fields: Callable[[], dict[str, Any]]) -> Optional[H]:
    """`held` after `event`, or None when the event is older; `fields()` gives what a newer
    event sets besides the status."""
    resolved = resolve(getattr(held, "status"), getattr(held, "updated"), event)
    if resolved is None:
        return None
    status, newer = resolved
    return replace(held, status=status, **(fields() if newer else {}))  # type: ignore[type-var]
