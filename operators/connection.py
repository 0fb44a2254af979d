"""Test the connection and refresh what the Manager offers (both in the background)."""


import bpy

from .. import state
from .online import OnlineOperator


class _AskTheManager(OnlineOperator):
    """Both buttons make the same request (state.refresh); they differ in what they say."""

    def execute(self, context: bpy.types.Context) -> set[str]:
        if not state.refresh():
            self.report({"INFO"}, "Already contacting the Manager")
        return {"FINISHED"}


class FLAMENCO_DESK_OT_test_connection(_AskTheManager):
    bl_idname = "flamenco_desk.test_connection"
    bl_label = "Test Connection"
    bl_description = "Ask the Manager for its name and version, without blocking Blender"


class FLAMENCO_DESK_OT_refresh_manager(_AskTheManager):
    bl_idname = "flamenco_desk.refresh_manager"
    bl_label = "Refresh from Manager"
    bl_description = "Reload job types, worker tags and shared storage from the Manager"


classes = (FLAMENCO_DESK_OT_test_connection, FLAMENCO_DESK_OT_refresh_manager)
