"""Re-render what failed or is missing, and approve or reject a scout-frames job. The work
(listing the output folder, asking the Manager) runs in the background (core.rerender,
core.scout); in `blender -b` the operator waits for it so scripts get a result."""

from __future__ import annotations

import sys
from typing import Callable, Optional

import bpy
from bpy.props import StringProperty

from .. import props, state, watching
from ..core import rerender, scout
from ..runtime import timer
from .online import OnlineOperator

WORKFLOW_KEY = "workflow"
HEADLESS_TIMEOUT = 300.0


class Result:
    """The last re-render / approve / reject result (main thread), for the panel and tests."""

    ok: bool = True
    message: str = ""
    new_job_id: str = ""


result = Result()


def _start(description: str, work: Callable[[], object], on_ok: Optional[Callable[[object], None]] = None) -> None:
    result.ok, result.message, result.new_job_id = True, f"{description}…", ""

    def ok(value: object) -> None:
        result.ok, result.message = True, str(getattr(value, "message", value))
        if on_ok is not None:
            on_ok(value)
        print(f"Flamenco Desk: {result.message}")
        watching.monitor.poll_soon()
        state.redraw()

    def failed(ex: BaseException) -> None:
        result.ok, result.message = False, f"{description} failed: {state.describe_error(ex)}"
        print(f"Flamenco Desk: {result.message}", file=sys.stderr)
        state.redraw()

    timer.run(work, ok, failed, key=WORKFLOW_KEY)


class _WorkflowOperator(OnlineOperator):
    bl_options = {"REGISTER"}
    job_id: StringProperty(name="Job ID")  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not super().poll(context):
            return False
        if timer.bridge.busy(WORKFLOW_KEY):
            cls.poll_message_set("Busy with the previous re-render, approval or rejection")
            return False
        return True

    def _finish(self) -> set[str]:
        if not bpy.app.background:
            self.report({"INFO"}, result.message)
            return {"FINISHED"}
        if not timer.bridge.wait_for(WORKFLOW_KEY, HEADLESS_TIMEOUT):
            self.report({"ERROR"}, "No answer in time")
            return {"CANCELLED"}
        if not result.ok:
            self.report({"ERROR"}, result.message)
            return {"CANCELLED"}
        self.report({"INFO"}, result.message)
        if result.new_job_id:
            print(f"FLAMENCO_DESK_JOB_ID={result.new_job_id}")
        return {"FINISHED"}


class FLAMENCO_DESK_OT_rerender_missing(_WorkflowOperator):
    bl_idname = "flamenco_desk.rerender_missing"
    bl_label = "Re-render Missing"
    bl_description = ("Render again the frames missing or empty in the job's output folder and those of its failed "
                      "tasks: requeues them when the job can, else submits a job for exactly those frames")

    def execute(self, context: bpy.types.Context) -> set[str]:
        info, client = state.info(), state.client()
        if info is None:
            self.report({"ERROR"}, "Not connected: refresh from the Manager first")
            return {"CANCELLED"}
        variables, can_list = dict(info.variables), info.features.jobs_list
        job_id = self.job_id or (watching.monitor.open_job_id or "")
        if not job_id:
            self.report({"ERROR"}, "Which job? Give job_id or open a job")
            return {"CANCELLED"}
        filepath = bpy.data.filepath
        scene_name = context.scene.name if context.scene else ""

        def work() -> rerender.Outcome:
            return rerender.rerender(client, job_id, variables, can_list)

        def done(value: object) -> None:
            new_job = getattr(value, "new_job", None)
            if new_job is None:
                return
            result.new_job_id = new_job.id
            watching.monitor.show_submitted(new_job)
            scene = bpy.data.scenes.get(scene_name) if bpy.data.filepath == filepath else None
            if scene is not None:  # watched with this file's jobs, like a submitted one
                ref = props.scene_props(scene).jobs.add()
                ref.job_id, ref.job_name, ref.job_type = new_job.id, new_job.name, new_job.type
                ref.manager_url, ref.status = client.base_url, str(new_job.status)
                ref.blend_path = str(new_job.settings.get("blendfile", ""))

        _start("Re-render", work, done)
        return self._finish()


class FLAMENCO_DESK_OT_scout_approve(_WorkflowOperator):
    bl_idname = "flamenco_desk.scout_approve"
    bl_label = "Approve"
    bl_description = "The scout frames look right: start the full job (it was submitted paused)"

    def execute(self, context: bpy.types.Context) -> set[str]:
        client, job_id = state.client(), self.job_id
        _start("Approve", lambda: scout.approve(client, job_id))
        return self._finish()


class FLAMENCO_DESK_OT_scout_reject(_WorkflowOperator):
    bl_idname = "flamenco_desk.scout_reject"
    bl_label = "Reject"
    bl_description = "The scout frames are wrong: delete the scout job and the paused full job"

    def execute(self, context: bpy.types.Context) -> set[str]:
        client, job_id = state.client(), self.job_id
        _start("Reject", lambda: scout.reject(client, job_id, can_delete=True))
        return self._finish()


classes = (FLAMENCO_DESK_OT_rerender_missing, FLAMENCO_DESK_OT_scout_approve, FLAMENCO_DESK_OT_scout_reject)
