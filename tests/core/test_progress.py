"""Elapsed time and remaining time of a job, as the job panel shows them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from flamenco_desk_src.api import models
from flamenco_desk_src.core import monitor, progress

T0 = datetime(2026, 11, 29, 5, 0, tzinfo=timezone.utc)


def job(status: str, done: int, total: int, updated: datetime = T0) -> models.Job:
    return models.Job.from_json({
        "id": "0ce16ece-eb68-4cb2-b010-ea6c861f1bfc", "name": "j", "type": "t", "priority": 50, "status": status,
        "activity": "", "created": T0.isoformat(), "updated": updated.isoformat(), "steps_completed": done,
        "steps_total": total, "settings": {}, "metadata": {}, "submitter_platform": "",
    })


def test_remaining_time_includes_the_gaps_between_tasks() -> None:
    """Issue 8 #4: 15 % done after 27 s of running means about 2.5 minutes to go, whatever
    the tasks' own durations (the Worker waits and starts Blender between tasks)."""
    now = [1000.0]
    mon = monitor.Monitor(clock=lambda: now[0])
    mon.open(job("active", 0, 40).id)
    for at, done in ((1000.0, 0), (1013.5, 3), (1027.0, 6)):
        now[0] = at
        read = job("active", done, 40)
        mon.apply(monitor.PollResult(open_job_id=mon.open_job_id, done=[("job", read.id)], jobs={read.id: read}))
    assert mon.eta_seconds() == pytest.approx(27.0 * 34 / 6)
    now[0] = 1037.0  # between polls the estimate counts down
    assert mon.eta_seconds() == pytest.approx(27.0 * 34 / 6 - 10.0)


def test_no_estimate_before_progress_moves_or_while_paused() -> None:
    rate = progress.ProgressRate()
    rate.observe(0.2, 10.0, running=True)
    assert rate.remaining(10.0) is None  # one sample says nothing about speed
    rate.observe(0.4, 20.0, running=True)
    assert rate.remaining(20.0) == pytest.approx(30.0)
    rate.observe(0.4, 25.0, running=False)
    assert rate.remaining(25.0) is None
    rate.observe(0.5, 100.0, running=True)  # resumed: measured afresh
    assert rate.remaining(100.0) is None


def test_progress_going_back_restarts_the_measurement() -> None:
    rate = progress.ProgressRate()
    rate.observe(0.0, 0.0, running=True)
    rate.observe(0.5, 10.0, running=True)
    rate.observe(0.25, 11.0, running=True)  # tasks requeued
    assert rate.remaining(11.0) is None
    rate.observe(0.5, 21.0, running=True)
    assert rate.remaining(21.0) == pytest.approx(20.0)


def test_elapsed_stops_when_the_job_ends() -> None:
    """Issue 8 #3: a job that ran 2:11 keeps saying 2:11."""
    later = T0 + timedelta(minutes=10)
    finished = job("completed", 40, 40, updated=T0 + timedelta(seconds=131))
    assert progress.elapsed_seconds(finished, later) == 131.0
    assert progress.elapsed_seconds(job("paused", 3, 40, updated=T0 + timedelta(seconds=20)), later) == 20.0
    assert progress.elapsed_seconds(job("active", 3, 40), later) == 600.0
