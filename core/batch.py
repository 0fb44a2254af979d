"""Several jobs from one click, sharing one pack or one Shaman upload (background thread).

A batch is a list of parts (one per camera bound to a marker, per scene, or the scout job and
its paused full job); each becomes a job whose settings are the shared ones plus the part's
overrides, all pointing at the same farm .blend. Every part has a submission id of its own
derived from the batch's id, so a retry after a failure part-way looks each part up
(`submission.find_existing`) and submits only those the Manager does not have, reusing the
.blend the existing ones point at (no second pack or upload).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from ..api import errors, models
from ..api.client import ManagerClient
from . import submission

log = logging.getLogger(__name__)

BATCH_KEY = "flamenco_desk.batch"          # the batch's id, on every job of it
PART_KEY = "flamenco_desk.batch_part"      # "2/3": which part of how many
LABEL_KEY = "flamenco_desk.batch_label"    # what the part is: the camera, scene, "scout"…
KIND_KEY = "flamenco_desk.batch_kind"      # CAMERA_MARKERS, SCENES, SCOUT


@dataclass(frozen=True)
class Part:
    label: str
    name: str
    settings: dict[str, Any] = field(default_factory=dict)  # overrides of the shared settings
    priority: Optional[int] = None
    initial_status: Optional[str] = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MarkerCamera:
    frame: int
    marker: str
    camera: str


@dataclass
class BatchResult:
    jobs: list[models.Job]
    recovered: list[bool]
    blend_path: str
    pack: Optional[Any] = None
    warnings: list[str] = field(default_factory=list)


class BatchIncomplete(submission.SubmissionError):
    """Some parts were submitted, the rest not (or not certainly). Says which exist; the caller
    keeps the batch id so a retry submits only the missing ones."""

    def __init__(self, message: str, batch_id: str, made: list[models.Job], missing: list[str]) -> None:
        super().__init__(message)
        self.batch_id = batch_id
        self.made = made
        self.missing = missing


def camera_marker_ranges(markers: Sequence[MarkerCamera], frame_start: int, frame_end: int
                         ) -> list[tuple[MarkerCamera, int, int]]:
    """(marker, first, last) for each marker bound to a camera: from its frame to the frame
    before the next such marker, the last one to the scene's end. Markers outside the scene's
    range are left out; a marker before the start begins at the start (Blender uses the last
    camera marker at or before a frame)."""
    ordered = sorted(markers, key=lambda m: m.frame)
    spans: list[tuple[MarkerCamera, int, int]] = []
    for i, marker in enumerate(ordered):
        later = ordered[i + 1].frame - 1 if i + 1 < len(ordered) else frame_end
        first, last = max(marker.frame, frame_start), min(later, frame_end)
        if first <= last and (i + 1 == len(ordered) or ordered[i + 1].frame > frame_start):
            spans.append((marker, first, last))
    return spans


def safe_name_part(text: str) -> str:
    """Job names end up in paths (api-notes §7): no / ? * : ; { } \\ or '..'."""
    cleaned = "".join("_" if c in '/?*:;{}\\' else c for c in text).replace("..", "_")
    return cleaned.strip() or "part"


def part_submission_id(batch_id: str, index: int) -> str:
    return f"{batch_id}/{index + 1}"


def run(client: ManagerClient, request: submission.SubmissionRequest, parts: Sequence[Part], kind: str,
        progress: submission.Progress_ = lambda _: None) -> BatchResult:
    """Submit every part; raise BatchIncomplete naming what exists when one fails."""
    result: Optional[BatchResult] = None
    try:
        request = submission.placed(request, progress)
        result = _run(client, request, parts, kind, progress)
        return result
    finally:
        submission.discard_source(request, result.blend_path if result is not None else None)


def _run(client: ManagerClient, request: submission.SubmissionRequest, parts: Sequence[Part], kind: str,
         progress: submission.Progress_) -> BatchResult:
    batch_id = request.submission_id
    part_requests = [dataclasses.replace(request, submission_id=part_submission_id(batch_id, i))
                     for i in range(len(parts))]
    existing: list[Optional[models.Job]] = [None] * len(parts)
    if request.lookup_first:
        progress("Looking for the jobs of the earlier attempt")
        existing = _lookup(client, request, part_requests, parts)

    have = [job for job in existing if job is not None]
    warnings: list[str] = []
    folder = None
    pack = None
    if have:
        # The .blend the batch already sent: the remaining parts point at it too.
        blend_path = have[0].settings.get(request.blendfile_key or "", "")
        checkout = have[0].storage.shaman_checkout_id if have[0].storage else None
    else:
        blend_path, pack, folder = submission.send(client, request, progress, warnings)
        checkout = pack.checkout_path if pack is not None and pack.checkout_path else None

    made: list[Optional[models.Job]] = list(existing)
    for i, (part, part_request) in enumerate(zip(parts, part_requests)):
        if made[i] is not None:
            continue
        # The Manager removes a job's Shaman checkout when that job is deleted: shared by the
        # batch, it would go with the first job deleted and strand the others. So no part
        # claims it (it is a folder of links; the batch's .blend stays until a TD clears it).
        job = _job_for(request.job, part, part_request.submission_id, batch_id, f"{i + 1}/{len(parts)}", kind,
                       request.blendfile_key, blend_path, checkout if len(parts) == 1 else None)
        progress(f"Submitting {i + 1} of {len(parts)}: {part.name}")
        try:
            client.check_job(job)
            made[i] = submission.submit_once(client, job, part_request)
        except (errors.FlamencoError, submission.SubmissionError) as ex:
            if not any(made) and not isinstance(ex, submission.SubmissionUncertain):
                submission.discard_pack(folder)  # no job points at the pack: nothing left behind
                if isinstance(ex, errors.EtagMismatch):
                    raise submission.outdated(client, request) from ex
                raise submission.SubmissionError(f"Submission failed: {_reason(ex)}") from ex
            raise _incomplete(batch_id, parts, made, i, ex) from ex
    jobs = [job for job in made if job is not None]
    return BatchResult(jobs, [e is not None for e in existing], blend_path, pack, warnings)


def _lookup(client: ManagerClient, request: submission.SubmissionRequest,
            part_requests: Sequence[submission.SubmissionRequest], parts: Sequence[Part]
            ) -> list[Optional[models.Job]]:
    # One job list read answers every part (find_jobs_by_metadata reads the whole list).
    if not request.can_list_jobs:
        return [None] * len(parts)
    try:
        by_id = {job.metadata.get(submission.SUBMISSION_ID_KEY): job for job in client.jobs()
                 if job.metadata.get(BATCH_KEY) == request.submission_id}
    except errors.FlamencoError as ex:
        raise submission.SubmissionUncertain(
            f"Could not check which jobs of the batch reached the Manager ({ex}); nothing was submitted",
            request.submission_id) from ex
    return [by_id.get(r.submission_id) for r in part_requests]


def _job_for(base: models.SubmittedJob, part: Part, submission_id: str, batch_id: str, part_no: str, kind: str,
             blendfile_key: Optional[str], blend_path: str, checkout: Optional[str]) -> models.SubmittedJob:
    settings = dict(base.settings or {})
    settings.update(part.settings)
    if blendfile_key:
        settings[blendfile_key] = blend_path
    metadata = dict(base.metadata or {})
    metadata.update(part.metadata)
    metadata.update({submission.SUBMISSION_ID_KEY: submission_id, BATCH_KEY: batch_id, PART_KEY: part_no,
                     LABEL_KEY: part.label, KIND_KEY: kind})
    job = dataclasses.replace(base, name=part.name, settings=settings, metadata=metadata)
    if part.priority is not None:
        job = dataclasses.replace(job, priority=part.priority)
    if part.initial_status is not None:
        job = dataclasses.replace(job, initial_status=part.initial_status)
    if checkout:
        job = dataclasses.replace(job, storage=models.JobStorage(checkout))
    return job


def _reason(ex: BaseException) -> str:
    if isinstance(ex, errors.ManagerHTTPError):
        return f"the Manager refused the job: {ex.message}"
    return str(ex)


def _incomplete(batch_id: str, parts: Sequence[Part], made: list[Optional[models.Job]], failed_at: int,
                ex: BaseException) -> BatchIncomplete:
    exist = [job for job in made if job is not None]
    missing = [part.name for part, job in zip(parts, made) if job is None]
    listed = ", ".join(f'"{job.name}" ({job.id})' for job in exist)
    uncertain = " (it may have reached the Manager; it is looked up first)" if isinstance(
        ex, submission.SubmissionUncertain) else ""
    message = (f"Batch stopped at job {failed_at + 1} of {len(parts)}, \"{parts[failed_at].name}\"{uncertain}: "
               f"{_reason(ex).rstrip('.')}. On the Manager: {listed or 'none'}. Not submitted: "
               f"{', '.join(missing)}. Submit the batch again to make only those.")
    return BatchIncomplete(message, batch_id, exist, missing)


def frames_text(first: int, last: int) -> str:
    """A marker's span as the frames setting: "1-4", or "5" for one frame."""
    return f"{first}-{last}" if first != last else str(first)
