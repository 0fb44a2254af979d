"""Main-thread half of a submission: prepare the request from the scene, then apply the
outcome that the background half (`core.submission`) hands back."""

from __future__ import annotations

import getpass
import logging
import shutil
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional

import bpy

from . import props, state, templating, watching
from .api import models
from .core import manager_info, share_io, storage, submission, templates
from .core.manager_info import ManagerInfo
from .core.plain_text import one_line
from .jobtypes import registry, setting_props, values
from .jobtypes.naming import job_name, name_problem
from .runtime import timer
from .version import VERSION

if TYPE_CHECKING:
    from .core.packing import CancelFlag, PackResult, Survey

log = logging.getLogger(__name__)
SUBMIT_KEY = "submit"
# Bytes progress reaches the main thread at most this often (the panel redraws on each).
PROGRESS_INTERVAL = 0.1


class PrepareError(Exception):
    """The submission cannot start; the message is for the artist."""


@dataclass
class Outcome:
    """What a finished submission reports, for the operator (headless) and the panel."""

    ok: bool
    message: str
    job_id: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackStatus:
    """Packing or uploading as the panel shows it (main thread only)."""

    stage: str = ""
    file: str = ""
    number: int = 0
    count: int = 0
    done: int = 0
    total: int = 0


last_outcome: Optional[Outcome] = None
progress_line: Optional[str] = None
pack_status: Optional[PackStatus] = None
# The problem report of a submission that stopped to ask (panel: Submit Anyway / Stop).
pending_problems: Optional[Survey] = None
# Shared storage has not answered for a while (core.share_io.ShareWatch); the panel says so.
share_waiting = False
_cancel: Optional[CancelFlag] = None


def cancel() -> bool:
    """Stop the running submission at its next chunk (before the job is created)."""
    global progress_line
    if _cancel is None or _cancel.is_set():
        return False
    _cancel.set()
    if share_waiting:  # a hung call cannot be interrupted; nothing is submitted once it returns
        progress_line = f"Cancelled; nothing will be submitted. {share_io.WAITING_MESSAGE} to answer…"
        state.redraw()
    return True


def waiting_line() -> Optional[str]:
    """The panel's line while the share hangs under a running submission."""
    return f"{share_io.WAITING_MESSAGE}…" if share_waiting and _cancel is not None and not _cancel.is_set() else None


def _show_share_waiting(waiting: object) -> None:
    global share_waiting
    if _cancel is None:
        return  # a late event of a finished submission
    share_waiting = bool(waiting)
    if bpy.app.background and share_waiting:
        print(f"Flamenco Desk: {share_io.WAITING_MESSAGE}…", flush=True)
    state.redraw()


def _farm_copy_of_unsaved(blend: Path, storage_location: str) -> tuple[Path, Optional[Path]]:
    """Save the current state as a new file for the farm; the artist's file is untouched.

    Always saved into our own staging folder on local disk: the main thread never writes to
    shared storage, which may hang (a background thread copies it there, `core.share_io`).
    When the artist's file is on shared storage, the second value says where the copy goes:
    next to the original, so relative paths keep working (saved without remapping them).
    """
    token = uuid.uuid4().hex[:8]  # per attempt: a retry never meets an earlier copy
    beside = storage.is_under(blend, storage_location, resolve=False)  # by name: no file access
    target = state.cache_dir() / "staging" / token / blend.name
    target.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(target), copy=True, check_existing=False, relative_remap=not beside)
    return target, blend.with_name(f"{blend.stem}.flamenco-{token}.blend") if beside else None


def blend_is_dirty() -> bool:
    """Whether the open file has unsaved changes. (Blender without a window, as in the bpy
    module, always answers True; a copy is then made, which is safe.)"""
    return bool(bpy.data.is_dirty)


