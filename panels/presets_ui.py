"""The preset row of the submit panel, like Blender's own preset menus: the menu (presets of
the job type per level), then add and remove. Drawing reads the listing a background thread
read (job_presets); when it is out of date, drawing only starts that read."""

from __future__ import annotations

from typing import Any

import bpy

from .. import job_presets, props
from ..core import presets as core
from . import fit


class FLAMENCO_DESK_MT_presets(bpy.types.Menu):
    bl_label = "Presets"
    bl_idname = "FLAMENCO_DESK_MT_presets"

    def draw(self, context: bpy.types.Context) -> None:
        draw_menu(self.layout, context)


def draw_menu(layout: Any, context: Any) -> None:
    job_type = props.scene_props(context.scene).job_type
    listing = job_presets.listing
    if listing is None or listing.job_type != job_type or job_presets.stale(job_type):
        job_presets.read_if_stale(job_type)
        layout.label(text="Reading presets…", icon="SORTTIME")
        return
    if not listing.presets:
        layout.label(text="No presets for this job type yet")
    for level in core.LEVELS:
        found = listing.at(level)
        if not found:
            continue
        layout.label(text=core.LEVEL_NAMES[level])
        for preset in found:
            op = layout.operator("flamenco_desk.preset_load", text=preset.name)
            op.name, op.level = preset.name, preset.level
    for problem in listing.problems:
        layout.label(text=problem, icon="ERROR")
    now = job_presets.current_for(context.scene)
    if now is not None and now[1] not in core.READ_ONLY:
        layout.separator()
        op = layout.operator("flamenco_desk.preset_rename", text=f'Rename "{now[0]}"…', icon="GREASEPENCIL")
        op.name, op.level = now


def draw_row(layout: Any, context: Any) -> None:
    """Presets ▾  [+] [-], then what the last preset action said."""
    sp = props.scene_props(context.scene)
    if not sp.job_type:
        return
    job_presets.read_if_stale(sp.job_type)
    now = job_presets.current_for(context.scene)
    row = layout.row(align=True)  # the whole width, as Blender's preset rows: the name has room
    row.menu(FLAMENCO_DESK_MT_presets.bl_idname, text=now[0] if now else "Presets", icon="PRESET")
    row.operator("flamenco_desk.preset_save", text="", icon="ADD")
    row.operator("flamenco_desk.preset_delete", text="", icon="REMOVE")
    if job_presets.message is not None:
        text, icon = job_presets.message
        fit.wrapped(layout, context, text, icon)


classes = (FLAMENCO_DESK_MT_presets,)
