"""The path check before a submission (background thread): the job's paths as each Worker
platform of the farm will get them (core/platform_paths.py), as a problem report the panel and
headless mode show like the packing survey's, and the Windows + Shaman notice."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Mapping, Optional

from ..api import errors
from ..api.client import ManagerClient
from . import platform_paths as pp

if TYPE_CHECKING:
    from .packing import Survey

log = logging.getLogger(__name__)
BLEND_LABEL = "the .blend"


def job_paths(settings: Mapping[str, Any], artist: str, blend: str, blendfile_key: Optional[str]) -> list[tuple[str, str]]:
    """The .blend (as it will be submitted) and every string setting written as a path."""
    paths = [(BLEND_LABEL, blend)]
    for key, value in settings.items():
        if key == blendfile_key or not isinstance(value, str) or not value:
            continue
        if pp.is_absolute(value, artist) or (artist == "windows" and pp.is_drive_relative(value)) or pp.is_unc(value):
            paths.append((key, value))
    return paths


def predicted_blend(storage_location: str, in_place: Optional[str], shaman: bool, name: str, artist: str) -> str:
    """Where the .blend will be, before it is packed: in place, in a Shaman checkout
    (`{jobs}/…`), or in a job folder under the shared storage as this platform sees it."""
    if in_place:
        return in_place
    if shaman:
        return f"{{jobs}}/flamenco-desk/…/{name}"
    return pp.join(storage_location, f"flamenco-desk/…/{name}", artist)


def run(client: ManagerClient, paths: list[tuple[str, str]], artist: str) -> tuple[pp.PathCheck, tuple[str, ...]]:
    """The check against the farm as the Manager reports it now; returns it and the Workers' platforms."""
    listed = pp.worker_platforms(client)
    platforms = listed or (artist,)
    variables = pp.manager_variables(client, [artist, *platforms])
    check = pp.check(paths, artist, platforms, variables)
    check.assumed = not listed
    return check, platforms


def as_survey(check: pp.PathCheck, notice: Optional[str]) -> Survey:
    from .packing import Problem, ProblemKind, Survey

    problems = [Problem(ProblemKind.PATH, p) for p in check.problems]
    return Survey(blendfile="", project_root="", problems=problems,
                  notes=[*check.lines(), *([notice] if notice else [])])


def check_or_warn(client: ManagerClient, paths: list[tuple[str, str]], artist: str,
                  warnings: list[str]) -> tuple[Optional[pp.PathCheck], tuple[str, ...]]:
    """The check (None when the Manager could not be asked: then a warning says so)."""
    try:
        return run(client, paths, artist)
    except errors.FlamencoError as ex:
        log.warning("path check skipped: %s", ex)
        warnings.append(f"The paths were not checked against the farm's Workers ({ex})")
        return None, ()
