"""How long a job has run and how long it still needs, from what the monitor saw.

The remaining time is extrapolated from how fast the job's progress actually moved since it
was first seen running: the gaps between tasks (a Worker waits between tasks, asks for work,
starts Blender) are part of that rate, which per-task durations leave out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from ..api import models
from .job_actions import FINISHED_STATES

# States in which the clock of a running job runs (paused jobs wait for the artist).
RUNNING_STATES = frozenset({"queued", "active", "requeueing"})


@dataclass
class ProgressRate:
    start: Optional[tuple[float, float]] = None  # (monotonic time, progress) when first seen running
    last: Optional[tuple[float, float]] = None

    def observe(self, progress: float, now: float, running: bool) -> None:
        if not running:
            self.start = self.last = None  # a pause or the end: the next run is measured afresh
            return
        if self.start is None or (self.last is not None and progress < self.last[1]):
            self.start = (now, progress)  # first sight, or progress went back (requeued tasks)
        self.last = (now, progress)

    def remaining(self, now: float) -> Optional[float]:
        """Seconds left, or None until progress has been seen moving."""
        if self.start is None or self.last is None:
            return None
        (t0, p0), (t1, p1) = self.start, self.last
        if p1 <= p0 or t1 <= t0 or p1 >= 1.0:
            return None
        per_unit = (t1 - t0) / (p1 - p0)
        return max(0.0, (1.0 - p1) * per_unit - (now - t1))


def elapsed_seconds(job: models.Job, now: datetime) -> float:
    """Since the job was created; a finished or paused job's clock stopped at its last change."""
    end = job.updated if job.status in FINISHED_STATES | {"paused"} else now
    return max(0.0, (end - job.created).total_seconds())
