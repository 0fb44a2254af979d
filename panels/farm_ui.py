"""Drawing the farm: status, Workers (status, current task, last seen) and worker tags.

Reads the monitor's in-memory farm view only (core/farm.py); drawing it tells the add-on
that someone is looking, which keeps it current.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .. import watching
from ..core import monitor as core_monitor
from . import fit, jobs_ui

WORKER_ICONS = {
    "awake": "PLAY",
    "asleep": "SORTTIME",
    "starting": "TIME",
    "testing": "EXPERIMENTAL",
    "restart": "FILE_REFRESH",
    "offline": "UNLINKED",
    "error": "ERROR",
}
MAX_WORKER_ROWS = 20


def draw_farm(layout: Any, context: Any) -> None:
    watching.farm_panel_drawn()
    mon = watching.monitor
    farm = mon.farm
    jobs_ui.draw_live_line(layout, context)
    layout.label(text=f"Farm: {farm.status or '…'}")
    workers = farm.sorted_workers()
    if not workers:
        layout.label(text="No Workers" if farm.workers_fresh else "Waiting for the Manager…")
    now = datetime.now(timezone.utc)
    col = layout.column(align=True)
    # What each Worker does and, while idle, why it does not take the open job (the farm
    # doctor's notes, core/doctor.py), when the Job panel's findings are on screen.
    if mon.open_job_id:
        watching.doctor_drawn()
    notes = mon.doctor.notes() if mon.doctoring() else {}
    for worker in workers[:MAX_WORKER_ROWS]:
        # Two lines: the name, then what it does (narrow sidebar).
        col.label(text=worker.name, icon=WORKER_ICONS.get(worker.status, "QUESTION"))
        seen = f"seen {core_monitor.age(worker.last_seen, now)} ago" if worker.last_seen else "not seen yet"
        task = worker.task.name if worker.task is not None and worker.status == "awake" else ""
        note = notes.get(worker.id)
        if note:
            fit.wrapped(col, context, f"{note}  ·  {seen}", "BLANK1")
            continue
        fit.wrapped(col, context, f"{worker.status}{'  ·  ' + task if task else ''}  ·  {seen}", "BLANK1")
    if len(workers) > MAX_WORKER_ROWS:
        layout.label(text=f"…and {len(workers) - MAX_WORKER_ROWS} more")
    if farm.tags:
        fit.wrapped(layout, context, "Tags: " + ", ".join(sorted(t.name for t in farm.tags.values())), "BOOKMARKS")
