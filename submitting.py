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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import bpy

from . import props, state, watching
from .api import models
from .core import manager_info, storage, submission
from .jobtypes import registry, values
from .jobtypes.naming import job_name
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
_cancel: Optional[CancelFlag] = None


def cancel() -> bool:
    """Stop the running submission at its next chunk (before the job is created)."""
    if _cancel is None or _cancel.is_set():
        return False
    _cancel.set()
    return True


def _farm_copy_of_unsaved(blend: Path, storage_location: str) -> tuple[Path, bool]:
    """Save the current state as a new file for the farm; the artist's file is untouched.

    Next to the original when that is on shared storage (relative paths keep working),
    otherwise in our own staging folder, from where it is copied to shared storage (and
    then removed: the second value says the copy is temporary).
    """
    token = uuid.uuid4().hex[:8]  # per attempt: a retry never meets an earlier copy
    temporary = not storage.is_under(blend, storage_location, resolve=False)
    if temporary:
        target = state.cache_dir() / "staging" / token / blend.name
        target.parent.mkdir(parents=True, exist_ok=True)
    else:
        target = blend.with_name(f"{blend.stem}.flamenco-{token}.blend")
    if target.exists():
        raise PrepareError(f"Refusing to overwrite {target}")
    bpy.ops.wm.save_as_mainfile(filepath=str(target), copy=True, check_existing=False)
    return target, temporary


def blend_is_dirty() -> bool:
    """Whether the open file has unsaved changes. (Blender without a window, as in the bpy
    module, always answers True; a copy is then made, which is safe.)"""
    return bool(bpy.data.is_dirty)


def prepare(scene: bpy.types.Scene, on_problems: str = "ask") -> submission.SubmissionRequest:
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

    try:
        settings = values.collect(scene, jt)
    except values.SettingsProblem as ex:
        raise PrepareError("Cannot submit: " + "; ".join(ex.problems)) from ex

    submission_id = sp.pending_submission_id or str(uuid.uuid4())
    original = Path(bpy.data.filepath)
    blend, temporary = original, False
    if blend_is_dirty():
        blend, temporary = _farm_copy_of_unsaved(original, info.storage.location)

    name = job_name(scene)
    metadata = {
        "user": getpass.getuser(),
        "host": socket.gethostname(),
        "blendfile": str(original),
        "scene": scene.name,
        "blender_version": bpy.app.version_string,
        "flamenco_desk_version": VERSION,
        submission.SUBMISSION_ID_KEY: submission_id,
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
    return submission.SubmissionRequest(
        job=job,
        blend_source=blend,
        submission_id=submission_id,
        storage_location=info.storage.location,
        blendfile_key=values.BLENDFILE_KEY if values.BLENDFILE_KEY in settings else None,
        lookup_first=bool(sp.pending_submission_id),
        can_list_jobs=info.features.jobs_list,
        old_job_type=jt,
        source_is_temporary=temporary,
        pack_as=original if blend != original else None,
        shaman=info.storage.shaman_enabled,
        on_problems=on_problems,
        hash_cache_file=state.cache_dir() / "shaman-checksums.json",
    )


def discard_copy(request: submission.SubmissionRequest) -> None:
    """Remove the farm copy `prepare` saved, for a submission that will not start."""
    if request.source_is_temporary:
        shutil.rmtree(request.blend_source.parent, ignore_errors=True)
    elif request.pack_as is not None:
        request.blend_source.unlink(missing_ok=True)


def start(scene: bpy.types.Scene, request: submission.SubmissionRequest) -> None:
    """Hand the network part to a background thread; the outcome is applied by the timer."""
    global last_outcome, progress_line, pending_problems, pack_status, _cancel
    from .core import packing  # BAT loads only when submitting

    client = state.client()
    filepath, scene_name = bpy.data.filepath, scene.name
    last_outcome, pending_problems, pack_status = None, None, None
    _cancel = packing.CancelFlag()
    request = replace(request, cancel=_cancel, pack_progress=_panel_progress())

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
        global last_outcome, progress_line, pack_status, _cancel
        last_outcome, progress_line, pack_status, _cancel = outcome, None, None, None
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
    if result.recovered:
        message = f'The earlier submission had reached the Manager: job "{job.name}" ({job.id}); nothing new was submitted'
    else:
        message = f'Submitted job "{job.name}" ({job.id})'
    return Outcome(True, message, job.id, tuple(result.warnings))


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
