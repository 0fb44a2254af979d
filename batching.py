"""Main-thread half of a batch (one job per camera marker, per view layer, per scene) and of
scout frames: the parts from the scene, then the outcome `core.batch` hands back. The panel
shows its progress through `submitting`'s own state (one submission at a time)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import bpy

from . import props, state, submitting, watching
from .api import models
from .core import batch, submission
from .core.frames import FrameRangeError, parse_frames
from .core.scout import scout_frames
from .jobtypes import registry, values
from .jobtypes.naming import job_name
from .runtime import timer

KINDS = ("CAMERA_MARKERS", "VIEW_LAYERS", "SCENES", "SCOUT")
# The job-type setting a studio type can declare to pick the view layer (none built in does).
VIEW_LAYER_KEY = "view_layer"
SCOUT_PRIORITY_BOOST = 10


def _settings_named(scene: bpy.types.Scene, name: str) -> dict[str, Any]:
    """The job type's settings evaluated as for a job called `name` (`jobname` in the
    job type's expressions, e.g. the output folder), through the one code path a single job
    takes. The scene's own job name is put back at once."""
    sp = props.scene_props(scene)
    saved = sp.job_name
    try:
        sp.job_name = name
        jt = registry.job_type()
        if jt is None:
            raise submitting.PrepareError("Choose a job type first")
        return values.collect(scene, jt)
    except values.SettingsProblem as ex:
        raise submitting.PrepareError("Cannot submit: " + "; ".join(ex.problems)) from ex
    finally:
        sp.job_name = saved


def _require(settings: dict[str, Any], key: str, why: str) -> None:
    if key not in settings:
        raise submitting.PrepareError(f'The job type has no "{key}" setting, so {why}')


def parts(scene: bpy.types.Scene, kind: str, request: submission.SubmissionRequest) -> list[batch.Part]:
    """The jobs of a batch, or PrepareError saying why this scene or job type cannot make them."""
    base = job_name(scene)
    shared = request.job.settings or {}
    if kind == "CAMERA_MARKERS":
        _require(shared, "frames", "it cannot render one camera's frames")
        bound = [batch.MarkerCamera(m.frame, m.name, m.camera.name) for m in scene.timeline_markers if m.camera]
        spans = batch.camera_marker_ranges(bound, scene.frame_start, scene.frame_end)
        if not spans:
            raise submitting.PrepareError("No timeline marker in the frame range is bound to a camera "
                                          "(select a camera and a marker, then Marker > Bind Camera to Markers)")
        # Blender itself switches to the camera bound to the last marker at or before each
        # frame when it renders, on the Worker too: the frames of a span pick its camera.
        out = []
        for marker, first, last in spans:
            name = f"{base} {batch.safe_name_part(marker.camera)}"
            settings = _settings_named(scene, name)
            settings["frames"] = batch.frames_text(first, last)
            out.append(batch.Part(marker.camera, name, settings,
                                  metadata={"camera": marker.camera, "marker": marker.marker}))
        return out
    if kind == "SCENES":
        _require(shared, "scene", "it cannot pick another scene")
        scenes = [s for s in bpy.data.scenes if s.camera is not None]
        out = []
        for each in scenes:
            name = f"{base} {batch.safe_name_part(each.name)}"
            settings = _settings_named(scene, name)
            settings["scene"] = each.name
            if "frames" in settings:
                settings["frames"] = batch.frames_text(each.frame_start, each.frame_end)
            out.append(batch.Part(each.name, name, settings, metadata={"scene": each.name}))
        return out
    if kind == "VIEW_LAYERS":
        # Neither built-in job type passes a view layer to Blender, and Blender's command line
        # has no option for one: only a job type that declares the setting can render one layer.
        _require(shared, VIEW_LAYER_KEY, "its jobs cannot render one view layer each "
                 "(a job type needs a \"view_layer\" setting for that)")
        out = []
        for layer in scene.view_layers:
            if not layer.use:
                continue
            name = f"{base} {batch.safe_name_part(layer.name)}"
            settings = _settings_named(scene, name)
            settings[VIEW_LAYER_KEY] = layer.name
            out.append(batch.Part(layer.name, name, settings, metadata={"view_layer": layer.name}))
        return out
    if kind == "SCOUT":
        _require(shared, "frames", "it cannot render scout frames")
        try:
            frames = parse_frames(str(shared["frames"]))
        except FrameRangeError as ex:
            raise submitting.PrepareError(f"Cannot submit: {ex}") from ex
        scout_name = f"{base} scout"
        scout_settings = _settings_named(scene, scout_name)
        scout_settings["frames"] = scout_frames(frames)
        priority = request.job.priority + SCOUT_PRIORITY_BOOST
        return [
            batch.Part("scout", scout_name, scout_settings, priority=priority, initial_status="queued"),
            batch.Part("full", base, dict(shared), initial_status="paused"),
        ]
    raise submitting.PrepareError(f"Unknown batch kind {kind!r}; one of {', '.join(KINDS)}")


