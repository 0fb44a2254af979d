"""A batch of three cameras: click to three queued jobs, and what it sent to the farm.

The shot of tests/workflow (three cameras bound to markers at frames 1, 3, 5; a small .blend)
is submitted with *Per Camera Marker* to a real Manager (tools/local_farm.py, no Worker: the
jobs stay queued) RUNS times, each with fresh contents, once with shared storage and once with
Shaman. Per run it prints the wall time from the operator call to the outcome (three queued
jobs), the longest main-thread hold (the operator call or a timer tick), and the bytes of the
one pack (shared storage: the new folder's size) or the one upload (Shaman: the bytes the
add-on posted, and how many checkouts it asked for).

Run: .venv/bpy-5.0.1/bin/python bench/batch.py [--runs 5]   (FLAMENCO_RELEASE=3.6 for 3.6)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import _setup
from _setup import ms

desk = _setup.installed_addon()
sys.path.insert(0, str(_setup.ROOT / "tests" / "workflow"))
import bpy  # noqa: E402
import local_farm  # noqa: E402
from batch_support import camera_marker_shot, select_render  # noqa: E402
from support.blender_helpers import refresh  # noqa: E402


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def one_batch(farm: local_farm.Farm, work: Path, run: int, sent: list[int], checkouts: list[str]) -> float:
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.context.scene["take"] = uuid.uuid4().hex  # contents neither the share nor Shaman has yet
    camera_marker_shot(work / f"artist{run}" / "sq040_sh010.blend")
    select_render(desk, farm.shared / "renders" / "bench")
    packs_root = farm.shared / "flamenco-desk"
    before = set(packs_root.iterdir()) if packs_root.is_dir() else set()
    del sent[:], checkouts[:]

    desk.submitting.last_outcome = None
    holds = [timed(lambda: bpy.ops.flamenco_desk.submit_job(mode="ASYNC", batch="CAMERA_MARKERS"))]
    start = time.perf_counter()
    while desk.submitting.last_outcome is None:
        holds.append(timed(desk.runtime.timer.tick))
        time.sleep(0.005)
    took = time.perf_counter() - start + holds[0]
    outcome = desk.submitting.last_outcome
    if not outcome.ok:
        sys.exit(f"batch failed: {outcome.message}")
    statuses = [farm.job(i)["status"] for i in outcome.job_id.split(",")]
    if farm.shaman:
        moved = f"one upload: {sum(sent)} bytes in {len(sent)} files, {len(checkouts)} checkout(s)"
    else:
        new = sorted((set(packs_root.iterdir()) if packs_root.is_dir() else set()) - before)
        moved = f"{len(new)} pack(s): {sum(folder_bytes(p) for p in new)} bytes"
    print(f"  run {run + 1}: {took:6.3f} s click to {len(statuses)} jobs ({', '.join(sorted(set(statuses)))}), "
          f"main thread held at most {ms(max(holds))}; {moved}")
    return took


def scenario(shaman: bool, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="flamenco-desk-bench-batch-"))
    client_class = desk.api.client.ManagerClient
    sent: list[int] = []
    checkouts: list[str] = []
    real_upload, real_checkout = client_class.shaman_upload, client_class.shaman_checkout

    def counting_upload(self: Any, sha: str, size: int, body: Any, **kwargs: Any) -> Any:
        sent.append(size)
        return real_upload(self, sha, size, body, **kwargs)

    def counting_checkout(self: Any, files: Any, checkout_path: str) -> Any:
        checkouts.append(checkout_path)
        return real_checkout(self, files, checkout_path)

    client_class.shaman_upload, client_class.shaman_checkout = counting_upload, counting_checkout
    try:
        with local_farm.Farm(work / "farm", _setup.RELEASE, shaman=shaman, worker=False) as farm:
            prefs = bpy.context.preferences.addons[desk.state.ADDON_ID].preferences
            prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = farm.url, 3.0, 10.0
            refresh(desk)
            print(f"{'Shaman' if shaman else 'shared storage'} (Manager {farm.release}):")
            times = [one_batch(farm, work, run, sent, checkouts) for run in range(runs)]
            print(f"  click to 3 queued jobs: median {statistics.median(times):.3f} s, "
                  f"min {min(times):.3f} s, max {max(times):.3f} s")
    finally:
        client_class.shaman_upload, client_class.shaman_checkout = real_upload, real_checkout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for shaman in (False, True):
        scenario(shaman, args.runs)


if __name__ == "__main__":
    main()
