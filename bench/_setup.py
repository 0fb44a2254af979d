"""Shared set-up of the benchmarks: real Blender (bpy) with the built extension installed
into a throw-away user folder, and the loopback stub Manager from the tests."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="flamenco-desk-bench-"))
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]

import build_extension  # noqa: E402


def installed_addon() -> ModuleType:
    zip_path = build_extension.build(Path(tempfile.mkdtemp(prefix="flamenco-desk-bench-dist-")))
    return build_extension.install(zip_path)  # type: ignore[return-value]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"n={len(samples):4d}  median {ms(statistics.median(ordered))}  p99 {ms(p99)}  max {ms(ordered[-1])}"
