"""The name the next job gets. Near a leaf (bpy, and templating for `{placeholders}`): the
scene properties, the settings' `jobname` expression variable, the values sent and the submit
panel all need it, and the scene properties already import the settings registry."""

from __future__ import annotations

from pathlib import Path

import bpy

from .. import templating
from ..core import templates


def job_name(scene: bpy.types.Scene) -> str:
    """The artist's name, or the file's name, numbered from the second job of this file on,
    so resubmissions can be told apart in the job list."""
    name = scene.flamenco_desk.job_name.strip()  # type: ignore[attr-defined]
    if name and templates.is_template(name):
        return templating.render_name(scene, name).text  # "…" where {version} is not known yet
    if name:
        return name  # type: ignore[no-any-return]
    stem = Path(bpy.data.filepath).stem if bpy.data.filepath else "untitled"
    taken = {ref.job_name for each in bpy.data.scenes for ref in each.flamenco_desk.jobs}  # type: ignore[attr-defined]
    if stem not in taken:
        return stem
    number = 2
    while f"{stem} ({number})" in taken:
        number += 1
    return f"{stem} ({number})"
