"""Job name and output path from templates, in real Blender against the real Manager and
Worker: the panel's preview, the job's name and output on the Manager, the frames on disk
where the preview said; the next free {version} found off the main thread."""

from __future__ import annotations

import getpass
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest

from local_farm import Farm
from support.blender_helpers import farm_jobs, save_shot, select_job_type, tick_until
from support.fake_layout import FakeLayout


def preview_lines(desk: ModuleType) -> list[str]:
    layout = FakeLayout()
    desk.panels.submit_ui.draw(layout, bpy.context)
    return layout.labels()


def test_template_names_the_job_and_places_its_frames(connected: ModuleType, farm: Farm, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    desk = connected
    desk.templating.reset()
    shot = save_shot(tmp_path / "artist" / "sq030_sh0010.blend", 1, 2)
    scene = bpy.context.scene
    grp = select_job_type(desk, "talkingheads-cycles-device")
    grp.device = "CPU"  # the farm has no GPU
    output_root = farm.shared / "renders" / f"templates-{time.monotonic_ns()}"
    (output_root / "sq030_sh0010" / "v003").mkdir(parents=True)  # earlier renders of the shot
    (output_root / "sq030_sh0010" / "v001").mkdir()
    sp = scene.flamenco_desk
    sp.job_name = "{file}_{camera}_{version}"
    sp.output_template = str(output_root / "{file}" / "{version}" / "{scene}_{view_layer}_{user}_######")

    listed_on: list[str] = []
    real_next_version = desk.core.templates.next_version

    def watched(folder: Path) -> str:
        listed_on.append(threading.current_thread().name)
        return real_next_version(folder)

    monkeypatch.setattr(desk.core.templates, "next_version", watched)
    labels = preview_lines(desk)  # the folder is not listed yet: "…"
    assert "sq030_sh0010_ShotCam_…" in labels, labels
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.templating.KEY))
    assert listed_on and threading.main_thread().name not in listed_on

    labels = preview_lines(desk)
    expected = str(output_root / "sq030_sh0010" / "v004" / f"Scene_ViewLayer_{getpass.getuser()}_######")
    assert "sq030_sh0010_ShotCam_v004" in labels, labels
    shown = next(label for label in labels if label.endswith(f"_{getpass.getuser()}_######"))
    assert expected.endswith(shown.lstrip("…")) and "v004" in shown, (shown, expected)  # the end of the path
    layout = FakeLayout()
    desk.panels.submit_ui.draw_settings(layout, scene)
    assert "render_output_path" not in [name for name in layout.props()]  # the template's preview instead

    desk.submitting.last_outcome = None
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None, timeout=30)
    assert desk.submitting.last_outcome.ok, desk.submitting.last_outcome.message
    (job,) = farm_jobs(farm, blendfile=str(shot))
    assert job["name"] == "sq030_sh0010_ShotCam_v004"
    assert job["settings"]["render_output_path"] == expected
    assert grp.autoeval_render_output_path  # the artist's own setting is as it was

    assert "sq030_sh0010_ShotCam_v005" in preview_lines(desk)  # v004 is taken now

    done = farm.wait_for_job(job["id"], ("completed", "failed"))
    assert done["status"] == "completed", farm.log_tail("worker")
    frames = sorted(p.name for p in (output_root / "sq030_sh0010" / "v004").iterdir())
    user = getpass.getuser()
    assert frames == [f"Scene_ViewLayer_{user}_000001.png", f"Scene_ViewLayer_{user}_000002.png"]


def test_unknown_placeholder_is_named_and_nothing_is_submitted(connected: ModuleType, farm: Farm,
                                                               tmp_path: Path) -> None:
    desk = connected
    shot = save_shot(tmp_path / "artist" / "unknown.blend")
    select_job_type(desk, "echo-sleep-test").message = "hi"
    bpy.context.scene.flamenco_desk.job_name = "{file}_{shot}"
    layout = FakeLayout()
    desk.panels.submit_ui.draw(layout, bpy.context)
    assert "Job name: unknown placeholder {shot}; use {file}, {scene}" in layout.text()
    with pytest.raises(RuntimeError, match=r"unknown placeholder \{shot\}"):
        bpy.ops.flamenco_desk.submit_job()
    bpy.context.scene.flamenco_desk.job_name = "{file}_{version}"  # and no output template
    with pytest.raises(RuntimeError, match=r"\{version\} in the job name needs \{version\} in the output template"):
        bpy.ops.flamenco_desk.submit_job()
    bpy.context.scene.flamenco_desk.job_name = "{file}"
    bpy.context.scene.flamenco_desk.output_template = "/renders/{file}/{version}/######"
    with pytest.raises(RuntimeError, match="takes no output path"):
        bpy.ops.flamenco_desk.submit_job()  # echo-sleep-test has no output setting
    assert farm_jobs(farm, blendfile=str(shot)) == []
