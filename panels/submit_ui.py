"""The submission UI, drawn the same way in Output Properties and the 3D Viewport sidebar.

Blender's layout conventions: labels in a left column, values in a right one
(`use_property_split`), no decorators; what does not fit goes on its own line (panels.fit),
so nothing the artist needs is cut off at the editors' default widths. Drawing only reads
in-memory state and evaluates the job type's expressions: it never touches the network.
"""

from __future__ import annotations

import textwrap
from typing import Any

import bpy

from .. import props, state, submitting, templating
from ..api.models import JobSetting
from ..jobtypes import evaluation, registry, setting_props, values
from ..jobtypes.naming import job_name
from . import fit, path_check_ui, presets_ui, templates_ui, workflow_ui


def draw_connection(layout: bpy.types.UILayout, context: Any) -> None:
    info = state.info()
    line = state.connection_line()
    if line is not None:
        text, icon = line.text, line.icon
    elif info is not None:
        text, icon = f"{info.version.name} (Flamenco {info.version.version}, cached)", "INFO"
    else:
        text, icon = "Not connected to a Manager", "UNLINKED"
    row = layout.row(align=True)
    # The refresh button keeps its place on the first line; the message wraps below it.
    first, *rest = _wrap(text, fit.chars(context, icon=True) - 3)
    row.label(text=first, icon=icon)
    row.operator("flamenco_desk.refresh_manager", text="", icon="FILE_REFRESH")
    for more in rest:
        layout.label(text=more, icon="BLANK1")
    if not bpy.app.online_access:
        fit.wrapped(layout, context, "Online Access is off (Preferences > System > Network)", "ERROR")
    for problem in (info.job_type_problems if info is not None else [])[:MAX_PROBLEM_LINES]:
        fit.wrapped(layout, context, f"Left out: {problem}", "ERROR")


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, max(8, width), break_long_words=True) or [""]


def _missing(grp: Any, setting: JobSetting) -> bool:
    """A required setting the artist has to fill in and has not (drawn in red)."""
    if not setting.required or setting.key == values.BLENDFILE_KEY or setting.editable is False:
        return False
    ident, link_ident = registry.identifiers(setting)
    if registry.has_link(setting) and getattr(grp, link_ident, True):
        return False
    return getattr(grp, ident, "") in ("", None)


def _preview(setting: JobSetting, grp: Any) -> str:
    """What a linked setting will send, evaluated now (shown instead of its description)."""
    jt = registry.job_type()
    if jt is None or setting.key in registry.refused:
        return "(not available)"
    try:
        value = evaluation.evaluate_setting(jt, setting, grp, job_name(bpy.context.scene))
    except evaluation.SettingEvalError:
        return "(not available)"
    return str(value)


def _value(row: Any, context: Any, value: str, icon: bool = False) -> None:
    """A value that is not edited here: its end (for paths the part that differs), the whole
    of it in the tooltip; a click copies it."""
    room = fit.chars(context, 1 - fit.SPLIT_FACTOR, icon=icon)
    op = row.operator("flamenco_desk.copy_value", text=fit.tail(value, room), emboss=False)
    op.value = value


def draw_setting(layout: bpy.types.UILayout, context: Any, grp: Any, setting: JobSetting) -> None:
    ident, link_ident = registry.identifiers(setting)
    label = setting_props.label(setting)
    if registry.has_link(setting) and getattr(grp, link_ident, True):
        # Linked: the value follows the scene; show what it is now.
        row = fit.split_row(layout, context, label)
        _value(row, context, _preview(setting, grp), icon=True)
        row.prop(grp, link_ident, text="", icon="LINKED")
    elif setting.editable is False:
        # Read-only, computed from the scene and the other settings.
        row = fit.split_row(layout, context, label)
        _value(row, context, str(getattr(grp, ident, "")))
    else:
        row = fit.field(layout, context, grp, ident, label, alert=_missing(grp, setting))
        if registry.has_link(setting):
            row.prop(grp, link_ident, text="", icon="UNLINKED")
        elif setting.eval:
            op = row.operator("flamenco_desk.eval_setting", text="", icon="SCENE_DATA")
            op.key = setting.key
    problem = registry.refused.get(setting.key) or registry.eval_errors.get(setting.key)
    if problem:
        fit.wrapped(layout, context, problem, "ERROR")


def draw_settings(layout: bpy.types.UILayout, scene: bpy.types.Scene, context: Any = None) -> None:
    context = context or bpy.context
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
    col = layout.column()
    for setting in jt.settings:
        if registry.is_shown(setting) and setting.key != values.BLENDFILE_KEY \
                and not templating.overrides(setting, scene, jt):  # the template's preview is shown instead
            draw_setting(col, context, grp, setting)
        elif setting.key in registry.refused:
            # Not shown, but refused: the artist sees which setting and why before submitting.
            fit.wrapped(col, context, registry.refused[setting.key], "ERROR")


