"""The add-on's one-click submission with packing, end to end: real Blender with Flamenco
Desk installed from its zip, the real Manager and Worker."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import bpy
import pytest
import shots
from test_pack_folder import big_shot

ROOT = Path(__file__).resolve().parents[2]
MODULE = "bl_ext.user_default.flamenco_desk"


@pytest.fixture
def addon(desk: ModuleType) -> ModuleType:
    """The extension installed from its zip (tests/support/desk_fixtures.py)."""
    return desk


def tick_until(desk: ModuleType, condition: Callable[[], Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        desk.runtime.timer.tick()  # timers do not tick in the bpy module
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@pytest.fixture
def on_farm(addon: ModuleType) -> Iterator[Callable[[Any], ModuleType]]:
    prefs = bpy.context.preferences.addons[MODULE].preferences
    saved = prefs.manager_url

    def connect(farm: Any) -> ModuleType:
        prefs.manager_url = farm.url
        assert bpy.ops.flamenco_desk.refresh_manager() == {"FINISHED"}
        tick_until(addon, lambda: not addon.runtime.timer.bridge.busy(addon.state.REFRESH_KEY))
        info = addon.state.info()
        assert info is not None, addon.state.connection_line()
        return addon

    yield connect
    tick_until(addon, lambda: not addon.runtime.timer.bridge.pending())
    addon.submitting.last_outcome = addon.submitting.pending_problems = None
    prefs.manager_url = saved


def choose_render(desk: ModuleType, out: Path) -> None:
    scene = bpy.context.scene
    desk.props.scene_props(scene).job_type = "simple-blender-render"
    grp = desk.jobtypes.registry.group(scene)
    grp.render_output_root = str(out)


def jobs(farm: Any) -> list[dict[str, Any]]:
    return list(farm.get_json("/api/v3/jobs")["jobs"])


@pytest.mark.parametrize("farm_name", ["shared_farm", "shaman_farm"])
def test_one_click_renders_the_red_texture_and_library(
        farm_name: str, request: pytest.FixtureRequest, on_farm: Callable[[Any], ModuleType], tmp_path: Path,
        untouched: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    farm = request.getfixturevalue(farm_name)
    desk = on_farm(farm)
    proj = tmp_path / "artist" / "proj"
    shot = shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png", library=proj / "lib" / "props.blend")
    untouched.extend(shot.artist_files())
    bpy.ops.wm.open_mainfile(filepath=str(shot.blend))
    out = Path(farm.shared) / "renders" / tmp_path.name
    choose_render(desk, out)

    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    outcome = desk.submitting.last_outcome
    assert outcome.ok, outcome.message
    job = farm.job(outcome.job_id)
    blendfile = job["settings"]["blendfile"]
    if farm.shaman:
        checkout = job["storage"]["shaman_checkout_id"]
        assert blendfile == f"{{jobs}}/{checkout}/shot.blend"
    else:
        assert blendfile.startswith(str(Path(farm.shared) / "flamenco-desk")) and blendfile.endswith("/shot.blend")
    printed = capsys.readouterr().out
    assert ("Uploading" if farm.shaman else "Copying to shared storage") in printed  # headless progress lines

    done = farm.wait_for_job(outcome.job_id, statuses=("completed", "failed"))
    assert done["status"] == "completed", farm.log_tail("worker")
    frames = sorted(out.rglob("*.png"))
    left, right = shots.pixels(frames[0])
    assert shots.is_red(left), left
    assert shots.is_green(right), right


def test_missing_texture_is_listed_and_submit_anyway_works(
        shared_farm: Any, on_farm: Callable[[Any], ModuleType], tmp_path: Path, untouched: list[Path]) -> None:
    desk = on_farm(shared_farm)
    proj = tmp_path / "artist" / "proj"
    shot = shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png", missing=proj / "textures" / "gone.png")
    untouched.extend(shot.artist_files())
    bpy.ops.wm.open_mainfile(filepath=str(shot.blend))
    choose_render(desk, Path(shared_farm.shared) / "renders" / tmp_path.name)
    before = len(jobs(shared_farm))

    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    assert not desk.submitting.last_outcome.ok
    survey = desk.submitting.pending_problems
    assert [p.path for p in survey.problems] == [str(proj / "textures" / "gone.png")]
    assert len(jobs(shared_farm)) == before  # asked first: nothing submitted

    from support.fake_layout import FakeLayout

    layout = FakeLayout()
    desk.panels.submit_ui.draw_status(layout, bpy.context, bpy.context.scene)
    assert "gone.png" in layout.text()

    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC", problems="SUBMIT") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    outcome = desk.submitting.last_outcome
    assert outcome.ok, outcome.message
    assert any("gone.png" in w for w in outcome.warnings)
    assert len(jobs(shared_farm)) == before + 1


def slow_link(desk: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shared storage and the network as slow as a studio's (~200 MB/s), so that a person
    could press Cancel mid-file: loopback and a local disk finish 100 MB before one tick."""
    import importlib

    copier = importlib.import_module(f"{MODULE}.core.packing.copier")
    shaman = importlib.import_module(f"{MODULE}.core.packing.shaman")
    real_copy, real_read = copier.copy_file, shaman._UploadBody.read

    def slow_copy(src: Path, dst: Path, stop: Any, advance: Any) -> None:
        real_copy(src, dst, stop, lambda n: (time.sleep(n / 200e6), advance(n)))

    def slow_read(self: Any, size: int = -1, /) -> bytes:
        block = real_read(self, size)
        time.sleep(len(block) / 200e6)
        return block

    monkeypatch.setattr(copier, "copy_file", slow_copy)
    monkeypatch.setattr(shaman._UploadBody, "read", slow_read)


@pytest.mark.parametrize("farm_name", ["shared_farm", "shaman_farm"])
def test_cancel_creates_no_job_and_leaves_nothing_complete_looking(
        farm_name: str, request: pytest.FixtureRequest, on_farm: Callable[[Any], ModuleType], tmp_path: Path,
        untouched: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    farm = request.getfixturevalue(farm_name)
    desk = on_farm(farm)
    slow_link(desk, monkeypatch)
    shot = big_shot(tmp_path, megabytes=96)
    untouched.extend(shot.artist_files())
    bpy.ops.wm.open_mainfile(filepath=str(shot.blend))
    choose_render(desk, Path(farm.shared) / "renders" / tmp_path.name)
    before_jobs = len(jobs(farm))
    packs = Path(farm.jobs_root) / "flamenco-desk"
    before_packs = set(packs.iterdir()) if packs.exists() else set()

    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    moving = ("Uploading",) if farm.shaman else ("Copying",)
    tick_until(desk, lambda: (s := desk.submitting.pack_status) is not None and s.stage.startswith(moving) and s.done > 0)
    from support.fake_layout import FakeLayout

    layout = FakeLayout()
    desk.panels.submit_ui.draw_status(layout, bpy.context, bpy.context.scene)
    assert layout.progresses()  # bytes done / total while it works
    assert bpy.ops.flamenco_desk.cancel_submission() == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)

    assert desk.submitting.last_outcome.message.startswith("Cancelled")
    assert len(jobs(farm)) == before_jobs
    after = set(packs.iterdir()) if packs.exists() else set()
    assert after == before_packs  # no job folder or checkout, not even a .partial one
