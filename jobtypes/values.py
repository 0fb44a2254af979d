"""The settings dict sent to the Manager, built on the main thread from the scene."""

from __future__ import annotations

from typing import Any

import bpy

from ..api.models import JobType
from ..core.frames import FrameRangeError, parse_frames
from . import evaluation, registry, setting_props
from .naming import job_name


# The setting naming the .blend the farm renders. Built-in job types (and studio types copied
# from them) declare it required, shown on the web only and without `eval`: the submitter fills
# it in with the farm's path once the file is placed (the official add-on's set_blend_file()),
# so it is never the artist's to fill and never counts against them.
BLENDFILE_KEY = "blendfile"


class SettingsProblem(Exception):
    """One or more settings cannot be submitted; the message lists them all."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def collect(scene: bpy.types.Scene, jt: JobType) -> dict[str, Any]:
    """Every setting of the job type (the Manager applies no defaults), checked locally."""
    grp = registry.group(scene)
    jobname = job_name(scene)
    values: dict[str, Any] = {}
    problems: list[str] = []

    for setting in jt.settings:
        if setting.key == BLENDFILE_KEY:
            values[setting.key] = ""  # set by the submission (core.submission) after placing the file
            continue
        ident, link_ident = registry.identifiers(setting)
        linked = registry.has_link(setting) and grp is not None and bool(getattr(grp, link_ident, True))
        needs_eval = bool(setting.eval) and (
            not registry.is_shown(setting) or linked or setting.editable is False
        )
        try:
            if needs_eval:
                if setting.key in registry.refused:
                    raise evaluation.SettingEvalError(registry.refused[setting.key])
                value = evaluation.evaluate_setting(jt, setting, grp, jobname)
            elif not registry.is_shown(setting) or grp is None:
                value = setting_props.default_value(setting)
            elif not hasattr(grp, ident):  # its property could not be registered
                raise evaluation.SettingEvalError(registry.refused.get(
                    setting.key, f'Setting "{setting_props.label(setting)}" cannot be shown in Blender'))
            else:
                value = evaluation.coerce(setting, getattr(grp, ident))
        except evaluation.SettingEvalError as ex:
            problems.append(str(ex))
            continue
        except (TypeError, ValueError) as ex:
            problems.append(f'Setting "{setting_props.label(setting)}": {ex}')
            continue
        values[setting.key] = value

        if setting.required and value in ("", None):
            problems.append(f'Setting "{setting_props.label(setting)}" is required')
        if setting.key == "frames" and isinstance(value, str):
            try:
                parse_frames(value)
            except FrameRangeError as ex:
                problems.append(f'Setting "{setting_props.label(setting)}": {ex}')

    if problems:
        raise SettingsProblem(problems)
    return values
