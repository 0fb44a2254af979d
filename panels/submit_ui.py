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


MAX_PROBLEM_LINES = 8


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _path_tail(path: str, keep: int = 48) -> str:
    """Paths are shown from their end: the file name is what tells files apart."""
    return path if len(path) <= keep else "…" + path[-(keep - 1):]


def draw_packing(layout: bpy.types.UILayout) -> None:
    """What packing or uploading is doing, with a Cancel button."""
    status = submitting.pack_status
    if status is None:
        return
    col = layout.column(align=True)
    head = status.stage + (f"  {status.number}/{status.count}" if status.count else "")
    col.label(text=head, icon="PACKAGE")
    if status.file:
        col.label(text=_path_tail(status.file))
    if status.total:
        col.progress(factor=min(1.0, status.done / status.total), type="BAR",
                     text=f"{_megabytes(status.done)} / {_megabytes(status.total)}")
    col.operator("flamenco_desk.cancel_submission", icon="CANCEL")


def draw_problems(layout: bpy.types.UILayout) -> None:
    """The problem report of a submission that stopped to ask."""
    survey = submitting.pending_problems
    if survey is None:
        return
    box = layout.box()
    box.alert = True
    box.label(text=survey.summary(), icon="ERROR")
    for problem in survey.problems[:MAX_PROBLEM_LINES]:
        box.label(text=f"{problem.headline}: {_path_tail(problem.path)}")
    if len(survey.problems) > MAX_PROBLEM_LINES:
        box.label(text=f"…and {len(survey.problems) - MAX_PROBLEM_LINES} more")
    row = box.row()
    row.alert = False
    row.operator("flamenco_desk.submit_job", text="Submit Anyway", icon="RENDER_ANIMATION").problems = "SUBMIT"
    row.operator("flamenco_desk.dismiss_problems", icon="CANCEL")


def draw_status(layout: bpy.types.UILayout, scene: bpy.types.Scene) -> None:
    if submitting.progress_line:
        layout.label(text=submitting.progress_line, icon="SORTTIME")
    draw_packing(layout)
    draw_problems(layout)
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
