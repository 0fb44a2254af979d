# mypy: disable-error-code="union-attr,override,attr-defined"
# (Blender-facing: fake-bpy-module types every context member as Optional, see mypy.ini.)
"""Named Manager profiles (several Managers): a studio farm and a second one, each with a name,
a URL, a default job type and a default preset name.

The preferences' `manager_url` stays what the rest of the add-on reads: it is the URL of the
*active* profile, kept equal both ways (editing either updates the other). A preference saved by
an older version (one URL, no profiles) becomes the first profile the first time it is read
(`ensure`), so nobody loses their setting.

A job belongs to the profile whose URL it was submitted to (`props` job refs keep it); a job
whose URL no profile has any more (a profile's URL was edited, a file from another machine) is
looked for on the active Manager, as before there were profiles.
"""


import functools
from typing import Any, Callable, Iterable, Optional

import bpy
from bpy.props import IntProperty, StringProperty

from . import state
from .api.client import normalise_base_url

ADDON_ID = __package__
DEFAULT_NAME = "Manager"
# While the two URL properties are copied into each other (their update callbacks would loop).
_syncing = False
# Called (main thread) with the profile that `activate` just made active, after the scene got
# its default job type (profile_presets: its default preset). A list, not an import: the
# presets' modules import the preferences, which import this module.
activated_listeners: list[Callable[[Any], None]] = []


def _url_edited(self: Any, context: Any) -> None:
    prefs = _prefs()
    if _syncing or prefs is None:
        return
    index = next((i for i, p in enumerate(prefs.managers) if p.as_pointer() == self.as_pointer()), -1)
    if index == prefs.active_manager and prefs.manager_url != self.url:
        prefs.manager_url = self.url  # its own update tells the add-on the Manager changed


class FLAMENCO_DESK_PG_manager_profile(bpy.types.PropertyGroup):
    """One Manager the artist submits to. (`name` is the PropertyGroup's own.)"""

    url: StringProperty(  # type: ignore[valid-type]
        name="URL", description="Address of this Flamenco Manager, e.g. http://flamenco:8080",
        default="http://localhost:8080", update=_url_edited,
    )
    default_job_type: StringProperty(  # type: ignore[valid-type]
        name="Default Job Type",
        description="Job type selected when this Manager is picked and the file has none it offers (empty: keep)",
    )
    default_preset: StringProperty(  # type: ignore[valid-type]
        name="Default Preset",
        description="Preset applied to the default job type's settings when this Manager is picked "
                    "(yours, the project's or the studio's; empty: none)",
    )


def _prefs() -> Any:
    addon = bpy.context.preferences.addons.get(ADDON_ID)
    return None if addon is None else addon.preferences


@functools.lru_cache(maxsize=256)  # asked for every job ref on every timer tick
def normalised(url: str) -> str:
    try:
        return normalise_base_url(url)
    except ValueError:
        return url.strip()


def ensure(prefs: Any = None) -> None:
    """The old single URL becomes the first profile. Not from draw code (no writes there)."""
    global _syncing
    prefs = prefs or _prefs()
    if prefs is None or len(prefs.managers):
        return
    profile = prefs.managers.add()
    profile.name = DEFAULT_NAME
    _syncing = True
    try:
        profile.url = prefs.manager_url
    finally:
        _syncing = False
    prefs.active_manager = 0


def manager_url_edited(prefs: Any) -> None:
    """`manager_url` was set (the field, a script, a test): the active profile follows."""
    global _syncing
    if _syncing:
        return
    ensure(prefs)
    index = prefs.active_manager
    if 0 <= index < len(prefs.managers) and prefs.managers[index].url != prefs.manager_url:
        _syncing = True
        try:
            prefs.managers[index].url = prefs.manager_url
        finally:
            _syncing = False


def activate(prefs: Any, index: int, defaults: bool = True) -> bool:
    """Make profile `index` the active one; False if there is none or it already is.
    The scene gets the profile's default job type when it has one, and its default preset
    once that Manager's job types are in (`activated_listeners`). Without `defaults` (a job
    on that Manager was only opened to look at it) the scene's settings are left alone."""
    ensure(prefs)
    if not 0 <= index < len(prefs.managers):
        return False
    profile = prefs.managers[index]
    changed = index != prefs.active_manager or prefs.manager_url != profile.url
    if prefs.active_manager != index:
        prefs.active_manager = index
    if prefs.manager_url != profile.url:
        prefs.manager_url = profile.url
    scene = getattr(bpy.context, "scene", None)
    if changed and defaults and scene is not None and profile.default_job_type:
        scene.flamenco_desk.job_type = profile.default_job_type
    if changed and defaults:
        for listener in list(activated_listeners):
            listener(profile)
    if changed and state.online_allowed():
        refresh_active()
    return changed


refresh_pending = False  # a refresh of the previous Manager was on its way: refresh again after it


def refresh_active() -> None:
    """Ask the (newly) active Manager for its job types, tags, storage, in the background;
    manager_watches' tick hook retries while the previous Manager's refresh is on its way."""
    global refresh_pending
    refresh_pending = not state.refresh()


