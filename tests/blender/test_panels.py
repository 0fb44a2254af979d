"""What the panels show, at the editors' default widths (issue 8: clipped text, a red
missing field, the job name it will use, the job-type menu, the new job shown at once, the
status-bar indicator that follows the job and clears)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest

from local_farm import Farm
from support.blender_helpers import PROPERTIES, SIDEBAR, save_shot, select_job_type, tick_until
from support.blender_helpers import panel_context as context_of
from support.fake_layout import FakeLayout



def submit(desk: ModuleType) -> Any:
    desk.submitting.last_outcome = None
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    assert desk.submitting.last_outcome.ok, desk.submitting.last_outcome.message
    return desk.submitting.last_outcome


def assert_nothing_clipped(desk: ModuleType, layout: FakeLayout, ctx: Any) -> None:
    fit = desk.panels.fit
    for kind, text, split in layout.drawn_texts():
        room = fit.chars(ctx, fit.SPLIT_FACTOR) if split and kind == "prop" else fit.chars(ctx)
        assert len(text) <= room, f"{kind} {text!r} does not fit {room} characters at {ctx.region.width} px"


@pytest.mark.parametrize("width", [SIDEBAR, PROPERTIES])
def test_submit_panel_fits_default_widths(connected: ModuleType, farm: Farm, tmp_path: Path, width: int) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "sq010_sh0040_lighting_with_a_long_name.blend")
    for job_type in ("simple-blender-render", "talkingheads-cycles-device", "talkingheads-studio-layout"):
        grp = select_job_type(desk, job_type)
        root = "render_root" if job_type == "talkingheads-studio-layout" else "render_output_root"
        setattr(grp, root, str(farm.shared / "renders" / "a long folder name for renders"))
        layout = FakeLayout()
        desk.panels.submit_ui.draw(layout, context_of(width))
        assert_nothing_clipped(desk, layout, context_of(width))
        assert ("flamenco_desk.submit_job", {}) in layout.operators()


def test_required_empty_setting_is_marked_red(connected: ModuleType, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    grp = select_job_type(desk, "echo-sleep-test")
    layout = FakeLayout()
    desk.panels.submit_ui.draw_settings(layout, bpy.context.scene)
    assert layout.prop_details("message")["alert"] is True
    assert layout.prop_details("sleep_repeats")["alert"] is False
    grp.message = "now filled"
    layout = FakeLayout()
    desk.panels.submit_ui.draw_settings(layout, bpy.context.scene)
    assert layout.prop_details("message")["alert"] is False


def test_resubmissions_get_numbered_names_and_the_field_shows_it(connected: ModuleType, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "sq010_sh020.blend")
    select_job_type(desk, "echo-sleep-test").message = "again"
    bpy.context.scene.flamenco_desk.submit_paused = True
    names = []
    for _ in range(3):
        layout = FakeLayout()
        desk.panels.submit_ui.draw(layout, bpy.context)
        shown = layout.prop_details("job_name")["placeholder"]
        outcome = submit(desk)
        names.append(desk.watching.monitor.jobs[outcome.job_id].name)
        assert names[-1] == shown, "the empty field shows the name the job gets"
    assert names == ["sq010_sh020", "sq010_sh020 (2)", "sq010_sh020 (3)"]


def test_no_job_type_is_a_selectable_menu_entry(connected: ModuleType) -> None:
    desk = connected
    sp = bpy.context.scene.flamenco_desk
    items = desk.props._job_type_items(sp, bpy.context)
    assert items[0][0] == "NONE" and all(item[0] for item in items)  # "" would be a heading
    sp.job_type = "echo-sleep-test"
    sp.job_type_ui = "NONE"
    assert sp.job_type == "" and sp.job_type_ui == "NONE"
    sp.job_type_ui = "echo-sleep-test"
    assert sp.job_type == "echo-sleep-test"


def test_submitted_job_is_listed_and_opened_at_once(connected: ModuleType, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(desk, "echo-sleep-test").message = "right away"
    bpy.context.scene.flamenco_desk.submit_paused = True
    before_polls = desk.watching.monitor.last_poll_at
    outcome = submit(desk)
    mon = desk.watching.monitor
    assert mon.last_poll_at == before_polls, "no poll needed"
    assert mon.open_job_id == outcome.job_id and mon.open_job is not None
    bpy.context.window_manager.flamenco_desk_ui.list_scope = "FILE"
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_job_list(layout, bpy.context)
    assert ("flamenco_desk.open_job", {"job_id": outcome.job_id}) in layout.operators()
    assert "No jobs" not in layout.labels()


def test_task_rows_say_what_they_mean() -> None:
    from flamenco_desk_src.api import models

    def task(status: str, worker: str = "", done: int = 0, total: int = 2) -> Any:
        return models.TaskSummary.from_json({
            "id": "00000000-0000-4000-8000-000000000001", "name": "render-1-2", "status": status, "index_in_job": 1,
            "priority": 50, "task_type": "blender", "updated": "2026-11-29T05:00:00Z", "steps_completed": done,
            "steps_total": total, "worker": {"id": "", "name": worker, "address": ""}})

    import importlib

    jobs_ui = importlib.import_module("bl_ext.user_default.flamenco_desk.panels.jobs_ui")
    assert jobs_ui.task_line(task("queued")) == "queued  ·  not started  ·  0/2 steps"
    assert jobs_ui.task_line(task("active", "render-07", 1)) == "active  ·  render-07  ·  1/2 steps"


def test_status_bar_indicator_follows_the_job_and_clears(connected: ModuleType, farm: Farm, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    desk = connected
    redraws: list[str] = []
    monkeypatch.setattr(desk.state, "redraw_statusbar", lambda: redraws.append(desk.panels.jobs_ui.statusbar_text()))
    save_shot(tmp_path / "artist" / "bar.blend")
    grp = select_job_type(desk, "echo-sleep-test")
    grp.message, grp.sleep_duration_seconds, grp.sleep_repeats = "status bar", 1, 2
    outcome = submit(desk)
    mon = desk.watching.monitor
    farm.kick_worker()

    def completed() -> bool:
        mon.poll_soon()  # as often as the test likes: the timer polls when due
        return mon.open_job is not None and mon.open_job.status == "completed"

    tick_until(desk, completed, timeout=90)
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.watching.POLL_KEY))
    assert desk.panels.jobs_ui.statusbar_text() == ""
    assert redraws and redraws[-1] == "", "the status bar was redrawn when the job ended"
    assert any(text.startswith("Flamenco: bar") for text in redraws), redraws
    assert outcome.job_id == mon.open_job_id
