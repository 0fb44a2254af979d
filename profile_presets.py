# mypy: disable-error-code="union-attr,attr-defined"
# (Blender-facing: fake-bpy-module types every context member as Optional, see mypy.ini.)
"""A Manager profile's default preset, applied when the profile becomes active.

Picking a profile (`profiles.activate`) selects its default job type at once, but that Manager's
job types arrive later: the refresh runs in the background and the settings are built on the
main thread when its answer comes in (`state.info_listeners`). The preset waits for that answer,
so it meets the job type as this Manager offers it (what no longer fits is named, as when an
artist loads a preset), then its folders are read in the background like every preset's.

Only activation applies it. A submission drops one still waiting: a script that picks a profile
and submits at once would otherwise get the preset in the middle of its submission, and in the
UI the panel would show values the job was not sent with. `submit_job(preset=…)` submits with one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional

import bpy

from . import job_presets, profiles, props, state
from .core import presets as core
from .core.manager_info import ManagerInfo
from .runtime import timer


@dataclass(frozen=True)
class Pending:
    profile: str  # its name, for the messages
    url: str  # normalised, as ManagerInfo.url
    job_type: str
    preset: str
    # time.time() at activation: Manager info fetched before (the disk cache) is not the answer
    # to this activation's refresh, and may miss settings the Manager has now.
    since: float

    @property
    def what(self) -> str:
        return f'{self.profile}\'s default preset "{self.preset}"'


def _say(text: str, icon: str = "ERROR") -> None:
    job_presets.say(text, icon)  # where preset actions say what they did: the preset row, the console


_pending: Optional[Pending] = None  # waiting for the Manager's job types
_applying: Optional[Pending] = None  # its preset folders being read; replaced or dropped: not applied


def activated(profile: Any) -> None:
    """`profiles.activated_listeners`: remember the profile's default preset, if it names one."""
    global _pending, _applying
    _pending = _applying = None  # the previous profile's preset no longer applies
    name = str(profile.default_preset).strip()
    if not name:
        return
    scene = getattr(bpy.context, "scene", None)
    # No default job type: the one the scene keeps ("empty: keep").
    job_type = str(profile.default_job_type) or (props.scene_props(scene).job_type if scene is not None else "")
    pending = Pending(str(profile.name or profile.url), profiles.normalised(profile.url), job_type, name, time.time())
    if not job_type:
        _say(f"{pending.what} not applied: choose a job type first")
        return
    _pending = pending


def _scene_for(pending: Pending) -> Optional[Any]:
    """The scene to apply to, or None (said why) when its job type is no longer the one meant."""
    scene = getattr(bpy.context, "scene", None)
    now = props.scene_props(scene).job_type if scene is not None else ""
    if now != pending.job_type:
        _say(f"{pending.what} not applied: the job type is now {now or 'none'}, not {pending.job_type}")
        return None
    return scene


def info_arrived(info: ManagerInfo) -> None:
    """`state.info_listeners` (main thread): the job types of the Manager the profile names are in."""
    global _pending, _applying
    pending = _pending
    if pending is None or info.url != pending.url or info.fetched_at < pending.since:
        return
    _pending = None
    jt = info.job_types.get(pending.job_type)
    if jt is None:
        _say(f'{pending.what} not applied: the Manager offers no job type "{pending.job_type}"')
        return
    if _scene_for(pending) is None:
        return
    _applying = pending
    job_presets.read(pending.job_type, then=lambda: _listed(pending, info))


def _listed(pending: Pending, info: ManagerInfo) -> None:
    """The job type's presets are read (main thread): apply the one named, or say why not."""
    global _applying
    if _applying is not pending:
        return
    scene = _scene_for(pending)
    listing = job_presets.listing
    if scene is None or listing is None or listing.job_type != pending.job_type or job_presets.stale(pending.job_type):
        _applying = None
        if scene is not None:  # the folders changed while they were read
            _say(f"{pending.what} not applied: the preset folders changed meanwhile")
        return
    preset = listing.find(pending.preset)
    if preset is None:
        _look_elsewhere(pending, info)
        return
    _applying = None
    jt = job_presets.job_type_of(scene)  # the settings group for it, as loading a preset by hand
    if jt is None or jt.name != pending.job_type:  # the Manager changed again meanwhile
        _say(f'{pending.what} not applied: the Manager offers no job type "{pending.job_type}" now')
        return
    fitted = job_presets.apply(scene, jt, preset)
    _say(fitted.summary(preset.name, what=f"{pending.profile}'s default preset"), "INFO")


def _look_elsewhere(pending: Pending, info: ManagerInfo) -> None:
    """Not there for its job type: whose is it? (Files, so a background thread.)"""
    where = job_presets.folders()
    others = [name for name in sorted(info.job_types) if name != pending.job_type]

    def label(name: str) -> str:
        jt = info.job_types.get(name)
        return (jt.label if jt is not None else "") or name

    def found(result: object) -> None:
        global _applying
        if _applying is not pending:
            return
        _applying = None
        owners = list(result) if isinstance(result, list) else []
        if owners:
            _say(f"{pending.what} is a preset of {', '.join(label(n) for n in owners)}, not of "
                 f"{label(pending.job_type)}: not applied, the settings are left as they are")
        else:
            _say(f"{pending.what} not found among the presets of {label(pending.job_type)} "
                 "(yours, the project's, the studio's): the settings are left as they are")

    def failed(ex: BaseException) -> None:
        found([])

    timer.run(lambda: core.job_types_with(where, pending.preset, others), found, failed, key=job_presets.KEY)


def drop(reason: str) -> None:
    """A submission starts: a default preset not applied yet is not applied (see the module doc)."""
    global _pending, _applying
    pending = _pending or _applying
    _pending = _applying = None
    if pending is not None:
        _say(f"{pending.what} not applied: {reason}", "INFO")


def tick_hook() -> None:
    """The activation's refresh ended without this Manager's job types (unreachable, offline):
    the preset is dropped, not applied by some later refresh long after the profile was picked."""
    global _pending
    if _pending is not None and not timer.bridge.busy(state.REFRESH_KEY) and not profiles.refresh_pending:
        pending, _pending = _pending, None
        _say(f"{pending.what} not applied: the Manager's job types did not arrive (see the connection line)")


def register() -> None:
    profiles.activated_listeners.append(activated)
    state.info_listeners.append(info_arrived)
    timer.tick_hooks.append(tick_hook)


def unregister() -> None:
    global _pending, _applying
    _pending = _applying = None
    if activated in profiles.activated_listeners:
        profiles.activated_listeners.remove(activated)
    if info_arrived in state.info_listeners:
        state.info_listeners.remove(info_arrived)
    if tick_hook in timer.tick_hooks:
        timer.tick_hooks.remove(tick_hook)
