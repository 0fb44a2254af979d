"""The monitor kept current by the real Manager's event stream, and by bounded polling when
the stream is dropped, absent or the Manager restarts (plain Python: the loop of
watching.tick_hook without bpy, tests/core/live_harness.py). A loopback relay in front of
the Manager cuts connections and refuses websocket upgrades (tests/support/tcp_relay.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from live_harness import Watcher

from local_farm import Farm
from support.farm_jobs import echo_job
from support.tcp_relay import TcpRelay


@pytest.fixture
def relay(farm: Farm) -> Iterator[TcpRelay]:
    with TcpRelay(farm.url) as tcp_relay:
        yield tcp_relay


@pytest.fixture
def watcher(relay: TcpRelay) -> Iterator[Callable[..., Watcher]]:
    made: list[Watcher] = []

    def make(**options: Any) -> Watcher:
        made.append(Watcher(relay.url, **options))
        return made[-1]

    yield make
    for w in made:
        w.close()


def settled(w: Watcher, job_id: str) -> bool:
    mon = w.monitor
    return bool(mon.live and mon.open_job is not None and mon.open_job.id == job_id and mon.tasks
                and not mon.pending_details and not w.bridge.busy("poll"))


def test_events_follow_a_running_job_with_few_requests(farm: Farm, watcher: Callable[..., Watcher]) -> None:
    job_id = echo_job(farm, "followed", sleep=1, repeats=2)
    w = watcher()
    w.monitor.open(job_id)
    w.run_until(lambda: settled(w, job_id), what="live, job and tasks read")
    assert w.monitor.open_job is not None and w.monitor.open_job.status == "paused"
    assert w.monitor.status_line() == "Live updates from the Manager"
    reads_before = len(w.requests_of("job")) + len(w.requests_of("tasks"))

    farm.post_json(f"/api/v3/jobs/{job_id}/setstatus", {"status": "queued", "reason": "test"})
    farm.kick_worker()
    seen: list[str] = []

    def completed() -> bool:
        job = w.monitor.open_job
        if job is not None and (not seen or seen[-1] != job.status):
            seen.append(job.status)
        return job is not None and job.status == "completed" and w.monitor.task_counts.get("completed") == len(w.monitor.tasks)

    w.run_until(completed, timeout=120, what="the job completes")
    assert "active" in seen, seen
    assert all(t.status == "completed" for t in w.monitor.tasks)
    if farm.release != "3.6":  # task workers and job steps (in events and REST) are 3.8+
        assert all(t.worker and t.worker.name == farm.worker_name for t in w.monitor.tasks), w.monitor.tasks
        assert w.monitor.open_job.steps_completed == w.monitor.open_job.steps_total > 0
    # Task states came as events: the job was re-read only to confirm its status changes.
    reads = len(w.requests_of("job")) + len(w.requests_of("tasks")) - reads_before
    assert reads <= len(seen) + 2, w.requests
    assert not w.requests_of("list")
    assert any(e.job.id == job_id and e.job.status == "completed" for e in w.monitor.events), "a notification"


def test_stream_dropped_falls_back_to_polling_and_comes_back(farm: Farm, relay: TcpRelay,
                                                            watcher: Callable[..., Watcher]) -> None:
    job_id = echo_job(farm, "dropped")
    w = watcher()
    w.monitor.open(job_id)
    w.run_until(lambda: settled(w, job_id))
    connects = w.monitor.stream.connects if w.monitor.stream else 0

    relay.block_websockets = True  # it cannot come straight back
    relay.drop_connections()
    w.run_until(lambda: not w.monitor.live, timeout=10, what="the stream is seen gone")
    w.run_until(lambda: w.monitor.status_line().startswith("Polling"), timeout=10)
    polls_before = len(w.requests_of("job"))
    # A change while the stream is away is found by polling.
    farm.post_json(f"/api/v3/jobs/{job_id}/setpriority", {"priority": 77})
    w.run_until(lambda: w.monitor.open_job is not None and w.monitor.open_job.priority == 77, timeout=25)
    assert not w.monitor.live and len(w.requests_of("job")) > polls_before

    relay.block_websockets = False
    w.run_until(lambda: w.monitor.live, timeout=15, what="the stream is back")
    assert w.monitor.stream is not None and w.monitor.stream.connects > connects
    assert w.monitor.status_line() == "Live updates from the Manager"
    # Back on events: the next change arrives without polling.
    jobs_read = len(w.requests_of("job"))
    w.run_for(1.0)  # the resync after subscribing
    jobs_read = len(w.requests_of("job"))
    farm.post_json(f"/api/v3/jobs/{job_id}/setpriority", {"priority": 33})
    w.run_until(lambda: w.monitor.open_job is not None and w.monitor.open_job.priority == 33, timeout=5)
    assert len(w.requests_of("job")) == jobs_read


def test_manager_restart(farm: Farm, watcher: Callable[..., Watcher]) -> None:
    job_id = echo_job(farm, "restart")
    w = watcher()
    w.monitor.open(job_id)
    w.run_until(lambda: settled(w, job_id))
    connects = w.monitor.stream.connects if w.monitor.stream else 0
    farm.restart_manager()
    w.run_until(lambda: w.monitor.stream is not None and w.monitor.stream.connects > connects and w.monitor.live,
                timeout=30, what="the stream reconnects after the restart")
    farm.post_json(f"/api/v3/jobs/{job_id}/setpriority", {"priority": 61})
    w.run_until(lambda: w.monitor.open_job is not None and w.monitor.open_job.priority == 61, timeout=5)
    w.run_until(lambda: w.monitor.error is None, timeout=10)


def test_stream_absent_polls_then_switches_to_the_stream(farm: Farm, relay: TcpRelay,
                                                         watcher: Callable[..., Watcher]) -> None:
    relay.block_websockets = True
    job_id = echo_job(farm, "absent")
    w = watcher()
    w.monitor.open(job_id)
    w.run_until(lambda: w.monitor.stream is not None and w.monitor.stream.refused and w.monitor.open_job is not None)
    assert "not available" in w.monitor.status_line(), w.monitor.status_line()
    farm.post_json(f"/api/v3/jobs/{job_id}/setpriority", {"priority": 12})
    w.run_until(lambda: w.monitor.open_job is not None and w.monitor.open_job.priority == 12, timeout=25)
    assert relay.websocket_refusals >= 1 and not w.monitor.live
    relay.block_websockets = False
    w.run_until(lambda: w.monitor.live, timeout=15, what="the stream is used once it is there")
    assert w.monitor.status_line() == "Live updates from the Manager"


def test_all_jobs_list_is_read_once_then_kept_by_events(farm: Farm, watcher: Callable[..., Watcher]) -> None:
    w = watcher()
    w.monitor.want_list = True
    w.run_until(lambda: w.monitor.live and w.monitor.index.fresh and not w.bridge.busy("poll"))
    assert len(w.requests_of("list")) == 1
    new = [echo_job(farm, f"listed {n}") for n in range(3)]
    w.run_until(lambda: all(j in w.monitor.index.rows for j in new), timeout=10, what="new jobs arrive as events")
    jobs, total = w.monitor.index.query(None, "CREATED", 3)
    assert [j.id for j in jobs] == new[::-1] and total == len(farm.get_json("/api/v3/jobs")["jobs"])
    farm.post_json(f"/api/v3/jobs/{new[0]}/setpriority", {"priority": 90})
    w.run_until(lambda: (w.monitor.index.job(new[0]) or jobs[0]).priority == 90, timeout=5)
    assert len(w.requests_of("list")) == 1, "no list read while the stream is live"


def test_farm_view(farm: Farm, watcher: Callable[..., Watcher]) -> None:
    w = watcher()
    w.monitor.want_farm = True

    def worker() -> Any:
        return next((x for x in w.monitor.farm.workers.values() if x.name == farm.worker_name), None)

    w.run_until(lambda: w.monitor.live and worker() is not None and w.monitor.farm.status and w.monitor.farm.tags_fresh)
    assert worker().status == "awake" and worker().last_seen is not None
    tag_name = f"desk-tag-{farm.port}-{len(w.monitor.farm.tags)}"
    farm.post_json("/api/v3/worker-mgt/tags", {"name": tag_name, "description": "made by a test"})
    w.run_until(lambda: any(t.name == tag_name for t in w.monitor.farm.tags.values()), timeout=5,
                what="a new tag arrives as an event")

    job_id = echo_job(farm, "farm view", sleep=3, repeats=1, paused=False)
    farm.kick_worker()
    w.run_until(lambda: worker() is not None and worker().task is not None and worker().task.job_id == job_id,
                timeout=60, what="the worker's current task")
    assert w.monitor.farm.status in ("active", "idle", "waiting", "asleep")
    farm.wait_for_job(job_id, kick=False)
