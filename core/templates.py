"""Job names and output paths from templates (bpy-free): `{file}`, `{scene}`, `{camera}`,
`{view_layer}`, `{marker}`, `{user}`, `{date}`, `{version}`.

`{version}` is the next free `v###` in the folder that holds it: the part of the rendered
path before the `{version}` segment. Finding it lists a folder that is usually on shared
storage, so `next_version` is for a background thread; rendering only asks a lookup function
that answers from memory (None: not known yet, shown as "…").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional

PLACEHOLDERS = ("file", "scene", "camera", "view_layer", "marker", "user", "date", "version")
VERSION = "version"
PENDING = "…"
_FIELD = re.compile(r"\{([^{}]*)\}")
# v001, shot_v012, v3: a "v" not inside a word, then the number.
_VERSION_NUMBER = re.compile(r"(?<![A-Za-z0-9])v(\d+)(?![0-9])")


class TemplateError(Exception):
    """A template cannot be used as it is; the message says why, for the artist."""


@dataclass(frozen=True)
class Rendered:
    text: str
    unknown: tuple[str, ...] = ()
    # The folder whose `v###` entries decide `{version}` (as written, before expansion).
    version_folder: Optional[str] = None
    pending: bool = False  # `{version}` not known yet: the text shows "…"
    note: str = ""  # another reason it cannot be used

    def problem(self, what: str) -> Optional[str]:
        if self.note:
            return f"{what}: {self.note}"
        if self.unknown:
            names = ", ".join("{" + u + "}" for u in self.unknown)
            return (f"{what}: unknown placeholder{'s' if len(self.unknown) > 1 else ''} {names}; "
                    f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
        return None


def placeholders(template: str) -> list[str]:
    return _FIELD.findall(template)


def is_template(text: str) -> bool:
    return bool(_FIELD.search(text))


def _fill(text: str, values: Mapping[str, str], passthrough: Iterable[str], unknown: list[str],
          version: Optional[str]) -> str:
    keep = set(passthrough)

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == VERSION:
            return version if version is not None else PENDING
        if name in values:
            return values[name]
        if name not in keep and name not in unknown:
            unknown.append(name)
        return match.group(0)

    return _FIELD.sub(one, text)


def version_folder(template: str, values: Mapping[str, str], passthrough: Iterable[str] = ()) -> Optional[str]:
    """The folder (rendered, as written) that holds the `{version}` segment of a path template."""
    if "{" + VERSION + "}" not in template:
        return None
    head = template.split("{" + VERSION + "}", 1)[0]
    head = head.rpartition("/")[0] if "/" in head else ""
    return _fill(head, values, passthrough, [], None) if head else ""


def render(template: str, values: Mapping[str, str], version_of: Callable[[str], Optional[str]],
           passthrough: Iterable[str] = (), folder: Optional[str] = None) -> Rendered:
    """Fill the template. `{version}` asks `version_of(folder)`, the folder being the template's
    own (`version_folder`) or, for a job name, the output template's (`folder`)."""
    passthrough = tuple(passthrough)
    unknown: list[str] = []
    if "{" + VERSION + "}" in template:
        where = folder if folder is not None else version_folder(template, values, passthrough)
        version = version_of(where) if where is not None else None
    else:
        where, version = None, None
    text = _fill(template, values, passthrough, unknown, version)
    return Rendered(text, tuple(unknown), where, pending=where is not None and version is None)


def next_version(folder: Path) -> str:
    """The next free `v###` in `folder` (v001 when it is empty or not there yet). Lists the
    folder: call it on a background thread."""
    highest = 0
    try:
        names = [entry.name for entry in folder.iterdir()]
    except (FileNotFoundError, NotADirectoryError):
        names = []
    for name in names:
        for match in _VERSION_NUMBER.finditer(name):
            highest = max(highest, int(match.group(1)))
    return f"v{highest + 1:03d}"


def number(version: str) -> int:
    match = _VERSION_NUMBER.fullmatch(version)
    return int(match.group(1)) if match else 0


def highest(versions: Iterable[str]) -> Optional[str]:
    """The one `{version}` of a batch whose parts' folders differ (`{camera}` before
    `{version}`): the highest of their next free versions, free in every one of them."""
    return max(versions, key=number, default=None)


def after(version: str) -> str:
    """The version following one just used (a submitted job's folder is made later, by the farm)."""
    match = _VERSION_NUMBER.fullmatch(version)
    return f"v{int(match.group(1)) + 1:03d}" if match else version
