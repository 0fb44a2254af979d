"""What a job type's `eval` may read from Blender: an allow-list, not a deny-list.

Evaluated values are sent to the Manager as job settings, so anything an expression can
read can leave the artist's machine. Every attribute read and subscript is checked here
against what a render job needs: the scene, its render and output settings, cameras,
markers, view layers, the frame range, the file's path and name, and the job's own
settings. Anything not listed (preferences, the window manager, screens, texts, other
add-ons' data, custom properties, ...) is refused, and the message names what was read.

bpy-free: Blender's data is recognised by its RNA type name (`type(x).bl_rna.identifier`),
so the lists are plain strings. The evaluator calls `Reads.attribute`, `Reads.subscript`
and `Reads.value` (see `evaluator.py`).
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Final, Optional

from .errors import EvalRefused

# Marker: every built-in RNA property of that type may be read (its values are still
# checked: a pointer to a type not listed is refused).
ALL: Final = None

WHAT_A_JOB_MAY_READ: Final = (
    "the scene, its render and output settings, cameras, markers, view layers, the frame range, "
    "the file's path and name, the job's own settings"
)

# RNA type → the attributes an expression may read on it (ALL: its built-in properties).
BLENDER_TYPES: Final[Mapping[str, Optional[frozenset[str]]]] = {
    "Context": frozenset({"scene", "view_layer"}),
    "BlendData": frozenset({"filepath", "is_saved", "is_dirty", "scenes", "cameras"}),
    "Scene": frozenset({
        "name", "frame_start", "frame_end", "frame_step", "frame_current", "frame_preview_start",
        "frame_preview_end", "use_preview_range", "render", "camera", "timeline_markers",
        "view_layers", "cycles", "eevee", "display_settings", "view_settings",
    }),
    "RenderSettings": ALL,
    "ImageFormatSettings": ALL,
    "FFmpegSettings": ALL,
    "SceneRenderView": ALL,
    "ColorManagedViewSettings": ALL,
    "ColorManagedDisplaySettings": ALL,
    "SceneEEVEE": ALL,
    # Cycles is an add-on, but its scene settings are render settings.
    "CyclesRenderSettings": ALL,
    "ViewLayer": ALL,
    "TimelineMarker": frozenset({"name", "frame", "camera", "select"}),
    # Objects only as cameras (scene.camera, a marker's camera, a view layer's objects):
    # their transform and their camera data, nothing they link to.
    "Object": frozenset({"name", "type", "data", "location", "rotation_euler", "scale", "matrix_world",
                         "hide_render"}),
    "Camera": frozenset({
        "name", "type", "lens", "lens_unit", "angle", "angle_x", "angle_y", "sensor_width",
        "sensor_height", "sensor_fit", "clip_start", "clip_end", "ortho_scale", "shift_x", "shift_y",
    }),
}  # fmt: skip

# Python-registered types whose properties are all "runtime" ones and may be read.
RUNTIME_TYPES: Final[frozenset[str]] = frozenset({"CyclesRenderSettings"})

# The given module (bpy) → its attributes an expression may read.
MODULE_ATTRIBUTES: Final[frozenset[str]] = frozenset({"data", "context"})

# Plain values: results of reads that carry no further reach.
_PLAIN: Final[tuple[type, ...]] = (
    type(None), bool, int, float, complex, str, bytes, PurePath, tuple, list, dict, set, frozenset,
)
# Blender's own plain values: mathutils (location, matrix_world) and RNA arrays.
_BLENDER_PLAIN: Final[frozenset[str]] = frozenset(
    {"Vector", "Matrix", "Euler", "Quaternion", "Color", "bpy_prop_array"}
)
_COLLECTIONS: Final[frozenset[str]] = frozenset({"bpy_prop_collection", "bpy_prop_collection_idprop"})
_MAX_WHERE: Final = 80


@dataclass(frozen=True)
class AllowList:
    """RNA type name → readable attributes (ALL: its built-in properties)."""

    types: Mapping[str, Optional[frozenset[str]]] = field(default_factory=lambda: dict(BLENDER_TYPES))
    runtime_types: frozenset[str] = RUNTIME_TYPES

    def with_own_settings(self, type_name: str) -> AllowList:
        """Also every property of the job's own settings group (registered by the add-on)."""
        return AllowList({**self.types, type_name: ALL}, self.runtime_types | {type_name})


