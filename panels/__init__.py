"""Panels: Output Properties, the 3D Viewport sidebar tab "Flamenco", the status bar."""

from __future__ import annotations

import bpy

from .. import state, watching
from . import farm_ui, jobs_ui, presets_ui, submit_ui


class FLAMENCO_DESK_PT_output(bpy.types.Panel):
    bl_label = "Flamenco Desk"
    bl_idname = "FLAMENCO_DESK_PT_output"
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "output"

    def draw(self, context: bpy.types.Context) -> None:
        submit_ui.draw(self.layout, context)
        jobs_ui.draw_latest_file_job(self.layout)


class _SidebarTab:
    """The 3D Viewport sidebar tab "Flamenco"."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Flamenco"


class FLAMENCO_DESK_PT_sidebar(_SidebarTab, bpy.types.Panel):
    bl_label = "Submit"
    bl_idname = "FLAMENCO_DESK_PT_sidebar"

    def draw(self, context: bpy.types.Context) -> None:
        submit_ui.draw(self.layout, context)


class FLAMENCO_DESK_PT_jobs(_SidebarTab, bpy.types.Panel):
    bl_label = "Jobs"
    bl_idname = "FLAMENCO_DESK_PT_jobs"

    def draw(self, context: bpy.types.Context) -> None:
        jobs_ui.draw_job_list(self.layout, context)


class FLAMENCO_DESK_PT_job(_SidebarTab, bpy.types.Panel):
    bl_label = "Job"
    bl_idname = "FLAMENCO_DESK_PT_job"

    def draw(self, context: bpy.types.Context) -> None:
        jobs_ui.draw_open_job(self.layout, context)


class FLAMENCO_DESK_PT_farm(_SidebarTab, bpy.types.Panel):
    bl_label = "Farm"
    bl_idname = "FLAMENCO_DESK_PT_farm"
    bl_options = {"DEFAULT_CLOSED"}  # read only while open: a closed panel costs the Manager nothing

    def draw(self, context: bpy.types.Context) -> None:
        farm_ui.draw_farm(self.layout, context)


classes = (FLAMENCO_DESK_PT_output, FLAMENCO_DESK_PT_sidebar, FLAMENCO_DESK_PT_jobs, FLAMENCO_DESK_PT_job,
           FLAMENCO_DESK_PT_farm, *presets_ui.classes)


_shown_in_statusbar = ""


def _update_statusbar() -> None:
    """After each poll: redraw the status bar when what its indicator says has changed
    (including to nothing, when the job ended)."""
    global _shown_in_statusbar
    text = jobs_ui.statusbar_text()
    if text != _shown_in_statusbar:
        _shown_in_statusbar = text
        state.redraw_statusbar()


def register() -> None:
    bpy.types.STATUSBAR_HT_header.append(jobs_ui.draw_statusbar)
    watching.apply_listeners.append(_update_statusbar)


def unregister() -> None:
    global _shown_in_statusbar
    if _update_statusbar in watching.apply_listeners:
        watching.apply_listeners.remove(_update_statusbar)
    bpy.types.STATUSBAR_HT_header.remove(jobs_ui.draw_statusbar)
    _shown_in_statusbar = ""
