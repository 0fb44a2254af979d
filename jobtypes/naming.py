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


# A job's name becomes a folder of its render output (the built-in job types' render_output_path
# is `<root>/<jobname>/<timestamp>/######`): most file systems allow 255 bytes per name.
MAX_NAME_BYTES = 255


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a job's name, or None. A name with a path separator or `..`
    would move the job's frames out of its output folder (`/x` replaces the whole root,
    `../..` climbs out of it); control characters would end up in console output and paths."""
    shown = name if len(name) <= 40 else name[:39] + "…"
    if "/" in name or "\\" in name:
        return f'The job name "{shown}" contains "/" or "\\": it becomes a folder of the render output, so it must not contain a path separator'
    if name.strip() in (".", ".."):
        return f'The job name "{name.strip()}" is not a folder name; choose another job name'
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in name):
        return "The job name contains control characters (tabs, line breaks …); remove them"
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        return (f"The job name is {len(name)} characters ({size} bytes) long; it becomes a folder of the render "
                f"output, which may be at most {MAX_NAME_BYTES} bytes")
    return None
