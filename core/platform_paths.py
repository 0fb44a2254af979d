"""Paths across platforms: the artist's form, and what the Manager makes of it for each Worker.

bpy-free and filesystem-free (PureWindowsPath / PurePosixPath only: `Path.resolve()` on Windows
can turn a mapped drive into a UNC path, and on Linux follows a symlinked mount to its other
side, so it is never used to write a path the farm reads).

The Manager's two steps (Flamenco 3.6–3.8.5, `config/variables.go`), mirrored here so the artist
sees before submitting what each Worker will get:
- on `POST /jobs`, in top-level string settings and metadata, a value that starts with a two-way
  variable's value for `submitter_platform` (audience `workers`) gets that prefix replaced by
  `{name}`: a plain prefix match, case-insensitive, `\\` compared as `/`; not path-aware, so
  `S:\\Flamenco` also matches `S:\\Flamenco2\\x` (giving `{storage}2\\x`);
- when a task goes to a Worker, `{name}` becomes the variable's value for the Worker's platform
  (one-way variables like `{jobs}` first), a value starting with the Manager platform's value is
  rebased onto the Worker platform's, and a path so touched gets that platform's separators.
  A path under no variable reaches every Worker exactly as it was sent.
"""

from __future__ import annotations

import os
import platform as _platform
import re
from dataclasses import dataclass, field
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Mapping, Optional, Sequence

if TYPE_CHECKING:
    from ..api.client import ManagerClient

PLATFORMS = ("linux", "windows", "darwin")
# Test-only: make the add-on report another platform (`darwin`, `windows`) than the one it runs
# on, so a Linux test machine can act as a macOS or Windows artist. Read here and nowhere else.
PLATFORM_ENV = "FLAMENCO_DESK_TEST_PLATFORM"

_DRIVE = re.compile(r"^[A-Za-z]:")


def artist_platform() -> str:
    """The platform the add-on reports to the Manager (Go's GOOS names)."""
    forced = os.environ.get(PLATFORM_ENV, "").strip().lower()
    return forced or _platform.system().lower()


def pure(platform: str) -> type[PurePath]:
    return PureWindowsPath if platform == "windows" else PurePosixPath


def is_unc(path: str) -> bool:
    """`\\\\server\\share`. (`//…` is Blender's "relative to the .blend", not UNC.)"""
    return path.startswith("\\\\")


def is_drive_relative(path: str) -> bool:
    """`S:shots\\x` or a bare `S:`: no root after the drive letter."""
    return bool(_DRIVE.match(path)) and (len(path) == 2 or path[2] not in "\\/")


def is_absolute(path: str, platform: str) -> bool:
    if path.startswith("//"):  # Blender's relative-to-the-.blend: the same on every platform
        return False
    if platform == "windows":
        return bool(_DRIVE.match(path)) or is_unc(path) or path[:1] in ("\\", "/")
    return path.startswith("/")


def join(root: str, relative: PurePath | str, platform: str) -> str:
    """`relative` (any separators) under `root`, written the way `platform` writes paths."""
    parts = [p for p in re.split(r"[\\/]+", str(relative)) if p and p != "."]
    return str(pure(platform)(root, *parts))


def relative_to(path: str, root: str, platform: str) -> Optional[PurePosixPath]:
    """`path` relative to `root` as the artist's platform compares them (case-insensitive on
    Windows and macOS), or None when it is not inside; no filesystem access."""
    kind = pure(platform)
    p, r = kind(path), kind(root)
    if platform == "darwin":
        p, r = PurePosixPath(str(p).casefold()), PurePosixPath(str(r).casefold())
        original = PurePosixPath(path)
        try:
            rel = p.relative_to(r)
        except ValueError:
            return None
        return PurePosixPath(*original.parts[len(original.parts) - len(rel.parts):]) if rel.parts else PurePosixPath()
    try:
        return PurePosixPath(*p.relative_to(r).parts)
    except ValueError:
        return None


# -- the Manager's translation -------------------------------------------------------------


def _to_slash(text: str) -> str:
    return text.replace("\\", "/")


def _value_match(value: str, variable_value: str) -> bool:
    """crosspath-aware `strings.HasPrefix` as the Manager's isValueMatch."""
    return value.startswith(variable_value) or _to_slash(value).startswith(_to_slash(variable_value))


def _ensure_drive_absolute(path: str) -> str:
    if len(path) < 2 or not _DRIVE.match(path):
        return path
    if len(path) == 2:
        return path + "\\"
    return path if path[2] == "\\" else path[:2] + "\\" + path[2:]


