"""Shared by test_eval_*.py and test_fuzz_*.py: secrets planted in real Blender where an
`eval` from the Manager must never reach, the reads that try, and one pass of a job type
through the add-on (parse, register, draw, refresh, collect) as the artist's session runs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import bpy

from support.blender_helpers import refresh, select_job_type as select
from support.fake_layout import FakeLayout

# Never produced by generated data (hypothesis text would need these exact 14 characters).
SECRET = "s3cr3t-7f1c9a2b"
RECORDED = Path(__file__).resolve().parents[1] / "recorded"

# Reads that must be refused at run time ("reading … is refused"), each reaching a planted
# secret if it were not. The first two are the issue's.
LEAKS: list[str] = [
    "bpy.data.texts['secret'].lines[0].body",
    "C.preferences.filepaths.temporary_directory",
    "bpy.context.preferences.filepaths.temporary_directory",
    "C.scene['secret']",
    "C.scene.world.name",
    "bpy.data.worlds[0].name",
    "C.scene.flamenco_desk_test_secret",  # a property another add-on registered on Scene
    "C.view_layer.flamenco_desk_test_secret",  # ... and on ViewLayer (readable type, add-on property)
    "C.scene.camera['secret']",
    "C.view_layer.objects[0]['secret']",
    "C.scene.camera.data['secret']",
    "bpy.data.texts[0].name",
    "C.window_manager.windows[0].screen.name",
    "C.screen.name",
    "C.preferences.addons[0].module",
    "bpy.app.tempdir",
    "C.scene.render.id_data.world.name",
    "C.scene.timeline_markers[0].camera.data.dof.focus_object.name",
]
# Wrappers that always evaluate the read (so the refusal is certain, not short-circuited).
LEAK_WRAPPERS: list[str] = ["{}", "str({})", 'f"{{{}}}"', 'f"x/{{{}}}/y"', "({}, 1)[0]", "Path(str({})).name",
                            "[{}][0]", "str({}).upper()"]
# Reads a job type needs: all must keep working.
ALLOWED: list[str] = [
    "C.scene.frame_start", "C.scene.frame_end", "C.scene.frame_step", "C.scene.render.fps",
    "C.scene.render.fps_base", "C.scene.name", "bpy.data.filepath", "C.scene.render.engine",
    "C.scene.render.image_settings.file_format", "C.scene.render.file_extension",
    "C.scene.render.resolution_x", "C.scene.camera.name", "C.scene.camera.data.lens",
    "C.view_layer.name", "C.scene.view_layers[0].name", "C.scene.timeline_markers[0].frame",
    "C.scene.timeline_markers[0].name", "jobname", "Path(bpy.data.filepath).stem", "abspath('//')",
    "last_n_dir_parts(1)", "C.scene.render.ffmpeg.format", "C.scene.cycles.samples",
]  # fmt: skip


@dataclass
class Planted:
    """Where the secrets are, and what the file looked like before (nothing may change it)."""

    counts: dict[str, int] = field(default_factory=dict)
    temp_dir: str = ""


def _counts() -> dict[str, int]:
    return {name: len(getattr(bpy.data, name)) for name in ("scenes", "texts", "objects", "worlds", "cameras")}


def plant_secrets() -> Planted:
    """An empty file with a camera, a marker and secrets in every place the allow-list shuts."""
    planted = Planted()
    prefs = bpy.context.preferences.filepaths
    planted.temp_dir = prefs.temporary_directory
    prefs.temporary_directory = f"/tmp/{SECRET}/"
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 7, 42
    bpy.data.texts.new("secret").write(SECRET)
    scene["secret"] = SECRET
    scene.world = bpy.data.worlds.new(SECRET)
    camera_data = bpy.data.cameras.new("Lens")
    camera_data["secret"] = SECRET
    camera = bpy.data.objects.new("Camera", camera_data)
    camera["secret"] = SECRET
    scene.collection.objects.link(camera)
    scene.camera = camera
    bpy.context.view_layer.update()
    marker = scene.timeline_markers.new("F_07", frame=7)
    marker.camera = camera
    for owner in (bpy.types.Scene, bpy.types.ViewLayer):
        owner.flamenco_desk_test_secret = bpy.props.StringProperty(default=SECRET)  # type: ignore[attr-defined]
    planted.counts = _counts()
    return planted


def remove_secrets(planted: Planted) -> None:
    bpy.context.preferences.filepaths.temporary_directory = planted.temp_dir
    for owner in (bpy.types.Scene, bpy.types.ViewLayer):
        if hasattr(owner, "flamenco_desk_test_secret"):
            del owner.flamenco_desk_test_secret  # type: ignore[attr-defined]


def assert_nothing_changed(planted: Planted) -> None:
    assert _counts() == planted.counts, "the expressions changed the file's data"
    assert bpy.context.preferences.filepaths.temporary_directory == f"/tmp/{SECRET}/"


def recorded_job_types(release: str = "3.8.5") -> list[dict[str, Any]]:
    data = json.loads((RECORDED / release / "job-types.json").read_text(encoding="utf-8"))
    return list(data["job_types"])


def reference_value(expression: str, names: dict[str, Any]) -> Any:
    """What the official add-on gets: Python's own eval with the same names (test only, on
    the recorded job types' expressions, which are trusted here)."""
    return eval(expression, {"__builtins__": __builtins__}, dict(names))  # noqa: S307


