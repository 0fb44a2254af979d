"""Which folder is the project: what is packed keeping its layout, relative to the .blend."""

from __future__ import annotations

from pathlib import Path

from .packer import absolute

# The markers Flamenco's add-on offers (Blender project, Git, Subversion), nearest first.
MARKERS = (".blender_project", ".git", ".svn")


def find_project_root(blendfile: Path) -> Path:
    """The nearest folder above the .blend holding a project marker, else the .blend's own
    folder. Files outside it are packed under `_outside_project/`."""
    start = absolute(blendfile).parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in MARKERS):
            return folder
    return start
