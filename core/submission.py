"""The network half of a submission, run on a background thread.

The main thread prepares a `SubmissionRequest` (settings evaluated from the scene, the
.blend saved or not); this module gets the .blend and everything it needs to the farm
(packed into a job folder on shared storage, or uploaded to the Manager's Shaman), asks
the Manager to check the job, submits it, and makes sure a lost response never turns into
a second job.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from ..api import errors, models
from ..api.client import ManagerClient
from . import path_check, platform_paths, share_io, storage
from .jobtype_diff import describe_change

if TYPE_CHECKING:
    from .packing import CancelFlag, PackResult, Progress, Survey

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


class ProblemsFound(SubmissionError):
    """Tracing found missing or unreadable files (or absolute paths outside every known
    root) and the request said to ask first: nothing was written or sent."""

    def __init__(self, survey: Survey) -> None:
        count = len(survey.problems)
        what = "path problem" if survey.notes and not survey.files else "problem"
        where = "for the farm's Workers" if what == "path problem" else "with its files"
        super().__init__(f"The {'job' if what == 'path problem' else 'shot'} has {count} {what}"
                         f"{'s' if count != 1 else ''} {where}; nothing was submitted")
        self.survey = survey


class SubmissionCancelled(SubmissionError):
    """The artist cancelled while packing or uploading; nothing was submitted."""


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
    # The source is a copy of unsaved changes; pack_as is the artist's file it stands for
    # (packs are laid out as if that one had been packed).
    pack_as: Optional[Path] = None
    # The Manager stores job files itself (Shaman): upload instead of copying.
    shaman: bool = False
    # Problems found while tracing: "ask" stops with ProblemsFound, "submit" goes on.
    on_problems: str = "ask"
    cancel: Optional[CancelFlag] = None
    pack_progress: Optional[Progress] = None
    hash_cache_file: Optional[Path] = None
    # blend_source is a local staging copy of a file on shared storage: copied here (beside the
    # artist's file, so relative paths hold) by the background thread, never by the main thread.
    place_at: Optional[Path] = None
    # Told when the share stops answering (the panel says "Waiting for shared storage…").
    share_watch: Optional[share_io.ShareWatch] = None
    # Warnings known before sending (e.g. the output is outside shared storage), for the outcome.
    notes: tuple[str, ...] = ()
    # The farm has Workers of another platform than the artist's (the path check found them):
    # absolute paths inside a .blend would reach them as written, so it is not sent in place.
    mixed_platforms: bool = False


@dataclass
class SubmissionResult:
    job: models.Job
    blend_path: str
    recovered: bool = False
    warnings: list[str] = field(default_factory=list)
    pack: Optional[PackResult] = None


Progress_ = Callable[[str], None]


def find_existing(client: ManagerClient, request: SubmissionRequest,
                   cannot_ask: Callable[[Exception], str]) -> Optional[models.Job]:
    """The job an earlier attempt of this submission made, if the Manager has one. A Manager
    that cannot be asked leaves it open: SubmissionUncertain, saying `cannot_ask(error)`."""
    if not request.can_list_jobs:
        return None
    try:
        found = client.find_jobs_by_metadata(SUBMISSION_ID_KEY, request.submission_id)
    except errors.FlamencoError as ex:
        raise SubmissionUncertain(cannot_ask(ex), request.submission_id) from ex
    return found[0] if found else None


def run(client: ManagerClient, request: SubmissionRequest, progress: Progress_ = lambda _: None) -> SubmissionResult:
    result: Optional[SubmissionResult] = None
    try:
        request = placed(request, progress)
        result = _run(client, request, progress)
        return result
    finally:
        discard_source(request, result.blend_path if result is not None else None)


def placed(request: SubmissionRequest, progress: Progress_) -> SubmissionRequest:
    """The request with its .blend where packing reads it: a local staging copy of a file on
    shared storage is first copied beside the artist's file (relative paths hold there)."""
    return _place_on_share(request, progress) if request.place_at is not None else request


def discard_source(request: SubmissionRequest, blend_path: Optional[str]) -> None:
    """Our copy of unsaved changes goes once the farm has its own (`blend_path`, None when
    nothing was submitted)."""
    if request.source_is_temporary:
        shutil.rmtree(request.blend_source.parent, ignore_errors=True)
    elif request.pack_as is not None and blend_path != str(request.blend_source):
        # A copy of unsaved changes saved beside the artist's file on shared storage is
        # only kept when the farm reads it in place.
        request.blend_source.unlink(missing_ok=True)


