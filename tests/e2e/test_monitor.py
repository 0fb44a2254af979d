"""Watching and steering jobs in Blender against the real Manager and Worker. Timers do not
tick in the bpy module, so the tests drive the add-on's timer callback. The fault proxy passes
the Manager's event stream, so the monitor is live here as in Blender; tests of the polling
fallback switch the stream off at the proxy (``proxy.websockets``)."""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import bpy
import pytest

from support.blender_helpers import refresh, save_shot, select_job_type, tick_until, unique_name
from support.fake_layout import FakeLayout
from local_farm import Farm
from support.fault_proxy import FaultProxy


def submit_render(desk: ModuleType, farm: Farm, tmp_path: Path, frames: tuple[int, int] = (1, 6), chunk: int = 2,
                  paused: bool = False) -> str:
    save_shot(tmp_path / "artist" / "shot.blend", *frames)
    grp = select_job_type(desk, "simple-blender-render")
    grp.render_output_root = str(farm.shared / "renders" / tmp_path.name)
    grp.chunk_size = chunk
    return submit_current(desk, paused)


def submit_echo(desk: ModuleType, tmp_path: Path, sleeps: int = 5, seconds: int = 3, paused: bool = False) -> str:
    """echo-sleep-test: one echo task, then `sleeps` tasks of `seconds` each (the Worker runs
    them for real)."""
    save_shot(tmp_path / "artist" / "echo.blend")
    grp = select_job_type(desk, "echo-sleep-test")
    grp.message, grp.sleep_duration_seconds, grp.sleep_repeats = "watch me", seconds, sleeps
    return submit_current(desk, paused)


def submit_current(desk: ModuleType, paused: bool) -> str:
    bpy.context.scene.flamenco_desk.submit_paused = paused
    desk.submitting.last_outcome = None
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    assert desk.submitting.last_outcome.ok, desk.submitting.last_outcome.message
    return str(desk.submitting.last_outcome.job_id)


def wait_idle(desk: ModuleType) -> None:
    """Until no poll is on its way (one may have started on an earlier tick)."""
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.watching.POLL_KEY))


def open_paused_echo(desk: ModuleType, tmp_path: Path) -> str:
    """A job that waits on the farm, opened in the Job panel with its details fetched."""
    job_id = submit_echo(desk, tmp_path, paused=True)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    settle(desk)
    return job_id


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


def watch_until(desk: ModuleType, condition: Callable[[Any], bool], timeout: float = 120.0,
                every: Callable[[Any], None] = lambda mon: None) -> Any:
    """Keep the monitor polling (as Blender's timer would) until `condition(monitor)`."""
    deadline = time.monotonic() + timeout
    while True:
        mon = settle(desk)
        every(mon)
        if condition(mon):
            return mon
        if time.monotonic() > deadline:
            job = mon.open_job
            raise AssertionError(f"not reached in {timeout:.0f} s; open job: {job and (job.status, job.steps_completed)}")
        time.sleep(0.3)


def act(desk: ModuleType, job_id: str, action: str) -> None:
    assert bpy.ops.flamenco_desk.job_action(job_id=job_id, action=action) == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.jobs.ACTION_KEY))
    assert desk.operators.jobs.feedback.icon == "CHECKMARK", desk.operators.jobs.feedback.text


