"""Watching and steering jobs in Blender, against the stub Manager (the real Manager
cannot be installed here; see README). Timers do not tick in the bpy module, so the tests
drive the add-on's timer callback."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest

from blender_helpers import save_shot, select_job_type, tick_until
from fake_layout import FakeLayout


def submit(desk: ModuleType, tmp_path: Path, frames: tuple[int, int] = (1, 6), chunk: int = 2, paused: bool = False) -> str:
    save_shot(tmp_path / "artist" / "shot.blend", *frames)
    grp = select_job_type(desk, "simple-blender-render")
    grp.render_output_root = str(tmp_path / "renders")
    grp.chunk_size = chunk
    bpy.context.scene.flamenco_desk.submit_paused = paused
    desk.submitting.last_outcome = None
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    assert desk.submitting.last_outcome.ok, desk.submitting.last_outcome.message
    return desk.submitting.last_outcome.job_id


def poll_now(desk: ModuleType) -> Any:
    """Make a poll due, and tick until its result has been applied."""
    mon = desk.watching.monitor
    before = mon.last_poll_at
    mon.poll_soon()
    tick_until(desk, lambda: mon.last_poll_at != before and not desk.runtime.timer.bridge.busy(desk.watching.POLL_KEY))
    return mon


def settle(desk: ModuleType) -> Any:
    """Poll until the open job's follow-up details (tasks, frame, log) are all fetched."""
    mon = poll_now(desk)
    for _ in range(8):
        if not mon._details:
            break
        poll_now(desk)
    return mon


def test_job_is_followed_from_queued_to_completed(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    mon = settle(desk)
    assert mon.open_job.status == "queued" and len(mon.tasks) == 3
    assert job_id in desk.watching.file_job_ids()

    seen: list[float] = []
    statuses: set[str] = set()
    while stub.advance(job_id, 1):
        mon = settle(desk)
        seen.append(mon.progress(mon.open_job))
        statuses.add(mon.open_job.status)
    mon = settle(desk)
    assert mon.open_job.status == "completed"
    assert "active" in statuses
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(set(seen)) >= 4
    assert mon.task_counts["completed"] == 3
    assert bpy.context.scene.flamenco_desk.jobs[-1].status == "completed"
    # A report that stays until seen.
    assert any(n.job_id == job_id and "completed" in n.text for n in desk.watching.notices)

    layout = FakeLayout()
    desk.panels.jobs_ui.draw_open_job(layout, bpy.context)
    assert any(f == 1.0 for f, _ in layout.progresses())
    assert any("completed: 3" in label for label in layout.labels())


def test_failed_task_log_is_shown(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    stub.advance(job_id, 1)
    task = next(t for t in stub.tasks_of(job_id) if t.status == "active")
    stub.append_task_log(task.id, "Blender quit: out of memory\n")
    stub.fail_task(task.id, "out of memory")
    mon = settle(desk)
    assert mon.open_job.status == "failed"
    assert mon.log is not None and mon.log[0] == task.id and "out of memory" in mon.log[1]
    assert any(n.job_id == job_id and "failed" in n.text for n in desk.watching.notices)
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_open_job(layout, bpy.context)
    assert any("out of memory" in label for label in layout.labels())


def test_last_rendered_thumbnail_appears(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    settle(desk)
    assert desk.watching.monitor.thumbnail is None
    stub.advance(job_id, 1)
    stub.set_last_rendered(job_id)
    mon = settle(desk)
    assert mon.last_rendered is not None
    assert mon.thumbnail is not None and mon.thumbnail.read_bytes() == stub.files[mon.last_rendered.base + "/last-rendered-small.jpg"]
    key = f"{job_id}-{mon.thumbnail_version}"
    assert key in desk.watching.previews()
    first = mon.thumbnail
    stub.advance(job_id, 1)
    stub.set_last_rendered(job_id, image=stub.files[mon.last_rendered.base + "/last-rendered.jpg"] + b"\0")
    mon = settle(desk)
    assert mon.thumbnail != first and not first.exists(), "a new frame replaces the thumbnail"


def test_actions_pause_resume_cancel_requeue(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path, paused=True)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    mon = settle(desk)
    assert mon.open_job.status == "paused"

    def act(action: str) -> str:
        assert bpy.ops.flamenco_desk.job_action(job_id=job_id, action=action) == {"FINISHED"}
        tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.jobs.ACTION_KEY))
        assert desk.operators.jobs.feedback.icon == "CHECKMARK", desk.operators.jobs.feedback.text
        return settle(desk).open_job.status

    def sent_statuses() -> list[str]:
        return [r.body["status"] for r in stub.requests_to(rf"^/api/v3/jobs/{job_id}/setstatus$")]

    # Submitted paused: tasks are still queued, so resuming sends `queued`.
    assert act("resume") == "queued" and sent_statuses()[-1] == "queued"
    stub.advance(job_id, 1)
    assert act("pause") in ("pause-requested", "paused")
    stub.advance(job_id, 5)  # the running task finishes; the job settles as paused
    assert settle(desk).open_job.status == "paused"
    # Paused later: tasks are paused, so resuming needs `requeueing`.
    assert act("resume") in ("queued", "active") and sent_statuses()[-1] == "requeueing"
    assert act("cancel") == "canceled"
    # Actions are only offered where they make sense.
    with pytest.raises(RuntimeError, match="Cannot pause"):
        bpy.ops.flamenco_desk.job_action(job_id=job_id, action="pause")
    assert act("requeue") == "queued"
    assert sent_statuses() == ["queued", "pause-requested", "requeueing", "cancel-requested", "requeueing"]


def test_requeue_failed_tasks_priority_tag_and_delete(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    stub.advance(job_id, 1)
    task = next(t for t in stub.tasks_of(job_id) if t.status == "active")
    stub.fail_task(task.id)
    mon = settle(desk)
    assert mon.open_job.status == "failed"
    assert bpy.ops.flamenco_desk.job_action(job_id=job_id, action="requeue_failed") == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.jobs.ACTION_KEY))
    assert settle(desk).open_job.status == "queued"  # a failed job: the job is requeued

    assert bpy.ops.flamenco_desk.set_priority(job_id=job_id, priority=77) == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.jobs.ACTION_KEY))
    assert settle(desk).open_job.priority == 77

    tag = stub.worker_tags[0]["id"]
    assert bpy.ops.flamenco_desk.set_worker_tag(job_id=job_id, tag=tag) == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.jobs.ACTION_KEY))
    assert settle(desk).open_job.worker_tag == tag

    # Delete: first what-would-delete-do and a question, then the deletion.
    assert bpy.ops.flamenco_desk.delete_job(job_id=job_id) == {"FINISHED"}
    tick_until(desk, lambda: desk.operators.jobs.feedback.delete_prompt is not None)
    assert "rendered frames stay" in desk.operators.jobs.feedback.delete_prompt[1]
    assert job_id in stub.jobs
    assert bpy.ops.flamenco_desk.delete_job(job_id=job_id, confirmed=True) == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.jobs.ACTION_KEY))
    tick_until(desk, lambda: job_id not in stub.jobs or stub.jobs[job_id].delete_requested_at is not None)
    assert desk.watching.monitor.open_job_id is None