def _run(client: ManagerClient, request: SubmissionRequest, progress: Progress_) -> SubmissionResult:
    if request.lookup_first:
        progress("Looking for the earlier submission")
        existing = find_existing(client, request, lambda ex: (
            f"Could not check whether the earlier submission reached the Manager ({ex}); nothing was submitted"))
        if existing is not None:
            return SubmissionResult(existing, existing.settings.get(request.blendfile_key or "", ""), recovered=True)
        if not request.shaman:  # no job uses the earlier attempt's pack: this attempt packs anew
            for earlier in storage.earlier_packs(request.storage_location, request.submission_id):
                storage.remove_job_folder(earlier)

    warnings: list[str] = []
    blend_path, packed, folder = send(client, request, progress, warnings)
    settings = dict(request.job.settings or {})
    if request.blendfile_key:
        settings[request.blendfile_key] = blend_path
    job = dataclasses.replace(request.job, settings=settings)
    if packed is not None and packed.checkout_path:
        job = dataclasses.replace(job, storage=models.JobStorage(packed.checkout_path))

    try:
        progress("Checking the job with the Manager")
        client.check_job(job)
        progress("Submitting")
        created = submit_once(client, job, request)
    except errors.EtagMismatch as ex:
        discard_pack(folder)
        raise outdated(client, request) from ex
    except errors.ManagerHTTPError as ex:
        discard_pack(folder)
        if ex.status >= 500:  # not a refusal: the Manager (or what is in front of it) failed
            raise SubmissionError(f"Nothing was submitted: {ex}") from ex
        raise SubmissionError(f"The Manager refused the job: {ex.message}") from ex
    except SubmissionUncertain:
        raise
    except errors.FlamencoError as ex:
        discard_pack(folder)
        raise SubmissionError(f"Submission failed: {ex}") from ex
    return SubmissionResult(created, blend_path, warnings=warnings, pack=packed)


def planned_paths(request: SubmissionRequest) -> list[tuple[str, str]]:
    """The job's paths as this request sends them, the .blend where it will be (predicted
    before packing): what the path check checks, before a submission and for Check Paths.
    May touch shared storage (is the .blend on it?): background threads only."""
    artist = request.job.submitter_platform
    source = request.pack_as or request.blend_source
    in_place = (str(request.blend_source) if not request.shaman
                and storage.is_under(request.blend_source, request.storage_location) else None)
    blend = path_check.predicted_blend(request.storage_location, in_place, request.shaman, source.name, artist)
    return path_check.job_paths(request.job.settings or {}, artist, blend, request.blendfile_key)


def _check_paths(client: ManagerClient, request: SubmissionRequest, progress: Progress_,
                 warnings: list[str]) -> tuple[Optional[str], tuple[str, ...]]:
    """How the job's paths reach each Worker platform (core/path_check.py), before anything is
    sent: problems stop the submission like the packing survey's (Submit Anyway goes on).
    Returns the Windows + Shaman notice, if any (for a failed checkout's message), and the
    platforms of the farm's Workers."""
    progress("Checking the paths for the farm's Workers")
    check, platforms = path_check.check_or_warn(client, planned_paths(request), request.job.submitter_platform,
                                                warnings)
    if check is None:
        return None, ()
    notice = platform_paths.shaman_windows_notice(request.shaman, platforms)
    report = path_check.as_survey(check, notice)
    if check.as_written():
        # Nothing differs per platform: a table would only repeat every path (headless noise).
        progress(check.one_line())
    elif request.pack_progress is not None:
        request.pack_progress.traced(report)  # headless prints the table
    if report.problems and request.on_problems != "submit":
        raise ProblemsFound(report)
    warnings.extend(p.describe() for p in report.problems)
    if notice:
        progress(notice)
        warnings.append(notice)
    return notice, platforms


def _send_files(client: ManagerClient, request: SubmissionRequest, progress: Progress_,
                warnings: list[str]) -> tuple[str, Optional[PackResult], Optional[Path]]:
    """Get the .blend and its dependencies to the farm. Returns the .blend's path as the
    farm reads it, the pack (if one was made) and the job folder made on shared storage."""
    from . import packing  # BAT loads only when a submission needs it

    cancel = request.cancel or packing.CancelFlag()
    pack_progress = request.pack_progress or packing.Progress()
    if request.share_watch is not None:  # each packing event shows the share is answering
        pack_progress = share_io.WatchedProgress(pack_progress, request.share_watch)  # type: ignore[assignment]

    def accept(survey: Survey) -> bool:
        if survey.problems and request.on_problems != "submit":
            return False
        warnings.extend(p.describe() for p in survey.problems)
        return True

    folder: Optional[Path] = None
    earlier = len(warnings)  # the path check's
    try:
        if request.shaman:
            progress("Sending the files to the Manager")
            # The upload thread gets a client of its own (a session is not shared between
            # threads), with a read timeout that covers the Manager storing a large file.
            with ManagerClient(client.base_url, connect_timeout=client.connect_timeout,
                               read_timeout=max(client.read_timeout, 60.0)) as uploader:
                packed = packing.pack_to_shaman(
                    request.blend_source, uploader, storage.shaman_checkout_path(request.job.name, request.submission_id),
                    pack_as=request.pack_as, cancel=cancel, progress=pack_progress, accept=accept,
                    hash_cache=packing.HashCache(request.hash_cache_file),
                )
            return packed.blend_path, packed, None

        shared = Path(request.storage_location)
        if storage.is_under(request.blend_source, request.storage_location):
            # Already on shared storage: submitted in place when everything it needs is too.
            progress("Checking the files")
            report = packing.survey(request.blend_source, pack_as=request.pack_as if request.pack_as else None,
                                    in_place_roots=[shared], cancel=cancel, progress=pack_progress)
            if not accept(report):
                raise packing.ProblemsFound(report)
            if len(report.to_send) == 1 and not (request.mixed_platforms and report.absolute_in_place):
                return str(request.blend_source), None, None
            del warnings[earlier:]  # packing reports them again
        progress("Packing the files into shared storage")
        try:
            folder = storage.job_folder(request.storage_location, request.job.name, request.submission_id)
        except OSError as ex:
            raise SubmissionError(f"Could not pack to shared storage: {ex}") from ex
        packed = packing.pack_to_folder(
            request.blend_source, folder, pack_as=request.pack_as, shared_root=shared, cancel=cancel,
            progress=pack_progress, accept=accept,
        )
        return packed.blend_path, packed, folder
    except packing.ProblemsFound as ex:
        raise ProblemsFound(ex.survey) from ex
    except packing.Cancelled as ex:
        raise SubmissionCancelled("Cancelled; nothing was submitted") from ex
    except packing.PackError as ex:
        raise SubmissionError(f"Could not send the files to the farm: {ex}") from ex


