"""Operators acting on the job-type settings (no network)."""


import bpy
from bpy.props import StringProperty

from .. import props
from ..api.models import JobSetting
from ..jobtypes import registry


def _setting(key: str) -> JobSetting | None:
    jt = registry.job_type()
    return jt.setting(key) if jt else None


class FLAMENCO_DESK_OT_eval_setting(bpy.types.Operator):
    bl_idname = "flamenco_desk.eval_setting"
    bl_label = "Set from Scene"
    bl_description = "Set this setting to the value computed from the scene"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    key: StringProperty()  # type: ignore[valid-type]

    @classmethod
    def description(cls, context: bpy.types.Context, properties: bpy.types.OperatorProperties) -> str:
        setting = _setting(properties.key)  # type: ignore[attr-defined]
        if setting is not None and setting.eval_info and setting.eval_info.description:
            return f"Set value to: {setting.eval_info.description}"
        return cls.bl_description

    def execute(self, context: bpy.types.Context) -> set[str]:
        setting = _setting(self.key)
        if setting is None:
            self.report({"ERROR"}, f"No setting {self.key!r} in the loaded job type")
            return {"CANCELLED"}
        problem = registry.set_from_eval(context.scene, setting)
        if problem:
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        return {"FINISHED"}


class FLAMENCO_DESK_OT_load_settings(bpy.types.Operator):
    bl_idname = "flamenco_desk.load_settings"
    bl_label = "Load Job Settings"
    bl_description = "Show the settings of this scene's job type"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        props.sync_settings(context.scene)
        return {"FINISHED"}


class FLAMENCO_DESK_OT_copy_value(bpy.types.Operator):
    """Shows a long value whole in its tooltip (panels show its end) and copies it."""

    bl_idname = "flamenco_desk.copy_value"
    bl_label = "Copy Value"
    bl_options = {"INTERNAL"}

    value: StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]

    @classmethod
    def description(cls, context: bpy.types.Context, properties: bpy.types.OperatorProperties) -> str:
        return f"{properties.value}\n\nClick to copy"  # type: ignore[attr-defined]

    def execute(self, context: bpy.types.Context) -> set[str]:
        context.window_manager.clipboard = self.value
        self.report({"INFO"}, "Copied")
        return {"FINISHED"}


classes = (FLAMENCO_DESK_OT_eval_setting, FLAMENCO_DESK_OT_load_settings, FLAMENCO_DESK_OT_copy_value)
