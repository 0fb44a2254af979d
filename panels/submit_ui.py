"""The submission UI, drawn the same way in Output Properties and the 3D Viewport sidebar.

Drawing only reads in-memory state: it never touches the network.
"""

from __future__ import annotations

import bpy

from .. import props, state, submitting
from ..api.models import JobSetting
from ..jobtypes import registry, setting_props


def draw_connection(layout: bpy.types.UILayout) -> None:
    info = state.info()
    row = layout.row(align=True)
    line = state.connection_line()
    if line is not None:
        row.label(text=line.text, icon=line.icon)
    elif info is not None:
        row.label(text=f"{info.version.name} (Flamenco {info.version.version}, cached)", icon="INFO")
    else:
        row.label(text="Not connected to a Manager", icon="UNLINKED")
    row.operator("flamenco_desk.refresh_manager", text="", icon="FILE_REFRESH")
    if not bpy.app.online_access:
        layout.label(text="Online Access is off (Preferences > System)", icon="ERROR")


def draw_setting(layout: bpy.types.UILayout, grp: object, setting: JobSetting) -> None:
    ident, link_ident = registry.identifiers(setting)
    row = layout.row(align=True)
    if registry.has_link(setting):
        linked = bool(getattr(grp, link_ident, True))
        if linked:
            text = setting.eval_info.description if setting.eval_info and setting.eval_info.description else "Automatic"
            split = row.split(factor=0.4, align=True)
            split.label(text=setting_props.label(setting))
            split.label(text=text)
        else:
            row.prop(grp, ident)
        row.prop(grp, link_ident, text="", icon="LINKED" if linked else "UNLINKED")
    else:
        sub = row.row(align=True)
        sub.enabled = setting.editable is not False  # read-only: computed from the scene
        sub.prop(grp, ident)
        if setting.eval and setting.editable is not False:
            op = row.operator("flamenco_desk.eval_setting", text="", icon="SCENE_DATA")
            op.key = setting.key
    problem = registry.refused.get(setting.key) or registry.eval_errors.get(setting.key)
    if problem:
        layout.label(text=problem, icon="ERROR")


def draw_settings(layout: bpy.types.UILayout, scene: bpy.types.Scene) -> None:
    sp = props.scene_props(scene)
    jt = registry.job_type()
    if not sp.job_type:
        return
    if jt is None or jt.name != sp.job_type:
        layout.operator("flamenco_desk.load_settings", icon="IMPORT")
        return
    grp = registry.group(scene)
    if grp is None:
        return
    if jt.description:
        layout.label(text=jt.description)
    col = layout.column()
    for setting in jt.settings:
        if registry.is_shown(setting):
            draw_setting(col, grp, setting)


def draw_status(layout: bpy.types.UILayout, scene: bpy.types.Scene) -> None:
    if submitting.progress_line:
        layout.label(text=submitting.progress_line, icon="SORTTIME")
    outcome = submitting.last_outcome
    if outcome is not None:
        layout.label(text=outcome.message, icon="CHECKMARK" if outcome.ok else "ERROR")
        for warning in outcome.warnings:
            layout.label(text=warning, icon="INFO")
    sp = props.scene_props(scene)
    if sp.pending_submission_id:
        layout.label(text="An earlier submission's answer was lost; it is looked up first", icon="QUESTION")
    if len(sp.jobs):
        box = layout.box()
        box.label(text="Jobs from this file", icon="RENDER_ANIMATION")
        for ref in list(sp.jobs)[-5:][::-1]:
            box.label(text=f"{ref.job_name}  ·  {ref.status}  ·  {ref.submitted_at}")


def draw(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
    scene = context.scene
    sp = props.scene_props(scene)
    draw_connection(layout)
    layout.prop(sp, "job_type_ui")
    col = layout.column(align=True)
    col.prop(sp, "job_name")
    col.prop(sp, "priority")
    info = state.info()
    if info is not None and info.tags:
        col.prop(sp, "worker_tag_ui")
    col.prop(sp, "submit_paused")
    draw_settings(layout, scene)
    layout.operator("flamenco_desk.submit_job", icon="RENDER_ANIMATION")
    draw_status(layout, scene)