@contextmanager
def output_from_template(scene: bpy.types.Scene, output: Optional[templating.Output]) -> Iterator[None]:
    """While collecting: the output setting holds the template's value (unlinked), so settings
    computed from it (an output path from its root) follow; the artist's value comes back after."""
    setting = registry.job_type().setting(output.key) if output is not None and registry.job_type() else None
    grp = registry.group(scene)
    if output is None or setting is None or grp is None:
        yield
        return
    ident, link_ident = registry.identifiers(setting)
    names = [n for n in (ident, link_ident, setting_props.edited_identifier(ident)) if hasattr(grp, n)]
    saved = {n: getattr(grp, n) for n in names}
    try:
        if registry.has_link(setting):
            setattr(grp, link_ident, False)
        setattr(grp, ident, output.value)
        yield
    finally:
        for n, value in saved.items():
            setattr(grp, n, value)


@dataclass(frozen=True)
class _Draft:
    info: ManagerInfo
    job_type: models.JobType
    job: models.SubmittedJob
    version_folder: Optional[str]  # whose {version} the job takes (reserved once submitted)


def _job(scene: bpy.types.Scene) -> _Draft:
    """The job as the scene would submit it now: nothing saved, written or reserved yet
    (`prepare` does that; Check Paths uses it as is)."""
    info = state.info()
    if info is None:
        raise PrepareError("Not connected: refresh from the Manager first")
    sp = props.scene_props(scene)
    if not sp.job_type:
        raise PrepareError("Choose a job type first")
    jt = info.job_types.get(sp.job_type)
    if jt is None:
        raise PrepareError(f'The Manager does not offer the job type "{sp.job_type}"; refresh or pick another')
    registry.use(jt, scene)
    registry.refresh_from_scene(scene)  # what the scene says now, where the artist did not override it
    if not bpy.data.filepath:
        raise PrepareError("Save the file first: the farm renders a saved .blend")
    name = job_name(scene)
    problem = name_problem(name)  # before anything is written
    if problem:
        raise PrepareError(problem)
    try:  # name and output templates (templating)
        output, version_folder = templating.for_submission(scene, jt, sp.job_name.strip())
    except templates.TemplateError as ex:
        raise PrepareError(str(ex)) from ex
    try:
        with output_from_template(scene, output):
            settings = values.collect(scene, jt)
    except values.SettingsProblem as ex:
        raise PrepareError("Cannot submit: " + "; ".join(ex.problems)) from ex
    metadata = {
        "user": getpass.getuser(),
        "host": socket.gethostname(),
        "blendfile": str(Path(bpy.data.filepath)),
        "scene": scene.name,
        "blender_version": bpy.app.version_string,
        "flamenco_desk_version": VERSION,
    }
    job = models.SubmittedJob(
        name=name,
        type=jt.name,
        priority=int(sp.priority),
        submitter_platform=manager_info.client_platform(),
        type_etag=jt.etag,
        settings=settings,
        metadata=metadata,
        worker_tag=sp.worker_tag or None,
        initial_status="paused" if sp.submit_paused else "queued",
    )
    return _Draft(info, jt, job, version_folder)


def _request(info: ManagerInfo, job: models.SubmittedJob, blend: Path, submission_id: str) -> submission.SubmissionRequest:
    """What a request needs to predict the job's paths (`draft`); `prepare` adds the rest."""
    return submission.SubmissionRequest(
        job=job,
        blend_source=blend,
        submission_id=submission_id,
        storage_location=info.storage.location,
        blendfile_key=values.BLENDFILE_KEY if values.BLENDFILE_KEY in (job.settings or {}) else None,
        shaman=info.storage.shaman_enabled,
    )


def draft(scene: bpy.types.Scene) -> submission.SubmissionRequest:
    """The request a submission would make now, for Check Paths: nothing saved or reserved. The
    .blend is the artist's file (a submission of unsaved changes sends a copy of it from the same
    folder, or packs one: the path check predicts the folder, which is what is translated)."""
    drafted = _job(scene)
    return _request(drafted.info, drafted.job, Path(bpy.data.filepath), submission_id="")


