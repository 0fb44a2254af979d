"""The Manager restarts while a job runs: the monitor notices, waits, and recovers by itself."""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy

from local_farm import Farm
from support.blender_helpers import refresh, save_shot, select_job_type, tick_until


def test_monitor_recovers_after_a_manager_restart(connected: ModuleType, farm: Farm, prefs: Any,
                                                  tmp_path: Path) -> None:
    desk = connected
    prefs.manager_url = farm.url  # straight to the Manager: its real restart is the fault
    refresh(desk)
    save_shot(tmp_path / "artist" / "restart.blend")
    grp = select_job_type(desk, "echo-sleep-test")
    grp.message, grp.sleep_duration_seconds, grp.sleep_repeats = "restart", 2, 4
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    job_id = desk.submitting.last_outcome.job_id
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    mon = desk.watching.monitor
    farm.kick_worker()
    tick_until(desk, lambda: mon.open_job is not None and mon.open_job.status == "active", timeout=60)

    farm.stop_manager()
    mon.poll_soon()
    tick_until(desk, lambda: mon.error is not None, timeout=30)
    assert "refused" in mon.error
    errors_seen = mon.failures
    time.sleep(1.0)
    farm.start_manager()

    # Nothing forced from here: only the timer ticking, as in Blender.
    started = time.monotonic()
    tick_until(desk, lambda: mon.error is None, timeout=70)
    recovered_after = time.monotonic() - started
    assert errors_seen >= 1 and recovered_after < 65
    tick_until(desk, lambda: mon.open_job.status == "completed", timeout=120)
    assert mon.progress(mon.open_job) == 1.0
