"""How long Blender's main thread is held while the Manager misbehaves, and while a shot
is packed or uploaded.

A real Flamenco Manager runs behind the tests' fault proxy. For each fault (every request
held unanswered, connections refused, answers after 5 s) this calls the add-on's operators
and its timer callback the way Blender would, and prints the wall time each call kept the
main thread; then the same with the Manager answering normally. For contrast it also times
one blocking request to the held Manager, which is what a client doing I/O on the main
thread pays.

Then it submits a shot with 200 MB of dependencies to a real Manager (tools/local_farm.py),
packed into shared storage and uploaded to the Shaman, and times the submit operator and
every timer tick until the job exists: packing runs on background threads, its progress
reaches the panel through the bridge.

Last, the same with shared storage frozen (a pass-through FUSE mount whose calls are held,
tests/support/fuse_share.py) for FROZEN seconds while the add-on saves and copies the .blend
onto it, packs into it, uploads to a Shaman whose file store is on it, and lists a job's output
folder on it: each operator call and tick is timed, then the share is thawed.

Run: .venv/bpy-5.0.1/bin/python bench/main_thread_hold.py [--packing-only | --frozen-share-only]   (FLAMENCO_RELEASE=3.6 for 3.6)
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import _setup
from _setup import ms, summary

desk = _setup.installed_addon()
import bpy  # noqa: E402
import requests  # noqa: E402
from support.fault_proxy import FaultProxy  # noqa: E402

WINDOW = 2.0  # seconds of ticking per scenario


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def tick_for(seconds: float) -> list[float]:
    samples: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(timed(desk.runtime.timer.tick))
        time.sleep(0.01)
    return samples


def scenario(name: str, proxy: FaultProxy, arm: Callable[[], None], disarm: Callable[[], None]) -> None:
    prefs = bpy.context.preferences.addons[desk.state.ADDON_ID].preferences
    prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = proxy.url, 3.0, 10.0
    arm()
    ops = [timed(bpy.ops.flamenco_desk.test_connection)]
    ticks = tick_for(WINDOW)
    ops.append(timed(bpy.ops.flamenco_desk.refresh_manager))
    ticks += tick_for(WINDOW / 2)
    disarm()
    while desk.runtime.timer.bridge.pending():
        ticks.append(timed(desk.runtime.timer.tick))
        time.sleep(0.01)
    print(f"{name:32s} operators: max {ms(max(ops))}   ticks: {summary(ticks)}")


# The project's bound for anything on the main thread (tests/blender/test_never_blocks.py).
RETURNS_AT_ONCE = 0.5


def packing_scenario(shaman: bool, megabytes: int = 200, files: int = 40) -> None:
    import local_farm

    work = Path(tempfile.mkdtemp(prefix="flamenco-desk-bench-hold-"))
    with local_farm.Farm(work / "farm", shaman=shaman, worker=False) as farm:
        prefs = bpy.context.preferences.addons[desk.state.ADDON_ID].preferences
        prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = farm.url, 3.0, 10.0
        bpy.ops.flamenco_desk.refresh_manager()
        while desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY):
            desk.runtime.timer.tick()
            time.sleep(0.01)

        bpy.ops.wm.read_homefile(use_empty=True)
        tex = work / "artist" / "tex"
        tex.mkdir(parents=True)
        for i in range(files):
            (tex / f"plate_{i:03d}.exr").write_bytes(os.urandom(megabytes * 1_000_000 // files))
            img = bpy.data.images.new(f"plate_{i:03d}", 4, 4)
            img.source, img.filepath, img.use_fake_user = "FILE", f"//tex/plate_{i:03d}.exr", True
        bpy.ops.wm.save_as_mainfile(filepath=str(work / "artist" / "shot.blend"))
        scene = bpy.context.scene
        desk.props.scene_props(scene).job_type = "simple-blender-render"
        desk.jobtypes.registry.group(scene).render_output_root = str(farm.shared / "renders")

        op = timed(lambda: bpy.ops.flamenco_desk.submit_job(mode="ASYNC"))
        ticks: list[float] = []
        start = time.perf_counter()
        while desk.submitting.last_outcome is None:
            ticks.append(timed(desk.runtime.timer.tick))
            time.sleep(0.01)
        took = time.perf_counter() - start
        outcome = desk.submitting.last_outcome
        assert outcome.ok, outcome.message
    what = "Shaman upload" if shaman else "pack to shared storage"
    worst = max([op, *ticks])
    print(f"{what + f' {megabytes} MB':32s} operator {ms(op)}   ticks: {summary(ticks)}   "
          f"({took:.1f} s until the job existed; bound {RETURNS_AT_ONCE * 1000:.0f} ms: "
          f"{'within' if worst < RETURNS_AT_ONCE else 'EXCEEDED'})")


FROZEN = 3.0  # seconds the share stays frozen in each scenario


def _connect(farm: Any) -> None:
    prefs = bpy.context.preferences.addons[desk.state.ADDON_ID].preferences
    prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = farm.url, 3.0, 10.0
    bpy.ops.flamenco_desk.refresh_manager()
    while desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY):
        desk.runtime.timer.tick()
        time.sleep(0.01)


def _shot(blend: Path, output: Path, megabytes: int = 0) -> None:
    bpy.ops.wm.read_homefile(use_empty=True)
    if megabytes:
        (blend.parent / "tex").mkdir(parents=True, exist_ok=True)
        for i in range(4):
            (blend.parent / "tex" / f"plate_{i}.exr").write_bytes(os.urandom(megabytes * 1_000_000 // 4))
            img = bpy.data.images.new(f"plate_{i}", 4, 4)
            img.source, img.filepath, img.use_fake_user = "FILE", f"//tex/plate_{i}.exr", True
    blend.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    scene = bpy.context.scene
    desk.props.scene_props(scene).job_type = "simple-blender-render"
    desk.jobtypes.registry.group(scene).render_output_root = str(output)
    desk.props.scene_props(scene).submit_paused = True


def _frozen_row(name: str, share: Any, calls: list[Callable[[], Any]], done: Callable[[], bool]) -> None:
    share.freeze()
    ops = [timed(call) for call in calls]
    ticks = tick_for(FROZEN)
    held = share.calls_waiting()
    share.thaw()
    start = time.perf_counter()
    while not done():
        ticks.append(timed(desk.runtime.timer.tick))
        time.sleep(0.01)
        if time.perf_counter() - start > 120:
            raise SystemExit(f"{name}: not done 120 s after the thaw")
    after = time.perf_counter() - start
    worst = max([*ops, *ticks])
    print(f"{name:40s} operators: max {ms(max(ops))}   ticks: {summary(ticks)}   "
          f"({held} calls held; done {after:.1f} s after the thaw; bound {RETURNS_AT_ONCE * 1000:.0f} ms: "
          f"{'within' if worst < RETURNS_AT_ONCE else 'EXCEEDED'})")


def _submitted() -> bool:
    return desk.submitting.last_outcome is not None


def _submit_row(name: str, share: Any) -> str:
    desk.submitting.last_outcome = None
    _frozen_row(name, share, [lambda: bpy.ops.flamenco_desk.submit_job(mode="ASYNC")], _submitted)
    outcome = desk.submitting.last_outcome
    assert outcome.ok, outcome.message
    return str(outcome.job_id)


def frozen_share_scenarios() -> None:
    import local_farm
    from support.fuse_share import FuseShare

    print(f"\nBlender {bpy.app.version_string}; main-thread hold with shared storage frozen for {FROZEN:.0f} s\n")
    work = Path(tempfile.mkdtemp(prefix="flamenco-desk-bench-frozen-"))
    with local_farm.Farm(work / "farm", worker=False) as farm:
        _connect(farm)
        folder = farm.shared / "flamenco-desk"
        folder.mkdir(parents=True, exist_ok=True)
        with FuseShare(folder, folder) as share:
            _shot(folder / "artist" / "shot.blend", folder / "renders")
            job_id = _submit_row("submit (file on the share: save + copy)", share)
            _shot(work / "artist" / "shot.blend", folder / "renders", megabytes=40)
            _submit_row("pack 40 MB into the share", share)
            _frozen_row("results (open folder + list frames)", share, [
                lambda: bpy.ops.flamenco_desk.open_output_folder(job_id=job_id, mode="ASYNC"),
                lambda: bpy.ops.flamenco_desk.load_frames(job_id=job_id, mode="ASYNC"),
            ], lambda: not desk.runtime.share.waiting and not desk.runtime.share.busy(f"frames:{job_id}"))
            # What the main thread paid before (save_as_mainfile, exists(), is_dir() on the share):
            share.freeze()
            thaw = threading.Timer(FROZEN, share.thaw)
            thaw.start()
            blocked = timed(lambda: (folder / "artist").is_dir())
            thaw.join()
            print(f"\nfor contrast, one is_dir() on the frozen share from the main thread: {ms(blocked)}\n")
    with local_farm.Farm(work / "shaman-farm", shaman=True, worker=False) as farm:
        _connect(farm)
        store = farm.shared
        with FuseShare(store, store) as share:  # the Manager's file store is on the frozen share
            _shot(work / "artist2" / "shot.blend", farm.shared / "renders", megabytes=40)
            try:
                _submit_row("Shaman upload 40 MB (file store frozen)", share)
            except AssertionError as ex:
                print(f"  (the upload failed after the thaw: {ex})")


def main() -> None:
    if "--frozen-share-only" in sys.argv:
        frozen_share_scenarios()
        return
    if "--packing-only" not in sys.argv:
        fault_scenarios()
    print(f"\nBlender {bpy.app.version_string}; main-thread hold while a shot is packed / uploaded\n")
    packing_scenario(shaman=False)
    packing_scenario(shaman=True)
    frozen_share_scenarios()


def fault_scenarios() -> None:
    with _setup.manager_behind_proxy() as (farm, proxy):
        print(f"Blender {bpy.app.version_string}, Flamenco Manager {farm.release} (real, behind the fault proxy); "
              "main-thread hold per call\n")
        scenario("answering normally", proxy, lambda: None, lambda: None)
        scenario("held unanswered", proxy, lambda: proxy.hold(r".*"), proxy.release)
        scenario("connection refused", proxy, proxy.refuse_connections, proxy.resume)
        scenario("answers after 5 s", proxy, lambda: proxy.delay(r".*", 5.0), proxy.clear_faults)

        proxy.hold(r".*")
        start = time.perf_counter()
        try:
            requests.get(proxy.url + "/api/v3/version", timeout=(3.0, 5.0))
        except requests.RequestException:
            pass
        blocked = time.perf_counter() - start
        proxy.release()
        print(f"\nfor contrast, one blocking request to the held Manager (5 s read timeout): {ms(blocked)}")
        proxy.assert_contract_clean()


if __name__ == "__main__":
    main()
