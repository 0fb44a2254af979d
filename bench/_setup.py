"""Shared set-up of the benchmarks: real Blender (bpy) with the built extension installed
into a throw-away user folder, and a real Flamenco Manager (tools/local_farm.py) behind the
tests' fault proxy, which holds, refuses or slows it on request."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="flamenco-desk-bench-"))
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]

import build_extension  # noqa: E402
import local_farm  # noqa: E402
from support.fault_proxy import FaultProxy  # noqa: E402

# FLAMENCO_RELEASE=3.6 benchmarks against the oldest supported Manager.
RELEASE = os.environ.get("FLAMENCO_RELEASE", local_farm.DEFAULT_RELEASE)


def installed_addon() -> ModuleType:
    zip_path = build_extension.build(Path(tempfile.mkdtemp(prefix="flamenco-desk-bench-dist-")))
    return build_extension.install(zip_path)  # type: ignore[return-value]


@contextlib.contextmanager
def manager_behind_proxy() -> Iterator[tuple[local_farm.Farm, FaultProxy]]:
    """A real Manager (no Worker: nothing is rendered) and a fault proxy in front of it."""
    with tempfile.TemporaryDirectory(prefix="flamenco-desk-bench-farm-") as folder:
        try:
            farm = local_farm.Farm(Path(folder), RELEASE, worker=False, name="Flamenco Desk Bench")
        except local_farm.FlamencoMissing as ex:
            sys.exit(str(ex))
        with farm, FaultProxy(farm.url, farm.release) as proxy:
            yield farm, proxy


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"n={len(samples):4d}  median {ms(statistics.median(ordered))}  p99 {ms(p99)}  max {ms(ordered[-1])}"
