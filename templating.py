"""Main-thread half of name and output templates (`core.templates`): the scene's values, the
job type's output setting, and the next free `{version}`, looked up on a background thread
(the output folder is usually on shared storage) and remembered here."""

from __future__ import annotations

import getpass
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import bpy

from . import state
from .api.models import JobSetting, JobType
from .core import results, templates
from .runtime import timer

KEY = "template-version"
# A folder's versions are listed again after this long (another artist may have rendered).
RELIST_AFTER = 15.0
HEADLESS_TIMEOUT = 30.0
# Placeholders the Manager or the job type's script fill in: left as they are.
SCRIPT_PLACEHOLDERS = ("timestamp",)

_versions: dict[str, str] = {}  # folder on this computer -> next free version
_listed_at: dict[str, float] = {}
_in_flight: set[str] = set()


@dataclass(frozen=True)
class Output:
    key: str
    value: str


def scene_values(scene: bpy.types.Scene) -> dict[str, str]:
    """What the placeholders stand for now (cheap: drawn with the panel)."""
    view_layer = getattr(bpy.context, "view_layer", None)
    if view_layer is None or bpy.context.scene != scene:
        view_layer = scene.view_layers[0] if scene.view_layers else None
    return {
        "file": Path(bpy.data.filepath).stem if bpy.data.filepath else "untitled",
        "scene": scene.name,
        "camera": scene.camera.name if scene.camera else "",
        "view_layer": view_layer.name if view_layer is not None else "",
        "marker": _marker(scene),
        "user": getpass.getuser(),
        "date": time.strftime("%Y-%m-%d"),
    }


def _marker(scene: bpy.types.Scene) -> str:
    """The timeline marker at or before the current frame (else the first one)."""
    markers = sorted(scene.timeline_markers, key=lambda m: m.frame)
    before = [m for m in markers if m.frame <= scene.frame_current]
    chosen = before[-1] if before else (markers[0] if markers else None)
    return chosen.name if chosen is not None else ""


def _passthrough() -> tuple[str, ...]:
    info = state.info()
    return SCRIPT_PLACEHOLDERS + tuple(info.variables if info is not None else ())


def local_folder(folder: str) -> Optional[Path]:
    """The folder as this computer sees it (Manager variables and `//` expanded); None when
    a placeholder is left that only the farm knows."""
    info = state.info()
    expanded = results.expand(folder or "//", info.variables if info is not None else {})
    if "{" in expanded:
        return None
    return Path(bpy.path.abspath(expanded))


def version_of(folder: str) -> Optional[str]:
    """The next free version in `folder` if known; starts a background lookup when it is not
    known or was listed a while ago (the last answer is used meanwhile)."""
    path = local_folder(folder)
    if path is None:
        return None
    key = str(path)
    if time.monotonic() - _listed_at.get(key, -RELIST_AFTER) >= RELIST_AFTER and key not in _in_flight:
        _lookup(path)
    return _versions.get(key)


def _lookup(path: Path) -> None:
    key = str(path)
    _in_flight.add(key)
    _listed_at[key] = time.monotonic()

    def ok(version: object) -> None:
        _in_flight.discard(key)
        # Never go back below a version handed out here (its folder may not exist yet).
        known = _versions.get(key)
        if isinstance(version, str) and (known is None or templates.number(version) > templates.number(known)):
            _versions[key] = version
        state.redraw()

    def failed(ex: BaseException) -> None:
        _in_flight.discard(key)
        _listed_at.pop(key, None)

    timer.run(lambda: templates.next_version(path), ok, failed, key=KEY)


def output_setting(jt: Optional[JobType]) -> Optional[JobSetting]:
    """The job type's output-path setting an artist sets (results.OUTPUT_KEYS order)."""
    if jt is None:
        return None
    for key in results.OUTPUT_KEYS:
        setting = jt.setting(key)
        if setting is not None and setting.editable is not False \
                and setting.visible in (None, "", "visible", "submission"):
            return setting
    return None


def _output_template(scene: bpy.types.Scene) -> str:
    return str(getattr(scene.flamenco_desk, "output_template", "") or "").strip()  # type: ignore[attr-defined]


def render_output(scene: bpy.types.Scene, values: Optional[dict[str, str]] = None) -> Optional[templates.Rendered]:
    template = _output_template(scene)
    if not template:
        return None
    return templates.render(template, values or scene_values(scene), version_of, _passthrough())


def render_name(scene: bpy.types.Scene, template: str, values: Optional[dict[str, str]] = None) -> templates.Rendered:
    """A job-name template; its `{version}` is the output template's."""
    values = values or scene_values(scene)
    folder = templates.version_folder(_output_template(scene), values, _passthrough())
    rendered = templates.render(template, values, version_of, folder=folder)
    if templates.VERSION in templates.placeholders(template) and folder is None:
        return templates.Rendered(rendered.text, rendered.unknown,
                                  note="{version} in the job name needs {version} in the output template")
    return rendered


def for_submission(scene: bpy.types.Scene, jt: JobType, name_template: str) -> tuple[Optional[Output], Optional[str]]:
    """Check both templates for a submission: the output setting's value if the output
    template applies, and the folder whose {version} it uses (to `reserve` once submitted).
    TemplateError says what is wrong."""
    values = scene_values(scene)
    out = render_output(scene, values)
    name = render_name(scene, name_template, values) if templates.is_template(name_template) else None
    for what, rendered in (("Job name", name), ("Output template", out)):
        if rendered is None:
            continue
        problem = rendered.problem(what)
        if problem:
            raise templates.TemplateError(problem)
        if rendered.pending:
            where = local_folder(rendered.version_folder or "")
            if where is None:
                raise templates.TemplateError(f"{what}: cannot list {rendered.version_folder} from this computer for {{version}}")
            raise templates.TemplateError(f"{what}: still finding the next free version in {where}; try again in a moment")
    setting = output_setting(jt)
    if out is not None and setting is None:
        raise templates.TemplateError(f'Output template: the job type "{jt.label or jt.name}" takes no output path')
    folder = next((r.version_folder for r in (out, name) if r is not None and r.version_folder is not None), None)
    return (Output(setting.key, out.text) if out is not None and setting is not None else None), folder


def reserve(folder: Optional[str]) -> None:
    """The version in `folder` is taken by a submission: the next one is free."""
    if folder is None:
        return
    path = local_folder(folder)
    if path is not None and str(path) in _versions:
        _versions[str(path)] = templates.after(_versions[str(path)])


def prefetch(scene: bpy.types.Scene) -> bool:
    """Headless: look up the versions the templates need and wait for them."""
    name_template = str(scene.flamenco_desk.job_name)  # type: ignore[attr-defined]
    render_output(scene)
    if templates.is_template(name_template):
        render_name(scene, name_template)
    return timer.bridge.wait_for(KEY, HEADLESS_TIMEOUT)


def overrides(setting: Any, scene: bpy.types.Scene, jt: Optional[JobType]) -> bool:
    """Whether the output template replaces this setting's value (the panel shows the
    template's preview instead)."""
    chosen = output_setting(jt)
    return bool(_output_template(scene)) and chosen is not None and chosen.key == getattr(setting, "key", None)


def reset() -> None:
    _versions.clear()
    _listed_at.clear()
    _in_flight.clear()
