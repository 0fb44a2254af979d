"""The one dynamic PropertyGroup holding the selected job type's settings.

Blender stores the values as ID properties on the scene under the group's attribute
name, so they are saved in the .blend and survive rebuilding the class: when the job
type changes on the Manager, settings that still exist keep their values.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Optional

import bpy
from bpy.props import PointerProperty

from ..api.models import JobSetting, JobType
from . import evaluation, setting_props

log = logging.getLogger(__name__)

SCENE_ATTR = "flamenco_desk_job_settings"
CLASS_NAME = "FLAMENCO_DESK_PG_job_settings"

_cls: Optional[type] = None
_job_type: Optional[JobType] = None
# Messages per setting key: expressions refused at load, or failing when evaluated.
refused: dict[str, str] = {}
eval_errors: dict[str, str] = {}
_evaluating = threading.local()


def job_type() -> Optional[JobType]:
    return _job_type


def group(scene: bpy.types.Scene) -> Any:
    if _cls is None:
        return None
    return getattr(scene, SCENE_ATTR, None)


def identifiers(setting: JobSetting) -> tuple[str, str]:
    ident = setting_props.identifier(setting.key)
    return ident, setting_props.link_identifier(ident)


def has_link(setting: JobSetting) -> bool:
    return bool(setting.eval and setting.eval_info and setting.eval_info.show_link_button)


def is_shown(setting: JobSetting) -> bool:
    return setting.visible in (None, "", "visible", "submission")


def job_name(scene: bpy.types.Scene) -> str:
    from ..props import job_name as scene_job_name  # the scene props own the name rules

    return scene_job_name(scene)


def _computed_getter(jt: JobType, setting: JobSetting) -> Any:
    """Getter for `editable: false` settings: the value is always evaluated."""

    def get(self: Any) -> Any:
        active = getattr(_evaluating, "keys", None)
        if active is None:
            active = _evaluating.keys = set()
        if setting.key in active or not setting.eval or setting.key in refused:
            return setting_props.default_value(setting)  # self-reference or nothing to evaluate
        active.add(setting.key)
        try:
            value = evaluation.evaluate_setting(jt, setting, self, job_name(bpy.context.scene))
            eval_errors.pop(setting.key, None)
            return value
        except evaluation.SettingEvalError as ex:
            eval_errors[setting.key] = str(ex)
            return setting_props.default_value(setting)
        finally:
            active.discard(setting.key)

    return get


def build_class(jt: JobType) -> type:
    annotations: dict[str, Any] = {}
    for setting in jt.settings:
        ident, link_ident = identifiers(setting)
        getter = _computed_getter(jt, setting) if setting.editable is False else None
        annotations[ident] = setting_props.make_property(setting, getter)
        if has_link(setting):
            annotations[link_ident] = setting_props.link_property(setting)
    return type(CLASS_NAME, (bpy.types.PropertyGroup,), {"__annotations__": annotations})


def _unregister_current() -> None:
    global _cls
    if _cls is None:
        return
    if hasattr(bpy.types.Scene, SCENE_ATTR):
        delattr(bpy.types.Scene, SCENE_ATTR)
    try:
        bpy.utils.unregister_class(_cls)
    except RuntimeError:
        log.warning("settings class was already unregistered")
    _cls = None


def use(jt: Optional[JobType], scene: Optional[bpy.types.Scene] = None) -> None:
    """Make the settings group describe `jt` (None: no job type selected)."""
    global _cls, _job_type
    if _job_type is not None and jt is not None and _cls is not None \
            and (_job_type.name, _job_type.etag) == (jt.name, jt.etag):
        return
    _unregister_current()
    _job_type = jt
    refused.clear()
    eval_errors.clear()
    if jt is None:
        return
    refused.update(evaluation.refused_expressions(jt))
    cls = build_class(jt)
    bpy.utils.register_class(cls)
    setattr(bpy.types.Scene, SCENE_ATTR, PointerProperty(type=cls))
    _cls = cls
    if scene is not None:
        fill_empty_from_scene(scene)


def fill_empty_from_scene(scene: bpy.types.Scene) -> None:
    """Evaluate shown settings that have an expression and no value yet, as the official
    add-on does when a job type is loaded."""
    jt, grp = _job_type, group(scene)
    if jt is None or grp is None:
        return
    for setting in jt.settings:
        if not setting.eval or setting.editable is False or not is_shown(setting) or setting.key in refused:
            continue
        ident, _ = identifiers(setting)
        if getattr(grp, ident, None):
            continue
        set_from_eval(scene, setting)


def set_from_eval(scene: bpy.types.Scene, setting: JobSetting) -> Optional[str]:
    """Set one setting to its evaluated value; returns an error message or None."""
    jt, grp = _job_type, group(scene)
    if jt is None or grp is None:
        return "no job type loaded"
    if setting.key in refused:
        return refused[setting.key]
    try:
        value = evaluation.evaluate_setting(jt, setting, grp, job_name(scene))
    except evaluation.SettingEvalError as ex:
        eval_errors[setting.key] = str(ex)
        return str(ex)
    ident, _ = identifiers(setting)
    try:
        setattr(grp, ident, value)
    except (TypeError, ValueError, AttributeError) as ex:
        message = f'Job type "{jt.name}", setting "{setting.key}": cannot use {value!r}: {ex}'
        eval_errors[setting.key] = message
        return message
    eval_errors.pop(setting.key, None)
    return None


def unregister() -> None:
    global _job_type
    _unregister_current()
    _job_type = None
    refused.clear()
    eval_errors.clear()