def test_worker_tag_is_hidden_before_3_8(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path)
    stub.version = "3.7.0"
    from blender_helpers import refresh

    refresh(desk)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    settle(desk)
    assert not bpy.ops.flamenco_desk.set_worker_tag.poll()
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_open_job(layout, bpy.context)
    assert "flamenco_desk.set_worker_tag" not in [op for op, _ in layout.operators()]
    assert "flamenco_desk.set_priority" in [op for op, _ in layout.operators()]


@pytest.mark.parametrize("count", [1, 10, 100])
def test_requests_per_poll_do_not_grow_with_listed_jobs(connected: ModuleType, stub: Any, tmp_path: Path, count: int) -> None:
    desk = connected
    first = submit(desk, tmp_path)
    client = desk.state.client()
    job = client.job(first)
    for n in range(count - 1):
        body = desk.api.models.SubmittedJob(
            name=f"other {n}", type="echo-sleep-test", priority=50, submitter_platform="linux",
            type_etag=stub.etag_of("echo-sleep-test"),
            settings={"message": "x", "sleep_duration_seconds": 1, "sleep_repeats": 1},
        )
        client.submit_job(body)
    assert len(stub.jobs) == count
    bpy.context.window_manager.flamenco_desk_ui.list_scope = "ALL"
    bpy.ops.flamenco_desk.open_job(job_id=job.id)
    mon = desk.watching.monitor
    per_poll: list[int] = []
    for step in range(6):
        if step % 2:
            stub.advance(first, 1)  # a change makes the open job's details due again
        before = len(stub.requests_log)
        poll_now(desk)
        per_poll.append(len(stub.requests_log) - before)
        assert mon.last_requests == per_poll[-1]
    assert max(per_poll) <= 2, per_poll
    assert len(mon.jobs) == count
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_job_list(layout, bpy.context)
    assert len(layout.progresses()) == min(count, desk.panels.jobs_ui.MAX_ROWS)