def to_platform(path: str, platform: str) -> str:
    """crosspath.ToPlatform: every `/` and `\\` becomes the platform's separator."""
    if not path:
        return ""
    lead = len(path) - len(path.lstrip("/\\"))
    parts = [""] * lead + [p for p in re.split(r"[\\/]", path) if p]
    joined = ("\\" if platform == "windows" else "/").join(parts)
    return _ensure_drive_absolute(joined) if platform == "windows" else joined


@dataclass(frozen=True)
class Variables:
    """The Manager's variables for audience `workers`, per platform: name -> (value, two-way)."""

    per_platform: Mapping[str, Mapping[str, tuple[str, bool]]]
    manager_platform: str = "linux"

    def two_way(self, platform: str) -> dict[str, str]:
        # Two-way values never end in a separator (the Manager trims them).
        return {n: _trim(v) for n, (v, tw) in self.per_platform.get(platform, {}).items() if tw}

    def one_way(self, platform: str) -> dict[str, str]:
        return {n: v for n, (v, tw) in self.per_platform.get(platform, {}).items() if not tw}

    def submitted(self, value: str, submitter_platform: str) -> str:
        """What the Manager stores for a submitted setting (`{name}` in place of a prefix)."""
        for name, var_value in self.two_way(submitter_platform).items():
            if var_value and _value_match(value.lower(), var_value.lower()):
                value = "{%s}%s" % (name, value[len(var_value):])
        return value

    def for_worker(self, stored: str, platform: str) -> str:
        """What a Worker of `platform` gets for a stored value (VariableExpander.Expand)."""
        expanded = stored
        for name, value in self.one_way(platform).items():
            expanded = expanded.replace("{%s}" % name, value)
        target = self.two_way(platform)
        is_path = False
        for name, value in target.items():
            if "{%s}" % name in expanded:
                expanded = expanded.replace("{%s}" % name, value)
                is_path = True
        for name, manager_value in self.two_way(self.manager_platform).items():
            if name in target and manager_value and _value_match(expanded, manager_value):
                expanded = target[name] + expanded[len(manager_value):]
                if platform == "windows":
                    expanded = _ensure_drive_absolute(expanded)
                is_path = True
        return to_platform(expanded, platform) if is_path else expanded

    @classmethod
    def from_manager(cls, per_platform: Mapping[str, Mapping[str, tuple[str, bool]]]) -> Variables:
        return cls(per_platform, guess_manager_platform(per_platform))


def _trim(value: str) -> str:
    trimmed = value.rstrip("/\\")
    return trimmed or value[:1]


def guess_manager_platform(per_platform: Mapping[str, Mapping[str, tuple[str, bool]]]) -> str:
    """The Manager does not say its platform; its `{jobs}` (one-way, its own storage path) shows
    it: a drive letter is Windows; otherwise the platform whose two-way value holds it, else Linux."""
    jobs = next((v for vars_ in per_platform.values() for n, (v, tw) in vars_.items() if n == "jobs"), "")
    if _DRIVE.match(jobs) or is_unc(jobs):
        return "windows"
    for plat in ("linux", "darwin"):
        for name, (value, tw) in per_platform.get(plat, {}).items():
            if tw and value and _value_match(jobs, _trim(value)):
                return plat
    return "linux"


# -- the path check ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PathRow:
    """One path of the job: as the artist sends it, and as each Worker platform gets it."""

    label: str
    sent: str
    stored: str
    per_platform: dict[str, str]
    problems: tuple[str, ...] = ()


@dataclass
class PathCheck:
    artist_platform: str
    worker_platforms: tuple[str, ...]
    rows: list[PathRow] = field(default_factory=list)
    # The Manager listed no Worker: checked for one on the artist's platform.
    assumed: bool = False

    @property
    def problems(self) -> list[str]:
        return [f"{row.label}: {p}" for row in self.rows for p in row.problems]

    def as_written(self) -> bool:
        """Every Worker is on the artist's platform and gets every path exactly as sent: a
        table would repeat each path once per row, so one line (`one_line`) says it instead."""
        return (all(p == self.artist_platform for p in self.worker_platforms) and not self.problems
                and all(got == row.sent for row in self.rows for got in row.per_platform.values()))

    def one_line(self) -> str:
        if self.assumed:
            return (f"Paths: the farm lists no Workers yet; one on {self.artist_platform} "
                    f"would get the paths as written")
        return f"Paths: every Worker is on {self.artist_platform} and gets the paths as written"

    def lines(self) -> list[str]:
        """The table as text (headless output, `python -m api paths`)."""
        out = [f"Paths as Workers get them (artist on {self.artist_platform}; "
               f"Workers on {', '.join(self.worker_platforms) or 'no platform yet'}):"]
        for row in self.rows:
            out.append(f"  {row.sent}" if row.label == row.sent else f"  {row.label}: {row.sent}")
            if row.stored != row.sent:
                out.append(f"    stored as  {row.stored}")
            for plat in self.worker_platforms:
                out.append(f"    {plat + ':':9}  {row.per_platform.get(plat, '')}")
            out.extend(f"    PROBLEM: {p}" for p in row.problems)
        return out


