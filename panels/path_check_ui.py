"""The Check Paths button and its result in the Submit panel (path_checking.py): per path of
the job, the form it is sent in and the path each Worker platform of the farm gets; a path's
problems in red under it, whole sentences. Paths show their end, whole in the tooltip. When
every Worker is on the artist's platform and nothing is translated, one line says so."""

from __future__ import annotations

from typing import Any

import bpy

from .. import path_checking
from ..core import path_check
from ..core.platform_paths import PathCheck, PathRow
from ..jobtypes import registry, setting_props
from . import fit

PLATFORM_NAMES = {"linux": "Linux", "windows": "Windows", "darwin": "macOS"}


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def row_label(row: PathRow) -> str:
    """The .blend, or the setting's label as the panel shows it above."""
    if row.label == path_check.BLEND_LABEL:
        return "The .blend"
    jt = registry.job_type()
    setting = jt.setting(row.label) if jt is not None else None
    return setting_props.label(setting) if setting is not None else row.label


def summary(check: PathCheck) -> str:
    if check.as_written():
        return check.one_line()
    n = len(check.problems)
    if n:
        return f"{n} path{' is' if n == 1 else 's are'} wrong for some of the farm's Workers"
    return f"Workers on {', '.join(platform_name(p) for p in check.worker_platforms)} get these paths"


def _path_line(layout: Any, context: Any, name: str, path: str) -> None:
    """A platform's path: its end (where paths differ once cut), the whole of it in the tooltip
    (the start is what a variable translates); a click copies it."""
    row = fit.split_row(layout, context, name)
    op = row.operator("flamenco_desk.copy_value", text=fit.tail(path, fit.chars(context, 1 - fit.SPLIT_FACTOR)),
                      emboss=False)
    op.value = path


def draw_row(layout: Any, context: Any, row: PathRow, check: PathCheck) -> None:
    col = layout.column(align=True)
    fit.wrapped(col, context, row_label(row), "FILE_BLEND" if row.label == path_check.BLEND_LABEL else "FILE_FOLDER")
    _path_line(col, context, "Sent", row.sent)  # as written on the artist's platform
    for platform in check.worker_platforms:
        _path_line(col, context, platform_name(platform), row.per_platform.get(platform, ""))
    if row.problems:
        alert = layout.column(align=True)
        alert.alert = True  # before the labels: Blender applies it as they are added
        for problem in row.problems:
            fit.wrapped(alert, context, problem, "ERROR")


def draw(layout: Any, context: Any, scene: bpy.types.Scene) -> None:
    row = layout.row(align=True)
    row.operator("flamenco_desk.check_paths", icon="VIEWZOOM")
    found = path_checking.result(scene)
    if found is not None:
        row.operator("flamenco_desk.clear_path_check", text="", icon="X")
    if path_checking.running():
        fit.wrapped(layout, context, "Checking the paths for the farm's Workers…", "SORTTIME")
        return
    if found is None:
        return
    box = layout.box()
    if found.check is None:
        fit.wrapped(box, context, found.error, "ERROR")
        return
    check = found.check
    icon = "ERROR" if check.problems else "CHECKMARK"
    fit.wrapped(box, context, f"{summary(check)} (checked {found.checked_at})", icon)
    if not check.as_written():
        for path_row in check.rows:
            draw_row(box, context, path_row, check)
    if found.notice:
        fit.wrapped(box, context, found.notice, "INFO")