def test_manager_stopped_and_restarted_mid_watch_recovers(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    mon = settle(desk)
    stub.refuse_connections()
    mon = poll_now(desk)
    assert mon.error and "refused" in mon.error
    first_wait = mon.next_poll_at - mon.last_poll_at
    mon = poll_now(desk)
    assert mon.next_poll_at - mon.last_poll_at > first_wait, "backs off while unreachable"
    stub.resume()
    stub.advance(job_id, 1)
    # Recovers by itself: only ticking, no poll forced.
    mon.next_poll_at = mon.next_list_at = min(mon.next_poll_at, time.monotonic() + 1.0)  # keep it short
    tick_until(desk, lambda: mon.error is None, timeout=15)
    assert mon.open_job.status == "active"


def test_503_retry_after_is_honoured(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    settle(desk)
    stub.respond(r"^/api/v3/jobs$", 503, {"code": 503, "message": "database busy"}, headers={"Retry-After": "9"}, method="GET")
    mon = poll_now(desk)
    assert "database busy" in mon.error
    assert mon.next_poll_at - mon.last_poll_at >= 9.0
    before = len(stub.requests_log)
    for _ in range(10):
        desk.runtime.timer.tick()
    assert len(stub.requests_log) == before, "no request before Retry-After has passed"
    mon = poll_now(desk)
    assert mon.error is None


def test_malformed_json_is_shown_and_the_timer_keeps_running(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    settle(desk)
    stub.respond(r"^/api/v3/jobs$", 200, "{not json", method="GET")
    mon = poll_now(desk)
    assert mon.error and "JSON" in mon.error.upper() or "invalid" in mon.error.lower()
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_job_list(layout, bpy.context)
    assert mon.error in layout.labels()
    assert isinstance(desk.runtime.timer.tick(), float)
    assert bpy.app.timers.is_registered(desk.runtime.timer.tick)
    assert poll_now(desk).error is None


def test_jobs_are_remembered_in_the_file(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path)
    path = bpy.data.filepath
    bpy.ops.wm.save_mainfile()
    bpy.ops.wm.read_homefile(use_empty=True)
    assert desk.watching.file_job_ids() == set()
    bpy.ops.wm.open_mainfile(filepath=path)
    assert desk.watching.file_job_ids() == {job_id}
    poll_now(desk)
    layout = FakeLayout()
    bpy.context.window_manager.flamenco_desk_ui.list_scope = "FILE"
    desk.panels.jobs_ui.draw_job_list(layout, bpy.context)
    assert ("flamenco_desk.open_job", {"job_id": job_id}) in layout.operators()
    out = FakeLayout()
    desk.panels.jobs_ui.draw_latest_file_job(out)
    assert ("flamenco_desk.open_job", {"job_id": job_id}) in out.operators()


def test_rendered_frames_load_into_image_editor_and_sequencer(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path, frames=(1, 3), chunk=3)
    stub.complete_job(job_id)
    mon = poll_now(desk)
    job = mon.jobs[job_id]
    folder = desk.core.results.output_dir(job, desk.state.info().variables)
    assert folder is not None and str(folder).startswith(str(tmp_path / "renders"))

    with pytest.raises(RuntimeError, match="No rendered frames"):
        bpy.ops.flamenco_desk.load_frames(job_id=job_id)
    with pytest.raises(RuntimeError, match="does not exist"):
        bpy.ops.flamenco_desk.open_output_folder(job_id=job_id)

    folder.mkdir(parents=True)
    for frame in (1, 2, 3):
        img = bpy.data.images.new(f"f{frame}", 8, 8)
        img.filepath_raw, img.file_format = str(folder / f"{frame:06d}.png"), "PNG"
        img.save()
        bpy.data.images.remove(img)

    assert bpy.ops.flamenco_desk.load_frames(job_id=job_id, target="IMAGE_EDITOR") == {"FINISHED"}
    image = bpy.data.images["000001.png"]
    assert image.source == "SEQUENCE" and Path(bpy.path.abspath(image.filepath)) == folder / "000001.png"

    assert bpy.ops.flamenco_desk.load_frames(job_id=job_id, target="SEQUENCER") == {"FINISHED"}
    editor = bpy.context.scene.sequence_editor
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences
    (strip,) = list(strips)
    assert [e.filename for e in strip.elements] == ["000001.png", "000002.png", "000003.png"]


def test_status_bar_shows_the_watched_job(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    job_id = submit(desk, tmp_path)
    stub.advance(job_id, 2)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    settle(desk)

    class Header:
        layout = FakeLayout()

    desk.panels.jobs_ui.draw_statusbar(Header(), bpy.context)
    assert any("shot" in label for label in Header.layout.labels())
    assert Header.layout.progresses() and 0 < Header.layout.progresses()[0][0] < 1
    assert desk.panels.jobs_ui.draw_statusbar in bpy.types.STATUSBAR_HT_header._dyn_ui_initialize()
