"""Preset operators: save, load, rename, delete (files in the background, job_presets)."""

from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty

from .. import job_presets, props
from ..core import presets as core

_LEVEL_ITEMS = [
    (core.ARTIST, "Mine", "Your own presets (in Blender's extension user folder)"),
    (core.PROJECT, "Project", "The project's presets (the folder set in the add-on's preferences)"),
    (core.STUDIO, "Studio", "The studio's presets (read-only, set by a TD)"),
]
_WRITABLE_ITEMS = [item for item in _LEVEL_ITEMS if item[0] not in core.READ_ONLY]
_ANY_LEVEL = [("ANY", "Any", "The first found: yours, then the project's, then the studio's")]


def _finish(op: bpy.types.Operator, problem: object) -> set[str]:
    """Report an immediate problem, or wait for the file work when headless."""
    if problem:
        op.report({"ERROR"}, str(problem))
        return {"CANCELLED"}
    if bpy.app.background:
        if not job_presets.wait():
            op.report({"ERROR"}, "The preset folder did not answer in time")
            return {"CANCELLED"}
        text, icon = job_presets.message or ("", "INFO")
        if icon == "ERROR":
            op.report({"ERROR"}, text)
            return {"CANCELLED"}
        op.report({"INFO"}, text)
    return {"FINISHED"}


def _has_job_type(context: bpy.types.Context) -> bool:
    scene = context.scene
    return scene is not None and bool(props.scene_props(scene).job_type)


class FLAMENCO_DESK_OT_preset_save(bpy.types.Operator):
    bl_idname = "flamenco_desk.preset_save"
    bl_label = "Save Preset"
    bl_description = "Save this job type's settings as a preset (settings that follow the scene keep following it)"

    name: StringProperty(name="Name", options={"SKIP_SAVE"})  # type: ignore[valid-type]
    level: EnumProperty(name="For", items=_WRITABLE_ITEMS, default=core.ARTIST)  # type: ignore[valid-type]
    overwrite: BoolProperty(  # type: ignore[valid-type]
        name="Overwrite", description="Replace a preset of the same name", default=True, options={"SKIP_SAVE"},
    )

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _has_job_type(context)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        now = job_presets.current_for(context.scene)
        if not self.name and now is not None:
            self.name = now[0]
        return context.window_manager.invoke_props_dialog(self)  # type: ignore[no-any-return]

    def execute(self, context: bpy.types.Context) -> set[str]:
        return _finish(self, job_presets.save(context.scene, self.name, self.level, self.overwrite))


class FLAMENCO_DESK_OT_preset_load(bpy.types.Operator):
    bl_idname = "flamenco_desk.preset_load"
    bl_label = "Load Preset"
    bl_description = "Set this job type's settings from the preset (what no longer fits the job type is listed)"
    bl_options = {"REGISTER", "UNDO"}

    name: StringProperty(name="Name")  # type: ignore[valid-type]
    level: EnumProperty(name="From", items=_ANY_LEVEL + _LEVEL_ITEMS, default="ANY")  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _has_job_type(context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        scene = context.scene
        job_type = props.scene_props(scene).job_type
        if bpy.app.background and job_presets.stale(job_type):
            job_presets.read(job_type)
            job_presets.wait()
        ok, text = job_presets.load(scene, self.name, "" if self.level == "ANY" else self.level)
        if not ok:
            self.report({"ERROR"}, text)
            return {"CANCELLED"}
        self.report({"WARNING"} if "dropped" in text or "not in the preset" in text else {"INFO"}, text)
        return {"FINISHED"}


def _take_current(op: Any, context: bpy.types.Context) -> bool:
    """Without a name, the preset loaded or saved last is the one meant; the studio's cannot be
    changed (reported; False)."""
    now = job_presets.current_for(context.scene)
    if not op.name and now is not None:
        if now[1] in core.READ_ONLY:
            op.report({"ERROR"}, "The studio's presets are read-only")
            return False
        op.name, op.level = now
    return True


class FLAMENCO_DESK_OT_preset_rename(bpy.types.Operator):
    bl_idname = "flamenco_desk.preset_rename"
    bl_label = "Rename Preset"
    bl_description = "Give the preset another name"

    name: StringProperty(name="Preset")  # type: ignore[valid-type]
    level: EnumProperty(name="Level", items=_WRITABLE_ITEMS, default=core.ARTIST)  # type: ignore[valid-type]
    new_name: StringProperty(name="New Name", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _has_job_type(context)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if not _take_current(self, context):
            return {"CANCELLED"}
        if not self.new_name:
            self.new_name = self.name
        return context.window_manager.invoke_props_dialog(self)  # type: ignore[no-any-return]

    def execute(self, context: bpy.types.Context) -> set[str]:
        return _finish(self, job_presets.rename(context.scene, self.name, self.level, self.new_name))


class FLAMENCO_DESK_OT_preset_delete(bpy.types.Operator):
    bl_idname = "flamenco_desk.preset_delete"
    bl_label = "Delete Preset"
    bl_description = "Delete the preset loaded or saved last (the studio's presets are read-only)"

    name: StringProperty(name="Preset", options={"SKIP_SAVE"})  # type: ignore[valid-type]
    level: EnumProperty(name="Level", items=_WRITABLE_ITEMS, default=core.ARTIST)  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _has_job_type(context)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if not _take_current(self, context):
            return {"CANCELLED"}
        if not self.name:
            self.report({"ERROR"}, "Load or save a preset first")
            return {"CANCELLED"}
        return context.window_manager.invoke_confirm(  # type: ignore[no-any-return]
            self, event, title="Delete Preset", message=f'Delete the preset "{self.name}"?', confirm_text="Delete")

    def execute(self, context: bpy.types.Context) -> set[str]:
        if not self.name:
            now = job_presets.current_for(context.scene)
            if now is None or now[1] in core.READ_ONLY:
                self.report({"ERROR"}, "Name one of your or the project's presets to delete")
                return {"CANCELLED"}
            self.name, self.level = now
        return _finish(self, job_presets.delete(context.scene, self.name, self.level))


classes = (FLAMENCO_DESK_OT_preset_save, FLAMENCO_DESK_OT_preset_load, FLAMENCO_DESK_OT_preset_rename,
           FLAMENCO_DESK_OT_preset_delete)
