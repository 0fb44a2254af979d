"""Evaluate job-type `eval` expressions from the scene, through the restricted evaluator.

The expressions come from the Manager, so they are data, not code: `safe_eval` allows
reading the scene and a few pure functions, and refuses everything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

import bpy

from ..api.models import JobSetting, JobType
from ..safe_eval import AllowList, EvalError, EvalRefused, check, evaluate

# What an expression may read (safe_eval/allowlist.py); the job's own settings are added
# per evaluation, by the type of the group handed over as `settings`.
ALLOW_LIST = AllowList()


class SettingEvalError(Exception):
    """An expression was refused or failed; the message names job type and setting.
    `refused`: policy refused it (e.g. it reads outside the allow-list), as opposed to
    failing on this scene."""

    def __init__(self, message: str, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


def abspath(path: Union[str, Path]) -> Path:
    """Absolute path of a Blender path (`//` relative to the .blend)."""
    return Path(bpy.path.abspath(str(path)))


def last_n_dir_parts(n: int, filepath: Union[str, Path, None] = None) -> Path:
    """The last `n` folder names of `filepath` (default: the .blend), as the official add-on."""
    if n <= 0:
        return Path()
    if filepath is None:
        filepath = bpy.data.filepath
    dirpath = Path(filepath).absolute().parent
    return Path(*dirpath.parts[-n:])


def names(settings: Any, jobname: str, context: Optional[bpy.types.Context] = None) -> dict[str, Any]:
    ctx = context or bpy.context
    return {
        "bpy": bpy,
        "C": ctx,
        "jobname": jobname,
        "Path": Path,
        "abspath": abspath,
        "last_n_dir_parts": last_n_dir_parts,
        "settings": settings,
    }


def coerce(setting: JobSetting, value: Any) -> Any:
    """Give `value` the setting's JSON type; the Manager does no coercion (api-notes §7)."""
    if isinstance(value, Path):
        value = str(value)
    return setting.coerce(value)


def zero_value(setting: JobSetting) -> Any:
    return {"int32": 0, "float": 0.0, "bool": False}.get(setting.type or "string", "")


def evaluate_setting(job_type: JobType, setting: JobSetting, settings: Any, jobname: str,
                     context: Optional[bpy.types.Context] = None) -> Any:
    """The coerced value of the setting's `eval`, or SettingEvalError."""
    expression = setting.eval
    if not expression:
        raise SettingEvalError(_where(job_type, setting) + " has no expression to evaluate")
    try:
        value = evaluate(expression, names(settings, jobname, context), allow=allow_list(settings))
        return coerce(setting, value)
    except EvalError as ex:
        raise SettingEvalError(f"{_where(job_type, setting)}: {ex}", isinstance(ex, EvalRefused)) from ex
    except (TypeError, ValueError, OverflowError) as ex:
        raise SettingEvalError(f"{_where(job_type, setting)}: the result is not a valid {setting.type}: {ex}") from ex


def allow_list(settings: Any) -> AllowList:
    """The allow-list, plus every property of the job's own settings group."""
    own = getattr(getattr(type(settings), "bl_rna", None), "identifier", None)
    return ALLOW_LIST.with_own_settings(own) if isinstance(own, str) else ALLOW_LIST


def refused_expressions(job_type: JobType) -> dict[str, str]:
    """Setting key → message for every expression the evaluator refuses outright."""
    refused: dict[str, str] = {}
    for setting in job_type.settings:
        if not setting.eval:
            continue
        try:
            check(setting.eval)
        except EvalError as ex:
            refused[setting.key] = f"{_where(job_type, setting)}: {ex}"
    return refused


def _where(job_type: JobType, setting: JobSetting) -> str:
    return f'Job type "{job_type.label or job_type.name}", setting "{setting.label or setting.key}"'
