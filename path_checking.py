"""Check Paths (the Submit panel's button): the path check a submission runs first
(core/path_check.py), on its own, for the job as it would be submitted now. Main-thread half:
the job is drafted here without saving or reserving anything (`submitting.draft`); the Manager
is asked on a background thread; the result is kept here for the panel.

The result is a snapshot and says when it was made. Clear drops it, and it drops itself when
what it was made for changes: the file, the scene, the job type or the Manager (its rows
would belong to another job). Settings edited after it are not followed: Check Paths again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import bpy

from . import props, state, submitting
from .core import path_check, platform_paths, submission
from .runtime import timer

KEY = "check-paths"


@dataclass(frozen=True)
class Result:
    made_for: tuple[str, str, str, str]  # see `made_for`
    checked_at: str  # "14:02:05"
    check: Optional[platform_paths.PathCheck] = None
    notice: Optional[str] = None  # Windows Workers and Shaman (platform_paths.shaman_windows_notice)
    error: str = ""  # the Manager could not be asked


_result: Optional[Result] = None


def made_for(scene: bpy.types.Scene) -> tuple[str, str, str, str]:
    """What a result is about: the file, the scene, the job type, the Manager."""
    return bpy.data.filepath, scene.name, props.scene_props(scene).job_type, state.manager_url()


def result(scene: bpy.types.Scene) -> Optional[Result]:
    """The last check, if it was made for what this scene would submit (module docstring)."""
    return _result if _result is not None and _result.made_for == made_for(scene) else None


def clear() -> None:
    reset()
    state.redraw()


def reset() -> None:
    """Forget the result (unregister)."""
    global _result
    _result = None


def running() -> bool:
    return timer.bridge.busy(KEY)


def start(scene: bpy.types.Scene) -> None:
    """Draft the job (PrepareError says why it cannot be) and check its paths in the background."""
    request = submitting.draft(scene)
    client = state.client()
    about = made_for(scene)
    artist = request.job.submitter_platform

    def work() -> tuple[platform_paths.PathCheck, Optional[str]]:  # background thread
        check, platforms = path_check.run(client, submission.planned_paths(request), artist)
        return check, platform_paths.shaman_windows_notice(request.shaman, platforms)

    def ok(value: object) -> None:
        assert isinstance(value, tuple)
        check, notice = value
        _keep(Result(about, time.strftime("%H:%M:%S"), check=check, notice=notice))

    def failed(ex: BaseException) -> None:
        _keep(Result(about, time.strftime("%H:%M:%S"),
                     error=f"The paths could not be checked: {state.describe_error(ex)}"))

    clear()
    timer.run(work, ok, failed, key=KEY)


def _keep(new: Result) -> None:
    global _result
    _result = new
    state.redraw()