@dataclass
class Pass:
    """What one job type did in the add-on."""

    parse_error: str = ""
    values: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    layout: FakeLayout | None = None
    messages: dict[str, str] = field(default_factory=dict)  # key → refusal or error shown
    property_values: list[str] = field(default_factory=list)
    selected: bool = False  # the artist could pick it (an empty name or a NUL cannot be)

    def everything_shown(self) -> str:
        """Every text that reached the artist or the Manager, for the secret check."""
        parts = [self.parse_error, json.dumps(self.values, default=str), *self.problems,
                 *self.messages.values(), *self.property_values]
        if self.layout is not None:
            parts.append(repr(self.layout.log))
        return "\n".join(parts)

    def message_for(self, key: str) -> str:
        """The message the artist sees for one setting (panel or submit)."""
        return self.messages.get(key, "")


def run_job_type(desk: ModuleType, raw: object) -> Pass:
    """Parse a job type as the Manager sent it, select it, draw the panel, refresh from the
    scene and collect the values to submit, the way the add-on does. Only the add-on's own
    documented failures may come out (InvalidResponse while parsing, SettingsProblem when
    submitting); anything else propagates and fails the test."""
    from_json = desk.api.models.JobType.from_json
    registry = desk.jobtypes.registry
    result = Pass()
    try:
        jt = from_json(raw)
    except desk.api.errors.InvalidResponse as ex:
        result.parse_error = str(ex)
        assert result.parse_error, "an invalid job type must say what is wrong"
        return result
    scene = bpy.context.scene
    registry.use(jt, scene)
    desk.props.scene_props(scene).job_type = jt.name
    if registry.job_type() is not jt:  # e.g. a NUL in the name: Blender's string stops there
        registry.use(jt, scene)
    result.selected = bool(jt.name) and desk.props.scene_props(scene).job_type == jt.name
    result.layout = FakeLayout()
    desk.panels.submit_ui.draw(result.layout, bpy.context)
    registry.refresh_from_scene(scene)
    try:
        result.values = desk.jobtypes.values.collect(scene, jt)
    except desk.jobtypes.values.SettingsProblem as ex:
        result.problems = list(ex.problems)
    result.messages = {**registry.eval_errors, **registry.refused}
    grp = registry.group(scene)
    for setting in jt.settings:
        ident, _ = registry.identifiers(setting)
        result.property_values.append(str(getattr(grp, ident, "")))
    return result


def iter_settings(raw: object) -> Iterator[dict[str, Any]]:
    if isinstance(raw, dict) and isinstance(raw.get("settings"), list):
        yield from (s for s in raw["settings"] if isinstance(s, dict))