def test_render_job_is_followed_from_queued_to_completed(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    job_id = submit_render(desk, farm, tmp_path)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    mon = settle(desk)
    assert mon.open_job.status == "queued"
    assert [t.name for t in mon.tasks] == ["render-1,2", "render-3,4", "render-5,6", "preview-video"]
    assert job_id in desk.watching.file_job_ids()

    seen: list[float] = []
    statuses: set[str] = set()

    def record(mon: Any) -> None:
        seen.append(mon.progress(mon.open_job))
        statuses.add(mon.open_job.status)

    farm.kick_worker()
    mon = watch_until(desk, lambda m: m.open_job.status in ("completed", "failed"), every=record)
    assert mon.open_job.status == "completed", farm.log_tail("worker")
    assert "active" in statuses
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(set(seen)) >= 3, seen
    assert mon.task_counts["completed"] == 4
    assert bpy.context.scene.flamenco_desk.jobs[-1].status == "completed"
    # A report that stays until seen.
    assert any(n.job_id == job_id and "completed" in n.text for n in desk.watching.notices)

    layout = FakeLayout()
    desk.panels.jobs_ui.draw_open_job(layout, bpy.context)
    assert any(f == 1.0 for f, _ in layout.progresses())
    assert "Tasks: 4 completed" in layout.text()

    # The frames are where the job said, and the preview video beside them.
    folder = desk.core.results.output_dir(mon.open_job, desk.state.info().variables)
    assert [p.name for p in desk.core.results.frame_files(folder)] == [f"{n:06d}.png" for n in range(1, 7)]
    assert any(p.suffix in (".mp4", ".mkv", ".mov") for p in folder.iterdir()), sorted(folder.iterdir())


def test_failed_task_log_is_shown(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    job_id = submit_render(desk, farm, tmp_path, frames=(1, 2), chunk=2)
    # The farm's copy of the .blend goes missing: the Worker's Blender cannot open it.
    Path(farm.job(job_id)["settings"]["blendfile"]).unlink()
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    farm.kick_worker()
    mon = watch_until(desk, lambda m: m.open_job.status == "failed" and m.log is not None and "Error" in m.log[1])
    failed = next(t for t in mon.tasks if t.status == "failed")
    assert mon.log[0] == failed.id
    assert any(n.job_id == job_id and "failed" in n.text for n in desk.watching.notices)
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_open_job(layout, bpy.context)
    assert any("Error" in label for label in layout.labels())


def test_last_rendered_thumbnail_appears_and_follows_new_frames(connected: ModuleType, farm: Farm,
                                                                tmp_path: Path) -> None:
    desk = connected
    job_id = submit_render(desk, farm, tmp_path, frames=(1, 3), chunk=1)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    assert settle(desk).thumbnail is None
    farm.kick_worker()
    thumbnails: list[Path] = []

    def record(mon: Any) -> None:
        if mon.thumbnail is not None and (not thumbnails or thumbnails[-1] != mon.thumbnail):
            thumbnails.append(mon.thumbnail)

    mon = watch_until(desk, lambda m: m.open_job.status == "completed" and m.thumbnail is not None, every=record)
    assert mon.last_rendered is not None
    small = farm.get_raw(mon.last_rendered.base + "/last-rendered-small.jpg")
    assert mon.thumbnail.read_bytes() == small, "the thumbnail is the Manager's newest small image"
    assert f"{job_id}-{mon.thumbnail_version}" in desk.watching.previews()
    assert len(thumbnails) >= 2, "a new frame replaces the thumbnail"
    assert not thumbnails[0].exists() and thumbnails[-1].exists()


def test_actions_pause_resume_cancel_requeue(connected: ModuleType, farm: Farm, proxy: FaultProxy,
                                             tmp_path: Path) -> None:
    desk = connected
    job_id = submit_echo(desk, tmp_path, paused=True)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    assert settle(desk).open_job.status == "paused"

    def sent_statuses() -> list[str]:
        return [r.body["status"] for r in proxy.requests_to(rf"^/api/v3/jobs/{job_id}/setstatus$")]

    # Submitted paused: tasks are still queued, so resuming sends `queued`.
    act(desk, job_id, "resume")
    assert sent_statuses()[-1] == "queued" and settle(desk).open_job.status == "queued"
    farm.kick_worker()
    watch_until(desk, lambda m: m.open_job.status == "active")
    act(desk, job_id, "pause")
    assert settle(desk).open_job.status in ("pause-requested", "paused")
    # The running task finishes; the job settles as paused.
    mon = watch_until(desk, lambda m: m.open_job.status == "paused", timeout=60)
    assert "paused" in {t.status for t in mon.tasks}
    # Paused later: tasks are paused, so resuming needs `requeueing`.
    act(desk, job_id, "resume")
    assert sent_statuses()[-1] == "requeueing"
    assert settle(desk).open_job.status in ("requeueing", "queued", "active")  # live: the passing state too
    act(desk, job_id, "cancel")
    assert watch_until(desk, lambda m: m.open_job.status == "canceled", timeout=30)
    # Actions are only offered where they make sense.
    with pytest.raises(RuntimeError, match="Cannot pause"):
        bpy.ops.flamenco_desk.job_action(job_id=job_id, action="pause")
    act(desk, job_id, "requeue")
    assert settle(desk).open_job.status in ("requeueing", "queued", "active")
    assert sent_statuses() == ["queued", "pause-requested", "requeueing", "cancel-requested", "requeueing"]


def test_requeue_failed_tasks_priority_tag_and_delete(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    job_id = submit_render(desk, farm, tmp_path, frames=(1, 2), chunk=1)
    blend = Path(farm.job(job_id)["settings"]["blendfile"])
    kept = blend.read_bytes()
    blend.unlink()  # the first task fails: a one-Worker farm fails the job
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    farm.kick_worker()
    mon = watch_until(desk, lambda m: m.open_job.status == "failed" and "failed" in m.task_counts)
    blend.write_bytes(kept)
    assert bpy.ops.flamenco_desk.job_action(job_id=job_id, action="requeue_failed") == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.jobs.ACTION_KEY))
    # A failed job: the job is requeued (live, the Manager's passing "requeueing" is seen too).
    assert settle(desk).open_job.status in ("requeueing", "queued", "active")
    farm.kick_worker()
    mon = watch_until(desk, lambda m: m.open_job.status == "completed")
    assert mon.task_counts["completed"] == len(mon.tasks)

    assert bpy.ops.flamenco_desk.set_priority(job_id=job_id, priority=77) == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.jobs.ACTION_KEY))
    assert settle(desk).open_job.priority == 77

    if desk.state.info().features.settag:
        tag = farm.post_json("/api/v3/worker-mgt/tags", {"name": unique_name("gpu")})
        refresh(desk)
        assert bpy.ops.flamenco_desk.set_worker_tag(job_id=job_id, tag=tag["id"]) == {"FINISHED"}
        tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.jobs.ACTION_KEY))
        assert settle(desk).open_job.worker_tag == tag["id"]

    # Delete: first what-would-delete-do and a question, then the deletion.
    assert bpy.ops.flamenco_desk.delete_job(job_id=job_id) == {"FINISHED"}
    tick_until(desk, lambda: desk.operators.jobs.feedback.delete_prompt is not None)
    assert "rendered frames stay" in desk.operators.jobs.feedback.delete_prompt[1]
    assert farm.job(job_id)["id"] == job_id
    assert bpy.ops.flamenco_desk.delete_job(job_id=job_id, confirmed=True) == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.jobs.ACTION_KEY))
    assert desk.watching.monitor.open_job_id is None
    tick_until(desk, lambda: job_id not in {j["id"] for j in farm.get_json("/api/v3/jobs")["jobs"]}, timeout=30)


