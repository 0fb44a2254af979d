"""Steering jobs: open one, pause / resume / cancel / requeue, priority, worker tag, delete.

Every action is offered only from the job states where it makes sense (core.job_actions)
and runs in the background; the Manager's answer comes back as a message.
"""

from typing import TYPE_CHECKING, Any, Callable, Optional

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from .. import manager_watches, profiles, props, state, watching
from ..core import job_actions
from ..core import doctor as core_doctor
from ..runtime import timer
from .online import OnlineOperator

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorTypeFlagItems

ACTION_KEY = "job-action"


class ActionFeedback:
    """The last action's result, shown in the job panel."""

    text: str = ""
    icon: str = "NONE"
    delete_prompt: Optional[tuple[str, str]] = None  # (job id, what deleting will do)


feedback = ActionFeedback()


class JobOperator:
    """Mixin of the operators that act on one job: the job panels' buttons name it by its id."""

    # Typed as Operator's, so an operator may set its own; for mypy only: Blender evaluates every
    # class annotation when it registers an operator, and this one names a stub-only type.
    if TYPE_CHECKING:
        bl_options: set[OperatorTypeFlagItems]
    bl_options = {"INTERNAL"}  # called from those buttons only, never from menus or search
    job_id: StringProperty()  # type: ignore[valid-type]

    def job(self) -> Any:
        """The job as the monitor of its Manager holds it (watched or open), or None if it does not (yet)."""
        return manager_watches.find_job(self.job_id)

    def client(self) -> Any:
        """A client for the Manager the job is on (several Managers: manager_watches.py)."""
        return manager_watches.client_for_job(self.job_id)


def _run_action(description: str, work: Callable[[], object], on_ok: Optional[Callable[[object], None]] = None,
                job_id: str = "") -> None:
    def ok(value: object) -> None:
        feedback.text, feedback.icon = f"{description}: done", "CHECKMARK"
        if on_ok:
            on_ok(value)
        manager_watches.poll_soon(job_id) if job_id else watching.monitor.poll_soon()
        state.redraw()

    def failed(ex: BaseException) -> None:
        feedback.text, feedback.icon = f"{description} failed: {state.describe_error(ex)}", "ERROR"
        print(f"Flamenco Desk: {feedback.text}")
        state.redraw()

    feedback.text, feedback.icon = f"{description}…", "SORTTIME"
    timer.run(work, ok, failed, key=ACTION_KEY)


class FLAMENCO_DESK_OT_open_job(JobOperator, bpy.types.Operator):
    bl_idname = "flamenco_desk.open_job"
    bl_label = "Open Job"
    bl_description = "Show this job's details, tasks, log and last rendered frame"

    def execute(self, context: bpy.types.Context) -> set[str]:
        if self.job_id:  # a job on another Manager: that Manager becomes the active one, to show it whole
            index = profiles.index_of(profiles.manager_of(self.job_id))
            # Looking at a job changes nothing of the artist's settings: no default job type or preset.
            prefs = context.preferences.addons[state.ADDON_ID].preferences
            if index >= 0 and profiles.activate(prefs, index, defaults=False):
                self.report({"INFO"}, f"Showing {profiles.name_for(profiles.active_url())}")
        watching.monitor.open(self.job_id or None)
        feedback.delete_prompt = None
        return {"FINISHED"}


class FLAMENCO_DESK_OT_select_task(bpy.types.Operator):
    bl_idname = "flamenco_desk.select_task"
    bl_label = "Show Task Log"
    bl_description = "Show the tail of this task's log"
    bl_options = {"INTERNAL"}

    task_id: StringProperty()  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        watching.monitor.select_task(self.task_id or None)
        return {"FINISHED"}


