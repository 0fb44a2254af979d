"""Main-thread half of name and output templates (`core.templates`): the scene's values, the
job type's output setting, and the next free `{version}`, looked up on a background thread
(the output folder is usually on shared storage) and remembered here."""

from __future__ import annotations

import getpass
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional, Sequence

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


Versions = Callable[[str], Optional[str]]


def render_output(scene: bpy.types.Scene, values: Optional[dict[str, str]] = None,
                  versions: Versions = version_of) -> Optional[templates.Rendered]:
    template = _output_template(scene)
    if not template:
        return None
    return templates.render(template, values or scene_values(scene), versions, _passthrough())


def render_name(scene: bpy.types.Scene, template: str, values: Optional[dict[str, str]] = None,
                versions: Versions = version_of) -> templates.Rendered:
    """A job-name template; its `{version}` is the output template's."""
    values = values or scene_values(scene)
    folder = templates.version_folder(_output_template(scene), values, _passthrough())
    rendered = templates.render(template, values, versions, folder=folder)
    if templates.VERSION in templates.placeholders(template) and folder is None:
        return templates.Rendered(rendered.text, rendered.unknown,
                                  note="{version} in the job name needs {version} in the output template")
    return rendered


def _usable(what: str, rendered: Optional[templates.Rendered]) -> None:
    """TemplateError unless the rendered template can be submitted as it is."""
    if rendered is None:
        return
    problem = rendered.problem(what)
    if problem:
        raise templates.TemplateError(problem)
    if rendered.pending:
        _still_listing(what, rendered.version_folder or "")


def _still_listing(what: str, folder: str) -> NoReturn:
    where = local_folder(folder)
    if where is None:
        raise templates.TemplateError(f"{what}: cannot list {folder} from this computer for {{version}}")
    raise templates.TemplateError(f"{what}: still finding the next free version in {where}; try again in a moment")


def for_submission(scene: bpy.types.Scene, jt: JobType, name_template: str) -> tuple[Optional[Output], Optional[str]]:
    """Check both templates for a submission: the output setting's value if the output
    template applies, and the folder whose {version} it uses (to `reserve` once submitted).
    TemplateError says what is wrong."""
    values = scene_values(scene)
    out = render_output(scene, values)
    name = render_name(scene, name_template, values) if templates.is_template(name_template) else None
    _usable("Job name", name)
    _usable("Output template", out)
    setting = output_setting(jt)
    if out is not None and setting is None:
        raise templates.TemplateError(f'Output template: the job type "{jt.label or jt.name}" takes no output path')
    folder = next((r.version_folder for r in (out, name) if r is not None and r.version_folder is not None), None)
    return (Output(setting.key, out.text) if out is not None and setting is not None else None), folder


@dataclass(frozen=True)
class Parts:
    """Both templates filled for each part of a batch (None where a template is not set)."""

    names: list[Optional[str]]
    outputs: list[Optional[Output]]
    version: Optional[str] = None  # the batch's one {version}
    folders: tuple[str, ...] = ()  # where it is taken (`reserve_batch`)


def _part_folders(scene: bpy.types.Scene, part_values: Sequence[dict[str, str]]) -> list[str]:
    """The folders that decide each part's {version} (one when {version} comes before the
    part's own placeholders, one per part when after them)."""
    template = _output_template(scene)
    found = (templates.version_folder(template, values, _passthrough()) for values in part_values)
    return list(dict.fromkeys(folder for folder in found if folder is not None))


def for_parts(scene: bpy.types.Scene, jt: JobType, name_template: str, part_values: Sequence[dict[str, str]],
              version: Optional[str] = None) -> Parts:
    """Both templates for each part of a batch, with the part's own values (its camera and
    marker, view layer or scene). `{version}` is one for the whole batch: the highest next
    free version of the parts' folders, so no part meets an earlier render and all of them
    are one version (`version`: a retry continues its batch with the one it had). Looking a
    folder up only reads what the background lookups found (`version_of`); one not listed
    yet is TemplateError, like a single job's. TemplateError says what is wrong."""
    named = templates.is_template(name_template)
    if not _output_template(scene) and not named:
        return Parts([None] * len(part_values), [None] * len(part_values))
    folders = _part_folders(scene, part_values)
    if version is None and folders:
        found = {folder: version_of(folder) for folder in folders}  # starts the lookups still missing
        waiting = [folder for folder, v in found.items() if v is None]
        if waiting:
            _still_listing("Output template", waiting[0])
        version = templates.highest(v for v in found.values() if v is not None)

    def fixed(_folder: str) -> Optional[str]:
        return version

    setting = output_setting(jt)
    names: list[Optional[str]] = []
    outputs: list[Optional[Output]] = []
    for values in part_values:
        name = render_name(scene, name_template, values, fixed) if named else None
        out = render_output(scene, values, fixed)
        _usable("Job name", name)
        _usable("Output template", out)
        names.append(name.text if name is not None else None)
        outputs.append(Output(setting.key, out.text) if out is not None and setting is not None else None)
    return Parts(names, outputs, version, tuple(folders))


def uses_version(scene: bpy.types.Scene) -> bool:
    """Whether the output template has a {version} (only then are folders listed for it)."""
    return "{" + templates.VERSION + "}" in _output_template(scene)


def warm(scene: bpy.types.Scene, part_values: Sequence[dict[str, str]]) -> None:
    """Start listing the folders a batch's {version} needs (the panel draws the batch
    buttons: the click then finds them known)."""
    if uses_version(scene):
        for folder in _part_folders(scene, part_values):
            version_of(folder)


def reserve(folder: Optional[str]) -> None:
    """The version in `folder` is taken by a submission: the next one is free."""
    if folder is None:
        return
    path = local_folder(folder)
    if path is not None and str(path) in _versions:
        _versions[str(path)] = templates.after(_versions[str(path)])


def reserve_batch(folders: Sequence[str], version: Optional[str]) -> None:
    """A batch took `version` in each of its parts' folders: the next submission gets the
    one after it there (kept when a folder is already further on)."""
    if version is None:
        return
    for folder in folders:
        path = local_folder(folder)
        known = _versions.get(str(path)) if path is not None else None
        if path is not None and (known is None or templates.number(known) <= templates.number(version)):
            _versions[str(path)] = templates.after(version)


def prefetch(scene: bpy.types.Scene, part_values: Sequence[dict[str, str]] = ()) -> bool:
    """Headless: look up the versions the templates need (a batch's parts' folders too) and
    wait for them."""
    name_template = str(scene.flamenco_desk.job_name)  # type: ignore[attr-defined]
    render_output(scene)
    if templates.is_template(name_template):
        render_name(scene, name_template)
    warm(scene, part_values)
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
