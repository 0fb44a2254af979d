"""Drawing the studio workflow: batch and scout-frames buttons under Submit, a batch as one
group in the job list, and the open job's Re-render Missing / Approve / Reject."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Optional

from .. import batching, watching
from ..api.models import Job
from ..core import batch, scout
from ..operators import workflow
from . import fit

FINISHED = ("completed", "failed", "canceled")


def draw_submit_more(layout: Any, context: Any) -> None:
    """One click for several jobs: per camera marker, per scene; or scout frames first."""
    grid = layout.grid_flow(row_major=True, columns=1 if fit.narrow(context) else 3, even_columns=True, align=True)
    op = grid.operator("flamenco_desk.submit_job", text="Per Camera Marker", icon="OUTLINER_OB_CAMERA")
    op.batch = "CAMERA_MARKERS"
    op = grid.operator("flamenco_desk.submit_job", text="Per Scene", icon="SCENE_DATA")
    op.batch = "SCENES"
    op = grid.operator("flamenco_desk.submit_job", text="Scout Frames First", icon="VIEWZOOM")
    op.scout = True
    batching.warm(context.scene)  # a batch's {version} folders are listed before the click


def batch_line(members: list[Job]) -> str:
    """"Batch of 3 · 2 completed · 1 active", the group's progress in one line."""
    counts: dict[str, int] = {}
    for job in members:
        counts[job.status] = counts.get(job.status, 0) + 1
    kind = members[0].metadata.get(batch.KIND_KEY, "")
    what = "Scout pair" if kind == scout.KIND else f"Batch of {len(members)}"
    return "  ·  ".join([what, *(f"{n} {s}" for s, n in sorted(counts.items()))])


def grouped(jobs: Iterable[Job]) -> Iterator[tuple[Optional[str], Job]]:
    """The list's jobs with each batch kept together at its first member's place; a header
    line (the group's progress) comes before a group's first job."""
    jobs = list(jobs)
    members: dict[str, list[Job]] = {}
    for job in jobs:
        key = job.metadata.get(batch.BATCH_KEY)
        if key:
            members.setdefault(key, []).append(job)
    shown: set[str] = set()
    for job in jobs:
        key = job.metadata.get(batch.BATCH_KEY)
        if not key or len(members[key]) < 2:
            yield None, job
            continue
        if key in shown:
            continue
        shown.add(key)
        group = members[key]
        yield batch_line(group), group[0]
        for other in group[1:]:
            yield "", other  # "" : inside a group, no header


def draw_open_job_extras(layout: Any, context: Any, job: Job) -> None:
    """Re-render Missing for a job that rendered frames; Approve / Reject for a scout pair
    whose full job waits; the batch the job belongs to."""
    if scout.is_scout_pair(job):
        partner = scout.partner_of(job, list(watching.monitor.jobs.values()))
        full = job if job.metadata.get(batch.LABEL_KEY) == "full" else partner
        if full is None or full.status == "paused":
            fit.wrapped(layout, context, "The full job waits for the scout frames to be approved", "VIEWZOOM")
            row = layout.row(align=True)
            op = row.operator("flamenco_desk.scout_approve", icon="CHECKMARK")
            op.job_id = job.id
            op = row.operator("flamenco_desk.scout_reject", icon="CANCEL")
            op.job_id = job.id
    elif job.metadata.get(batch.PART_KEY):
        fit.wrapped(layout, context, f"Part {job.metadata[batch.PART_KEY]} of a batch "
                                     f"({job.metadata.get(batch.LABEL_KEY, '')})", "LINKED")
    if job.settings.get("frames") and (job.status in FINISHED or job.status == "paused"):
        op = layout.operator("flamenco_desk.rerender_missing", icon="FILE_REFRESH")
        op.job_id = job.id
    if workflow.result.message:
        fit.wrapped(layout, context, workflow.result.message, "INFO" if workflow.result.ok else "ERROR")