class FLAMENCO_DESK_OT_job_action(JobOperator, OnlineOperator):
    bl_idname = "flamenco_desk.job_action"
    bl_label = "Job Action"

    action: EnumProperty(  # type: ignore[valid-type]
        items=[(a.name, a.label, "") for a in job_actions.ALL if a.name != "delete"],
    )

    @classmethod
    def description(cls, context: bpy.types.Context, properties: Any) -> str:
        return {
            "pause": "Pause the job: queued tasks wait, running tasks finish",
            "resume": "Let the paused job run again",
            "cancel": "Cancel the job: running tasks stop within seconds",
            "requeue": "Run the job again (finished tasks of a completed job too)",
            "requeue_failed": "Run the failed tasks again",
        }.get(properties.action, "")

    def execute(self, context: bpy.types.Context) -> set[str]:
        job = self.job()
        if job is None:
            self.report({"ERROR"}, "That job is not known (yet); wait for the job list to refresh")
            return {"CANCELLED"}
        tasks = [t.status for t in watching.monitor.tasks] if watching.monitor.open_job_id == job.id else None
        if not job_actions.allowed(self.action, job.status, tasks):
            self.report({"ERROR"}, f'Cannot {self.action.replace("_", " ")} a job that is {job.status}')
            return {"CANCELLED"}
        client = self.client()
        label = f'{job_actions.BY_NAME[self.action].label} "{job.name}"'
        reason = f"{job_actions.BY_NAME[self.action].label} from Flamenco Desk"
        if self.action == "requeue_failed":
            failed = [t.id for t in watching.monitor.tasks if t.status == "failed"]
            if job_actions.requeue_failed_plan(job.status) == "job":
                _run_action(label, lambda: client.set_job_status(job.id, "requeueing", reason), job_id=job.id)
            else:
                _run_action(label, lambda: [client.set_task_status(t, "queued", reason) for t in failed], job_id=job.id)
            return {"FINISHED"}
        status = job_actions.status_for(self.action, tasks or ())
        _run_action(label, lambda: client.set_job_status(job.id, status, reason), job_id=job.id)
        return {"FINISHED"}


class FLAMENCO_DESK_OT_set_priority(JobOperator, OnlineOperator):
    bl_idname = "flamenco_desk.set_priority"
    bl_label = "Set Priority"
    bl_description = "Change the job's priority (higher runs first; affects tasks not yet started)"

    priority: IntProperty(name="Priority", min=0, max=100, default=50)  # type: ignore[valid-type]

    def invoke(self, context: bpy.types.Context, event: Any) -> set[str]:
        job = self.job()
        if job is not None:
            self.priority = job.priority
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context: bpy.types.Context) -> set[str]:
        client, priority, job_id = self.client(), self.priority, self.job_id
        _run_action(f"Priority {priority}", lambda: client.set_job_priority(job_id, priority), job_id=job_id)
        return {"FINISHED"}


class FLAMENCO_DESK_OT_set_worker_tag(JobOperator, OnlineOperator):
    bl_idname = "flamenco_desk.set_worker_tag"
    bl_label = "Set Worker Tag"
    bl_description = "Limit the job to workers with this tag (Flamenco 3.8 and newer)"

    tag: EnumProperty(name="Worker Tag", items=props.tag_items)  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not super().poll(context):
            return False
        info = state.info()
        if info is None or not info.features.settag:
            cls.poll_message_set("Changing the worker tag needs Flamenco Manager 3.8 or newer")
            return False
        return True

    def invoke(self, context: bpy.types.Context, event: Any) -> set[str]:
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context: bpy.types.Context) -> set[str]:
        client, job_id = self.client(), self.job_id
        tag_id = None if self.tag == props.NO_TAG else self.tag
        _run_action("Worker tag", lambda: client.set_job_tag(job_id, tag_id=tag_id), job_id=job_id)
        return {"FINISHED"}


