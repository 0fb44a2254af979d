"""Flamenco Desk: submit to a Flamenco render farm and watch the jobs, from Blender.

Registration only; see README.md for how the parts fit together.
"""

from __future__ import annotations

import bpy
from bpy.app.handlers import persistent

from . import (job_presets, manager_watches, operators, panels, path_checking, prefs, profile_presets, props, state,
               templating, watching)
from .jobtypes import registry
from .runtime import timer

_classes = (*prefs.classes, *props.classes, *operators.classes, *panels.classes)


@persistent
def _on_load_post(*_args: object) -> None:
    # Another .blend may have another job type selected: show its settings.
    props.sync_settings(bpy.context.scene)


def _on_info(_info: object) -> None:
    props.sync_settings(bpy.context.scene)


def register() -> None:
    for cls in _classes:
        bpy.utils.register_class(cls)
    props.register()
    panels.register()
    watching.register()
    manager_watches.register()
    state.info_listeners.append(_on_info)
    profile_presets.register()  # after _on_info: the settings follow the job types first
    bpy.app.handlers.load_post.append(_on_load_post)
    timer.tick_hooks.append(props.refresh_tick)
    timer.register()


def unregister() -> None:
    timer.unregister()
    if props.refresh_tick in timer.tick_hooks:
        timer.tick_hooks.remove(props.refresh_tick)
    if _on_load_post in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_on_load_post)
    profile_presets.unregister()
    manager_watches.unregister()
    watching.unregister()
    panels.unregister()
    state.reset()
    job_presets.reset()
    templating.reset()
    path_checking.reset()
    registry.unregister()
    props.unregister()
    for cls in reversed(_classes):
        bpy.utils.unregister_class(cls)
