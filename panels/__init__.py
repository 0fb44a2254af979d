"""Panels: Output Properties and the 3D Viewport sidebar tab "Flamenco"."""

from __future__ import annotations

import bpy

from . import submit_ui


class FLAMENCO_DESK_PT_output(bpy.types.Panel):
    bl_label = "Flamenco Desk"
    bl_idname = "FLAMENCO_DESK_PT_output"
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "output"

    def draw(self, context: bpy.types.Context) -> None:
        submit_ui.draw(self.layout, context)


class FLAMENCO_DESK_PT_sidebar(bpy.types.Panel):
    bl_label = "Submit"
    bl_idname = "FLAMENCO_DESK_PT_sidebar"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Flamenco"

    def draw(self, context: bpy.types.Context) -> None:
        submit_ui.draw(self.layout, context)


classes = (FLAMENCO_DESK_PT_output, FLAMENCO_DESK_PT_sidebar)
