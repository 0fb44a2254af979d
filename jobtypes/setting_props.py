"""Turn `AvailableJobSetting`s into bpy.props definitions (pure mapping, no registration)."""

from __future__ import annotations

import keyword
import logging
import re
import zlib
from typing import Any, Callable, Optional

from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from ..api.models import JobSetting
from .evaluation import coerce, zero_value

log = logging.getLogger(__name__)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names PropertyGroup already has, or that our own code uses.
_RESERVED = {"name", "rna_type", "bl_rna", "job_type_name"}
_MAX_IDENT = 60

SUBTYPES = {
    "file_path": "FILE_PATH",
    "dir_path": "DIR_PATH",
    "file_name": "FILE_NAME",
    # A directory plus a `######` frame pattern: still a file path to Blender.
    "hashed_file_path": "FILE_PATH",
}
_STRING_SUBTYPES = {"FILE_PATH", "DIR_PATH", "FILE_NAME", "BYTE_STRING", "PASSWORD", "NONE"}
_NUMBER_SUBTYPES = {"PIXEL", "UNSIGNED", "PERCENTAGE", "FACTOR", "ANGLE", "TIME", "TIME_ABSOLUTE",
                    "DISTANCE", "DISTANCE_CAMERA", "POWER", "TEMPERATURE", "NONE"}

# propargs keys passed on to bpy.props, per setting type. Anything else the Manager sends
# is ignored: propargs are data from the network, not a way to set callbacks.
_ALLOWED_PROPARGS = {
    "string": {"maxlen", "subtype"},
    "int32": {"min", "max", "soft_min", "soft_max", "step", "subtype"},
    "float": {"min", "max", "soft_min", "soft_max", "step", "precision", "subtype"},
    "bool": set(),
}


def identifier(key: str) -> str:
    """An RNA-safe property name for a setting key (keys are free text on the Manager)."""
    # A leading "_" is private to Blender: such an annotation is not registered at all.
    if _IDENT.match(key) and not key.startswith("_") and key not in _RESERVED and not keyword.iskeyword(key) \
            and len(key) <= _MAX_IDENT:
        return key
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", key)[:40]
    return f"s_{cleaned}_{zlib.crc32(key.encode()):08x}"


def link_identifier(ident: str) -> str:
    return f"autoeval_{ident}"[:63]


def edited_identifier(ident: str) -> str:
    """The hidden flag saying the artist changed a scene-derived value by hand."""
    return f"edited_{ident}"[:63]


def label(setting: JobSetting) -> str:
    return setting.label or setting.key.replace("_", " ").title()


# Texts from the Manager handed to RNA: a NUL fails the whole class's registration, and RNA
# names and enum identifiers are fixed-size buffers in Blender.
_MAX_NAME = 63
_MAX_TEXT = 1024


def rna_text(text: Any, limit: int = _MAX_TEXT) -> str:
    return str(text).replace("\x00", "\N{SYMBOL FOR NULL}")[:limit]


def _rna_value(value: Any) -> str:
    """A computed string as Blender can hold it (an evaluated value may hold a NUL)."""
    text = str(value)
    return rna_text(text, len(text))


def enum_number(choice: str) -> int:
    """A stable number per choice: the .blend stores enum values as numbers, and stable ones
    keep the artist's pick when the Manager reorders or extends the choices."""
    return zlib.crc32(choice.encode("utf-8")) & 0x3FFFFFFF


def _clean_propargs(setting: JobSetting) -> dict[str, Any]:
    kind = setting.type or "string"
    allowed = _ALLOWED_PROPARGS.get(kind, set())
    result: dict[str, Any] = {}
    for k, v in (setting.propargs or {}).items():
        if k not in allowed:
            log.info("ignoring propargs %r of setting %s", k, setting.key)
            continue
        try:
            if k in {"min", "max", "soft_min", "soft_max"}:
                result[k] = _int32(v) if kind == "int32" else _float32(v)
            elif k in {"step", "precision", "maxlen"}:
                result[k] = min(max(int(v), _STEP_RANGE[k][0]), _STEP_RANGE[k][1])
            elif k == "subtype":
                sub = str(v).upper()
                if sub in (_STRING_SUBTYPES if kind == "string" else _NUMBER_SUBTYPES):
                    result[k] = sub
        except (TypeError, ValueError, OverflowError):
            log.info("ignoring bad propargs %r=%r of setting %s", k, v, setting.key)
    return result


# What RNA accepts (numbers out of these ranges fail the whole class's registration).
_INT32 = (-(2**31), 2**31 - 1)
_FLOAT32_MAX = 3.0e38
_STEP_RANGE = {"step": (1, 100), "precision": (0, 6), "maxlen": (0, 2**31 - 1)}