def check_path(label: str, path: str, artist: str, workers: Sequence[str], variables: Variables) -> PathRow:
    stored = variables.submitted(path, artist)
    per_platform = {plat: variables.for_worker(stored, plat) for plat in workers}
    problems: list[str] = []
    if not path or path.startswith("{"):  # empty, or already a variable (e.g. Shaman's {jobs})
        for plat, got in per_platform.items():
            if "{" in got:
                problems.append(f"reaches {plat} Workers as {got}: a variable with no value for {plat}")
        return PathRow(label, path, stored, per_platform, tuple(problems))
    matched = stored.startswith("{") and stored != path
    if matched:
        name = stored[1:stored.index("}")]
        rest = stored[stored.index("}") + 1:]
        var_value = variables.two_way(artist).get(name, "")
        if rest and rest[0] not in "/\\":
            problems.append(
                f"only its first characters match the two-way variable {name} = {var_value}: the Manager "
                f"replaces them anyway, so Workers get a different folder "
                f"({'; '.join(f'{p}: {g}' for p, g in per_platform.items())})")
        for plat in workers:
            if name not in variables.two_way(plat):
                problems.append(f"the two-way variable {name} has no value for {plat}: "
                                f"{plat} Workers get {per_platform[plat]}")
    elif artist == "windows" and is_unc(path):
        problems.append("a UNC path (\\\\server\\share): the Manager translates only paths under a two-way "
                        "variable; map the share as a drive letter (the variable's form) and use that")
    elif artist == "windows" and is_drive_relative(path):
        problems.append("a drive-relative path (no \\ after the drive letter): the Manager cannot translate it; "
                        "write it as S:\\…")
    elif is_absolute(path, artist):
        others = [p for p in workers if p != artist]
        if others:
            problems.append(f"under no two-way variable for {artist}: it reaches "
                            f"{', '.join(others)} Workers untranslated ({path})")
    return PathRow(label, path, stored, per_platform, tuple(problems))


def check(paths: Sequence[tuple[str, str]], artist: str, workers: Sequence[str], variables: Variables) -> PathCheck:
    result = PathCheck(artist, tuple(workers))
    result.rows = [check_path(label, path, artist, workers, variables) for label, path in paths]
    return result


def shaman_windows_notice(shaman: bool, workers: Sequence[str]) -> Optional[str]:
    """Shaman checkouts are symlinks; Windows Workers need the right to follow them."""
    if not shaman or "windows" not in workers:
        return None
    return ("The farm has Windows Workers and uses Shaman, whose job folders are symbolic links: "
            "Windows needs the symlink privilege (Developer Mode, or the \"Create symbolic links\" "
            "right for the Manager's and Workers' accounts), and a Samba share needs "
            "`follow symlinks = yes` and `wide links = yes`")


# -- asking the Manager (background threads only) ---------------------------------------------


def worker_platforms(client: ManagerClient) -> tuple[str, ...]:
    """The platforms the farm's Workers run (GET /worker-mgt/workers, then each Worker: the
    summary has no platform), in PLATFORMS order, others after."""
    found = {client.worker(w.id).platform for w in client.workers()}
    found.discard("")
    return tuple(p for p in PLATFORMS if p in found) + tuple(sorted(found - set(PLATFORMS)))


def manager_variables(client: ManagerClient, platforms: Sequence[str]) -> Variables:
    """GET /configuration/variables/workers/{platform} for each platform."""
    per_platform = {
        plat: {name: (var.value, var.is_twoway) for name, var in client.variables("workers", plat).items()}
        for plat in dict.fromkeys(platforms)
    }
    return Variables.from_manager(per_platform)
