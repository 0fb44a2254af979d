"""Scout frames: the first, middle and last frame render first as a job of their own at a
higher priority; the full job waits, submitted paused, until the artist approves (resume) or
rejects it (both deleted). Both are parts of one batch (`core.batch`, kind SCOUT), so they share
one pack or upload and the batch id links them."""

from __future__ import annotations

from typing import Optional, Sequence

from ..api import errors, models
from ..api.client import ManagerClient
from .batch import BATCH_KEY, KIND_KEY, LABEL_KEY
from .frames import format_frames

KIND = "SCOUT"


def scout_frames(frames: Sequence[int]) -> str:
    """First, middle and last of the job's frames (fewer when it has fewer), as a frame list."""
    ordered = sorted(set(frames))
    if not ordered:
        raise ValueError("no frames")
    picked = {ordered[0], ordered[len(ordered) // 2], ordered[-1]}
    return format_frames(sorted(picked))


def is_scout_pair(job: models.Job) -> bool:
    return job.metadata.get(KIND_KEY) == KIND


def partner_of(job: models.Job, jobs: Sequence[models.Job]) -> Optional[models.Job]:
    """The other job of the scout pair (the full job for the scout and back)."""
    batch_id = job.metadata.get(BATCH_KEY)
    for other in jobs:
        if other.id != job.id and batch_id and other.metadata.get(BATCH_KEY) == batch_id:
            return other
    return None


def full_and_scout(client: ManagerClient, job_id: str) -> tuple[models.Job, Optional[models.Job]]:
    """(full job, scout job) of the pair `job_id` belongs to, read from the Manager."""
    job = client.job(job_id)
    if not is_scout_pair(job):
        raise ValueError(f'Job "{job.name}" was not submitted with scout frames')
    partner = partner_of(job, client.jobs())
    if job.metadata.get(LABEL_KEY) == "scout":
        if partner is None:
            raise ValueError(f'The full job of scout job "{job.name}" is gone from the Manager')
        return partner, job
    return job, partner


def approve(client: ManagerClient, job_id: str) -> str:
    """Resume the full job (submitted paused: `queued` starts it, api-notes §2.1)."""
    full, _ = full_and_scout(client, job_id)
    if full.status != "paused":
        raise ValueError(f'The full job "{full.name}" is {full.status}, not waiting for approval')
    client.set_job_status(full.id, "queued", "scout frames approved in Flamenco Desk")
    return f'Approved: "{full.name}" is queued'


def reject(client: ManagerClient, job_id: str, can_delete: bool) -> str:
    """Delete both jobs (cancel first: the Manager does not check a job's status before
    deleting, api-notes §3); a Manager without delete gets them canceled instead."""
    full, scout = full_and_scout(client, job_id)
    done: list[str] = []
    for job in (scout, full):
        if job is None:
            continue
        if job.status in ("queued", "active", "paused", "pause-requested"):
            client.set_job_status(job.id, "cancel-requested", "scout frames rejected in Flamenco Desk")
        if can_delete:
            try:
                client.delete_job(job.id)
            except errors.NotFound:
                pass
        done.append(f'"{job.name}"')
    verb = "deleted" if can_delete else "canceled (this Manager cannot delete jobs)"
    return f"Rejected: {' and '.join(done)} {verb}"
