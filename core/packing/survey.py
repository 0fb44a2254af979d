"""The problem report shown before anything is sent: what the shot needs, and what is wrong.

Plain data, so the panel can draw it and headless mode can print it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ProblemKind(StrEnum):
    MISSING = "missing"  # the file does not exist: the farm renders without it
    UNREADABLE = "unreadable"  # it exists but cannot be read (permissions): not sent either
    ABSOLUTE_OUTSIDE = "absolute-outside"  # an absolute path outside the project and shared storage
    PATH = "path"  # a job path some Worker platform would get wrong (core/platform_paths.py)


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    path: str  # the file, resolved on this computer
    written_as: str = ""  # the path as the .blend stores it
    used_by: str = ""  # the .blend that refers to it

    @property
    def headline(self) -> str:
        if self.kind is ProblemKind.MISSING:
            return "Missing"
        if self.kind is ProblemKind.UNREADABLE:
            return "Cannot be read"
        if self.kind is ProblemKind.PATH:
            return "Path"
        return "Absolute path outside the project and shared storage (sent along)"

    def describe(self) -> str:
        where = f" (used by {self.used_by})" if self.used_by else ""
        return f"{self.headline}: {self.path}{where}"

    @property
    def blocks_render(self) -> bool:
        """Whether the farm will render without this file (an absolute path is still sent)."""
        return self.kind is not ProblemKind.ABSOLUTE_OUTSIDE


@dataclass(frozen=True)
class Dependency:
    path: str  # on this computer
    size: int
    in_place: bool = False  # already on shared storage: the farm reads it where it is
    packed_as: str = ""  # path inside the pack (relative), "" when in place


@dataclass
class Survey:
    blendfile: str
    project_root: str
    files: list[Dependency] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Absolute paths (as the .blend writes them) to files already on shared storage: right for a
    # Worker of the artist's platform only, so a mixed farm gets the .blend packed (made relative).
    absolute_in_place: list[str] = field(default_factory=list)
    # Further lines for the report (the path check's table: each path per Worker platform).
    notes: list[str] = field(default_factory=list)

    @property
    def to_send(self) -> list[Dependency]:
        return [f for f in self.files if not f.in_place]

    @property
    def bytes_to_send(self) -> int:
        return sum(f.size for f in self.to_send)

    @property
    def in_place(self) -> list[Dependency]:
        return [f for f in self.files if f.in_place]

    def summary(self) -> str:
        if not self.files and self.notes:  # the path check's report, before anything is traced
            n = len(self.problems)
            return (f"{n} path{' is' if n == 1 else 's are'} wrong for some of the farm's Workers"
                    if n else "The job's paths reach every Worker platform")
        count = len(self.to_send)
        text = f"{count} file{'s' if count != 1 else ''}, {_size(self.bytes_to_send)} to send"
        if self.in_place:
            text += f"; {len(self.in_place)} already on shared storage"
        if self.problems:
            text += f"; {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        return text

    def lines(self) -> list[str]:
        """The report as text lines (headless output, logs)."""
        return [self.summary(), *(p.describe() for p in self.problems), *self.notes]


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} bytes"
