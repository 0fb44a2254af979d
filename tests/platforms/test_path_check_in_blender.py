"""The path check in the add-on (real Blender, the mixed farm of conftest.py with fake Windows
and macOS Workers registered): a Windows artist's prefix-trap output and a macOS artist's output
under no variable stop the one-click submit with the reason and the table, drawn in the panel
with Submit Anyway; Submit Anyway submits with the problems listed. Check Paths shows the same
check in the panel without submitting: each path as each Worker platform gets it, problems in
red. On a farm whose Workers all run the artist's platform and translate nothing, headless
submission prints one line instead of the table."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import bpy
import pytest
from platform_support import FakeWorker

import local_farm
from flamenco_desk_src.core import platform_paths as pp
from support.blender_helpers import (MODULE, SIDEBAR, cancel_unfinished, panel_context, refresh, save_shot, tick_until,
                                    unique_name)
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
    desk.path_checking.reset()
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


WIDE = 2000  # wide enough that no path is cut to its end


def _check_paths(desk: ModuleType) -> Any:
    assert bpy.ops.flamenco_desk.check_paths() == {"FINISHED"}
    tick_until(desk, lambda: not desk.path_checking.running(), timeout=30)
    found = desk.path_checking.result(bpy.context.scene)
    assert found is not None and found.check is not None, found
    return found


def _texts(layout: FakeLayout) -> list[str]:
    """The labels and button texts, in the order drawn (a path is a button: its tooltip holds it whole)."""
    return [text for _, text, _ in layout.drawn_texts()]


def _panel(desk: ModuleType, width: int = WIDE) -> FakeLayout:
    layout = FakeLayout()
    desk.panels.submit_ui.draw(layout, panel_context(width))
    return layout


def test_check_paths_shows_each_workers_path_in_the_panel(
        artist: object, mixed_farm: local_farm.Farm, mac_volume: str, tmp_path: Path) -> None:
    desk = artist("windows")  # type: ignore[operator]
    save_shot(tmp_path / "shot.blend", 1, 1)
    scene = bpy.context.scene
    desk.props.scene_props(scene).job_type = "simple-blender-render"
    desk.jobtypes.registry.group(scene).render_output_root = "S:\\Flamenco\\renders\\sq010"
    assert ("flamenco_desk.check_paths", {}) in _panel(desk).operators()  # the button, before any check
    before = _job_count(mixed_farm)

    _check_paths(desk)
    layout = _panel(desk)
    assert "Workers on Linux, Windows, macOS get these paths (checked " in layout.text()
    texts = _texts(layout)
    # The output root as each platform's Workers get it through the two-way variable `storage`
    # (a platform's name on the left of its row, the path on the right).
    rows = list(zip(texts, texts[1:]))[texts.index("Render Output Root", texts.index("The .blend")):]
    for expected in (("Sent", "S:\\Flamenco\\renders\\sq010"), ("Linux", f"{mixed_farm.shared}/renders/sq010"),
                     ("Windows", "S:\\Flamenco\\renders\\sq010"), ("macOS", f"{mac_volume}/renders/sq010")):
        assert expected in rows[:8], (expected, rows[:8])
    # The .blend, packed into the storage, reaches Linux Workers under the farm's own path.
    blend_rows = list(zip(texts, texts[1:]))[texts.index("The .blend"):]
    assert any(left == "Linux" and right.startswith(f"{mixed_farm.shared}/flamenco-desk/")
               for left, right in blend_rows[:8]), blend_rows[:8]
    assert layout.alert_text() == ""
    assert _job_count(mixed_farm) == before  # checked, nothing packed or submitted

    narrow = _panel(desk, SIDEBAR)  # paths show their end, whole in the tooltip; every line fits
    fit = desk.panels.fit
    assert all(len(label) <= fit.chars(panel_context(SIDEBAR)) for label in narrow.labels()), narrow.labels()
    shown = {record["value"]: text for text, record in narrow.buttons("flamenco_desk.copy_value")}
    linux_root = f"{mixed_farm.shared}/renders/sq010"
    assert shown[linux_root] == fit.tail(linux_root, fit.chars(panel_context(SIDEBAR), 1 - fit.SPLIT_FACTOR))
    assert shown[linux_root].startswith("…") and shown[linux_root].endswith("/renders/sq010")

    prefs_sys = bpy.context.preferences.system
    try:  # a network operator: off with Blender's Online Access, like the others
        prefs_sys.use_online_access = False
        assert not bpy.ops.flamenco_desk.check_paths.poll()
    finally:
        prefs_sys.use_online_access = True

    desk.props.scene_props(scene).job_type = "echo-sleep-test"  # another job: the result is not about it
    assert desk.path_checking.result(scene) is None and "get these paths" not in _panel(desk).text()
    desk.props.scene_props(scene).job_type = "simple-blender-render"
    assert bpy.ops.flamenco_desk.clear_path_check() == {"FINISHED"}
    assert "get these paths" not in _panel(desk).text()


@pytest.mark.parametrize("platform, output, problem", [
    ("windows", "S:\\Flamenco2\\renders", "only its first characters match the two-way variable storage"),
    ("darwin", "/Users/artist/renders", "under no two-way variable for darwin: it reaches linux, windows Workers"),
])
def test_check_paths_shows_a_problem_in_red(
        artist: object, mixed_farm: local_farm.Farm, tmp_path: Path, platform: str, output: str, problem: str) -> None:
    desk = artist(platform)  # type: ignore[operator]
    save_shot(tmp_path / "shot.blend", 1, 1)
    scene = bpy.context.scene
    desk.props.scene_props(scene).job_type = "simple-blender-render"
    desk.jobtypes.registry.group(scene).render_output_root = output

    found = _check_paths(desk)
    layout = _panel(desk)
    assert "2 paths are wrong for some of the farm's Workers" in layout.text()  # the root and the path from it
    assert problem in layout.alert_text()
    assert "The .blend" not in layout.alert_text()  # only the problems are red
    assert len(found.check.problems) == 2
    assert desk.submitting.pending_problems is None  # nothing was submitted to find them


def test_one_platform_farm_prints_one_line_headless(
        desk: ModuleType, farm: local_farm.Farm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The session's plain farm: one Linux Worker, no two-way variable; a Linux artist. The
    bpy module runs as `blender -b` does (bpy.app.background): the operator waits and prints.
    Check Paths in the panel says the same in one line."""
    monkeypatch.delenv(pp.PLATFORM_ENV, raising=False)
    bpy.ops.wm.read_homefile(use_empty=True)
    prefs = bpy.context.preferences.addons[MODULE].preferences
    saved, prefs.manager_url = prefs.manager_url, farm.url
    try:
        refresh(desk)  # the job types, to set the output below (the submission refreshes again)
        save_shot(tmp_path / "shot.blend", 1, 1)
        scene = bpy.context.scene
        sp = desk.props.scene_props(scene)
        sp.job_type, sp.job_name, sp.submit_paused = "simple-blender-render", unique_name("one-line"), True
        desk.jobtypes.registry.group(scene).render_output_root = str(farm.shared / "renders" / "one-line")
        capsys.readouterr()
        assert bpy.ops.flamenco_desk.submit_job() == {"FINISHED"}
        printed = capsys.readouterr().out
        assert desk.submitting.last_outcome.ok, printed
        assert "Flamenco Desk: Paths: every Worker is on linux and gets the paths as written" in printed
        assert "Paths as Workers get them" not in printed and "stored as" not in printed
        assert f'Submitted job "{sp.job_name}"' in printed

        _check_paths(desk)  # the panel says it in one line too, no table
        layout = FakeLayout()  # the path check's part of the panel only (settings have copy buttons too)
        desk.panels.path_check_ui.draw(layout, panel_context(WIDE), scene)
        assert layout.text().startswith("Paths: every Worker is on linux and gets the paths as written (checked ")
        assert "Sent" not in layout.labels() and not layout.buttons("flamenco_desk.copy_value")
    finally:
        cancel_unfinished(farm)
        desk.submitting.last_outcome = None
        desk.path_checking.reset()
        bpy.context.preferences.addons[MODULE].preferences.manager_url = saved
