"""Packing tests: real Blender (the bpy module) makes the shots, the real Flamenco Manager
and Worker (tools/local_farm.py) receive and render them.

The farms are the session's shared ones (tests/support/farm_fixtures.py).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Iterator

import pytest

import local_farm

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def shared_farm(farm: local_farm.Farm) -> local_farm.Farm:
    """The session's real Manager (Shaman off) and Worker (tests/support/farm_fixtures.py);
    `shaman_farm` comes from there too."""
    return farm


def file_hashes(paths: list[Path]) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture
def untouched() -> Iterator[list[Path]]:
    """Add the artist's files to the list; the test fails if any changed (by hash, size or
    modification time) or if a new file appeared next to them."""
    files: list[Path] = []
    before: dict[Path, tuple[str, int]] = {}
    listing: dict[Path, set[str]] = {}

    class Recorder(list):  # type: ignore[type-arg]
        def extend(self, items: object) -> None:  # type: ignore[override]
            for p in items:  # type: ignore[attr-defined]
                super().append(p)
                before[p] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
                listing.setdefault(p.parent, {c.name for c in p.parent.iterdir()})

    rec = Recorder()
    yield rec
    for p, (digest, mtime) in before.items():
        assert hashlib.sha256(p.read_bytes()).hexdigest() == digest, f"{p} was changed"
        assert p.stat().st_mtime_ns == mtime, f"{p} was written"
    for folder, names in listing.items():
        assert {c.name for c in folder.iterdir()} == names, f"files appeared in {folder}"
