"""Re-render what failed or is missing (background thread: it lists the output folder and talks
to the Manager).

For a job, finished or not: the frames whose files are missing or empty in its output folder,
plus the frames of its failed tasks. When the job can redo exactly those by itself, its tasks are
requeued (a failed, canceled or paused job: `requeueing` requeues only its unfinished tasks and
keeps the completed ones, api-notes §2.1; a running job: each failed task is queued again).
Otherwise (a completed job: requeueing it would redo every frame; frames lost from completed
tasks) a new job renders exactly those frames, with the same settings and a frame list, and its
metadata names the original.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

from ..api import models
from ..api.client import ManagerClient
from . import submission
from .frames import FrameRangeError, format_frames, parse_frames
from .results import expand

RERENDER_OF_KEY = "flamenco_desk.rerender_of"
_RENDER_TASK = re.compile(r"^render-(.+)$")


class RerenderError(Exception):
    """Nothing can be re-rendered; the message is for the artist."""


@dataclass(frozen=True)
class Plan:
    job: models.Job
    missing: tuple[int, ...]            # files missing or empty on disk
    failed_tasks: tuple[str, ...]       # task ids
    frames: tuple[int, ...]             # what to render again
    action: str                         # "nothing" | "requeue-job" | "requeue-tasks" | "new-job"


def frame_file(pattern: str, extension: str, frame: int) -> Path:
    """The file Blender writes for `frame` with `--render-output pattern`: its run of `#` is the
    zero-padded frame number; without one Blender appends four digits."""
    run = re.findall(r"#+", pattern)
    if run:
        longest = max(run, key=len)
        head, _, tail = pattern.rpartition(longest)
        return Path(f"{head}{frame:0{len(longest)}d}{tail}{extension}")
    return Path(f"{pattern}{frame:04d}{extension}")


def expected_frames(job: models.Job) -> list[int]:
    text = job.settings.get("frames")
    if not isinstance(text, str):
        raise RerenderError(f'Job "{job.name}" has no frame range: its job type does not render frames')
    try:
        return parse_frames(text)
    except FrameRangeError as ex:
        raise RerenderError(f'Job "{job.name}" has an unreadable frame range "{text}": {ex}') from ex


def missing_frames(job: models.Job, variables: Mapping[str, str]) -> list[int]:
    """Frames whose output file is missing or empty (lists the disk: background thread only)."""
    pattern = job.settings.get("render_output_path")
    extension = job.settings.get("image_file_extension")
    if not isinstance(pattern, str) or not isinstance(extension, str) or not pattern:
        raise RerenderError(f'Job "{job.name}": its settings do not say where its frames are '
                            '(render_output_path and image_file_extension)')
    out = []
    for frame in expected_frames(job):
        path = frame_file(expand(pattern, variables), extension, frame)
        try:
            empty = path.stat().st_size == 0
        except OSError:
            empty = True
        if empty:
            out.append(frame)
    return out


def task_frames(task: models.TaskSummary) -> list[int]:
    """Frames of a built-in render task, from its name ("render-1-10", "render-3,4")."""
    match = _RENDER_TASK.match(task.name)
    if not match:
        return []
    try:
        return parse_frames(match.group(1))
    except FrameRangeError:
        return []


def plan(job: models.Job, tasks: Sequence[models.TaskSummary], missing: Sequence[int]) -> Plan:
    """What to render again and how. Frames that tasks still queued, running or paused will
    render are not missing yet (a job submitted paused, e.g. waiting for its scout frames, is
    left alone); frames lost from completed tasks can only come from a new job."""
    failed = [t for t in tasks if t.status == "failed"]
    coming = {f for t in tasks if t.status in ("queued", "active", "soft-failed", "paused") for f in task_frames(t)}
    completed = {f for t in tasks if t.status == "completed" for f in task_frames(t)}
    redo = {f for f in missing if f not in coming or job.status in ("failed", "canceled")}
    redo.update(f for t in failed for f in task_frames(t))
    lost = redo & completed
    if not redo:
        action = "nothing"
    elif job.status in ("failed", "canceled") and not lost:
        action = "requeue-job"  # requeueing keeps completed tasks, requeues the rest
    elif job.status in ("queued", "active") and failed and not lost:
        action = "requeue-tasks"
    elif job.status == "paused" and not lost:
        action = "nothing"  # resuming it renders them (and requeues failed tasks)
    else:
        action = "new-job"
    return Plan(job, tuple(sorted(missing)), tuple(t.id for t in failed), tuple(sorted(redo)), action)


@dataclass
class Outcome:
    message: str
    plan: Plan
    new_job: Optional[models.Job] = None


def rerender(client: ManagerClient, job_id: str, variables: Mapping[str, str], can_list_jobs: bool = True) -> Outcome:
    """Find what is missing or failed, then requeue or submit a job for exactly that."""
    job = client.job(job_id)
    tasks = client.job_tasks(job_id)
    the_plan = plan(job, tasks, missing_frames(job, variables))
    listed = format_frames(list(the_plan.frames)) if the_plan.frames else ""
    if the_plan.action == "nothing":
        if the_plan.frames:
            return Outcome(f'Job "{job.name}" is paused: resuming it renders frames {listed}', the_plan)
        if job.status not in ("completed", "failed", "canceled"):
            return Outcome(f'Job "{job.name}" ({job.status}): its tasks are still to render what is missing; '
                           "nothing to re-render yet", the_plan)
        return Outcome(f'Job "{job.name}": every frame is on disk and no task failed; nothing to re-render', the_plan)
    if the_plan.action == "requeue-job":
        client.set_job_status(job.id, "requeueing", f"Flamenco Desk: re-render frames {listed}")
        return Outcome(f'Requeued the unfinished tasks of "{job.name}" (frames {listed}); '
                       "its completed tasks are kept", the_plan)
    if the_plan.action == "requeue-tasks":
        for task_id in the_plan.failed_tasks:
            client.set_task_status(task_id, "queued", "Flamenco Desk: re-render failed task")
        return Outcome(f'Requeued {len(the_plan.failed_tasks)} failed task(s) of "{job.name}" (frames {listed})',
                       the_plan)
    created = submit_frames(client, job, listed, can_list_jobs)
    return Outcome(f'Submitted "{created.name}" ({created.id}) for frames {listed} of "{job.name}"',
                   the_plan, created)


def submit_frames(client: ManagerClient, job: models.Job, frames: str, can_list_jobs: bool = True) -> models.Job:
    """A new job like `job` (same type, settings, priority, tag) for exactly `frames`."""
    fresh_type = client.job_type(job.type)
    submission_id = str(uuid.uuid4())
    metadata = dict(job.metadata)
    metadata.update({RERENDER_OF_KEY: job.id, submission.SUBMISSION_ID_KEY: submission_id})
    for key in [k for k in metadata if k.startswith("flamenco_desk.batch")]:
        del metadata[key]  # not part of the original's batch group
    settings = dict(job.settings)
    settings["frames"] = frames
    new = models.SubmittedJob(
        name=f"{job.name} re-render",
        type=job.type,
        priority=job.priority,
        submitter_platform="manager",  # the stored settings are already the Manager's paths
        type_etag=fresh_type.etag,
        settings=settings,
        metadata=metadata,
        worker_tag=job.worker_tag or None,
        # No Shaman checkout id: deleting this job must not remove the original's checkout.
    )
    request = submission.SubmissionRequest(job=new, blend_source=Path(), submission_id=submission_id,
                                           storage_location="", can_list_jobs=can_list_jobs)
    client.check_job(new)
    return submission.submit_once(client, new, request)

