"""bpy-free rules of live updates that need no Manager to check: the inbox's coalescing and
budgeted slices, out-of-order events, what a poll asks for. Everything meets the real
Manager in test_live_monitor.py."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from flamenco_desk_src.api import events, models
from flamenco_desk_src.api.event_stream import StreamState, StreamStatus
from flamenco_desk_src.core import live, monitor
from flamenco_desk_src.core.job_index import JobIndex
from flamenco_desk_src.runtime.bridge import Bridge

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
JOB = "00000000-0000-4000-8000-000000000001"


def job_update(job_id: str = JOB, status: str = "active", seconds: int = 0, **extra: Any) -> events.JobUpdate:
    return events.JobUpdate(id=job_id, status=status, updated=T0 + timedelta(seconds=seconds), name="j",
                            type="echo-sleep-test", **extra)


def job(status: str = "queued", seconds: int = 0) -> models.Job:
    return models.Job(id=JOB, name="j", type="echo-sleep-test", priority=50, status=status, activity="",
                      created=T0, updated=T0 + timedelta(seconds=seconds), steps_completed=0, steps_total=0,
                      settings={}, metadata={})


def test_inbox_coalesces_per_object_and_keeps_the_newest() -> None:
    bridge = Bridge()
    applied: list[object] = []
    inbox = live.Inbox(bridge.post, applied.append)
    inbox.put(job_update(status="active", seconds=2))
    inbox.put(job_update(status="queued", seconds=1, refresh_tasks=True))  # older, arrived later
    inbox.put(job_update("00000000-0000-4000-8000-000000000002", seconds=1))
    status = StreamStatus(StreamState.LIVE, connects=1)
    inbox.put(status)
    inbox.put(status)  # statuses are never merged
    assert inbox.pending() == 4
    bridge.drain(1.0)
    first = applied[0]
    assert isinstance(first, events.JobUpdate) and first.status == "active" and first.refresh_tasks
    assert len(applied) == 4 and applied[2:] == [status, status]


def test_inbox_slices_respect_the_budget_and_continue_next_tick() -> None:
    bridge = Bridge()
    now = [0.0]
    applied: list[object] = []

    def apply(item: object) -> None:
        applied.append(item)
        now[0] += 0.001  # each event costs 1 ms

    inbox = live.Inbox(bridge.post, apply, budget=0.003, clock=lambda: now[0])
    for n in range(10):
        inbox.put(job_update(f"00000000-0000-4000-8000-{n:012d}"))
    stats = bridge.drain(10.0)  # a generous drain still gets only one slice
    assert len(applied) == 3 and stats.handled == 1
    inbox.pump()
    bridge.drain(10.0)
    assert len(applied) == 6
    while inbox.pending():
        inbox.pump()
        bridge.drain(10.0)
    assert len(applied) == 10
    inbox.close()
    inbox.put(job_update())
    bridge.drain(1.0)
    assert len(applied) == 10, "a closed inbox drops what a stopped stream still sends"


def test_out_of_order_events_do_not_go_back_in_time() -> None:
    newer = job("completed", seconds=5)
    assert monitor.merge_job_update(newer, job_update(status="active", seconds=4)) is None
    same_time = monitor.merge_job_update(newer, job_update(status="completed", seconds=5, steps_completed=3))
    assert same_time is not None and same_time.steps_completed == 3 and same_time.metadata == {}
    index = JobIndex()
    index.replace({})
    index.apply(job_update(status="completed", seconds=5))
    index.apply(job_update(status="active", seconds=4))
    assert index.job(JOB).status == "completed"  # type: ignore[union-attr]
    index.apply(job_update(was_deleted=True))
    assert index.job(JOB) is None


def test_the_last_steps_update_overtaking_completed_does_not_hold_the_job_active() -> None:
    """What a real 3.8.5 Manager sends when a job's last task completes: a steps update
    ("active", 5/5, updated T1) and the status change ("completed", previous "active") with
    the time the job was read at before the change: the same T1 or older. They arrive in
    either order, one by one or coalesced while they wait; the job ends up completed."""
    steps = job_update(status="active", seconds=5, steps_completed=5, steps_total=5)
    # The status change's time and steps: read after the steps update, or before it.
    for completed_at, steps_read in ((5, 5), (4, 4)):
        completed = job_update(status="completed", seconds=completed_at, previous_status="active",
                               steps_completed=steps_read, steps_total=5)
        for first, second in ((steps, completed), (completed, steps)):
            held = job("active", seconds=3)
            for event in (first, second):
                merged = monitor.merge_job_update(held, event)
                held = merged if merged is not None else held
            assert (held.status, held.steps_completed) == ("completed", 5), (completed_at, first.status)

            index = JobIndex()
            index.replace({})
            index.put(job("active", seconds=3))
            index.apply(first)
            index.apply(second)
            assert index.job(JOB).status == "completed"  # type: ignore[union-attr]

            bridge = Bridge()
            applied: list[object] = []
            inbox = live.Inbox(bridge.post, applied.append)
            inbox.put(first)
            inbox.put(second)
            bridge.drain(1.0)
            assert len(applied) == 1
            one = applied[0]
            assert isinstance(one, events.JobUpdate)
            assert (one.status, one.previous_status, one.steps_completed) == ("completed", "active", 5)


def test_a_late_event_of_an_earlier_status_is_not_taken() -> None:
    """The rule above must not undo a newer state: a status change that does not start at
    the status held, or an older steps update, is dropped; a watched job is re-read."""
    held = job("completed", seconds=9)
    assert monitor.merge_job_update(held, job_update(status="active", seconds=2, previous_status="queued")) is None
    assert monitor.merge_job_update(held, job_update(status="active", seconds=8)) is None
    newer_steps = monitor.merge_job_update(held, job_update(status="active", seconds=10, steps_completed=2))
    assert newer_steps is not None and (newer_steps.status, newer_steps.steps_completed) == ("completed", 2)
    now = [100.0]
    mon = monitor.Monitor(clock=lambda: now[0])
    mon.set_stream(StreamStatus(StreamState.LIVE, connects=1))
    mon.watched_ids = {JOB}
    mon.apply(monitor.PollResult(open_job_id=None, done=[("job", JOB)], jobs={JOB: held}, planned_at=now[0]))
    assert ("job", JOB) not in mon.plan(None).requests
    mon.apply_event(job_update(status="active", seconds=2, previous_status="queued"))
    assert mon.jobs[JOB].status == "completed"
    now[0] += monitor.SETTLE_DELAY
    assert ("job", JOB) in mon.plan(None).requests, "a status it disagrees with: read the job"


def test_a_status_event_of_the_open_job_is_confirmed_over_rest_and_notified() -> None:
    now = [100.0]
    mon = monitor.Monitor(clock=lambda: now[0])
    mon.set_stream(StreamStatus(StreamState.LIVE, connects=1))
    mon.open(JOB)
    plan = mon.plan(None)
    assert ("job", JOB) in plan.requests and len(plan.requests) == 2
    mon.apply(monitor.PollResult(open_job_id=JOB, requests=1, done=[("job", JOB)], jobs={JOB: job("active")}))
    mon.apply_event(job_update(status="completed", seconds=9, previous_status="active"))
    assert mon.open_job is not None and mon.open_job.status == "completed"
    assert [e.job.status for e in mon.events] == ["completed"]
    assert ("job", JOB) not in mon.plan(None).requests, "re-read once the events settle"
    now[0] += monitor.SETTLE_DELAY
    assert ("job", JOB) in mon.plan(None).requests


def test_polls_ask_for_at_most_two_things_and_the_list_only_when_viewed() -> None:
    now = [100.0]
    mon = monitor.Monitor(clock=lambda: now[0])
    mon.watched_ids = {f"00000000-0000-4000-8000-{n:012d}" for n in range(50)}
    mon.open(JOB)
    mon.want_farm = True
    assert len(mon.wanted_requests()) > 50 and len(mon.plan(None).requests) == 2
    assert not [r for r in mon.wanted_requests() if r[0] == "list"]
    mon.want_list = True
    mon.set_stream(StreamStatus(StreamState.CONNECTING))
    assert not [r for r in mon.wanted_requests() if r[0] == "list"], "the list waits for the stream's subscription"
    mon.set_stream(StreamStatus(StreamState.DOWN, "refused", refused=True))
    assert mon.plan(None).requests[0] == ("list", "")
    assert "not available" in mon.status_line()



def test_a_read_that_left_before_an_event_does_not_undo_it() -> None:
    """Managers before 3.8 send a job's previous `updated` with its status change, so a REST
    read of the old state can carry the same time as the event that replaced it."""
    now = [100.0]
    mon = monitor.Monitor(clock=lambda: now[0])
    mon.set_stream(StreamStatus(StreamState.LIVE, connects=1))
    mon.open(JOB)
    mon.apply(monitor.PollResult(open_job_id=JOB, done=[("job", JOB)], jobs={JOB: job("queued")}, planned_at=now[0]))
    plan = mon.plan(None)  # a read goes out ...
    now[0] += 0.1
    mon.apply_event(job_update(status="active", seconds=0, previous_status="queued"))  # ... an event overtakes it
    now[0] += 0.1
    mon.apply(monitor.PollResult(open_job_id=JOB, done=[("job", JOB)], jobs={JOB: job("queued")},
                                 planned_at=plan.planned_at))
    assert mon.open_job is not None and mon.open_job.status == "active"
    assert ("job", JOB) in mon.plan(None).requests, "read again"


def test_a_list_read_into_the_index_is_shown_at_once() -> None:
    """The job list panel reuses its sorted rows between redraws, but jobs arriving (the
    first list read after the panel opened empty) or leaving show at the next redraw."""
    now = [100.0]
    index = JobIndex(clock=lambda: now[0])
    assert index.query(None, "UPDATED", 15) == ([], 0)  # the panel opens before the list is read
    now[0] += 0.1
    index.replace({})
    index.apply(job_update(status="active", seconds=4))
    rows, total = index.query(None, "UPDATED", 15)
    assert total == 1 and [j.status for j in rows] == ["active"]
    now[0] += 0.1
    index.apply(job_update(status="completed", seconds=5, previous_status="active"))  # a change to a listed job may wait
    assert [j.status for j in index.query(None, "UPDATED", 15)[0]] == ["active"]
    now[0] += 1.0
    assert [j.status for j in index.query(None, "UPDATED", 15)[0]] == ["completed"]
    index.apply(job_update(was_deleted=True))
    assert index.query(None, "UPDATED", 15) == ([], 0)
