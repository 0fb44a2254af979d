"""Drawing jobs: the list, the open job's detail, the status-bar indicator.

Draw code reads the monitor's in-memory state only; it never waits on the network.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

import bpy

from .. import props, state, watching
from ..api.models import Job
from ..core import job_actions, monitor as core_monitor
from ..operators.jobs import feedback

STATUS_ICONS = {
    "under-construction": "TOOL_SETTINGS",
    "queued": "SORTTIME",
    "active": "PLAY",
    "paused": "PAUSE",
    "pause-requested": "PAUSE",
    "cancel-requested": "CANCEL",
    "canceled": "CANCEL",
    "requeueing": "FILE_REFRESH",
    "completed": "CHECKMARK",
    "failed": "ERROR",
    "soft-failed": "ERROR",
}
STATUS_GROUPS = {
    "ALL": None,
    "RUNNING": job_actions.ACTIVE_STATES | {"paused"},
    "COMPLETED": {"completed"},
    "FAILED": {"failed", "canceled"},
}
MAX_ROWS = 15
MAX_TASK_ROWS = 12


def icon(status: str) -> str:
    return STATUS_ICONS.get(status, "QUESTION")


def listed(ui: Any, limit: int = MAX_ROWS) -> tuple[list[Job], int]:
    """The first `limit` rows of the list as filtered and sorted, and how many there are."""
    mon = watching.monitor
    if ui.list_scope == "ALL":  # every job on the Manager: the monitor's compact index
        return mon.index.query(STATUS_GROUPS.get(ui.status_filter), ui.sort_by, limit)
    jobs = [mon.jobs[i] for i in watching.file_job_ids() if i in mon.jobs]
    wanted = STATUS_GROUPS.get(ui.status_filter)
    if wanted is not None:
        jobs = [j for j in jobs if j.status in wanted]
    key = {
        "UPDATED": lambda j: j.updated,
        "CREATED": lambda j: j.created,
        "NAME": lambda j: j.name.lower(),
        "PRIORITY": lambda j: j.priority,
        "STATUS": lambda j: j.status,
    }[ui.sort_by]
    jobs = sorted(jobs, key=key, reverse=ui.sort_by in {"UPDATED", "CREATED", "PRIORITY"})
    return jobs[:limit], len(jobs)


def progress_text(job: Job) -> str:
    mon = watching.monitor
    pct = int(round(mon.progress(job) * 100))
    if job.steps_total:
        return f"{pct}%  ({job.steps_completed}/{job.steps_total})"
    return f"{pct}%"


def draw_progress(layout: Any, job: Job) -> None:
    factor = watching.monitor.progress(job)
    if hasattr(layout, "progress"):  # UILayout.progress: Blender 4.0+
        layout.progress(factor=factor, type="BAR", text=progress_text(job))
    else:
        layout.label(text=progress_text(job))


def draw_notices(layout: Any) -> None:
    for index, notice in enumerate(watching.notices):
        row = layout.row(align=True)
        row.label(text=notice.text, icon=notice.icon)
        op = row.operator("flamenco_desk.open_job", text="", icon="VIEWZOOM")
        op.job_id = notice.job_id
        op = row.operator("flamenco_desk.dismiss_notice", text="", icon="X")
        op.index = index


def draw_job_list(layout: Any, context: Any) -> None:
    watching.panel_drawn()
    ui = context.window_manager.flamenco_desk_ui
    mon = watching.monitor
    draw_notices(layout)
    row = layout.row(align=True)
    row.prop(ui, "list_scope", expand=True)
    row = layout.row(align=True)
    row.prop(ui, "status_filter", text="")
    row.prop(ui, "sort_by", text="")
    if mon.error:
        layout.label(text=mon.error, icon="ERROR")
    jobs, total = listed(ui)
    if not jobs:
        layout.label(text="No jobs" if mon.last_poll_at else "Waiting for the Manager…")
        return
    now = datetime.now(timezone.utc)
    col = layout.column(align=True)
    for job in jobs:
        row = col.row(align=True)
        op = row.operator("flamenco_desk.open_job", text=job.name or job.id[:8], icon=icon(job.status),
                          depress=job.id == mon.open_job_id)
        op.job_id = job.id
        draw_progress(row, job)
        row.label(text=f"P{job.priority} · {core_monitor.age(job.created, now)}")
    if total > len(jobs):
        layout.label(text=f"…and {total - len(jobs)} more")


def draw_actions(layout: Any, job: Job) -> None:
    tasks = [t.status for t in watching.monitor.tasks]
    row = layout.row(align=True)
    for action in job_actions.ALL:
        if action.name == "delete" or not job_actions.allowed(action.name, job.status, tasks):
            continue
        op = row.operator("flamenco_desk.job_action", text=action.label)
        op.job_id, op.action = job.id, action.name
    row = layout.row(align=True)
    op = row.operator("flamenco_desk.set_priority", text=f"Priority {job.priority}", icon="SORT_DESC")
    op.job_id = job.id
    info = state.info()
    if info is not None and info.features.settag:  # hidden on Managers before 3.8
        op = row.operator("flamenco_desk.set_worker_tag", text="Tag", icon="BOOKMARKS")
        op.job_id = job.id
    if job_actions.allowed("delete", job.status):
        op = row.operator("flamenco_desk.delete_job", text="", icon="TRASH")
        op.job_id = job.id
    if feedback.delete_prompt and feedback.delete_prompt[0] == job.id:
        box = layout.box()
        box.label(text=feedback.delete_prompt[1], icon="QUESTION")
        row = box.row()
        op = row.operator("flamenco_desk.delete_job", text="Delete", icon="TRASH")
        op.job_id, op.confirmed = job.id, True
        op = row.operator("flamenco_desk.dismiss_notice", text="Keep")
        op.index = -1
    if feedback.text:
        layout.label(text=feedback.text, icon=feedback.icon)


def draw_open_job(layout: Any, context: Any) -> None:
    mon = watching.monitor
    job = mon.open_job
    if job is None:
        layout.label(text="Click a job to see its tasks and frames")
        return
    layout.label(text=f"{job.name}  ·  {job.type}", icon=icon(job.status))
    layout.label(text=f"Status: {job.status}" + (f"  ·  {job.activity}" if job.activity else ""))
    draw_progress(layout, job)
    elapsed = (datetime.now(timezone.utc) - job.created).total_seconds()
    eta = mon.eta_seconds()
    layout.label(text=f"Elapsed {core_monitor.duration(elapsed)}" + (f"  ·  ETA {core_monitor.duration(eta)}" if eta else ""))
    if mon.task_counts:
        layout.label(text="  ".join(f"{status}: {n}" for status, n in sorted(mon.task_counts.items())))
    draw_actions(layout, job)

    icon_id = watching.thumbnail_icon()
    if icon_id:
        layout.template_icon(icon_value=icon_id, scale=8.0)
        op = layout.operator("flamenco_desk.view_last_rendered", icon="IMAGE_DATA")
        op.job_id = job.id

    row = layout.row(align=True)
    for idname, text, icon_name in (
        ("flamenco_desk.open_output_folder", "Folder", "FILE_FOLDER"),
        ("flamenco_desk.load_frames", "Frames", "IMAGE_DATA"),
        ("flamenco_desk.open_in_web", "Web", "URL"),
    ):
        op = row.operator(idname, text=text, icon=icon_name)
        op.job_id = job.id
    op = row.operator("flamenco_desk.load_frames", text="Sequencer", icon="SEQUENCE")
    op.job_id, op.target = job.id, "SEQUENCER"

    draw_tasks(layout)


def draw_tasks(layout: Any) -> None:
    mon = watching.monitor
    if not mon.tasks:
        return
    box = layout.box()
    # Failed and running tasks first: those are the ones an artist looks for.
    order = {"failed": 0, "soft-failed": 1, "active": 2}
    tasks = sorted(mon.tasks, key=lambda t: (order.get(t.status, 3), t.index_in_job))
    for task in tasks[:MAX_TASK_ROWS]:
        row = box.row(align=True)
        op = row.operator("flamenco_desk.select_task", text=task.name, icon=icon(task.status),
                          depress=task.id == mon.selected_task_id)
        op.task_id = task.id
        worker = task.worker.name if task.worker and task.worker.name else "-"
        steps = f"{task.steps_completed}/{task.steps_total}" if task.steps_total else ""
        row.label(text=f"{task.status} · {worker} {steps}")
    if len(tasks) > MAX_TASK_ROWS:
        box.label(text=f"…{len(tasks) - MAX_TASK_ROWS} more tasks")
    if mon.log is not None:
        task_id, text = mon.log
        name = next((t.name for t in mon.tasks if t.id == task_id), task_id[:8])
        log_box = layout.box()
        log_box.label(text=f"Log of {name}", icon="TEXT")
        for line in (text.splitlines() or ["(empty)"])[-12:]:
            log_box.label(text=line[:200])


def latest_file_job() -> Optional[Job]:
    refs = [ref for scene in bpy.data.scenes for ref in props.scene_props(scene).jobs]
    for ref in reversed(refs):
        job = watching.monitor.jobs.get(ref.job_id)
        if job is not None:
            return job
    return None


def draw_latest_file_job(layout: Any) -> None:
    """Under the submit button: how the file's latest job is doing."""
    job = latest_file_job()
    if job is None:
        return
    row = layout.row(align=True)
    op = row.operator("flamenco_desk.open_job", text=job.name, icon=icon(job.status))
    op.job_id = job.id
    draw_progress(row, job)


def draw_statusbar(self: Any, context: Any) -> None:
    job = watching.monitor.open_job or latest_file_job()
    if job is None or job.status not in job_actions.ACTIVE_STATES | {"paused"}:
        return
    row = self.layout.row(align=True)
    row.label(text=f"Flamenco: {job.name}", icon=icon(job.status))
    draw_progress(row, job)
