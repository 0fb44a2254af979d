"""Check Paths: how the job's paths reach each Worker platform of the farm, before submitting
(path_checking.py). The operator returns at once; the Manager is asked in the background and
the result shows in the Submit panel."""


import bpy

from .. import path_checking, submitting
from .online import OnlineOperator


class FLAMENCO_DESK_OT_check_paths(OnlineOperator):
    bl_idname = "flamenco_desk.check_paths"
    bl_label = "Check Paths"
    bl_description = ("Show how the .blend, the output and every path setting reach each platform the farm's "
                      "Workers run, and what the farm would get wrong; nothing is submitted")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not super().poll(context):
            return False
        if path_checking.running():
            cls.poll_message_set("The paths are being checked")
            return False
        return context.scene is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            path_checking.start(context.scene)
        except submitting.PrepareError as ex:
            self.report({"ERROR"}, str(ex))
            return {"CANCELLED"}
        return {"FINISHED"}


class FLAMENCO_DESK_OT_clear_path_check(bpy.types.Operator):
    bl_idname = "flamenco_desk.clear_path_check"
    bl_label = "Clear"
    bl_description = "Hide the path check's result"

    def execute(self, context: bpy.types.Context) -> set[str]:
        path_checking.clear()
        return {"FINISHED"}


classes = (FLAMENCO_DESK_OT_check_paths, FLAMENCO_DESK_OT_clear_path_check)
