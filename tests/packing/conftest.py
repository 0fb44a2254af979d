"""Packing tests: real Blender (the bpy module) makes the shots, the real Flamenco Manager
and Worker (tools/local_farm.py) receive and render them.

The farm fixtures are session-scoped and small on purpose, to be swapped for the shared
ones in tests/support/farm_fixtures.py once those land.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import build_extension  # noqa: E402
import local_farm  # noqa: E402

# The packer imports Blender Asset Tracer like the installed extension does; here it comes
# from the same pinned wheel the build bundles (a pure-Python wheel imports from its zip).
for _wheel in build_extension.fetch_wheels():
    if str(_wheel) not in sys.path:
        sys.path.insert(0, str(_wheel))
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests" / "blender"))  # fake_layout


def _farm(tmp_path_factory: pytest.TempPathFactory, shaman: bool) -> Iterator[local_farm.Farm]:
    farm = local_farm.Farm(tmp_path_factory.mktemp("farm-shaman" if shaman else "farm-shared"), shaman=shaman)
    farm.start()
    try:
        yield farm
    finally:
        farm.stop()


@pytest.fixture(scope="session")
def shared_farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local_farm.Farm]:
    """A real Manager (Shaman off) and Worker."""
    yield from _farm(tmp_path_factory, shaman=False)


@pytest.fixture(scope="session")
def shaman_farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local_farm.Farm]:
    """A real Manager with Shaman on, and a Worker."""
    yield from _farm(tmp_path_factory, shaman=True)


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
