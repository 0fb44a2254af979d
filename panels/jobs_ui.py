"""Drawing jobs: the list, the open job's detail, the status-bar indicator.

Draw code reads the monitor's in-memory state only; it never waits on the network. Rows are
laid out for the narrow sidebar first (names on their own line, messages wrapped), so nothing
is cut off at its default width.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

import bpy

from .. import manager_watches, props, state, watching
from ..api.models import Job, TaskSummary
from ..core import job_actions, monitor as core_monitor, progress, task_log
from ..core import doctor as core_doctor
from ..operators.jobs import feedback
from ..runtime import share
from . import fit, workflow_ui

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
LOG_LINES = 12


def icon(status: str) -> str:
    return STATUS_ICONS.get(status, "QUESTION")


def listed(ui: Any, limit: int = MAX_ROWS) -> tuple[list[Job], int]:
    """The first `limit` rows of the list as filtered and sorted, and how many there are."""
    mon = watching.monitor
    if ui.list_scope == "ALL":  # every job on the Manager: the monitor's compact index
        return mon.index.query(STATUS_GROUPS.get(ui.status_filter), ui.sort_by, limit)
    jobs = manager_watches.file_jobs_known()  # on every Manager (several Managers)
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
    if job.id == mon.open_job_id and mon.tasks:  # Managers before 3.8 count tasks only
        return f"{pct}%  ({mon.task_counts.get('completed', 0)}/{len(mon.tasks)} tasks)"
    return f"{pct}%"


def draw_progress(layout: Any, job: Job, text: Optional[str] = None) -> None:
    factor = watching.monitor.progress(job)
    text = progress_text(job) if text is None else text
    if hasattr(layout, "progress"):  # UILayout.progress: Blender 4.0+
        layout.progress(factor=factor, type="BAR", text=text)
    else:
        layout.label(text=text)


def draw_notices(layout: Any, context: Any) -> None:
    for index, notice in enumerate(watching.notices):
        box = layout.box()
        row = box.row(align=True)
        op = row.operator("flamenco_desk.open_job", text="Open", icon="VIEWZOOM")
        op.job_id = notice.job_id
        op = row.operator("flamenco_desk.dismiss_notice", text="", icon="X")
        op.index = index
        fit.wrapped(box, context, notice.text, notice.icon)


def draw_job_list(layout: Any, context: Any) -> None:
    watching.panel_drawn()
    ui = context.window_manager.flamenco_desk_ui
    mon = watching.monitor
    draw_notices(layout, context)
    row = layout.row(align=True)
    row.prop(ui, "list_scope", expand=True)
    row = layout.row(align=True)
    row.prop(ui, "status_filter", text="")
    row.prop(ui, "sort_by", text="")
    draw_live_line(layout, context)
    if mon.error:
        fit.wrapped(layout, context, mon.error, "ERROR")
    jobs, total = listed(ui)
    if not jobs:
        layout.label(text="No jobs" if mon.last_poll_at else "Waiting for the Manager…")
        return
    now = datetime.now(timezone.utc)
    col = layout.column(align=True)
    for header, job in workflow_ui.grouped(jobs):
        if header:
            col.label(text=header, icon="LINKED")
        # Two lines per job: the name gets the whole width, the numbers go on the bar.
        op = col.operator("flamenco_desk.open_job", text=job.name or job.id[:8], icon=icon(job.status),
                          depress=job.id == mon.open_job_id)
        op.job_id = job.id
        draw_progress(col, job, f"{progress_text(job)}  ·  P{job.priority}  ·  {core_monitor.age(job.created, now)}")
        manager = manager_watches.manager_label(job.id) if ui.list_scope == "FILE" else ""
        if manager:  # which Manager it is on, once there are several
            col.label(text=manager, icon="NETWORK_DRIVE")
        col.separator(factor=0.5)
    if total > len(jobs):
        layout.label(text=f"…and {total - len(jobs)} more")


def draw_live_line(layout: Any, context: Any) -> None:
    """Whether what the panels show is pushed by the Manager or polled, and how often."""
    mon = watching.monitor
    line = mon.status_line()
    if line:
        fit.wrapped(layout, context, line, "LINKED" if mon.live else "UNLINKED")


def draw_actions(layout: Any, context: Any, job: Job) -> None:
    tasks = [t.status for t in watching.monitor.tasks]
    offered = [a for a in job_actions.ALL if a.name != "delete" and job_actions.allowed(a.name, job.status, tasks)]
    columns = 2 if fit.narrow(context) else 3
    grid = layout.grid_flow(row_major=True, columns=columns, even_columns=True, align=True)
    for action in offered:
        op = grid.operator("flamenco_desk.job_action", text=action.label)
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
        fit.wrapped(box, context, feedback.delete_prompt[1], "QUESTION")
        row = box.row()
        op = row.operator("flamenco_desk.delete_job", text="Delete", icon="TRASH")
        op.job_id, op.confirmed = job.id, True
        op = row.operator("flamenco_desk.dismiss_notice", text="Keep")
        op.index = -1
    if feedback.text:
        fit.wrapped(layout, context, feedback.text, feedback.icon)


def time_line(job: Job) -> str:
    mon = watching.monitor
    text = f"Elapsed {core_monitor.duration(progress.elapsed_seconds(job, datetime.now(timezone.utc)))}"
    eta = mon.eta_seconds() if job.status in progress.RUNNING_STATES else None
    return text + (f"  ·  about {core_monitor.duration(eta)} left" if eta else "")


def draw_open_job(layout: Any, context: Any) -> None:
    mon = watching.monitor
    job = mon.open_job
    if job is None:
        fit.wrapped(layout, context, "Click a job to see its tasks and frames")
        return
    fit.wrapped(layout, context, job.name, icon(job.status))
    fit.wrapped(layout, context, f"{job.type}  ·  {job.status}")
    if job.activity:
        fit.wrapped(layout, context, job.activity)
    # What the task logs say, where the artist looks first: why it failed, a GPU job on the CPU.
    for found in (mon.failure, mon.cpu_fallback):
        if found is not None:
            col = layout.column()
            col.alert = True
            text = found.failure_message() if found is mon.failure else found.cpu_fallback_message()
            fit.wrapped(col, context, text, "ERROR")
    draw_findings(layout, context, job)
    draw_progress(layout, job)
    layout.label(text=time_line(job))
    if mon.task_counts:
        fit.wrapped(layout, context, "Tasks: " + ", ".join(f"{n} {s}" for s, n in sorted(mon.task_counts.items())))
    draw_actions(layout, context, job)

    if mon.thumbnail_problem:
        fit.wrapped(layout, context, mon.thumbnail_problem, "ERROR")
    icon_id = watching.thumbnail_icon()
    if icon_id:
        layout.template_icon(icon_value=icon_id, scale=8.0)
        op = layout.operator("flamenco_desk.view_last_rendered", icon="IMAGE_DATA")
        op.job_id = job.id

    grid = layout.grid_flow(row_major=True, columns=2 if fit.narrow(context) else 4, even_columns=True, align=True)
    for idname, text, icon_name, target in (
        ("flamenco_desk.open_output_folder", "Folder", "FILE_FOLDER", None),
        ("flamenco_desk.load_frames", "Frames", "IMAGE_DATA", "IMAGE_EDITOR"),
        ("flamenco_desk.load_frames", "Sequencer", "SEQUENCE", "SEQUENCER"),
        ("flamenco_desk.open_in_web", "Web", "URL", None),
    ):
        op = grid.operator(idname, text=text, icon=icon_name)
        op.job_id = job.id
        if target:
            op.target = target
    for line in share.lines():  # the output folder's answer, or that the share does not answer
        fit.wrapped(layout, context, line, "INFO")
    # Below the frame and the results: those keep their place in a sidebar of default height.
    workflow_ui.draw_open_job_extras(layout, context, job)

    draw_tasks(layout, context)


FINDING_ICONS = {
    core_doctor.RENDERING: "PLAY",
    core_doctor.NEXT_IN_LINE: "SORTTIME",
    core_doctor.DONE: "CHECKMARK",
    core_doctor.CPU_FALLBACK: "ERROR",
}


def draw_findings(layout: Any, context: Any, job: Job) -> None:
    """Why the job is (not) rendering: the farm doctor's findings (core/doctor.py), most
    blocking first, each with the buttons that fix it where the Manager has a way."""
    watching.doctor_drawn()
    mon = watching.monitor
    # Not repeated here: "completed" is the status line's, the CPU fallback the log line's above;
    # a finished job's panel keeps its room for the frame and the results.
    findings = [f for f in mon.doctor.findings(job.id)
                if f.kind not in (core_doctor.DONE, core_doctor.CPU_FALLBACK)]
    if not findings:
        return
    info = state.info()
    box = layout.box()
    for finding in findings:
        col = box.column(align=True)
        col.alert = finding.blocking
        fit.wrapped(col, context, finding.text, "ERROR" if finding.blocking else FINDING_ICONS.get(finding.kind, "INFO"))
        col.alert = False
        buttons = [a for a in finding.actions if a.kind in (core_doctor.WAKE, core_doctor.UNBLOCK)
                   or (a.kind == core_doctor.SET_TAG and info is not None and info.features.settag)]
        if not buttons:
            continue
        grid = col.grid_flow(row_major=True, columns=1 if fit.narrow(context) else 2, even_columns=True, align=True)
        for action in buttons:
            if action.kind == core_doctor.WAKE:
                op = grid.operator("flamenco_desk.wake_worker", text=action.label, icon="LIGHT_SUN")
                op.worker_id, op.worker_name = action.worker_id, action.worker_name
            elif action.kind == core_doctor.UNBLOCK:
                op = grid.operator("flamenco_desk.unblock_worker", text=action.label, icon="UNLOCKED")
                op.job_id, op.worker_id, op.worker_name, op.task_type = (
                    job.id, action.worker_id, action.worker_name, action.task_type)
            else:
                op = grid.operator("flamenco_desk.set_worker_tag", text=action.label, icon="BOOKMARKS")
                op.job_id = job.id


def task_line(task: TaskSummary) -> str:
    """'active · worker-1 · 2/5 steps', 'queued · not started'."""
    parts = [task.status]
    worker = task.worker.name if task.worker and task.worker.name else ""
    if worker:
        parts.append(worker)
    elif task.status == "queued":
        parts.append("not started")
    if task.steps_total:
        parts.append(f"{task.steps_completed}/{task.steps_total} steps")
    return "  ·  ".join(parts)


def draw_tasks(layout: Any, context: Any) -> None:
    mon = watching.monitor
    if not mon.tasks:
        return
    box = layout.box()
    # Failed and running tasks first: those are the ones an artist looks for.
    order = {"failed": 0, "soft-failed": 1, "active": 2}
    tasks = sorted(mon.tasks, key=lambda t: (order.get(t.status, 3), t.index_in_job))
    col = box.column(align=True)
    for task in tasks[:MAX_TASK_ROWS]:
        op = col.operator("flamenco_desk.select_task", text=task.name, icon=icon(task.status),
                          depress=task.id == mon.selected_task_id)
        op.task_id = task.id
        fit.wrapped(col, context, task_line(task), "BLANK1")
    if len(tasks) > MAX_TASK_ROWS:
        box.label(text=f"…{len(tasks) - MAX_TASK_ROWS} more tasks")
    if mon.log is not None:
        task_id, text = mon.log
        name = next((t.name for t in mon.tasks if t.id == task_id), task_id[:8])
        log_box = layout.box()
        log_box.label(text=f"Log of {name}", icon="TEXT")
        lines = text.splitlines()[-LOG_LINES:] or ["(empty)"]
        col = log_box.column(align=True)
        for line in lines:  # from the network: escapes stripped, a 10 MB line cut short
            fit.wrapped(col, context, task_log.shown(line))


def latest_file_job() -> Optional[Job]:
    refs = [ref for scene in bpy.data.scenes for ref in props.scene_props(scene).jobs]
    for ref in reversed(refs):
        job = manager_watches.find_job(ref.job_id)
        if job is not None:
            return job
    return None


def draw_latest_file_job(layout: Any) -> None:
    """Under the submit button: how the file's latest job is doing."""
    job = latest_file_job()
    if job is None:
        return
    col = layout.column(align=True)
    op = col.operator("flamenco_desk.open_job", text=job.name, icon=icon(job.status))
    op.job_id = job.id
    draw_progress(col, job)


def statusbar_job() -> Optional[Job]:
    """The job the status-bar indicator shows: the open or latest one of this file, while it
    runs or waits."""
    job = watching.monitor.open_job or latest_file_job()
    if job is None or job.status not in job_actions.ACTIVE_STATES | {"paused"}:
        return None
    return job


def statusbar_text() -> str:
    job = statusbar_job()
    return "" if job is None else f"Flamenco: {job.name}  {progress_text(job)}"


def draw_statusbar(self: Any, context: Any) -> None:
    job = statusbar_job()
    if job is None:
        return
    row = self.layout.row(align=True)
    row.label(text=f"Flamenco: {job.name}", icon=icon(job.status))
    draw_progress(row, job)
