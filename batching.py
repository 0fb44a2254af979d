"""Main-thread half of a batch (one job per camera marker, per view layer, per scene) and of
scout frames: the parts from the scene, then the outcome `core.batch` hands back. The panel
shows its progress through `submitting`'s own state (one submission at a time)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import bpy

from . import props, state, submitting, templating, watching
from .api import models
from .core import batch, batch_templates, submission, templates
from .core.frames import FrameRangeError, parse_frames
from .core.scout import scout_frames
from .jobtypes import registry, values
from .jobtypes.naming import name_problem
from .runtime import timer

KINDS = ("CAMERA_MARKERS", "VIEW_LAYERS", "SCENES", "SCOUT")
# Kinds whose parts fill the name and output templates with values of their own.
PER_PART = ("CAMERA_MARKERS", "VIEW_LAYERS", "SCENES")
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


@dataclass(frozen=True)
class _Unit:
    """One part of a batch before its name: what it is, the templates' values for it (its
    own camera and marker, view layer, or scene and that scene's camera) and its own settings."""

    label: str
    values: dict[str, str]
    settings: dict[str, Any]
    metadata: dict[str, str]


def _units(scene: bpy.types.Scene, kind: str) -> list[_Unit]:
    here = templating.scene_values(scene)
    if kind == "CAMERA_MARKERS":
        bound = [batch.MarkerCamera(m.frame, m.name, m.camera.name) for m in scene.timeline_markers if m.camera]
        # Blender itself switches to the camera bound to the last marker at or before each
        # frame when it renders, on the Worker too: the frames of a span pick its camera.
        return [_Unit(m.camera, dict(here, camera=m.camera, marker=m.marker),
                      {"frames": batch.frames_text(first, last)}, {"camera": m.camera, "marker": m.marker})
                for m, first, last in batch.camera_marker_ranges(bound, scene.frame_start, scene.frame_end)]
    if kind == "SCENES":
        return [_Unit(each.name, templating.scene_values(each),
                      {"scene": each.name, "frames": batch.frames_text(each.frame_start, each.frame_end)},
                      {"scene": each.name})
                for each in bpy.data.scenes if each.camera is not None]
    if kind == "VIEW_LAYERS":
        return [_Unit(layer.name, dict(here, view_layer=layer.name), {VIEW_LAYER_KEY: layer.name},
                      {"view_layer": layer.name})
                for layer in scene.view_layers if layer.use]
    return []


def part_values(scene: bpy.types.Scene, kind: str) -> list[dict[str, str]]:
    """The templates' values for each part of a batch of this kind (to look up the folders
    its {version} needs before submitting)."""
    return [unit.values for unit in _units(scene, kind)]


def warm(scene: bpy.types.Scene) -> None:
    """Start listing the folders the batch buttons' {version} needs (panel: drawn often, so
    nothing is read unless the output template has a {version})."""
    if not templating.uses_version(scene):  # before the parts are worked out, on every redraw
        return
    for kind in ("CAMERA_MARKERS", "SCENES"):
        templating.warm(scene, part_values(scene, kind))


# What tells two parts' outputs apart, per kind (the output-clash message).
_HINTS = {"CAMERA_MARKERS": "{camera} or {marker}", "SCENES": "{scene}", "VIEW_LAYERS": "{view_layer}"}


