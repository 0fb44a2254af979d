"""Previews of the job-name and output templates under their fields: the result with the
scene's values now, "…" while the next free {version} is being looked up (in the background),
and a clear message for a placeholder that does not exist."""

from __future__ import annotations

from typing import Any, Optional

import bpy

from .. import props, templating
from ..api.models import JobType
from ..core import templates
from . import fit


def _preview(layout: Any, context: Any, rendered: templates.Rendered, what: str) -> None:
    problem = rendered.problem(what)
    if problem:
        col = layout.column()
        col.alert = True
        fit.wrapped(col, context, problem, "ERROR")
        return
    # The whole width: a path shows its end (the part that differs), a name wraps.
    if "/" in rendered.text or "\\" in rendered.text:
        layout.label(text=fit.tail(rendered.text, fit.chars(context, icon=True)), icon="FORWARD")
    else:
        fit.wrapped(layout, context, rendered.text, "FORWARD")


def draw_name_preview(layout: Any, context: Any, scene: bpy.types.Scene) -> None:
    template = props.scene_props(scene).job_name.strip()
    if templates.is_template(template):
        _preview(layout, context, templating.render_name(scene, template), "Job name")


def draw_output_template(layout: Any, context: Any, scene: bpy.types.Scene, jt: Optional[JobType]) -> None:
    """Only for job types that take an output path; the preview replaces that setting's row."""
    setting = templating.output_setting(jt)
    if setting is None:
        return
    sp = props.scene_props(scene)
    fit.field(layout, context, sp, "output_template", "Output Template")
    rendered = templating.render_output(scene)
    if rendered is not None:
        _preview(layout, context, rendered, "Output template")
