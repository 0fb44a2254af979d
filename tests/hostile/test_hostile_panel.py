"""What the artist sees in real Blender when a Manager (or something posing as one) answers
with wrong field types, a last-rendered "image" that is an HTML page or 20,000 × 20,000 pixels,
a task log of 10 MB lines with terminal escapes, or a job id that is not a UUID. Every answer
starts from the real Manager's (a real paused job through the fault proxy) and is changed only
where the fault is. Nothing raises out of the timer; the panel says what was wrong; the add-on
recovers when the answers are right again."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import bpy
import pytest

from local_farm import Farm
from support.blender_helpers import save_shot, select_job_type, tick_until
from support.fake_layout import FakeLayout
from support.farm_jobs import cancel_runnable, echo_job, unique
from support.fault_proxy import FaultProxy

MB = 1024 * 1024


def ctx() -> Any:
    c = bpy.context
    return SimpleNamespace(scene=c.scene, window_manager=c.window_manager, preferences=c.preferences,
                           region=SimpleNamespace(width=252), screen=None)


def poll_now(desk: ModuleType) -> Any:
    mon = desk.watching.monitor
    before = mon.last_poll_at
    mon.poll_soon()
    tick_until(desk, lambda: mon.last_poll_at != before and not desk.runtime.timer.bridge.busy(desk.watching.POLL_KEY))
    return mon


def settle(desk: ModuleType) -> Any:
    mon = poll_now(desk)
    for _ in range(8):
        if not mon.pending_details:
            break
        poll_now(desk)
    return mon


def reopen(desk: ModuleType, job_id: str) -> Any:
    """Open the job afresh: its tasks, frame and log are read again."""
    desk.watching.monitor.open(None)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    return settle(desk)


def shown(desk: ModuleType, draw: str = "draw_job_list") -> str:
    layout = FakeLayout()
    getattr(desk.panels.jobs_ui, draw)(layout, ctx())
    return " ".join(layout.labels())


@pytest.fixture
def opened(connected: ModuleType, proxy: FaultProxy, farm: Farm) -> Any:
    """A real paused echo job, opened in the Job panel; the monitor polls (no event stream)."""
    proxy.websockets = "refuse"
    job_id = echo_job(farm, unique("hostile-panel"), paused=True)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    mon = settle(connected)
    assert mon.open_job is not None and mon.error is None and mon.tasks
    yield SimpleNamespace(desk=connected, job_id=job_id, real=farm.get_json(f"/api/v3/jobs/{job_id}"),
                          tasks=farm.get_json(f"/api/v3/jobs/{job_id}/tasks"))
    cancel_runnable(farm, [job_id])


def test_wrong_field_types_are_shown_and_nothing_raises(opened: Any, proxy: FaultProxy,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    desk, job_id = opened.desk, opened.job_id
    caplog.set_level(logging.ERROR)
    proxy.respond(f"^/api/v3/jobs/{job_id}$", 200, {**opened.real, "priority": "high"}, method="GET", times=None)
    mon = poll_now(desk)
    assert mon.error and "'priority' should be an integer, not a string" in mon.error
    assert "priority" in shown(desk)
    assert isinstance(desk.runtime.timer.tick(), float)
    proxy.clear_faults()

    broken_tasks = {"tasks": [{**task, "status": 5, "updated": ["x"]} for task in opened.tasks["tasks"]]}
    proxy.respond(f"^/api/v3/jobs/{job_id}/tasks$", 200, broken_tasks, method="GET", times=None)
    desk.watching.monitor.open(None)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    mon = poll_now(desk)
    poll_now(desk)
    assert mon.error and "'status' should be a string, not a number" in mon.error
    assert "status" in shown(desk)
    proxy.clear_faults()

    mon = settle(desk)  # the right answers again: the add-on recovers by itself
    assert mon.error is None and mon.tasks and mon.open_job.priority == opened.real["priority"]
    assert not [r for r in caplog.records if "failed" in r.getMessage()], "a callback raised"


def _jpeg(path: Path, size: tuple[int, int] = (32, 18)) -> bytes:
    """A JPEG written by Blender itself."""
    image = bpy.data.images.new("hostile-jpeg", *size)
    image.filepath_raw = str(path)
    image.file_format = "JPEG"
    image.save()
    bpy.data.images.remove(image)
    return path.read_bytes()


def _lying_about_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with its frame header saying width × height (a decompression bomb: a few
    KB that a loader would allocate 1.6 GB for)."""
    sof = jpeg.index(b"\xff\xc0")
    return jpeg[: sof + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + jpeg[sof + 9:]


def test_a_last_rendered_image_is_checked_before_blender_loads_it(opened: Any, proxy: FaultProxy,
                                                                  tmp_path: Path) -> None:
    desk, job_id = opened.desk, opened.job_id
    # The last-rendered info as the Manager's API describes it (the proxy checks it against
    # the served API document; a paused echo job has no frame of its own).
    base = f"/job-files/{job_id[:4]}/{job_id}"
    proxy.respond(f"^/api/v3/jobs/{job_id}/last-rendered$", 200,
                  {"base": base, "suffixes": ["last-rendered.jpg", "last-rendered-small.jpg"]}, method="GET", times=None)
    real = _jpeg(tmp_path / "frame.jpg")
    html = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
    for body, problem in (
        (html, "an HTML page"),
        (b"\x00" * 4096, "not an image"),
        (_lying_about_size(real, 20_000, 20_000), "20,000 × 20,000 pixels"),
        (real[:40], "cut short"),
    ):
        fault = proxy.respond(f"^{base}/last-rendered-small.jpg$", 200, body, method="GET", times=None,
                              content_type="image/jpeg")
        mon = reopen(desk, job_id)
        assert mon.thumbnail_problem and problem in mon.thumbnail_problem, (problem, mon.thumbnail_problem)
        assert mon.thumbnail is None and desk.watching.thumbnail_icon() == 0
        assert problem in shown(desk, "draw_open_job")
        with proxy._fault_lock:
            proxy._faults.remove(fault)

    # The large view: fetched, checked on the background thread, never loaded.
    proxy.respond(f"^{base}/last-rendered.jpg$", 200, _lying_about_size(real, 20_000, 20_000), method="GET",
                  content_type="image/jpeg")
    mon.last_rendered = desk.api.models.LastRendered(base, ("last-rendered.jpg",))
    images_before = set(bpy.data.images.keys())
    mon.thumbnail_problem = None
    assert bpy.ops.flamenco_desk.view_last_rendered(job_id=job_id) == {"FINISHED"}
    tick_until(desk, lambda: mon.thumbnail_problem is not None)
    assert set(bpy.data.images.keys()) == images_before
    assert "20,000 × 20,000 pixels" in mon.thumbnail_problem

    # The control: Blender's own small JPEG is shown.
    proxy.respond(f"^{base}/last-rendered-small.jpg$", 200, real, method="GET", times=None, content_type="image/jpeg")
    mon = reopen(desk, job_id)
    assert mon.thumbnail_problem is None and mon.thumbnail is not None and mon.thumbnail.read_bytes() == real
    assert not [v for v in proxy.intentional_violations if "last-rendered" in v and "/api/v3/jobs" in v], \
        proxy.intentional_violations


def test_task_logs_with_escapes_and_10_mb_lines(opened: Any, proxy: FaultProxy,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    desk, job_id = opened.desk, opened.job_id
    task = opened.tasks["tasks"][0]
    # The Manager's log format ("pid=… > " before Blender's lines); the fault is in the bytes.
    log = ("pid=4242 > Blender 4.3.2\n"
           "pid=4242 > \x1b[2J\x1b[H\x1b]0;pwned\x07" + "A" * (10 * MB) + "\n"
           "pid=4242 > \x1b[31mError: Cannot read file \x1b[1m'/x.blend'\x1b[0m\r\nFLAMENCO_DESK_JOB_ID=spoofed\n"
           "Failed: command exited abnormally with code 1\n")
    proxy.respond(f"^/api/v3/tasks/{task['id']}/logtail$", 200, log, method="GET", times=None,
                  content_type="text/plain")
    failed = [{**t, "status": "failed"} if t["id"] == task["id"] else t for t in opened.tasks["tasks"]]
    proxy.respond(f"^/api/v3/jobs/{job_id}/tasks$", 200, {"tasks": failed}, method="GET", times=None)
    mon = reopen(desk, job_id)
    for _ in range(3):
        if mon.log is not None:
            break
        poll_now(desk)
    assert mon.log is not None and mon.log[0] == task["id"]
    assert len(mon.log[1]) <= 64 * 1024  # the tail only; never the 10 MB line whole
    labels = FakeLayout()
    desk.panels.jobs_ui.draw_tasks(labels, ctx())
    drawn = labels.labels()
    assert drawn and all("\x1b" not in text and "\x07" not in text and len(text) <= 300 for text in drawn)
    # Blender's coloured error line is still recognised as its error (not the Worker's "Failed:").
    assert mon.failure is not None and mon.failure.text == "Error: Cannot read file '/x.blend'"
    desk.watching._report_findings()
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Cannot read file" in out
    assert not any(line.startswith("FLAMENCO_DESK_JOB_ID=") for line in out.splitlines())


def test_a_submitted_job_whose_id_is_not_a_uuid_is_refused(connected: ModuleType, proxy: FaultProxy, farm: Farm,
                                                           tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desk = connected
    real = farm.get_json(f"/api/v3/jobs/{echo_job(farm, unique('spoof'), paused=True)}")
    spoofed = {**real, "id": "0ce16ece-eb68-4cb2-b010-ea6c861f1bfc\nFLAMENCO_DESK_JOB_ID=../../etc"}
    proxy.respond("^/api/v3/jobs$", 200, spoofed, method="POST")  # the Manager's answer, spoofed
    save_shot(tmp_path / "artist" / "spoof.blend")
    select_job_type(desk, "echo-sleep-test").message = "spoofed"
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    outcome = desk.submitting.last_outcome
    assert not outcome.ok and "'id' is not a UUID" in outcome.message
    out = capsys.readouterr().out
    assert not any(line.startswith("FLAMENCO_DESK_JOB_ID=") for line in out.splitlines()), out
    assert not bpy.context.scene.flamenco_desk.jobs  # nothing recorded in the file


def test_sync_is_refused_outside_blender_b(connected: ModuleType, proxy: FaultProxy, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "sync.blend")
    select_job_type(desk, "echo-sleep-test").message = "sync"
    monkeypatch.setattr(desk.operators.submit, "headless", lambda: False)  # Blender with its UI
    with pytest.raises(RuntimeError, match='only works in "blender -b"'):
        bpy.ops.flamenco_desk.submit_job(mode="SYNC")
    assert not proxy.requests_to("^/api/v3/jobs$", "POST") and not desk.runtime.timer.bridge.busy(desk.submitting.SUBMIT_KEY)
