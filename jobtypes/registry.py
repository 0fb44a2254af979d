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
from .naming import job_name

log = logging.getLogger(__name__)

SCENE_ATTR = "flamenco_desk_job_settings"
CLASS_NAME = "FLAMENCO_DESK_PG_job_settings"

_cls: Optional[type] = None
_job_type: Optional[JobType] = None
# Messages per setting key: expressions refused at load, or failing when evaluated.
refused: dict[str, str] = {}
eval_errors: dict[str, str] = {}
_evaluating = threading.local()
# True while the add-on itself writes a value (from the scene): not an edit by the artist.
_writing = False


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


def follows_scene(setting: JobSetting) -> bool:
    """A shown, editable setting with an expression: its value comes from the scene until
    the artist changes it (a minimum or a default must not pass for a choice)."""
    return bool(setting.eval) and setting.editable is not False and is_shown(setting)


def _edit_marker(setting: JobSetting) -> Any:
    ident, _ = identifiers(setting)
    flag = setting_props.edited_identifier(ident)

    def on_edit(self: Any, _context: Any) -> None:
        if not _writing:
            setattr(self, flag, True)

    return on_edit


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
        on_edit = _edit_marker(setting) if follows_scene(setting) else None
        annotations[ident] = setting_props.make_property(setting, getter, on_edit)
        if on_edit is not None:
            annotations[setting_props.edited_identifier(ident)] = setting_props.edited_property()
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
    # The same name and etag with other settings happens (a Manager's empty or reused etag):
    # the whole definition decides, or the group would miss the new settings' properties.
    if _job_type is not None and jt is not None and _cls is not None \
            and (_job_type.name, _job_type.etag) == (jt.name, jt.etag) and _job_type == jt:
        return
    _unregister_current()
    _job_type = jt
    refused.clear()
    eval_errors.clear()
    if jt is None:
        return
    refused.update(evaluation.refused_expressions(jt))
    cls = build_class(jt)
    try:
        bpy.utils.register_class(cls)
    except (ValueError, TypeError, RuntimeError) as ex:
        # Something from the Manager RNA would not take: the job type is shown as refused,
        # every other job type stays usable.
        log.warning("job type %s: settings could not be registered: %s", jt.name, ex)
        message = f'Job type "{jt.label or jt.name}": its settings cannot be shown in Blender ({ex})'
        refused.update({setting.key: message for setting in jt.settings})
        cls = type(CLASS_NAME, (bpy.types.PropertyGroup,), {})
        bpy.utils.register_class(cls)
    setattr(bpy.types.Scene, SCENE_ATTR, PointerProperty(type=cls))
    _cls = cls
    if scene is not None:
        refresh_from_scene(scene)
        find_refused_reads(scene)


def find_refused_reads(scene: bpy.types.Scene) -> None:
    """Evaluate the settings the panel does not show once, so one that reads outside the
    allow-list is named to the artist when the job type loads, not only at submit."""
    jt, grp = _job_type, group(scene)
    if jt is None or grp is None:
        return
    for setting in jt.settings:
        if not setting.eval or setting.key in refused or follows_scene(setting):
            continue
        try:
            evaluation.evaluate_setting(jt, setting, grp, job_name(scene))
        except evaluation.SettingEvalError as ex:
            if ex.refused:
                refused[setting.key] = str(ex)


def edited(grp: Any, setting: JobSetting) -> bool:
    ident, _ = identifiers(setting)
    return bool(getattr(grp, setting_props.edited_identifier(ident), False))


def refresh_from_scene(scene: bpy.types.Scene) -> None:
    """Give every scene-following setting the artist has not changed its current value from
    the scene (on loading a job type, before submitting, and now and then from the timer).
    Only changed values are written: every write marks the file as modified."""
    jt, grp = _job_type, group(scene)
    if jt is None or grp is None:
        return
    for setting in jt.settings:
        if follows_scene(setting) and setting.key not in refused and not edited(grp, setting):
            set_from_eval(scene, setting, only_if_changed=True)


def set_from_eval(scene: bpy.types.Scene, setting: JobSetting, only_if_changed: bool = False) -> Optional[str]:
    """Set one setting to its evaluated value (it follows the scene again); returns an
    error message or None."""
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
    global _writing
    _writing = True
    try:
        if not (only_if_changed and _same(getattr(grp, ident, None), value)):
            setattr(grp, ident, value)
        flag = setting_props.edited_identifier(ident)
        if getattr(grp, flag, False):
            setattr(grp, flag, False)
    except (TypeError, ValueError, AttributeError) as ex:
        message = f'Job type "{jt.name}", setting "{setting.key}": cannot use {value!r}: {ex}'
        eval_errors[setting.key] = message
        return message
    finally:
        _writing = False
    eval_errors.pop(setting.key, None)
    return None


def _same(current: Any, value: Any) -> bool:
    if isinstance(current, float) or isinstance(value, float):
        try:
            return abs(float(current) - float(value)) < 1e-9
        except (TypeError, ValueError):
            return False
    return bool(current == value)


def unregister() -> None:
    global _job_type
    _unregister_current()
    _job_type = None
    refused.clear()
    eval_errors.clear()
