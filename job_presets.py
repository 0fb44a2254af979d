"""Main-thread half of presets: which folders, what the scene's settings are as a preset,
applying a preset, and the file work handed to a background thread (`core.presets`).

Every preset file is read and written on a background thread through the runtime bridge,
the artist's own folder included: one path for all levels, and the project's or studio's
folder may be on a share that hangs. The panel draws from `listing`, read in the background.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Optional

import bpy

from . import prefs, props, state
from .api.models import JobType
from .core import presets as core
from .jobtypes import evaluation, registry, setting_props, values
from .runtime import timer

KEY = "presets"
ARTIST_SUBFOLDER = "presets"
# Upper bound for headless waiting on the preset folders (a hung share must not hang a script).
HEADLESS_TIMEOUT = 30.0

listing: Optional[core.Listing] = None
# The preset last loaded or saved per job type (the menu shows it; remove deletes it).
current: dict[str, tuple[str, str]] = {}
# The last thing a preset action said, for the panel: (text, icon).
message: Optional[tuple[str, str]] = None
_wanted: Optional[tuple[str, tuple[tuple[str, Optional[Path]], ...]]] = None


def folders() -> dict[str, Optional[Path]]:
    """Each level's folder (None: not set). Only path arithmetic: nothing is touched here."""
    p = prefs.get()
    artist = Path(bpy.utils.extension_path_user(prefs.ADDON_ID, path="", create=False)) / ARTIST_SUBFOLDER
    project: Optional[Path] = None
    raw = str(getattr(p, "project_presets_folder", "") or "")
    if raw and not (raw.startswith("//") and not bpy.data.filepath):  # beside an unsaved file: nowhere
        project = Path(bpy.path.abspath(raw))
    studio_raw = str(getattr(p, "studio_presets_folder", "") or "")
    studio = Path(bpy.path.abspath(studio_raw)) if studio_raw else None
    return {core.ARTIST: artist, core.PROJECT: project, core.STUDIO: studio}


def _key(job_type: str, where: dict[str, Optional[Path]]) -> tuple[str, tuple[tuple[str, Optional[Path]], ...]]:
    return job_type, tuple(sorted(where.items()))


def stale(job_type: str) -> bool:
    return _wanted != _key(job_type, folders())


def read(job_type: str, then: Optional[Callable[[], None]] = None) -> None:
    """Read the job type's presets at every level in the background; `listing` follows."""
    global _wanted
    where = folders()
    _wanted = _key(job_type, where)

    def ok(result: object) -> None:
        global listing
        if isinstance(result, core.Listing) and _key(result.job_type, dict(result.folders)) == _wanted:
            listing = result
        state.redraw()
        if then is not None:
            then()

    def failed(ex: BaseException) -> None:
        say(f"Could not read the presets: {ex}", "ERROR")

    timer.run(lambda: core.read_all(where, job_type), ok, failed, key=KEY)


def read_if_stale(job_type: str) -> None:
    """From drawing: start a read when the job type or folders changed (starting a thread
    is all that happens here)."""
    if job_type and stale(job_type) and not timer.bridge.busy(KEY):
        read(job_type)


def wait(timeout: float = HEADLESS_TIMEOUT) -> bool:
    """Headless only (no UI to keep responsive): apply the preset work when it is done."""
    return timer.bridge.wait_for(KEY, timeout)


def say(text: str, icon: str) -> None:
    """What a preset action says: under the panel's preset row, and on the console headless."""
    global message
    message = (text, icon)
    if bpy.app.background:
        print(f"Flamenco Desk: {text}", flush=True)
    state.redraw()


def job_type_of(scene: bpy.types.Scene) -> Optional[JobType]:
    """The scene's job type as the Manager offers it now, with its settings group in place."""
    info = state.info()
    name = props.scene_props(scene).job_type
    jt = info.job_types.get(name) if info is not None and name else None
    if jt is not None:
        registry.use(jt, scene)
    return jt


def capture(scene: bpy.types.Scene, jt: JobType, name: str) -> core.Preset:
    """The scene's current choices for the job type. Settings that follow the scene (linked,
    or scene-derived and not changed by hand) are not frozen into the preset."""
    grp = registry.group(scene)
    stored: dict[str, core.Stored] = {}
    scene_keys: list[str] = []
    for setting in jt.settings:
        if not core.settable(setting, {values.BLENDFILE_KEY}):
            continue
        ident, link_ident = registry.identifiers(setting)
        if registry.has_link(setting) and getattr(grp, link_ident, True):
            scene_keys.append(setting.key)
        elif registry.follows_scene(setting) and not registry.edited(grp, setting):
            scene_keys.append(setting.key)
        else:
            try:
                value = evaluation.coerce(setting, getattr(grp, ident))
            except (TypeError, ValueError):
                continue
            stored[setting.key] = core.Stored(setting.type or "string", value)
    return core.Preset(name, jt.name, jt.etag, stored, tuple(scene_keys))


