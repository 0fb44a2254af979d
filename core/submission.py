"""The network half of a submission, run on a background thread.

The main thread prepares a `SubmissionRequest` (settings evaluated from the scene, the
.blend saved or not); this module places the .blend on shared storage, asks the
Manager to check the job, submits it, and makes sure a lost response never turns into
a second job.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ..api import errors, models
from ..api.client import ManagerClient
from . import storage
from .jobtype_diff import describe_change

log = logging.getLogger(__name__)

# Metadata key holding the id of one click on "Submit"; lets us find the job again.
SUBMISSION_ID_KEY = "flamenco_desk.submission_id"


class SubmissionError(Exception):
    """A submission failed; the message is for the artist."""


class SubmissionUncertain(SubmissionError):
    """The Manager may have created the job but its answer was lost and it could not be
    looked up. The caller keeps the submission id and looks it up before a new submit."""

    def __init__(self, message: str, submission_id: str) -> None:
        super().__init__(message)
        self.submission_id = submission_id


class JobTypeOutdated(SubmissionError):
    """412: the job type changed on the Manager. `job_type` is the fresh definition."""

    def __init__(self, message: str, job_type: Optional[models.JobType]) -> None:
        super().__init__(message)
        self.job_type = job_type


@dataclass
class SubmissionRequest:
    job: models.SubmittedJob
    blend_source: Path
    submission_id: str
    storage_location: str
    # Setting that tells the job type which .blend to render (built-ins: "blendfile").
    blendfile_key: Optional[str] = "blendfile"
    # Set when an earlier click lost its answer: look that one up before submitting.
    lookup_first: bool = False
    can_list_jobs: bool = True
    old_job_type: Optional[models.JobType] = None
    # The source is our own staging copy of unsaved changes: removed once submitted.
    source_is_temporary: bool = False


@dataclass
class SubmissionResult:
    job: models.Job
    blend_path: str
    recovered: bool = False
    warnings: list[str] = field(default_factory=list)


Progress = Callable[[str], None]


def _find_existing(client: ManagerClient, request: SubmissionRequest) -> Optional[models.Job]:
    if not request.can_list_jobs:
        return None
    found = client.find_jobs_by_metadata(SUBMISSION_ID_KEY, request.submission_id)
    return found[0] if found else None


def run(client: ManagerClient, request: SubmissionRequest, progress: Progress = lambda _: None) -> SubmissionResult:
    try:
        return _run(client, request, progress)
    finally:
        if request.source_is_temporary:
            shutil.rmtree(request.blend_source.parent, ignore_errors=True)


def _run(client: ManagerClient, request: SubmissionRequest, progress: Progress) -> SubmissionResult:
    if request.lookup_first:
        progress("Looking for the earlier submission")
        try:
            existing = _find_existing(client, request)
        except errors.FlamencoError as ex:
            raise SubmissionUncertain(
                f"Could not check whether the earlier submission reached the Manager ({ex}); "
                "nothing was submitted",
                request.submission_id,
            ) from ex
        if existing is not None:
            return SubmissionResult(existing, existing.settings.get(request.blendfile_key or "", ""), recovered=True)

    warnings: list[str] = []
    copied: Optional[Path] = None
    if storage.is_under(request.blend_source, request.storage_location):
        blend_path = request.blend_source
    else:
        progress("Copying the .blend to shared storage")
        try:
            copied = storage.copy_into_storage(
                request.blend_source, request.storage_location, request.job.name, request.submission_id
            )
        except OSError as ex:
            raise SubmissionError(f"Could not copy the .blend to shared storage: {ex}") from ex
        blend_path = copied
        warnings.append(
            "The .blend was copied to shared storage without its external files "
            "(textures, caches, linked libraries); the farm reads those from their current paths"
        )

    settings = dict(request.job.settings or {})
    if request.blendfile_key:
        settings[request.blendfile_key] = str(blend_path)
    job = dataclasses.replace(request.job, settings=settings)

    try:
        progress("Checking the job with the Manager")
        client.check_job(job)
        progress("Submitting")
        created = _submit_once(client, job, request)
    except errors.EtagMismatch as ex:
        _discard(copied)
        raise _outdated(client, request) from ex
    except errors.ManagerHTTPError as ex:
        _discard(copied)
        raise SubmissionError(f"The Manager refused the job: {ex.message}") from ex
    except SubmissionUncertain:
        raise
    except errors.FlamencoError as ex:
        _discard(copied)
        raise SubmissionError(f"Submission failed: {ex}") from ex
    return SubmissionResult(created, str(blend_path), warnings=warnings)


def _submit_once(client: ManagerClient, job: models.SubmittedJob, request: SubmissionRequest) -> models.Job:
    try:
        return client.submit_job(job)
    except (errors.ManagerTimeout, errors.ManagerUnreachable) as lost:
        # The request may have reached the Manager, which may have created the job.
        # Submitting again blindly could make a second job: look it up first.
        log.warning("submit response lost (%s); looking the job up by submission id", lost)
        if not request.can_list_jobs:
            raise SubmissionUncertain(
                f"The Manager did not answer the submission ({lost}). It may have created the job; "
                "check the farm before submitting again",
                request.submission_id,
            ) from lost
        try:
            existing = _find_existing(client, request)
        except errors.FlamencoError as ex:
            raise SubmissionUncertain(
                f"The Manager did not answer the submission ({lost}) and could not be asked "
                "whether the job exists; it will be looked up before the next submission",
                request.submission_id,
            ) from ex
        if existing is not None:
            return existing
        if isinstance(lost, errors.ManagerTimeout) and lost.phase == "read":
            # The request was sent: the Manager may still be compiling or storing it (a slow
            # answer, a busy database), so not finding the job yet proves nothing, and a
            # second submit could make a second job.
            raise SubmissionUncertain(
                f"The Manager did not answer the submission ({lost}) and has not shown the job yet; "
                "it will be looked up before the next submission",
                request.submission_id,
            ) from lost
        # The request never reached the Manager (no connection): one retry.
        try:
            return client.submit_job(job)
        except (errors.ManagerTimeout, errors.ManagerUnreachable) as again:
            raise SubmissionUncertain(
                f"The Manager did not answer the submission twice ({again}); "
                "it will be looked up before the next submission",
                request.submission_id,
            ) from again


def _outdated(client: ManagerClient, request: SubmissionRequest) -> JobTypeOutdated:
    name = request.job.type
    try:
        fresh: Optional[models.JobType] = client.job_type(name)
    except errors.NotFound:
        fresh = None
    except errors.FlamencoError as ex:
        return JobTypeOutdated(
            f'The job type "{name}" changed on the Manager and could not be reloaded ({ex}); '
            "refresh the job types and submit again",
            None,
        )
    what = describe_change(request.old_job_type, fresh)
    return JobTypeOutdated(
        f'The job type "{name}" changed on the Manager ({what}). Its settings were refreshed; '
        "check them and submit again",
        fresh,
    )


def _discard(copied: Optional[Path]) -> None:
    if copied is not None:
        storage.remove_copy(copied)