def prepare(scene: bpy.types.Scene, on_problems: str = "ask", per_part: bool = False) -> submission.SubmissionRequest:
    """The request for one job from the scene. `per_part`: a batch whose parts fill the
    templates with values of their own (`batching.parts`), which takes their {version} itself."""
    drafted = _job(scene)
    info = drafted.info
    if not per_part:
        templating.reserve(drafted.version_folder)  # the next submission gets the next {version}
    sp = props.scene_props(scene)
    submission_id = sp.pending_submission_id or str(uuid.uuid4())
    job = replace(drafted.job, metadata={**(drafted.job.metadata or {}), submission.SUBMISSION_ID_KEY: submission_id})
    original = Path(bpy.data.filepath)
    blend, temporary, place_at = original, False, None
    if blend_is_dirty():
        (blend, place_at), temporary = _farm_copy_of_unsaved(original, info.storage.location), True
    return replace(
        _request(info, job, blend, submission_id),
        lookup_first=bool(sp.pending_submission_id),
        can_list_jobs=info.features.jobs_list,
        old_job_type=drafted.job_type,
        source_is_temporary=temporary,
        pack_as=original if blend != original else None,
        on_problems=on_problems,
        hash_cache_file=state.cache_dir() / "shaman-checksums.json",
        place_at=place_at,
        notes=tuple(filter(None, [storage.output_outside_storage(job.settings or {}, info.storage.location)])),
    )


def discard_copy(request: submission.SubmissionRequest) -> None:
    """Remove the farm copy `prepare` saved, for a submission that will not start."""
    if request.source_is_temporary:
        shutil.rmtree(request.blend_source.parent, ignore_errors=True)
    elif request.pack_as is not None:
        request.blend_source.unlink(missing_ok=True)


def start(scene: bpy.types.Scene, request: submission.SubmissionRequest) -> None:
    """Hand the network part to a background thread; the outcome is applied by the timer."""
    global last_outcome, progress_line, pending_problems, pack_status, _cancel, share_waiting
    from .core import packing  # BAT loads only when submitting

    client = state.client()
    filepath, scene_name = bpy.data.filepath, scene.name
    last_outcome, pending_problems, pack_status, share_waiting = None, None, None, False
    _cancel = packing.CancelFlag()
    watch = share_io.ShareWatch(lambda waiting: timer.bridge.post(_show_share_waiting, waiting))
    request = replace(request, cancel=_cancel, pack_progress=_panel_progress(), share_watch=watch)

    def progress(message: str) -> None:  # background thread
        timer.bridge.post(_show_progress, message)

    def work() -> submission.SubmissionResult:
        return submission.run(client, request, progress)

    def ok(result: object) -> None:
        assert isinstance(result, submission.SubmissionResult)
        finish(_applied(result, filepath, scene_name, request))

    def failed(ex: BaseException) -> None:
        finish(_failed(ex, filepath, scene_name))

    def finish(outcome: Outcome) -> None:
        global last_outcome, progress_line, pack_status, _cancel, share_waiting
        last_outcome, progress_line, pack_status, _cancel, share_waiting = outcome, None, None, None, False
        print(f"Flamenco Desk: {outcome.message}")
        state.redraw()

    progress_line = "Submitting…"
    timer.run(work, ok, failed, key=SUBMIT_KEY)


def _panel_progress_class() -> type:
    from .core import packing

    class PanelProgress(packing.Progress):
        """Packing events (background threads) handed to the main thread via the bridge."""

        def __init__(self) -> None:
            self._lock = threading.Lock()
            self._status = PackStatus()
            self._last_post = 0.0

        def _post(self, force: bool = False, **changes: object) -> None:
            with self._lock:
                self._status = replace(self._status, **changes)  # type: ignore[arg-type]
                now = time.monotonic()
                if not force and now - self._last_post < PROGRESS_INTERVAL:
                    return
                self._last_post = now
                status = self._status
            timer.bridge.post(_show_pack_status, status)

        def stage(self, text: str) -> None:
            self._post(True, stage=text, file="", number=0, count=0, done=0, total=0)

        def traced(self, survey: Survey) -> None:
            timer.bridge.post(_show_traced, survey)

        def file_started(self, path: str, size: int, number: int, count: int) -> None:
            self._post(file=path, number=number, count=count)

        def bytes_done(self, done: int, total: int) -> None:
            self._post(done=done, total=total)

        def done(self, result: PackResult) -> None:
            self._post(True, done=result.bytes_sent, total=max(result.bytes_sent, self._status.total))

    return PanelProgress