def apply(scene: bpy.types.Scene, jt: JobType, preset: core.Preset) -> core.Fit:
    """Set what fits; the fit says what was dropped and what the preset did not know."""
    fitted = core.fit(preset, jt, {values.BLENDFILE_KEY})
    grp = registry.group(scene)
    dropped = list(fitted.dropped)
    applied = {}
    for key, value in fitted.applied.items():
        setting = jt.setting(key)
        assert setting is not None
        ident, link_ident = registry.identifiers(setting)
        try:
            if registry.has_link(setting):
                setattr(grp, link_ident, False)  # a fixed value from the preset
            setattr(grp, ident, value)  # marks a scene-following setting as set by hand
            if registry.follows_scene(setting):
                setattr(grp, setting_props.edited_identifier(ident), True)
        except (TypeError, ValueError, AttributeError) as ex:
            dropped.append(core.Dropped(key, f"not accepted: {ex}"))
            continue
        applied[key] = value
    current[jt.name] = (preset.name, preset.level)
    return replace(fitted, applied=applied, dropped=tuple(dropped))


def load(scene: bpy.types.Scene, name: str, level: str = "") -> tuple[bool, str]:
    """Apply a preset from the listing (main thread, no file access): (ok, message)."""
    jt = job_type_of(scene)
    if jt is None:
        return False, "Choose a job type the Manager offers first"
    if listing is None or listing.job_type != jt.name or stale(jt.name):
        return False, "The presets are still being read; try again in a moment"
    preset = listing.find(name, level)
    if preset is None:
        where = f" among {core.LEVEL_PHRASES[level]}" if level else ""
        return False, f'No preset "{name}" for {jt.label or jt.name}{where}'
    text = apply(scene, jt, preset).summary(preset.name)
    say(text, "INFO")
    return True, text


def _file_work(job_type: str, work: Callable[[dict[str, Optional[Path]]], object], done: str,
               after: Optional[Callable[[object], None]] = None) -> None:
    """Run preset file work in the background, then re-read the listing."""
    where = folders()

    def ok(result: object) -> None:
        if after is not None:
            after(result)
        say(done, "CHECKMARK")
        read(job_type)

    def failed(ex: BaseException) -> None:
        text = str(ex) if isinstance(ex, core.PresetError) else f"{done.split(':')[0]} failed: {ex}"
        say(text, "ERROR")

    timer.run(lambda: work(where), ok, failed, key=KEY)


def save(scene: bpy.types.Scene, name: str, level: str, overwrite: bool = True) -> Optional[str]:
    """Start saving the scene's choices as a preset; an immediate problem is returned."""
    jt = job_type_of(scene)
    if jt is None:
        return "Choose a job type the Manager offers first"
    try:
        name = core.check_name(name)
    except core.PresetError as ex:
        return str(ex)
    preset = capture(scene, jt, name)
    if level in core.READ_ONLY:
        return f"{core.LEVEL_PHRASES[level].capitalize()} are read-only (set by a TD)"

    def remember(_path: object) -> None:
        current[jt.name] = (name, level)

    _file_work(jt.name, lambda where: core.save(where, level, preset, overwrite),
               f'Saved "{name}" to {core.LEVEL_PHRASES[level]} ({len(preset.settings)} settings)', remember)
    return None


def rename(scene: bpy.types.Scene, name: str, level: str, new_name: str) -> Optional[str]:
    jt = job_type_of(scene)
    if jt is None:
        return "Choose a job type the Manager offers first"
    try:
        new_name = core.check_name(new_name)
    except core.PresetError as ex:
        return str(ex)

    def remember(_path: object) -> None:
        if current.get(jt.name) == (name, level):
            current[jt.name] = (new_name, level)

    _file_work(jt.name, lambda where: core.rename(where, level, jt.name, name, new_name),
               f'Renamed preset "{name}" to "{new_name}"', remember)
    return None


def delete(scene: bpy.types.Scene, name: str, level: str) -> Optional[str]:
    jt = job_type_of(scene)
    if jt is None:
        return "Choose a job type the Manager offers first"

    def forget(_result: object) -> None:
        if current.get(jt.name) == (name, level):
            del current[jt.name]

    _file_work(jt.name, lambda where: core.delete(where, level, jt.name, name),
               f'Deleted preset "{name}"', forget)
    return None


def current_for(scene: Any) -> Optional[tuple[str, str]]:
    return current.get(props.scene_props(scene).job_type)


def reset() -> None:
    global listing, message, _wanted
    listing, message, _wanted = None, None, None
    current.clear()
