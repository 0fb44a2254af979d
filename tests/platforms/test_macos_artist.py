"""A macOS artist (the add-on told it runs on `darwin`) whose storage is mounted at /Volumes/…,
on a farm whose Linux Worker sees it at another path and cannot see /Volumes at all
(tests/platforms/conftest.py): the shot is packed through the artist's path, rendered by the
Worker through its own, and the frames are found through the artist's path again."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Iterator

import bpy
import pytest

import local_farm
from flamenco_desk_src.core import platform_paths as pp
from platform_support import FakeWorker
from support.blender_helpers import MODULE, quick_render, refresh, tick_until

_spec = importlib.util.spec_from_file_location("platform_shots", Path(__file__).parents[1] / "packing" / "shots.py")
assert _spec and _spec.loader
shots = importlib.util.module_from_spec(_spec)
sys.modules["platform_shots"] = shots  # dataclasses look their module up
_spec.loader.exec_module(shots)


@pytest.fixture(params=["shared-storage", "shaman"])
def mac_farm(request: pytest.FixtureRequest) -> tuple[local_farm.Farm, Path]:
    if request.param == "shaman":
        return request.getfixturevalue("mixed_shaman_farm"), request.getfixturevalue("mac_shaman_mount")
    return request.getfixturevalue("mixed_farm"), request.getfixturevalue("mac_mount")


@pytest.fixture
def as_mac(desk: ModuleType, mac_farm: tuple[local_farm.Farm, Path],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv(pp.PLATFORM_ENV, "darwin")
    prefs = bpy.context.preferences.addons[MODULE].preferences
    saved, prefs.manager_url = prefs.manager_url, mac_farm[0].url
    refresh(desk)
    yield desk
    tick_until(desk, lambda: not desk.runtime.timer.bridge.pending(), timeout=30)
    desk.submitting.last_outcome = desk.submitting.pending_problems = None
    bpy.context.preferences.addons[MODULE].preferences.manager_url = saved


def test_mac_artist_packs_renders_and_finds_frames_through_volumes(
        as_mac: ModuleType, mac_farm: tuple[local_farm.Farm, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    desk = as_mac
    mixed_farm, mac_mount = mac_farm
    info = desk.state.info()
    assert info.storage.platform == "darwin"
    # The Manager's job storage as a Mac sees it (with Shaman its jobs/ folder).
    assert info.storage.location == str(mac_mount / "jobs" if mixed_farm.shaman else mac_mount)
    # The Worker's namespace: /Volumes is empty there, the artist's path does not exist.
    worker_pid = mixed_farm._worker.pid  # type: ignore[union-attr]
    assert not Path(f"/proc/{worker_pid}/root{mac_mount}").exists()

    proj = tmp_path / "artist" / "proj"  # the artist's local project: packed into storage
    shot = shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png")
    bpy.ops.wm.open_mainfile(filepath=str(shot.blend))
    scene = bpy.context.scene
    quick_render(scene)
    scene.frame_start = scene.frame_end = 1
    desk.props.scene_props(scene).job_type = "simple-blender-render"
    out = mac_mount / f"mac-{uuid.uuid4().hex[:6]}" / "renders"
    desk.jobtypes.registry.group(scene).render_output_root = str(out)

    if mixed_farm.shaman:  # a Windows Worker on the farm (the Worker API, no process)
        FakeWorker(mixed_farm, "windows").register()

    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None, timeout=60)
    outcome = desk.submitting.last_outcome
    assert outcome.ok, outcome.message
    job = mixed_farm.job(outcome.job_id)
    # Sent in the artist's form, stored by the Manager as the variable.
    if mixed_farm.shaman:
        # Uploaded; the checkout is the Manager's {jobs} (one-way: it rebases it per platform).
        assert job["settings"]["blendfile"].startswith("{jobs}/flamenco-desk/")
        printed = capsys.readouterr().out
        assert printed.index("Windows needs the symlink privilege") < printed.index("Uploading")
        assert any("wide links" in w for w in outcome.warnings)
    else:
        assert job["settings"]["blendfile"].startswith("{storage}/flamenco-desk/")
    assert job["settings"]["render_output_root"] == "{storage}" + str(out)[len(str(mac_mount)):]
    done = mixed_farm.wait_for_job(outcome.job_id, statuses=("completed", "failed"), timeout=120)
    assert done["status"] == "completed", mixed_farm.log_tail("worker")

    # Found again through the artist's path, as the add-on's Load Frames does.
    found = desk.core.results.output_dir(desk.api.models.Job.from_json(done), info.variables)
    assert str(found).startswith(str(mac_mount))
    frames = desk.core.results.frame_files(found)
    assert len(frames) == 1
    assert shots.is_red(shots.pixels(frames[0])[0])


def test_mac_shot_on_storage_with_an_absolute_volumes_texture_reaches_the_worker(
        desk: ModuleType, mixed_farm: local_farm.Farm, mac_mount: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The .blend already on the storage (through /Volumes) but holding an absolute /Volumes/…
    path to its texture: submitted in place, the Linux Worker would look for /Volumes and render
    without it (Blender does not fail on a missing texture). It must be packed with that path
    made relative, and render red."""
    monkeypatch.setenv(pp.PLATFORM_ENV, "darwin")
    prefs = bpy.context.preferences.addons[MODULE].preferences
    saved, prefs.manager_url = prefs.manager_url, mixed_farm.url
    try:
        refresh(desk)
        shot_dir = mac_mount / f"abs-{uuid.uuid4().hex[:6]}"
        shot = shots.make_shot(shot_dir / "shot.blend", shot_dir / "tex" / "red.png", texture_mode="absolute")
        bpy.ops.wm.open_mainfile(filepath=str(shot.blend))
        assert bpy.data.images["red.png" if "red.png" in bpy.data.images else 0].filepath.startswith("/Volumes/")
        scene = bpy.context.scene
        quick_render(scene)
        scene.frame_start = scene.frame_end = 1
        desk.props.scene_props(scene).job_type = "simple-blender-render"
        desk.jobtypes.registry.group(scene).render_output_root = str(shot_dir / "renders")
        assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
        tick_until(desk, lambda: desk.submitting.last_outcome is not None, timeout=60)
        outcome = desk.submitting.last_outcome
        assert outcome.ok, outcome.message
        job = mixed_farm.job(outcome.job_id)
        assert job["settings"]["blendfile"].startswith("{storage}/flamenco-desk/")  # packed, not in place
        done = mixed_farm.wait_for_job(outcome.job_id, statuses=("completed", "failed"), timeout=120)
        assert done["status"] == "completed", mixed_farm.log_tail("worker")
        [frame] = sorted((shot_dir / "renders").rglob("*.png"))
        assert shots.is_red(shots.pixels(frame)[0])
    finally:
        tick_until(desk, lambda: not desk.runtime.timer.bridge.pending(), timeout=30)
        desk.submitting.last_outcome = desk.submitting.pending_problems = None
        bpy.context.preferences.addons[MODULE].preferences.manager_url = saved
