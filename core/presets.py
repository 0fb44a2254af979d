"""Presets of job settings per job type, as JSON files at three levels (bpy-free).

A preset keeps the values the artist chose for one job type, each with the setting's type,
and the job type's etag when it was saved. Job types change on the Manager: loading a preset
applies what still fits (same key, same type, a value the setting still accepts), and says
what it dropped and which settings the preset does not know.

Files: `<level folder>/<job type>/<name>.json`. The project's and the studio's folders may
be on shared storage, so every function here that touches files is meant for a background
thread (the add-on calls them through the runtime bridge).
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from ..api.models import JobSetting, JobType

FORMAT = "flamenco-desk-preset"
FORMAT_VERSION = 1
# Levels in the order a bare name is looked up: the artist's own first, the studio's last.
ARTIST, PROJECT, STUDIO = "ARTIST", "PROJECT", "STUDIO"
LEVELS = (ARTIST, PROJECT, STUDIO)
LEVEL_NAMES = {ARTIST: "Mine", PROJECT: "Project", STUDIO: "Studio"}
# How a message names a level's presets.
LEVEL_PHRASES = {ARTIST: "your presets", PROJECT: "the project's presets", STUDIO: "the studio's presets"}
READ_ONLY = {STUDIO}  # set by a TD; artists read it only
MAX_NAME = 64
MAX_FILE_BYTES = 1_000_000  # a preset is a few hundred bytes; anything larger is not ours
_JSON_TYPES: dict[str, Any] = {"string": str, "int32": int, "float": (int, float), "bool": bool}


class PresetError(Exception):
    """A preset cannot be saved, renamed, deleted or read; the message is for the artist."""


@dataclass(frozen=True)
class Stored:
    """One saved value with the type its setting had."""

    type: str
    value: Any


@dataclass(frozen=True)
class Preset:
    name: str
    job_type: str
    job_type_etag: str
    settings: Mapping[str, Stored]
    # Settings left to follow the scene when saved: not reported as unknown to the preset.
    scene_keys: tuple[str, ...] = ()
    level: str = ""
    path: Optional[Path] = None
    saved_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "job_type": self.job_type,
            "job_type_etag": self.job_type_etag,
            "saved_at": self.saved_at or time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "settings": {k: {"type": s.type, "value": s.value} for k, s in sorted(self.settings.items())},
            "scene_keys": sorted(self.scene_keys),
        }

    @classmethod
    def from_json(cls, data: object, level: str = "", path: Optional[Path] = None) -> Preset:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise PresetError("not a Flamenco Desk preset")
        name, job_type = data.get("name"), data.get("job_type")
        raw = data.get("settings")
        if not isinstance(name, str) or not name or not isinstance(job_type, str) or not isinstance(raw, dict):
            raise PresetError("the preset has no name, job type or settings")
        settings: dict[str, Stored] = {}
        for key, item in raw.items():
            if isinstance(item, dict) and isinstance(item.get("type"), str) and "value" in item:
                settings[str(key)] = Stored(item["type"], item["value"])
        scene_keys = data.get("scene_keys")
        return cls(
            name=name, job_type=job_type, job_type_etag=str(data.get("job_type_etag") or ""),
            settings=settings, level=level, path=path, saved_at=str(data.get("saved_at") or ""),
            scene_keys=tuple(str(k) for k in scene_keys) if isinstance(scene_keys, list) else (),
        )


@dataclass(frozen=True)
class Dropped:
    key: str
    reason: str


@dataclass(frozen=True)
class Fit:
    """What of a preset fits the job type as the Manager offers it now."""

    applied: dict[str, Any]
    dropped: tuple[Dropped, ...]
    # Settings the job type has now that the preset does not mention and that do not follow
    # the scene: left as they are.
    unknown_to_preset: tuple[str, ...]
    outdated: bool  # saved for another version of the job type (etag differs)

    def summary(self, name: str, what: str = "Preset") -> str:
        text = f'{what} "{name}": {len(self.applied)} setting{"" if len(self.applied) == 1 else "s"} applied'
        if self.dropped:
            text += "; dropped " + ", ".join(f"{d.key} ({d.reason})" for d in self.dropped)
        if self.unknown_to_preset:
            text += "; not in the preset, left as they are: " + ", ".join(self.unknown_to_preset)
        if self.outdated and (self.dropped or self.unknown_to_preset):
            text += " (saved for an older version of the job type)"
        return text


def settable(setting: JobSetting, skip: Iterable[str] = ()) -> bool:
    """Settings an artist sets and a preset may hold: shown and editable, not the farm's
    blend file (the submission fills it in)."""
    return (setting.visible in (None, "", "visible", "submission") and setting.editable is not False
            and setting.key not in set(skip))


def _matches_type(setting: JobSetting, stored: Stored) -> Optional[str]:
    """Why the stored value does not fit the setting, or None."""
    kind = setting.type or "string"
    if stored.type != kind:
        return f"now {kind}, was {stored.type}"
    expected = _JSON_TYPES.get(kind)
    value = stored.value
    if expected is not None and (not isinstance(value, expected) or (kind != "bool" and isinstance(value, bool))):
        return f"not a valid {kind}: {value!r}"
    if setting.choices and str(value) not in [str(c) for c in setting.choices]:
        return f'"{value}" is no longer a choice'
    return None


def fit(preset: Preset, job_type: JobType, skip: Iterable[str] = ()) -> Fit:
    """Which of the preset's values the job type takes now, and which it does not."""
    skip = set(skip)
    applied: dict[str, Any] = {}
    dropped: list[Dropped] = []
    for key, stored in preset.settings.items():
        setting = job_type.setting(key)
        if setting is None:
            dropped.append(Dropped(key, "no longer in the job type"))
            continue
        if not settable(setting, skip):
            dropped.append(Dropped(key, "no longer set by the artist"))
            continue
        reason = _matches_type(setting, stored)
        if reason is not None:
            dropped.append(Dropped(key, reason))
            continue
        applied[key] = setting.coerce(stored.value)
    known = set(preset.settings) | set(preset.scene_keys)
    unknown = tuple(s.key for s in job_type.settings if settable(s, skip) and not s.eval and s.key not in known)
    return Fit(applied, tuple(dropped), unknown, preset.job_type_etag != job_type.etag)