def rna_type(value: object) -> Optional[str]:
    """The RNA type name of a Blender struct, None for anything else."""
    bl_rna = getattr(type(value), "bl_rna", None)
    identifier = getattr(bl_rna, "identifier", None)
    return identifier if isinstance(identifier, str) else None


def _type_name(value: object) -> str:
    return type(value).__name__


def shorten(where: str) -> str:
    where = " ".join(where.split())
    return where if len(where) <= _MAX_WHERE else where[: _MAX_WHERE - 3] + "..."


class Reads:
    """The read checks of one evaluation: what the names give, and what may follow."""

    def __init__(self, allow: AllowList, names: Mapping[str, object], callables: Iterable[object]) -> None:
        self._allow = allow
        self._modules = {id(v) for v in names.values() if isinstance(v, types.ModuleType)}
        self._callables = {id(v) for v in callables}
        self._given = {id(v) for v in names.values()}

    def _refuse(self, where: str, what: str) -> EvalRefused:
        return EvalRefused(f"reading {shorten(where)} is refused: {what} is not among what a job type may read "
                           f"({WHAT_A_JOB_MAY_READ})")

    def attribute(self, obj: object, attr: str, where: str) -> None:
        """Before `obj.attr` is read."""
        if id(obj) in self._modules:
            if attr not in MODULE_ATTRIBUTES:
                raise self._refuse(where, f"{getattr(obj, '__name__', 'the module')}.{attr}")
            return
        kind = rna_type(obj)
        if kind is not None:
            self._rna_attribute(obj, kind, attr, where)
            return
        if isinstance(obj, _PLAIN) or _type_name(obj) in _BLENDER_PLAIN | _COLLECTIONS:
            return  # the value read is checked by `value`
        raise self._refuse(where, f"an attribute of {_describe(obj)}")

    def _rna_attribute(self, obj: object, kind: str, attr: str, where: str) -> None:
        allowed = self._allow.types.get(kind, frozenset())
        if allowed is ALL:
            prop = _rna_property(obj, attr)
            if prop is None:
                raise self._refuse(where, f"{kind}.{attr}, not a property of {kind},")
            if getattr(prop, "is_runtime", False) and kind not in self._allow.runtime_types:
                raise self._refuse(where, f"{kind}.{attr}, added by an add-on,")
            return
        assert allowed is not None
        if attr not in allowed:
            raise self._refuse(where, f"{kind}.{attr}")

    def subscript(self, obj: object, where: str) -> None:
        """Before `obj[key]` is read: collections and plain values, never custom properties."""
        if isinstance(obj, (str, bytes, tuple, list, dict)) or _type_name(obj) in _BLENDER_PLAIN | _COLLECTIONS:
            return
        kind = rna_type(obj)
        what = f"a custom property of {kind}" if kind is not None else f"an item of {_describe(obj)}"
        raise self._refuse(where, what)

    def value(self, value: object, where: str) -> None:
        """After a read: the value itself must be something a job may hold."""
        if id(value) in self._given or id(value) in self._callables:
            return
        if isinstance(value, _PLAIN) or _type_name(value) in _BLENDER_PLAIN | _COLLECTIONS:
            return
        kind = rna_type(value)
        if kind is not None:
            if kind in self._allow.types:
                return
            raise self._refuse(where, f"{kind} data")
        raise self._refuse(where, _describe(value))


def _rna_property(obj: object, attr: str) -> object:
    try:
        props = type(obj).bl_rna.properties  # type: ignore[attr-defined]
        return props.get(attr) if attr != "rna_type" else None
    except Exception:  # not a Blender struct after all
        return None


def _describe(value: object) -> str:
    if callable(value):
        return "a function or method"
    if isinstance(value, types.ModuleType):
        return f"module {getattr(value, '__name__', '?')}"
    return f"a {_type_name(value)} value"
