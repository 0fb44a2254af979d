"""Every job on the Manager, for the "All Jobs" list: compact rows (api/joblist.py), kept
current by job events, queried for the few rows a panel shows.

The whole list is fetched only when the artist views all jobs (and again after the event
stream reconnected); between fetches the stream's job events update single rows. Rows are
plain tuples so that 20,000 of them cost the garbage collector nothing (see api/joblist.py).
"""

from __future__ import annotations

import heapq
import time
from operator import itemgetter
from typing import Any, Callable, Iterable, Optional

from ..api import models
from ..api.events import JobUpdate
from ..api.joblist import (
    CREATED,
    ID,
    NAME,
    PRIORITY,
    STATUS,
    UPDATED,
    JobRow,
    job_from_row,
    row_from_job,
)
from . import ordering

# Sort keys of the job list (props: FLAMENCO_DESK_PG_ui.sort_by) → (key, newest/highest first).
SORTS: dict[str, tuple[Callable[[JobRow], Any], bool]] = {
    "UPDATED": (itemgetter(UPDATED), True),
    "CREATED": (itemgetter(CREATED), True),
    "NAME": (lambda row: row[NAME].lower(), False),
    "PRIORITY": (itemgetter(PRIORITY), True),
    "STATUS": (itemgetter(STATUS), False),
}
# A query over 20,000 rows takes a few ms: redraws between changes reuse its answer, and
# while events stream in it is recomputed at most this often.
REQUERY_SECONDS = 0.5


def row_from_update(update: JobUpdate, before: Optional[JobRow]) -> Optional[JobRow]:
    """The row after a job event; None if the event is older than what we have (they can
    arrive out of order: see core/ordering.py)."""
    status = str(update.status)
    if before is not None:
        resolved = ordering.resolve(before[STATUS], before[UPDATED], update)
        if resolved is None:
            return None
        status, newer = resolved
        if not newer:
            return before[:STATUS] + (status,) + before[STATUS + 1 :]  # type: ignore[return-value]
    updated = update.updated or (before[UPDATED] if before else None)
    if updated is None:
        return None
    return (
        update.id,
        update.name if update.name is not None else (before[NAME] if before else ""),
        update.type or (before[2] if before else ""),
        status,
        update.priority,
        before[CREATED] if before else updated,  # a new job's event comes at its creation
        updated,
        update.steps_completed,
        update.steps_total,
        before[9] if before else None,  # the worker tag is not in events
        update.delete_requested_at,
    )


class JobIndex:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.rows: dict[str, JobRow] = {}
        self.fresh = False  # holds every job as of the last list, plus later events
        self.version = 0
        self._clock = clock
        self._cache_key: Optional[tuple[object, ...]] = None
        self._cache: tuple[list[models.Job], int] = ([], 0)
        self._cache_at = 0.0
        self._cache_rows = 0

    def __len__(self) -> int:
        return len(self.rows)

    def replace(self, rows: dict[str, JobRow]) -> dict[str, JobRow]:
        """A whole new list; returns the old one so the caller can let a background thread
        free it (freeing 20,000 rows takes a few ms)."""
        old, self.rows = self.rows, rows
        self.fresh = True
        self.version += 1
        return old

    def apply(self, update: JobUpdate) -> None:
        if update.was_deleted:
            self.remove(update.id)
            return
        before = self.rows.get(update.id)
        if before is None and not self.fresh:
            return  # a partial index would show a misleading list; the next list has it
        row = row_from_update(update, before)
        if row is not None:
            self.rows[update.id] = row
            self.version += 1

    def put(self, job: models.Job) -> None:
        """A job read over REST (newer than or as new as what the index holds)."""
        before = self.rows.get(job.id)
        if before is None and not self.fresh:
            return
        if before is not None and job.updated < before[UPDATED]:
            return
        self.rows[job.id] = row_from_job(job)
        self.version += 1

    def remove(self, job_id: str) -> None:
        if self.rows.pop(job_id, None) is not None:
            self.version += 1

    def query(self, statuses: Optional[Iterable[str]], sort_by: str, limit: int) -> tuple[list[models.Job], int]:
        """The first `limit` jobs in the given order among those with one of `statuses`
        (None: any), and how many match in all."""
        wanted = None if statuses is None else frozenset(statuses)
        key = (wanted, sort_by, limit)
        now = self._clock()
        # Within REQUERY_SECONDS, changes to listed jobs may wait; jobs arriving or leaving
        # (a list just read into an empty index, a deletion) never do.
        if key == self._cache_key and (self.version == self._cache_version or (
                now - self._cache_at < REQUERY_SECONDS and len(self.rows) == self._cache_rows)):
            return self._cache
        rows: Iterable[JobRow] = self.rows.values()
        if wanted is not None:
            rows = [row for row in rows if row[STATUS] in wanted]
        else:
            rows = list(rows)
        sort_key, descending = SORTS.get(sort_by, SORTS["UPDATED"])
        pick = heapq.nlargest if descending else heapq.nsmallest
        top = pick(limit, rows, key=sort_key)
        self._cache = ([job_from_row(row) for row in top], len(rows))  # type: ignore[arg-type]
        self._cache_key, self._cache_version, self._cache_at = key, self.version, now
        self._cache_rows = len(self.rows)
        return self._cache

    _cache_version = -1

    def job(self, job_id: str) -> Optional[models.Job]:
        row = self.rows.get(job_id)
        return job_from_row(row) if row is not None else None

    def ids(self) -> set[str]:
        return {row[ID] for row in self.rows.values()}