# -- files ---------------------------------------------------------------------------------


def check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise PresetError("A preset needs a name")
    if len(cleaned) > MAX_NAME:
        raise PresetError(f"A preset name has at most {MAX_NAME} characters")
    if any(ord(c) < 32 for c in cleaned):
        raise PresetError("A preset name cannot hold control characters")
    return cleaned


def file_name(name: str) -> str:
    """A file name for any preset name on any OS; the name itself is kept inside the file.
    Names that had to be changed get a checksum, so two such names never share a file."""
    safe = re.sub(r"[^A-Za-z0-9 ._-]", "_", name).strip(" .") or "preset"
    if safe != name:
        safe += f"-{zlib.crc32(name.encode('utf-8')):08x}"
    return safe + ".json"


def job_type_folder(folder: Path, job_type: str) -> Path:
    return folder / file_name(job_type)[: -len(".json")]


def read_folder(folder: Path, job_type: str, level: str) -> tuple[list[Preset], list[str]]:
    """The presets of a job type in one level's folder, and a line per unreadable file
    (left as it is)."""
    where = job_type_folder(folder, job_type)
    presets: list[Preset] = []
    problems: list[str] = []
    try:
        paths = sorted(where.glob("*.json"))
    except OSError as ex:
        return [], [f"{LEVEL_NAMES[level]} presets: cannot list {where}: {ex.strerror or ex}"]
    for path in paths:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise PresetError("too large for a preset")
            preset = Preset.from_json(json.loads(path.read_text(encoding="utf-8")), level, path)
        except (OSError, ValueError, PresetError) as ex:
            problems.append(f"{LEVEL_NAMES[level]} preset {path.name} is not readable: {ex}")
            continue
        if preset.job_type == job_type:
            presets.append(preset)
    return presets, problems


