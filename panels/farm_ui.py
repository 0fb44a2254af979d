"""Drawing the farm: status, Workers (status, current task, last seen) and worker tags.

Reads the monitor's in-memory farm view only (core/farm.py); drawing it tells the add-on
that someone is looking, which keeps it current.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .. import watching
from ..core import monitor as core_monitor

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
    line = mon.status_line()
    if line:
        layout.label(text=line, icon="LINKED" if mon.live else "UNLINKED")
    layout.label(text=f"Farm: {farm.status or '…'}")
    workers = farm.sorted_workers()
    if not workers:
        layout.label(text="No Workers" if farm.workers_fresh else "Waiting for the Manager…")
    now = datetime.now(timezone.utc)
    col = layout.column(align=True)
    for worker in workers[:MAX_WORKER_ROWS]:
        row = col.row(align=True)
        row.label(text=worker.name, icon=WORKER_ICONS.get(worker.status, "QUESTION"))
        seen = core_monitor.age(worker.last_seen, now) if worker.last_seen else "-"
        task = worker.task.name if worker.task is not None and worker.status == "awake" else ""
        row.label(text=f"{worker.status}{' · ' + task if task else ''} · seen {seen}")
    if len(workers) > MAX_WORKER_ROWS:
        layout.label(text=f"…and {len(workers) - MAX_WORKER_ROWS} more")
    if farm.tags:
        layout.label(text="Tags: " + ", ".join(sorted(t.name for t in farm.tags.values())), icon="BOOKMARKS")
