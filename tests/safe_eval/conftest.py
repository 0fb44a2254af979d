"""Fakes standing in for bpy, bpy.context and the job settings.

They are plain Python objects, so these tests run without Blender. The
callables that must never run (bpy.ops.*, bpy.utils.register_class,
Scene.frame_set, ...) are `Recorder`s: tests assert they were never called.
"""

from __future__ import annotations

import builtins
import os
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from types import SimpleNamespace as NS

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BLEND_FILE = "/projects/shot_010/shot_010_lighting.blend"
JOB_NAME = "My Job"


class Recorder:
    """A callable that only remembers that it was called."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[tuple[object, ...], dict[str, object]]] = []

    def __call__(self, *args: object, **kwargs: object) -> None:
        self.calls.append((args, kwargs))


def _generator() -> Iterator[int]:
    yield 1


@dataclass
class World:
    names: dict[str, object]
    recorders: list[Recorder]
    tmp: Path
    victim: Path
    victim_text: str = "precious"
    tmp_listing: set[str] = field(default_factory=set)

    def assert_untouched(self) -> None:
        called = [rec.name for rec in self.recorders if rec.calls]
        assert called == [], f"side effect: {called} called"
        assert self.victim.read_text() == self.victim_text
        assert {p.name for p in self.tmp.iterdir()} == self.tmp_listing


def _make_world(tmp: Path) -> World:
    recorders: dict[str, Recorder] = {
        name: Recorder(name)
        for name in ("quit_blender", "save_mainfile", "open_mainfile", "register_class", "frame_set", "tricky_lower")
    }

    ops = types.ModuleType("bpy.ops")
    ops.wm = NS(  # type: ignore[attr-defined]
        quit_blender=recorders["quit_blender"],
        save_mainfile=recorders["save_mainfile"],
        open_mainfile=recorders["open_mainfile"],
    )
    utils = types.ModuleType("bpy.utils")
    utils.register_class = recorders["register_class"]  # type: ignore[attr-defined]
    bpy_path = types.ModuleType("bpy.path")
    bpy_path.os = os  # type: ignore[attr-defined]

    scene = NS(
        name="Scene",
        frame_start=1,
        frame_end=250,
        frame_current=42,
        frame_set=recorders["frame_set"],
        render=NS(
            fps=24,
            fps_base=1.001,
            engine="CYCLES",
            resolution_percentage=100,
            file_extension=".png",
            image_settings=NS(file_format="PNG", use_preview=False),
            ffmpeg=NS(format="MPEG4"),
        ),
    )
    context = NS(scene=scene, window_manager=NS(clipboard="secret clipboard"))

    bpy = types.ModuleType("bpy")
    bpy.ops = ops  # type: ignore[attr-defined]
    bpy.utils = utils  # type: ignore[attr-defined]
    bpy.path = bpy_path  # type: ignore[attr-defined]
    bpy.types = types.ModuleType("bpy.types")  # type: ignore[attr-defined]
    bpy.context = context  # type: ignore[attr-defined]
    bpy.data = NS(filepath=BLEND_FILE, objects={"Cube": NS(name="Cube")})  # type: ignore[attr-defined]
    bpy.app = NS(  # type: ignore[attr-defined]
        version=(5, 0, 1),
        version_string="5.0.1",
        driver_namespace={"__builtins__": vars(builtins), "os": os, "bpy": bpy},
        handlers=NS(load_post=[]),
    )

    def abspath(path: str) -> str:
        # Like bpy.path.abspath: "//" is relative to the blend file's folder.
        return str(PurePath(BLEND_FILE).parent) + "/" + path[2:] if path.startswith("//") else path

    def last_n_dir_parts(n: int, path: str | None = None) -> PurePath:
        parent = PurePath(path or BLEND_FILE).parent
        return PurePath(*parent.parts[-n:]) if n > 0 else PurePath()

    class TrickyStr(str):
        # A str subclass whose override must never be used by the evaluator.
        def lower(self) -> str:
            recorders["tricky_lower"]()
            return "hijacked"

    settings = NS(render_output_root="//render/", add_path_components=1, frames="1-10,20")
    names: dict[str, object] = {
        "bpy": bpy,
        "C": context,
        "jobname": JOB_NAME,
        "Path": Path,
        "abspath": abspath,
        "last_n_dir_parts": last_n_dir_parts,
        "settings": settings,
        # Extra values only the tests provide, to reach runtime-only checks.
        "ns": {
            "__builtins__": vars(builtins),
            "os": os,
            "evil": eval,
            "gen": _generator(),
            "frame": sys._getframe(),
            "ok": 1,
        },
        "tricky": TrickyStr("ABC"),
        "helper": recorders["register_class"],
    }
    victim = tmp / "victim.txt"
    victim.write_text("precious")
    world = World(names=names, recorders=list(recorders.values()), tmp=tmp, victim=victim)
    world.tmp_listing = {p.name for p in tmp.iterdir()}
    return world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return _make_world(tmp_path)