def parts(scene: bpy.types.Scene, kind: str, request: submission.SubmissionRequest) -> list[batch.Part]:
    """The jobs of a batch, or PrepareError saying why this scene or job type cannot make them."""
    # The name `prepare` gave the job: rendering the template again would see the {version}
    # it reserved as taken.
    base = request.job.name
    shared = request.job.settings or {}
    if kind == "SCOUT":
        return _scout_parts(scene, base, request)
    if kind not in PER_PART:
        raise submitting.PrepareError(f"Unknown batch kind {kind!r}; one of {', '.join(KINDS)}")
    if kind == "CAMERA_MARKERS":
        _require(shared, "frames", "it cannot render one camera's frames")
    elif kind == "SCENES":
        _require(shared, "scene", "it cannot pick another scene")
    else:
        # Neither built-in job type passes a view layer to Blender, and Blender's command line
        # has no option for one: only a job type that declares the setting can render one layer.
        _require(shared, VIEW_LAYER_KEY, "its jobs cannot render one view layer each "
                 "(a job type needs a \"view_layer\" setting for that)")
    units = _units(scene, kind)
    if kind == "CAMERA_MARKERS" and not units:
        raise submitting.PrepareError("No timeline marker in the frame range is bound to a camera "
                                      "(select a camera and a marker, then Marker > Bind Camera to Markers)")
    sp = props.scene_props(scene)
    filled = _templates_for(scene, sp, request, units)
    labels = [unit.label for unit in units]
    try:
        names = ([f"{base} {batch.safe_name_part(label)}" for label in labels] if None in filled.names
                 else batch_templates.distinct_names([n for n in filled.names if n is not None], labels))
    except templates.TemplateError as ex:
        raise submitting.PrepareError(str(ex)) from ex
    for name in names:
        problem = name_problem(name)
        if problem:
            raise submitting.PrepareError(problem)
    out = []
    for unit, name, output in zip(units, names, filled.outputs):
        with submitting.output_from_template(scene, output):  # settings computed from it follow
            settings = _settings_named(scene, name)
        settings.update({key: value for key, value in unit.settings.items() if key in settings})
        out.append(batch.Part(unit.label, name, settings, metadata=unit.metadata))
    if any(filled.outputs):
        clash = batch_templates.output_clash([part.settings for part in out], labels, _HINTS[kind])
        if clash:
            raise submitting.PrepareError(clash)
    templating.reserve_batch(filled.folders, filled.version)  # the next submission gets the next one
    sp.pending_version = f"{request.submission_id} {filled.version}" if filled.version else ""
    return out


def _templates_for(scene: bpy.types.Scene, sp: Any, request: submission.SubmissionRequest,
                   units: list[_Unit]) -> templating.Parts:
    """Name and output templates filled with each part's values; a retry of a batch cut short
    keeps the {version} its first attempt had (its jobs on the Manager carry it)."""
    held, _, version = sp.pending_version.partition(" ")
    jt = registry.job_type()
    if jt is None:
        raise submitting.PrepareError("Choose a job type first")
    try:
        return templating.for_parts(scene, jt, sp.job_name.strip(), [unit.values for unit in units],
                                    version if held == request.submission_id and version else None)
    except templates.TemplateError as ex:
        raise submitting.PrepareError(str(ex)) from ex


def _scout_parts(scene: bpy.types.Scene, base: str, request: submission.SubmissionRequest) -> list[batch.Part]:
    shared = request.job.settings or {}
    _require(shared, "frames", "it cannot render scout frames")
    try:
        frames = parse_frames(str(shared["frames"]))
    except FrameRangeError as ex:
        raise submitting.PrepareError(f"Cannot submit: {ex}") from ex
    scout_name = f"{base} scout"
    # The scout frames go where the output template sent the full job's (same values, same version).
    templated = props.scene_props(scene).output_template.strip()
    setting = templating.output_setting(registry.job_type()) if templated else None
    output = templating.Output(setting.key, str(shared[setting.key])) if setting and setting.key in shared else None
    with submitting.output_from_template(scene, output):
        scout_settings = _settings_named(scene, scout_name)
    scout_settings["frames"] = scout_frames(frames)
    priority = request.job.priority + SCOUT_PRIORITY_BOOST
    return [
        batch.Part("scout", scout_name, scout_settings, priority=priority, initial_status="queued"),
        batch.Part("full", base, dict(shared), initial_status="paused"),
    ]


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
        props.scene_props(scene).pending_version = ""
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