def start(scene: bpy.types.Scene, request: submission.SubmissionRequest, batch_parts: list[batch.Part],
          kind: str) -> None:
    """Like `submitting.start`, for several jobs sharing one pack or upload."""
    from .core import packing

    client = state.client()
    filepath, scene_name = bpy.data.filepath, scene.name
    submitting.last_outcome, submitting.pending_problems, submitting.pack_status = None, None, None
    submitting._cancel = packing.CancelFlag()
    request = replace(request, cancel=submitting._cancel, pack_progress=submitting._panel_progress())  # type: ignore[arg-type]

    def progress(message: str) -> None:  # background thread
        timer.bridge.post(submitting._show_progress, message)

    def work() -> batch.BatchResult:
        return batch.run(client, request, batch_parts, kind, progress)

    def ok(result: object) -> None:
        assert isinstance(result, batch.BatchResult)
        finish(_applied(result, filepath, scene_name, kind))

    def failed(ex: BaseException) -> None:
        outcome = submitting._failed(ex, filepath, scene_name)
        if isinstance(ex, batch.BatchIncomplete):
            sc = submitting._scene_if_same_file(filepath, scene_name)
            if sc is not None:
                props.scene_props(sc).pending_submission_id = ex.batch_id
                for job in ex.made:
                    _remember(sc, job)
            for job in ex.made:
                watching.monitor.show_submitted(job)
            outcome = replace(outcome, job_id=",".join(job.id for job in ex.made))
        finish(outcome)

    def finish(outcome: submitting.Outcome) -> None:
        submitting.last_outcome, submitting.progress_line = outcome, None
        submitting.pack_status, submitting._cancel = None, None
        print(f"Flamenco Desk: {outcome.message}")
        state.redraw()

    submitting.progress_line = "Submitting…"
    timer.run(work, ok, failed, key=submitting.SUBMIT_KEY)


def _remember(scene: bpy.types.Scene, job: models.Job) -> None:
    sp = props.scene_props(scene)
    if any(ref.job_id == job.id for ref in sp.jobs):
        return
    ref = sp.jobs.add()
    ref.job_id, ref.job_name, ref.job_type = job.id, job.name, job.type
    ref.submission_id = job.metadata.get(submission.SUBMISSION_ID_KEY, "")
    ref.submitted_at = time.strftime("%Y-%m-%d %H:%M:%S")
    ref.manager_url = state.client().base_url
    ref.blend_path = str(job.settings.get(values.BLENDFILE_KEY, ""))
    ref.status = str(job.status)


def _applied(result: batch.BatchResult, filepath: str, scene_name: str, kind: str) -> submitting.Outcome:
    scene = submitting._scene_if_same_file(filepath, scene_name)
    if scene is not None:
        props.scene_props(scene).pending_submission_id = ""
        for job in result.jobs:
            _remember(scene, job)
    for job in result.jobs:
        watching.monitor.show_submitted(job)
    new = [job for job, old in zip(result.jobs, result.recovered) if not old]
    names = ", ".join(f'"{job.name}"' for job in new)
    message = f"Submitted {len(new)} job{'s' if len(new) != 1 else ''} ({names})"
    if len(new) < len(result.jobs):
        message += f"; {len(result.jobs) - len(new)} had reached the Manager before and were not submitted again"
    if kind == "SCOUT" and len(result.jobs) == 2:
        message = (f'Submitted scout job "{result.jobs[0].name}" and the full job "{result.jobs[1].name}" paused; '
                   "approve it in the Job panel once the scout frames look right")
    return submitting.Outcome(True, message, ",".join(job.id for job in result.jobs), tuple(result.warnings))