def profiles(prefs: Any = None) -> list[tuple[str, str]]:
    """(name, normalised URL) of every profile; before `ensure` ran, the one implicit profile."""
    prefs = prefs or _prefs()
    if prefs is None:
        return []
    if not len(prefs.managers):
        return [(DEFAULT_NAME, normalised(prefs.manager_url))]
    return [(p.name or p.url, normalised(p.url)) for p in prefs.managers]


def active_url() -> str:
    prefs = _prefs()
    return "" if prefs is None else normalised(prefs.manager_url)


def active_profile() -> Optional[Any]:
    prefs = _prefs()
    if prefs is None or not 0 <= prefs.active_manager < len(prefs.managers):
        return None
    return prefs.managers[prefs.active_manager]


def owner(ref_url: str, known: Optional[Iterable[str]] = None, active: Optional[str] = None) -> str:
    """The normalised URL of the Manager a job submitted to `ref_url` is on (see the module doc)."""
    urls = set(known if known is not None else (url for _, url in profiles()))
    url = normalised(ref_url) if ref_url else ""
    return url if url in urls else (active if active is not None else active_url())


def index_of(url: str) -> int:
    """The index of the profile with this URL, or -1."""
    wanted = normalised(url)
    return next((i for i, (_, profile_url) in enumerate(profiles()) if profile_url == wanted), -1)


def name_for(url: str) -> str:
    """The profile name of a Manager URL, else its host."""
    wanted = normalised(url)
    for name, profile_url in profiles():
        if profile_url == wanted:
            return name
    return wanted.split("://", 1)[-1]


def file_jobs() -> dict[str, list[str]]:
    """This file's job ids by the (normalised) URL of the Manager each is on."""
    known = {url for _, url in profiles()}
    active = active_url()
    by_url: dict[str, list[str]] = {}
    for scene in bpy.data.scenes:
        for ref in scene.flamenco_desk.jobs:
            if ref.job_id:
                by_url.setdefault(owner(ref.manager_url, known, active), []).append(ref.job_id)
    return by_url


def job_ids_on(url: str) -> set[str]:
    return set(file_jobs().get(normalised(url), ()))


def manager_of(job_id: str) -> str:
    """The URL of the Manager this file's job is on (the active one for a job not of this file)."""
    for url, ids in file_jobs().items():
        if job_id in ids:
            return url
    return active_url()


# -- the submit panel's picker ----------------------------------------------------------------

_items_cache: list[tuple[str, str, str]] = []  # Blender needs the item strings kept alive


def _items(self: Any, context: Any) -> list[tuple[str, str, str]]:
    global _items_cache
    _items_cache = [(str(i), name, url) for i, (name, url) in enumerate(profiles(self))]
    return _items_cache or [("0", DEFAULT_NAME, "")]


def _get(self: Any) -> int:
    return max(0, min(self.active_manager, len(self.managers) - 1))


def _set(self: Any, value: int) -> None:
    activate(self, value)


# -- adding and removing profiles (preferences) ------------------------------------------------


class FLAMENCO_DESK_OT_add_manager(bpy.types.Operator):
    bl_idname = "flamenco_desk.add_manager"
    bl_label = "Add Manager"
    bl_description = "Add a Manager profile (a name, its URL, a default job type and preset)"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        prefs = _prefs()
        ensure(prefs)
        profile = prefs.managers.add()
        profile.name = f"{DEFAULT_NAME} {len(prefs.managers)}"
        return {"FINISHED"}


class FLAMENCO_DESK_OT_remove_manager(bpy.types.Operator):
    bl_idname = "flamenco_desk.remove_manager"
    bl_label = "Remove Manager"
    bl_description = "Remove this Manager profile (its jobs stay on the Manager)"
    bl_options = {"INTERNAL"}

    index: IntProperty(default=-1)  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        prefs = _prefs()
        if len(prefs.managers) < 2 or not 0 <= self.index < len(prefs.managers):
            self.report({"ERROR"}, "The last Manager profile cannot be removed")
            return {"CANCELLED"}
        active = prefs.active_manager
        prefs.managers.remove(self.index)
        if self.index == active:
            activate(prefs, 0)
        elif self.index < active:
            prefs.active_manager = active - 1
        return {"FINISHED"}


def draw_prefs(prefs: Any, layout: Any) -> None:
    """The profiles in the preferences: one box each; the active one is what `Manager URL` shows."""
    layout.label(text="Managers")
    if not len(prefs.managers):
        layout.label(text=f"{DEFAULT_NAME}: {prefs.manager_url}", icon="LINKED")
    for index, profile in enumerate(prefs.managers):
        box = layout.box()
        row = box.row(align=True)
        row.label(text="", icon="RADIOBUT_ON" if index == prefs.active_manager else "RADIOBUT_OFF")
        row.prop(profile, "name", text="")
        op = row.operator("flamenco_desk.remove_manager", text="", icon="X")
        op.index = index
        col = box.column(align=True)
        col.prop(profile, "url")
        col.prop(profile, "default_job_type")
        col.prop(profile, "default_preset")
    layout.operator("flamenco_desk.add_manager", icon="ADD")


classes = (FLAMENCO_DESK_PG_manager_profile, FLAMENCO_DESK_OT_add_manager, FLAMENCO_DESK_OT_remove_manager)

__all__ = ["FLAMENCO_DESK_PG_manager_profile", "ensure", "activate", "owner", "name_for", "file_jobs",
           "job_ids_on", "manager_of", "active_url"]
