"""The path check in the add-on (real Blender, the mixed farm of conftest.py with fake Windows
and macOS Workers registered): a Windows artist's prefix-trap output and a macOS artist's output
under no variable stop the one-click submit with the reason and the table, drawn in the panel
with Submit Anyway; Submit Anyway submits with the problems listed."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Iterator

import bpy
import pytest
from platform_support import FakeWorker

import local_farm
from flamenco_desk_src.core import platform_paths as pp
from support.blender_helpers import MODULE, refresh, save_shot, tick_until
from support.fake_layout import FakeLayout


@pytest.fixture
def artist(desk: ModuleType, mixed_farm: local_farm.Farm, fake_workers: dict[str, FakeWorker],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def become(platform: str) -> ModuleType:
        bpy.ops.wm.read_homefile(use_empty=True)  # nothing of an earlier test's shot
        monkeypatch.setenv(pp.PLATFORM_ENV, platform)
        refresh(desk)
        return desk

    prefs = bpy.context.preferences.addons[MODULE].preferences
    saved, prefs.manager_url = prefs.manager_url, mixed_farm.url
    yield become
    tick_until(desk, lambda: not desk.runtime.timer.bridge.pending(), timeout=30)
    desk.submitting.last_outcome = desk.submitting.pending_problems = None
    bpy.context.preferences.addons[MODULE].preferences.manager_url = saved


def _job_count(farm: local_farm.Farm) -> int:
    return len(farm.get_json("/api/v3/jobs")["jobs"])


def _submit(desk: ModuleType, **kwargs: str) -> object:
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC", **kwargs) == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None, timeout=60)
    return desk.submitting.last_outcome


def test_windows_prefix_trap_stops_the_submit_with_the_table(
        artist: object, mixed_farm: local_farm.Farm, tmp_path: Path) -> None:
    desk = artist("windows")  # type: ignore[operator]
    assert desk.state.info().storage.location == "S:\\Flamenco"
    save_shot(tmp_path / "shot.blend", 1, 1)
    scene = bpy.context.scene
    desk.props.scene_props(scene).job_type = "simple-blender-render"
    desk.jobtypes.registry.group(scene).render_output_root = "S:\\Flamenco2\\renders"
    before = _job_count(mixed_farm)

    outcome = _submit(desk)
    assert not outcome.ok and "path problem" in outcome.message
    report = desk.submitting.pending_problems
    assert [p.kind for p in report.problems] == ["path", "path"]  # the root and the path made from it
    assert all("only its first characters match" in p.path for p in report.problems)
    table = "\n".join(report.notes)
    assert f"linux:     {mixed_farm.shared}2/renders" in table  # where the trap sends Linux Workers
    assert "windows:   S:\\Flamenco\\flamenco-desk\\" in table  # the .blend, translated right
    assert _job_count(mixed_farm) == before  # nothing written, nothing submitted

    layout = FakeLayout()
    desk.panels.submit_ui.draw_status(layout, bpy.context, scene)
    assert "only its first characters match" in layout.text()
    assert ("flamenco_desk.submit_job", {"problems": "SUBMIT"}) in [
        (name, {k: v for k, v in rec.items() if k == "problems"}) for name, rec in layout.operators()]


def test_mac_output_under_no_variable_then_submit_anyway(
        artist: object, mixed_farm: local_farm.Farm, mac_mount: Path) -> None:
    desk = artist("darwin")  # type: ignore[operator]
    folder = mac_mount / "anyway"
    save_shot(folder / "shot.blend", 1, 1)  # on the storage through the artist's path: in place
    scene = bpy.context.scene
    sp = desk.props.scene_props(scene)
    sp.job_type = "simple-blender-render"
    sp.submit_paused = True  # never rendered: its output would be nowhere for the Worker
    desk.jobtypes.registry.group(scene).render_output_root = "/Users/artist/renders"

    outcome = _submit(desk)
    assert not outcome.ok
    [first, *_] = desk.submitting.pending_problems.problems
    assert "under no two-way variable for darwin" in first.path and "linux, windows" in first.path

    outcome = _submit(desk, problems="SUBMIT")
    assert outcome.ok, outcome.message
    assert any("under no two-way variable" in w for w in outcome.warnings)
    job = mixed_farm.job(outcome.job_id)
    assert job["settings"]["render_output_root"] == "/Users/artist/renders"  # untranslated, as warned
    # In place (a copy of the unsaved state beside it), sent as /Volumes/…, stored as the variable.
    assert job["settings"]["blendfile"].startswith("{storage}/anyway/shot.")
    mixed_farm.post_json(f"/api/v3/jobs/{outcome.job_id}/setstatus", {"status": "cancel-requested", "reason": "test"})