def _int32(value: Any) -> int:
    return min(max(int(value), _INT32[0]), _INT32[1])


def _float32(value: Any) -> float:
    number = float(value)
    if number != number:  # NaN
        raise ValueError("not a number")
    return min(max(number, -_FLOAT32_MAX), _FLOAT32_MAX)


def _rna_number(kind: str, value: Any) -> Any:
    """A computed number as RNA can hold it: an exception here would be printed by Blender,
    out of the add-on's hands (the value sent is evaluated again and checked when submitting)."""
    try:
        return _int32(value) if kind == "int32" else _float32(value)
    except (TypeError, ValueError, OverflowError):
        return 0 if kind == "int32" else 0.0


def default_value(setting: JobSetting) -> Any:
    if setting.default is None:
        return zero_value(setting)
    try:
        return coerce(setting, setting.default)
    except (TypeError, ValueError):
        return zero_value(setting)


def make_property(setting: JobSetting, getter: Optional[Callable[[Any], Any]] = None,
                  on_edit: Optional[Callable[[Any, Any], None]] = None) -> Any:
    """The bpy.props definition for one setting. `getter` makes it read-only and computed
    (used for `editable: false`); `on_edit` is called when the value is set."""
    kind = setting.type or "string"
    common: dict[str, Any] = {"name": rna_text(label(setting), _MAX_NAME),
                               "description": rna_text(setting.description or "")}
    if on_edit is not None and getter is None:
        common["update"] = on_edit
    extra = _clean_propargs(setting)
    default = default_value(setting)

    if kind == "string" and setting.choices:
        # Unique after cleaning: a repeated identifier fails registration.
        choices = list(dict.fromkeys(rna_text(c, _MAX_NAME) for c in setting.choices))
        numbers = [enum_number(c) for c in choices]
        if len(set(numbers)) != len(numbers):  # a crc clash: fall back to positions
            numbers = list(range(len(choices)))
        items = [(c, c, "", n) for c, n in zip(choices, numbers)]
        kwargs: dict[str, Any] = dict(common, items=items)
        if default in choices:
            kwargs["default"] = default
        if getter is not None:
            kwargs["get"] = lambda self: _enum_get(getter(self), choices, numbers)
        return EnumProperty(**kwargs)

    if kind == "string":
        subtype = SUBTYPES.get(setting.subtype or "", extra.pop("subtype", "NONE"))
        extra.pop("subtype", None)
        kwargs = dict(common, default=rna_text(default, len(str(default))), subtype=subtype, **extra)
        if getter is not None:
            kwargs["get"] = lambda self: _rna_value(getter(self))
        return StringProperty(**kwargs)

    if kind in ("int32", "float"):
        number: Callable[[Any], Any] = int if kind == "int32" else float
        try:
            first = _int32(default) if kind == "int32" else _float32(default)
        except (TypeError, ValueError, OverflowError):
            first = number(0)
        kwargs = dict(common, default=first, **extra)
        _clamp_default(kwargs)
        if getter is not None:
            kwargs["get"] = lambda self: _rna_number(kind, getter(self))
        return (IntProperty if kind == "int32" else FloatProperty)(**kwargs)

    if kind == "bool":
        kwargs = dict(common, default=bool(default))
        if getter is not None:
            kwargs["get"] = lambda self: bool(getter(self))
        return BoolProperty(**kwargs)

    # An unknown type from a newer Manager: still editable as text rather than hidden.
    log.warning("setting %s has unknown type %r; shown as text", setting.key, kind)
    return StringProperty(**common, default=_rna_value(setting.default or ""))


def edited_property() -> Any:
    return BoolProperty(options={"HIDDEN"}, default=False)


def _clamp_default(kwargs: dict[str, Any]) -> None:
    lo, hi = kwargs.get("min"), kwargs.get("max")
    if lo is not None and kwargs["default"] < lo:
        kwargs["default"] = lo
    if hi is not None and kwargs["default"] > hi:
        kwargs["default"] = hi


def _enum_get(value: Any, choices: list[str], numbers: list[int]) -> int:
    try:
        return numbers[choices.index(str(value))]
    except ValueError:
        return numbers[0] if numbers else 0


def link_property(setting: JobSetting) -> Any:
    description = "While on, the value follows the scene"
    if setting.eval_info and setting.eval_info.description:
        description += f": {setting.eval_info.description}"
    return BoolProperty(name="Use Automatic Value", description=rna_text(description), default=True)