def test_worker_tag_is_offered_only_where_the_manager_has_it(connected: ModuleType, farm: Farm,
                                                             tmp_path: Path) -> None:
    """Feature detection from GET /version: tags on jobs came with Flamenco 3.8."""
    desk = connected
    job_id = open_paused_echo(desk, tmp_path)
    has_settag = tuple(int(p) for p in farm.release.split(".")[:2]) >= (3, 8)
    assert desk.state.info().features.settag is has_settag
    assert bool(bpy.ops.flamenco_desk.set_worker_tag.poll()) is has_settag
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_open_job(layout, bpy.context)
    operators = [op for op, _ in layout.operators()]
    assert ("flamenco_desk.set_worker_tag" in operators) is has_settag
    assert "flamenco_desk.set_priority" in operators


@pytest.mark.parametrize("count", [1, 10, 100])
def test_requests_per_poll_do_not_grow_with_listed_jobs(connected: ModuleType, farm: Farm, proxy: FaultProxy,
                                                        tmp_path: Path, count: int) -> None:
    # Without the event stream every poll here also re-reads the job list: the costly case.
    proxy.websockets = "refuse"
    desk = connected
    first = submit_echo(desk, tmp_path, paused=True)
    client = desk.state.client()
    etag = desk.state.info().job_types["echo-sleep-test"].etag
    ours = {first}
    for n in range(count - 1):
        body = desk.api.models.SubmittedJob(
            name=f"other {n}", type="echo-sleep-test", priority=50, submitter_platform="linux", type_etag=etag,
            settings={"message": "x", "sleep_duration_seconds": 1, "sleep_repeats": 1}, initial_status="paused",
        )
        ours.add(client.submit_job(body).id)
    bpy.context.window_manager.flamenco_desk_ui.list_scope = "ALL"
    desk.panels.jobs_ui.draw_job_list(FakeLayout(), bpy.context)  # the artist views all jobs
    bpy.ops.flamenco_desk.open_job(job_id=first)
    mon = desk.watching.monitor

    def api_requests() -> int:  # the event stream's attempts (refused by the proxy) aside
        return len([r for r in proxy.requests_log if r.path.startswith("/api/")])

    per_poll: list[int] = []
    for step in range(6):
        if step % 2:  # a change makes the open job's details due again
            farm.post_json(f"/api/v3/jobs/{first}/setpriority", {"priority": 40 + step})
        wait_idle(desk)
        before = api_requests()
        poll_now(desk)
        per_poll.append(api_requests() - before)
        assert mon.last_requests == per_poll[-1]
    assert max(per_poll) <= 2, per_poll
    assert ours <= set(mon.index.rows)
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_job_list(layout, bpy.context)
    assert len(layout.progresses()) == min(len(mon.index), desk.panels.jobs_ui.MAX_ROWS)