class FLAMENCO_DESK_OT_delete_job(JobOperator, OnlineOperator):
    bl_idname = "flamenco_desk.delete_job"
    bl_label = "Delete Job"
    bl_description = "Delete the job from the Manager (rendered frames stay on disk)"

    confirmed: BoolProperty(default=False, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        job = self.job()
        if job is None or not job_actions.allowed("delete", job.status):
            self.report({"ERROR"}, "This job cannot be deleted in its current state; cancel it first")
            return {"CANCELLED"}
        client, job_id, name = self.client(), job.id, job.name
        if not self.confirmed:
            # First ask the Manager what deleting would do, then ask the artist.
            def ask(shaman: object) -> None:
                what = "its job files and the copy of the .blend in Shaman storage" if shaman else "its logs and job files on the Manager"
                feedback.delete_prompt = (job_id, f'Delete "{name}"? This removes {what}; rendered frames stay.')

            _run_action("Checking what delete does", lambda: client.what_would_delete_do(job_id), ask)
            return {"FINISHED"}
        feedback.delete_prompt = None

        def forget(_: object) -> None:
            if watching.monitor.open_job_id == job_id:
                watching.monitor.open(None)

        _run_action(f'Delete "{name}"', lambda: client.delete_job(job_id), forget, job_id=job_id)
        return {"FINISHED"}


class FLAMENCO_DESK_OT_dismiss_notice(bpy.types.Operator):
    bl_idname = "flamenco_desk.dismiss_notice"
    bl_label = "Dismiss"
    bl_description = "Hide this notification"
    bl_options = {"INTERNAL"}

    index: IntProperty(default=-1)  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        if 0 <= self.index < len(watching.notices):
            del watching.notices[self.index]
        elif self.index < 0:
            feedback.delete_prompt = None
        state.redraw()
        return {"FINISHED"}


classes = (
    FLAMENCO_DESK_OT_open_job,
    FLAMENCO_DESK_OT_select_task,
    FLAMENCO_DESK_OT_job_action,
    FLAMENCO_DESK_OT_set_priority,
    FLAMENCO_DESK_OT_set_worker_tag,
    FLAMENCO_DESK_OT_delete_job,
    FLAMENCO_DESK_OT_dismiss_notice,
)


# -- the farm doctor's fixes (core/doctor.py; offered with the Job panel's findings) -------------


class FLAMENCO_DESK_OT_unblock_worker(JobOperator, OnlineOperator):
    bl_idname = "flamenco_desk.unblock_worker"
    bl_label = "Unblock Worker"
    bl_description = ("Remove this Worker from the job's blocklist and requeue the tasks it failed, so that "
                      "they run again (a failed or paused job is requeued)")

    worker_id: StringProperty()  # type: ignore[valid-type]
    worker_name: StringProperty()  # type: ignore[valid-type]
    task_type: StringProperty()  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        client, job_id, worker_id, task_type = self.client(), self.job_id, self.worker_id, self.task_type
        name = self.worker_name or worker_id[:8]
        reason = f"{name} removed from the job's blocklist in Flamenco Desk"

        def said(value: object) -> None:
            assert isinstance(value, core_doctor.Unblocked)
            text = f"Unblocked {name}"
            if value.job_requeued:
                text += f"; requeued the job ({core_doctor.plural(len(value.requeued), 'task')} {name} failed)"
            elif value.requeued:
                text += f"; requeued {core_doctor.plural(len(value.requeued), 'task')} it failed"
            feedback.text = text
            watching.monitor.doctor.refresh()

        _run_action(f"Unblock {name}",
                    lambda: core_doctor.unblock(client, job_id, worker_id, task_type, reason=reason), said)
        return {"FINISHED"}


class FLAMENCO_DESK_OT_wake_worker(OnlineOperator):
    bl_idname = "flamenco_desk.wake_worker"
    bl_label = "Wake Worker"
    bl_description = ("Wake this sleeping Worker so that it takes work now (for TDs: a sleep schedule may send it "
                      "back to sleep at its next start or end time, or at midnight)")
    bl_options = {"INTERNAL"}

    worker_id: StringProperty()  # type: ignore[valid-type]
    worker_name: StringProperty()  # type: ignore[valid-type]

    def invoke(self, context: bpy.types.Context, event: Any) -> set[str]:
        name = self.worker_name or self.worker_id[:8]
        return context.window_manager.invoke_confirm(
            self, event, title=f"Wake {name}?",
            message=f"{name} takes work from the whole farm at once, until a sleep schedule sends it back to sleep.",
            confirm_text="Wake")

    def execute(self, context: bpy.types.Context) -> set[str]:
        client, worker_id = state.client(), self.worker_id
        name = self.worker_name or worker_id[:8]

        def said(_: object) -> None:
            feedback.text = f"Asked {name} to wake up"
            watching.monitor.doctor.refresh()

        _run_action(f"Wake {name}", lambda: client.set_worker_status(worker_id, "awake"), said)
        return {"FINISHED"}


doctor_classes = (FLAMENCO_DESK_OT_unblock_worker, FLAMENCO_DESK_OT_wake_worker)
