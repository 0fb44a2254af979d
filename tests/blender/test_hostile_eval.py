"""A Manager that serves hostile `eval` expressions gets them refused, with no effect."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy

from support.blender_helpers import refresh, save_shot, select_job_type, tick_until
from support.fake_layout import FakeLayout
from support.job_type_scripts import source as script_source
from support.fault_proxy import FaultProxy


def test_hostile_expressions_are_refused_and_have_no_effect(connected: ModuleType, proxy: FaultProxy,
                                                            job_type_script: Any, tmp_path: Path) -> None:
    desk = connected
    shot = save_shot(tmp_path / "artist" / "shot.blend")
    text = bpy.data.texts.new("payload")
    text.write("import pathlib; pathlib.Path('/tmp/flamenco-desk-pwned').write_text('x')\n")
    stolen = Path("/tmp/stolen.blend")
    stolen.unlink(missing_ok=True)
    files_before = sorted(os.listdir(shot.parent))
    scene_count = len(bpy.data.scenes)

    job_type_script("hostile.js", script_source("hostile.js"))  # served by the real Manager
    refresh(desk)
    grp = select_job_type(desk, "hostile")  # loading evaluates shown settings: must be refused

    registry = desk.jobtypes.registry
    hostile = registry.job_type()
    keys = [s.key for s in hostile.settings]
    assert len(keys) == 35 and all(s.eval for s in hostile.settings)
    at_load = {k: registry.refused.get(k) or registry.eval_errors.get(k) for k in keys}
    for problem in filter(None, at_load.values()):
        assert 'Job type "Hostile"' in problem and "setting" in problem, problem
    assert sum(1 for p in at_load.values() if p) > len(keys) // 2
    # Shown settings never got a value from a refused expression.
    for key in keys:
        if hasattr(grp, key):
            assert getattr(grp, key) == ""

    # Each one-click evaluation is refused with a message as well.
    shown = next(s.key for s in hostile.settings if s.visible == "visible" and s.eval_info is None)
    try:
        bpy.ops.flamenco_desk.eval_setting(key=shown)
        raise AssertionError("eval_setting accepted a hostile expression")
    except RuntimeError as ex:
        assert "Hostile" in str(ex)

    # Drawing shows the messages and keeps working.
    layout = FakeLayout()
    desk.panels.submit_ui.draw(layout, bpy.context)
    assert any('Job type "Hostile"' in label for label in layout.labels())

    # Submitting is refused, naming the settings; nothing reaches the Manager.
    try:
        bpy.ops.flamenco_desk.submit_job(mode="ASYNC")
        raise AssertionError("submitted a job with hostile expressions")
    except RuntimeError as ex:
        message = str(ex)
    # Whatever was not refused when loading (runtime-only refusals of hidden settings) is
    # refused at submit, each named.
    for key in keys:
        assert at_load[key] or f'"{key}"' in message, f"{key} was not refused"
    assert proxy.requests_to(r"^/api/v3/jobs(/check)?$", method="POST") == []

    # No effect anywhere: Blender still runs, no file written, data unchanged.
    assert not Path("/tmp/flamenco-desk-pwned").exists()
    assert not stolen.exists()
    assert sorted(os.listdir(shot.parent)) == files_before
    assert len(bpy.data.scenes) == scene_count
    assert bpy.data.filepath == str(shot)

    # Everything else keeps working: another job type submits fine.
    select_job_type(desk, "echo-sleep-test").message = "still fine"
    bpy.context.scene.flamenco_desk.submit_paused = True
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    assert desk.submitting.last_outcome.ok