def test_unreachable_manager_backs_off_and_recovers_by_itself(connected: ModuleType, proxy: FaultProxy,
                                                              tmp_path: Path) -> None:
    desk = connected
    job_id = open_paused_echo(desk, tmp_path)
    proxy.refuse_connections()
    mon = poll_now(desk)
    assert mon.error and "refused" in mon.error
    first_wait = mon.next_poll_at - mon.last_poll_at
    mon = poll_now(desk)
    assert mon.next_poll_at - mon.last_poll_at > first_wait, "backs off while unreachable"
    proxy.resume()
    # Recovers by itself: only ticking, no poll forced.
    mon.next_poll_at = min(mon.next_poll_at, time.monotonic() + 1.0)  # keep it short
    tick_until(desk, lambda: mon.error is None, timeout=15)
    assert mon.open_job.status == "paused"
    # The event stream was cut with everything else: it is back too.
    tick_until(desk, lambda: mon.live and mon.stream.connects >= 2, timeout=30)


def test_the_monitor_is_live_through_the_proxy(connected: ModuleType, farm: Farm, proxy: FaultProxy,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = connected
    job_id = open_paused_echo(desk, tmp_path)
    mon = desk.watching.monitor
    tick_until(desk, lambda: mon.live, timeout=15)
    assert mon.status_line() == "Live updates from the Manager"
    assert proxy.requests_to(r"^/socket\.io/$")
    applied: list[Any] = []
    apply_event = mon.apply_event
    monkeypatch.setattr(mon, "apply_event", lambda event: (applied.append(event), apply_event(event)))
    # Straight to the Manager, not through the proxy: the add-on can only hear of it.
    farm.post_json(f"/api/v3/jobs/{job_id}/setpriority", {"priority": 33})
    tick_until(desk, lambda: mon.open_job.priority == 33, timeout=10)
    updates = [e for e in applied if isinstance(e, desk.api.events.JobUpdate) and e.id == job_id]
    assert updates and updates[-1].priority == 33, applied
    assert mon.live


@pytest.mark.parametrize("websockets", ["refuse", "hold"])
def test_without_the_stream_the_monitor_polls(connected: ModuleType, farm: Farm, proxy: FaultProxy,
                                              tmp_path: Path, websockets: str) -> None:
    """The proxy refuses the upgrade (a Manager without an event stream, to the add-on) or
    leaves it unanswered (a hung one): changes are found by polling, by ticking alone."""
    proxy.websockets = websockets
    desk = connected
    job_id = open_paused_echo(desk, tmp_path)
    mon = desk.watching.monitor
    down = desk.api.event_stream.StreamState.DOWN
    tick_until(desk, lambda: mon.stream is not None and mon.stream.state == down, timeout=15)
    assert not mon.live and mon.stream.refused is (websockets == "refuse")
    assert mon.status_line().startswith("Polling every")
    reads = len(proxy.requests_to(rf"^/api/v3/jobs/{job_id}$"))
    farm.post_json(f"/api/v3/jobs/{job_id}/setpriority", {"priority": 34})
    tick_until(desk, lambda: mon.open_job.priority == 34, timeout=2 * mon.interval() + 5)
    assert len(proxy.requests_to(rf"^/api/v3/jobs/{job_id}$")) > reads, "read by a poll"
    assert not mon.live and mon.last_event_at is None


def test_503_retry_after_is_honoured(connected: ModuleType, proxy: FaultProxy, tmp_path: Path) -> None:
    desk = connected
    job_id = open_paused_echo(desk, tmp_path)
    proxy.respond(rf"^/api/v3/jobs/{job_id}$", 503, {"code": 503, "message": "database busy"},
                  headers={"Retry-After": "9"}, method="GET")
    mon = poll_now(desk)
    assert "database busy" in mon.error
    assert mon.next_poll_at - mon.last_poll_at >= 9.0
    before = len(proxy.requests_to(r"^/api/"))
    for _ in range(10):
        desk.runtime.timer.tick()
    assert len(proxy.requests_to(r"^/api/")) == before, "no request before Retry-After has passed"
    mon = poll_now(desk)
    assert mon.error is None


def test_malformed_json_is_shown_and_the_timer_keeps_running(connected: ModuleType, proxy: FaultProxy,
                                                             tmp_path: Path) -> None:
    desk = connected
    job_id = open_paused_echo(desk, tmp_path)
    proxy.respond(rf"^/api/v3/jobs/{job_id}$", 200, "{not json", method="GET")
    mon = poll_now(desk)
    assert mon.error and "not valid JSON" in mon.error
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_job_list(layout, bpy.context)
    assert "".join(mon.error.split()) in "".join(layout.text().split())  # wrapped, maybe inside a long path
    assert isinstance(desk.runtime.timer.tick(), float)
    assert bpy.app.timers.is_registered(desk.runtime.timer.tick)
    assert poll_now(desk).error is None


def test_jobs_are_remembered_in_the_file(connected: ModuleType, tmp_path: Path) -> None:
    desk = connected
    job_id = submit_echo(desk, tmp_path, paused=True)
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


def test_rendered_frames_load_into_image_editor_and_sequencer(connected: ModuleType, farm: Farm,
                                                              tmp_path: Path) -> None:
    desk = connected
    job_id = submit_render(desk, farm, tmp_path, frames=(1, 3), chunk=3, paused=True)
    mon = poll_now(desk)
    job = mon.jobs[job_id]
    folder = desk.core.results.output_dir(job, desk.state.info().variables)
    assert folder is not None and str(folder).startswith(str(farm.shared / "renders" / tmp_path.name))

    # Nothing rendered yet.
    with pytest.raises(RuntimeError, match="No rendered frames"):
        bpy.ops.flamenco_desk.load_frames(job_id=job_id)
    with pytest.raises(RuntimeError, match="does not exist"):
        bpy.ops.flamenco_desk.open_output_folder(job_id=job_id)

    act(desk, job_id, "resume")
    farm.wait_for_job(job_id)

    assert bpy.ops.flamenco_desk.load_frames(job_id=job_id, target="IMAGE_EDITOR") == {"FINISHED"}
    image = bpy.data.images["000001.png"]
    assert image.source == "SEQUENCE" and Path(bpy.path.abspath(image.filepath)) == folder / "000001.png"
    rendered = bpy.data.images.load(str(folder / "000001.png"), check_existing=False)
    assert tuple(rendered.size) == (64, 36), "the Worker's frame"
    bpy.data.images.remove(rendered)

    assert bpy.ops.flamenco_desk.load_frames(job_id=job_id, target="SEQUENCER") == {"FINISHED"}
    editor = bpy.context.scene.sequence_editor
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences
    (strip,) = list(strips)
    assert [e.filename for e in strip.elements] == ["000001.png", "000002.png", "000003.png"]


def test_status_bar_shows_the_running_job(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    job_id = submit_echo(desk, tmp_path, sleeps=4, seconds=3)
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    farm.kick_worker()
    watch_until(desk, lambda m: m.open_job.status == "active" and 0 < m.progress(m.open_job) < 1)

    class Header:
        layout = FakeLayout()

    desk.panels.jobs_ui.draw_statusbar(Header(), bpy.context)
    assert any("echo" in label for label in Header.layout.labels())
    assert Header.layout.progresses() and 0 < Header.layout.progresses()[0][0] < 1
    assert desk.panels.jobs_ui.draw_statusbar in bpy.types.STATUSBAR_HT_header._dyn_ui_initialize()