def send(client: ManagerClient, request: SubmissionRequest, progress: Progress_,
         warnings: list[str]) -> tuple[str, Optional[PackResult], Optional[Path]]:
    """Check the paths for the farm's Workers, then get the .blend and its dependencies to the
    farm (one job's or a whole batch's): the .blend's path as the farm reads it, the pack (if
    one was made) and the job folder made on shared storage."""
    shaman_notice, platforms = _check_paths(client, request, progress, warnings)
    if any(p != request.job.submitter_platform for p in platforms):
        request = dataclasses.replace(request, mixed_platforms=True)
    try:
        with _watching(request):
            blend_path, packed, folder = _send_files(client, request, progress, warnings)
    except SubmissionError as ex:
        if shaman_notice and not isinstance(ex, (ProblemsFound, SubmissionCancelled)):
            raise SubmissionError(f"{ex}. {shaman_notice}") from ex  # a failed checkout names it
        raise
    if request.cancel is not None and request.cancel.is_set():  # pressed after the last chunk
        discard_pack(folder)
        raise SubmissionCancelled("Cancelled; nothing was submitted")
    return blend_path, packed, folder


def _watching(request: SubmissionRequest) -> contextlib.AbstractContextManager[None]:
    if request.share_watch is None or request.shaman:  # Shaman: the Manager's timeouts apply
        return contextlib.nullcontext()
    return request.share_watch.active()


def _place_on_share(request: SubmissionRequest, progress: Progress_) -> SubmissionRequest:
    """Copy the locally saved farm copy beside the artist's file on shared storage; from then on
    it is the source (kept only when the farm reads it in place, see `run`)."""
    from . import packing  # BAT loads only when a submission needs it

    assert request.place_at is not None
    progress("Copying the file to shared storage")
    watch = request.share_watch
    try:
        with _watching(request):
            share_io.place_copy(request.blend_source, request.place_at, request.cancel,
                                watch.touch if watch is not None else lambda: None)
    except FileExistsError as ex:
        raise SubmissionError(f"Refusing to overwrite {request.place_at}") from ex
    except OSError as ex:
        raise SubmissionError(f"Could not copy the file to shared storage: {ex}") from ex
    except packing.Cancelled as ex:
        raise SubmissionCancelled("Cancelled; nothing was submitted") from ex
    shutil.rmtree(request.blend_source.parent, ignore_errors=True)  # the local staging copy
    return dataclasses.replace(request, blend_source=request.place_at, place_at=None, source_is_temporary=False)


# A gateway's answer (a reverse proxy in front of the Manager) says nothing about whether the
# Manager got the request and stored the job: it is a lost answer, not a refusal.
GATEWAY_STATUSES = (502, 503, 504)


def submit_once(client: ManagerClient, job: models.SubmittedJob, request: SubmissionRequest) -> models.Job:
    try:
        return client.submit_job(job)
    except (errors.ManagerTimeout, errors.ManagerUnreachable, errors.ManagerHTTPError) as lost:
        if isinstance(lost, errors.ManagerHTTPError) and lost.status not in GATEWAY_STATUSES:
            raise
        # The request may have reached the Manager, which may have created the job.
        # Submitting again blindly could make a second job: look it up first.
        log.warning("submit response lost (%s); looking the job up by submission id", lost)
        if not request.can_list_jobs:
            raise SubmissionUncertain(
                f"The Manager did not answer the submission ({lost}). It may have created the job; "
                "check the farm before submitting again",
                request.submission_id,
            ) from lost
        existing = find_existing(client, request, lambda ex: (
            f"The Manager did not answer the submission ({lost}) and could not be asked "
            "whether the job exists; it will be looked up before the next submission"))
        if existing is not None:
            return existing
        sent = isinstance(lost, errors.ManagerHTTPError) or (isinstance(lost, errors.ManagerTimeout) and lost.phase == "read")
        if sent:
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


def outdated(client: ManagerClient, request: SubmissionRequest) -> JobTypeOutdated:
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


def discard_pack(folder: Optional[Path]) -> None:
    if folder is not None:
        storage.remove_job_folder(folder)