MAX_PROBLEM_LINES = 8


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def draw_packing(layout: bpy.types.UILayout, context: Any) -> None:
    """What packing or uploading is doing, with a Cancel button."""
    status = submitting.pack_status
    if status is None:
        return
    col = layout.column(align=True)
    head = status.stage + (f"  {status.number}/{status.count}" if status.count else "")
    fit.wrapped(col, context, head, "PACKAGE")
    if status.file:
        col.label(text=fit.tail(status.file, fit.chars(context)))  # file names differ at the end
    if status.total:
        col.progress(factor=min(1.0, status.done / status.total), type="BAR",
                     text=f"{_megabytes(status.done)} / {_megabytes(status.total)}")
    col.operator("flamenco_desk.cancel_submission", icon="CANCEL")


def draw_problems(layout: bpy.types.UILayout, context: Any) -> None:
    """The problem report of a submission that stopped to ask."""
    survey = submitting.pending_problems
    if survey is None:
        return
    box = layout.box()
    box.alert = True
    fit.wrapped(box, context, survey.summary(), "ERROR")
    for problem in survey.problems[:MAX_PROBLEM_LINES]:
        # A path problem is a sentence (core/path_check.py): wrapped whole, not cut to its end.
        shown = problem.path if problem.kind == "path" else fit.tail(problem.path, fit.chars(context) - 12)
        fit.wrapped(box, context, f"{problem.headline}: {shown}")
    if len(survey.problems) > MAX_PROBLEM_LINES:
        box.label(text=f"…and {len(survey.problems) - MAX_PROBLEM_LINES} more")
    row = box.row()
    row.alert = False
    row.operator("flamenco_desk.submit_job", text="Submit Anyway", icon="RENDER_ANIMATION").problems = "SUBMIT"
    row.operator("flamenco_desk.dismiss_problems", text="Stop", icon="CANCEL")


def draw_status(layout: bpy.types.UILayout, context: Any, scene: bpy.types.Scene) -> None:
    if submitting.progress_line:
        fit.wrapped(layout, context, submitting.progress_line, "SORTTIME")
    waiting = submitting.waiting_line()  # the share hangs: say so, and offer Cancel
    if waiting:
        fit.wrapped(layout, context, waiting, "ERROR")
        if submitting.pack_status is None:  # draw_packing has its own Cancel
            layout.operator("flamenco_desk.cancel_submission", icon="CANCEL")
    draw_packing(layout, context)
    draw_problems(layout, context)
    outcome = submitting.last_outcome
    if outcome is not None:
        fit.wrapped(layout, context, outcome.message, "CHECKMARK" if outcome.ok else "ERROR")
        for warning in outcome.warnings:
            fit.wrapped(layout, context, warning, "INFO")
    sp = props.scene_props(scene)
    if sp.pending_submission_id:
        fit.wrapped(layout, context, "An earlier submission's answer was lost; it is looked up first", "QUESTION")


def draw(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
    scene = context.scene
    sp = props.scene_props(scene)
    layout.use_property_split = True
    layout.use_property_decorate = False
    prefs = context.preferences.addons[state.ADDON_ID].preferences
    if len(prefs.managers) > 1:  # several Managers (profiles.py): pick the one to submit to
        fit.field(layout.column(), context, prefs, "active_manager_ui", "Manager")
    draw_connection(layout, context)

    col = layout.column()
    jt = registry.job_type()
    chosen = (jt.label or jt.name) if jt is not None and sp.job_type == jt.name else sp.job_type
    fit.field(col, context, sp, "job_type_ui", "Job Type", value_text=chosen)
    presets_ui.draw_row(col, context)
    # The name it will get, shown in the empty field.
    name = job_name(scene)
    fit.field(col, context, sp, "job_name", "Job Name", placeholder=name, value_text=sp.job_name or name)
    templates_ui.draw_name_preview(col, context, scene)
    templates_ui.draw_output_template(col, context, scene, jt if jt is not None and sp.job_type == jt.name else None)
    fit.field(col, context, sp, "priority", "Priority")
    info = state.info()
    if info is not None and info.tags:
        fit.field(col, context, sp, "worker_tag_ui", "Worker Tag")
    fit.field(col, context, sp, "submit_paused", "Submit Paused")
    if jt is not None and jt.description and sp.job_type == jt.name:
        fit.wrapped(layout, context, jt.description)
    draw_settings(layout, scene, context)

    row = layout.row()
    row.scale_y = 1.4
    row.operator("flamenco_desk.submit_job", icon="RENDER_ANIMATION")
    workflow_ui.draw_submit_more(layout, context)
    path_check_ui.draw(layout, context, scene)
    draw_status(layout, context, scene)