def _panel_progress() -> object:
    return _panel_progress_class()()


def _show_pack_status(status: object) -> None:
    global pack_status
    if not isinstance(status, PackStatus) or _cancel is None:
        return  # a late event of a finished submission
    previous, pack_status = pack_status, status
    if bpy.app.background:  # headless: progress lines, one per stage and per tenth of the bytes
        if previous is None or previous.stage != status.stage:
            print(f"Flamenco Desk: {status.stage}", flush=True)
        elif status.total and int(10 * status.done / status.total) != int(10 * previous.done / max(previous.total, 1)):
            print(f"Flamenco Desk: {status.stage}: {status.done / 1e6:.1f} / {status.total / 1e6:.1f} MB", flush=True)
    state.redraw()


def _show_traced(survey: object) -> None:
    lines = getattr(survey, "lines", None)
    if callable(lines) and bpy.app.background:
        for line in lines():
            print(f"Flamenco Desk: {line}", flush=True)


def _show_progress(message: object) -> None:
    global progress_line
    progress_line = f"{message}…"
    print(f"Flamenco Desk: {message}")
    state.redraw()


def _scene_if_same_file(filepath: str, scene_name: str) -> Optional[bpy.types.Scene]:
    # The artist may have opened another file while the request was under way.
    if bpy.data.filepath != filepath:
        return None
    return bpy.data.scenes.get(scene_name)


def _applied(result: submission.SubmissionResult, filepath: str, scene_name: str,
             request: submission.SubmissionRequest) -> Outcome:
    job = result.job
    scene = _scene_if_same_file(filepath, scene_name)
    if scene is not None:
        sp = props.scene_props(scene)
        sp.pending_submission_id = ""
        if all(ref.job_id != job.id for ref in sp.jobs):
            ref = sp.jobs.add()
            ref.job_id = job.id
            ref.job_name = job.name
            ref.job_type = job.type
            ref.submission_id = request.submission_id
            ref.submitted_at = time.strftime("%Y-%m-%d %H:%M:%S")
            ref.manager_url = state.client().base_url
            ref.blend_path = result.blend_path
            ref.status = str(job.status)
    watching.monitor.show_submitted(job)  # the monitor shows the new job at once
    name = one_line(job.name)  # the Manager's answer: printed in `blender -b` output
    if result.recovered:
        message = f'The earlier submission had reached the Manager: job "{name}" ({job.id}); nothing new was submitted'
    else:
        message = f'Submitted job "{name}" ({job.id})'
    return Outcome(True, message, job.id, request.notes + tuple(result.warnings))


def _failed(ex: BaseException, filepath: str, scene_name: str) -> Outcome:
    global pending_problems
    scene = _scene_if_same_file(filepath, scene_name)
    if isinstance(ex, submission.ProblemsFound):
        pending_problems = ex.survey
    if isinstance(ex, submission.SubmissionUncertain):
        if scene is not None:
            props.scene_props(scene).pending_submission_id = ex.submission_id
    if isinstance(ex, submission.JobTypeOutdated):
        state.replace_job_type(ex.job_type, props.scene_props(scene).job_type if scene else None)
    if isinstance(ex, submission.SubmissionError):
        return Outcome(False, str(ex))
    log.error("unexpected submission failure", exc_info=ex)
    return Outcome(False, f"Submission failed: {state.describe_error(ex)}")
