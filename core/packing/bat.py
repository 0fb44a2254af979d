"""Blender Asset Tracer, imported in one place, with the fixes this add-on relies on.

BAT comes from the wheel bundled with the extension (Blender puts it on `sys.path`); tests
and tools put the same pinned wheel on `sys.path` themselves. Nothing of BAT is copied here.
"""

from __future__ import annotations

from typing import Any, Iterator

try:
    import blender_asset_tracer
    from blender_asset_tracer import blendfile, bpathlib, trace
    from blender_asset_tracer import pack as bat_pack
    from blender_asset_tracer.pack import progress as bat_progress
    from blender_asset_tracer.pack import transfer as bat_transfer
    from blender_asset_tracer.trace import expanders, file_sequence
except ImportError as ex:  # pragma: no cover - only when the extension was built without its wheel
    raise ImportError(
        "Blender Asset Tracer is missing: reinstall Flamenco Desk from a zip built with "
        "tools/build_extension.py (it bundles the wheel)"
    ) from ex

VERSION = str(getattr(blender_asset_tracer, "__version__", "?"))


def _expand_nodetree_id(block: Any) -> Iterator[Any]:
    """The node tree of a material, light, world, texture or scene.

    BAT 1.23 reads `compositing_node_group` instead of `nodetree` for every ID in files from
    Blender 5.0 (subversion 4 and later), but only scenes have that field. Materials then
    expand to nothing, so an image used only by a material of a *linked* object is never
    found: it is neither packed nor reported missing. Try both fields."""
    for field in (b"nodetree", b"compositing_node_group"):
        ntree = block.get_pointer(field, None)
        if ntree is not None:
            yield from expanders._expand_generic_nodetree(ntree)
            return


def _apply_fixes() -> None:
    # The expanders look this helper up by its global name on every call.
    expanders._expand_generic_nodetree_id = _expand_nodetree_id
    # Library overrides and stale pointers are common in production files; like Flamenco's
    # add-on, read on instead of failing the whole trace on one dangling pointer.
    blendfile.set_strict_pointer_mode(False)


_apply_fixes()

__all__ = [
    "VERSION", "bat_pack", "bat_progress", "bat_transfer", "blendfile", "bpathlib", "file_sequence", "trace",
]