@dataclass(frozen=True)
class Listing:
    """Every preset of one job type over the levels, as read by a background thread."""

    job_type: str
    folders: Mapping[str, Optional[Path]]
    presets: tuple[Preset, ...] = ()
    problems: tuple[str, ...] = ()
    read_at: float = field(default_factory=time.monotonic)

    def find(self, name: str, level: str = "") -> Optional[Preset]:
        for wanted in ([level] if level else LEVELS):
            for preset in self.presets:
                if preset.level == wanted and preset.name == name:
                    return preset
        return None

    def at(self, level: str) -> list[Preset]:
        return [p for p in self.presets if p.level == level]


def read_all(folders: Mapping[str, Optional[Path]], job_type: str) -> Listing:
    presets: list[Preset] = []
    problems: list[str] = []
    for level in LEVELS:
        folder = folders.get(level)
        if folder is None or not folder.is_dir():
            continue
        found, bad = read_folder(folder, job_type, level)
        presets += sorted(found, key=lambda p: p.name.lower())
        problems += bad
    return Listing(job_type, dict(folders), tuple(presets), tuple(problems))


def job_types_with(folders: Mapping[str, Optional[Path]], name: str, job_types: Iterable[str]) -> list[str]:
    """Which of these job types have a preset called `name` at some level: when a name is not
    found for the job type meant, the artist learns it is another job type's (saving always
    writes `file_name(name)`, so a look at that one file per folder is enough)."""
    found: list[str] = []
    for job_type in job_types:
        for level in LEVELS:
            folder = folders.get(level)
            try:
                if folder is not None and (job_type_folder(folder, job_type) / file_name(name)).is_file():
                    found.append(job_type)
                    break
            except OSError:  # an unreadable share: nothing found there
                continue
    return found


def _writable(folders: Mapping[str, Optional[Path]], level: str) -> Path:
    if level in READ_ONLY:
        raise PresetError(f"{LEVEL_PHRASES[level].capitalize()} are read-only (set by a TD)")
    folder = folders.get(level)
    if folder is None:
        raise PresetError(f"No folder for {LEVEL_PHRASES.get(level, level)} (see the add-on's preferences;"
                          " a folder beside the .blend needs a saved file)")
    return folder


def _write_new(path: Path, preset: Preset) -> None:
    """Write whole or not at all: a temporary file renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        temporary.write_text(json.dumps(preset.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def save(folders: Mapping[str, Optional[Path]], level: str, preset: Preset, overwrite: bool = True) -> Path:
    """Write the preset at `level`; with the same name there, replaced only if `overwrite`."""
    name = check_name(preset.name)
    path = job_type_folder(_writable(folders, level), preset.job_type) / file_name(name)
    if path.exists() and not overwrite:
        raise PresetError(f'"{name}" exists already among {LEVEL_PHRASES[level]}')
    _write_new(path, Preset(name, preset.job_type, preset.job_type_etag, preset.settings, preset.scene_keys))
    return path


def _existing(folders: Mapping[str, Optional[Path]], level: str, job_type: str, name: str) -> tuple[Path, Preset]:
    path = job_type_folder(_writable(folders, level), job_type) / file_name(name)
    try:
        preset = Preset.from_json(json.loads(path.read_text(encoding="utf-8")), level, path)
    except FileNotFoundError:
        raise PresetError(f'No preset "{name}" for {job_type} among {LEVEL_PHRASES[level]}') from None
    except (OSError, ValueError) as ex:
        raise PresetError(f"Cannot read {path}: {ex}") from ex
    return path, preset


def rename(folders: Mapping[str, Optional[Path]], level: str, job_type: str, old: str, new: str) -> Path:
    new = check_name(new)
    path, preset = _existing(folders, level, job_type, old)
    target = path.with_name(file_name(new))
    if target.exists() and target != path:
        raise PresetError(f'"{new}" exists already among {LEVEL_PHRASES[level]}')
    renamed = Preset(new, preset.job_type, preset.job_type_etag, preset.settings, preset.scene_keys,
                     saved_at=preset.saved_at)
    _write_new(target, renamed)  # the new file first: a failure never loses the preset
    if target != path:
        path.unlink()
    return target


def delete(folders: Mapping[str, Optional[Path]], level: str, job_type: str, name: str) -> None:
    path, _ = _existing(folders, level, job_type, name)
    path.unlink()
