"""One-click submission. The operator returns at once; the network part runs in the
background (or, in `blender -b`, the operator waits for it so scripts get a result)."""


import os
import sys

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty

from .. import batching, job_presets, profile_presets, props, state, submitting, templating
from ..api import models
from ..runtime import timer
from .online import OnlineOperator

# Upper bound for headless waiting: the client's own timeouts end every request sooner.
HEADLESS_TIMEOUT = 600.0


def headless() -> bool:
    """Blender without a UI (`blender -b`, or the bpy module): the only place an operator may
    wait for the network. A function, so a test in the bpy module can play the UI."""
    return bool(bpy.app.background)


class FLAMENCO_DESK_OT_submit_job(OnlineOperator):
    bl_idname = "flamenco_desk.submit_job"
    bl_label = "Submit to Flamenco"
    bl_description = "Submit this scene to the Flamenco farm"

    mode: EnumProperty(  # type: ignore[valid-type]
        name="Mode",
        items=[
            ("AUTO", "Automatic", "Wait for the result only when Blender runs without a UI"),
            ("ASYNC", "Background", "Return at once; the result shows in the panel"),
            ("SYNC", "Wait", "Wait for the result (the UI is not redrawn meanwhile)"),
        ],
        default="AUTO",
        options={"SKIP_SAVE"},
    )
    exit_on_error: BoolProperty(  # type: ignore[valid-type]
        name="Exit on Error",
        description="In 'blender -b', quit with exit code 1 when the submission fails",
        default=True,
        options={"SKIP_SAVE"},
    )

    problems: EnumProperty(  # type: ignore[valid-type]
        name="Problems",
        description="What to do when files of the shot are missing or unreadable",
        items=[
            ("ASK", "Ask", "Stop and list them in the panel (headless: list them, then submit)"),
            ("SUBMIT", "Submit Anyway", "List them and submit; the farm renders without them"),
            ("STOP", "Stop", "List them and submit nothing"),
        ],
        default="ASK",
        options={"SKIP_SAVE"},
    )

    job_type: StringProperty(  # type: ignore[valid-type]
        name="Job Type",
        description="Select this job type before submitting (for scripts); empty keeps the scene's",
        options={"SKIP_SAVE"},
    )

    preset: StringProperty(  # type: ignore[valid-type]
        name="Preset",
        description="Load this preset of the job type before submitting (yours first, then the project's, the studio's)",
        options={"SKIP_SAVE"},
    )
    batch: EnumProperty(  # type: ignore[valid-type]
        name="Batch",
        description="Submit several jobs sharing one pack or upload (batching.py)",
        items=[
            ("NONE", "One Job", "One job for the scene"),
            ("CAMERA_MARKERS", "Per Camera Marker", "One job per camera bound to a timeline marker, "
             "from that marker to the next (the last to the scene's end)"),
            ("VIEW_LAYERS", "Per View Layer", "One job per view layer (job types with a view_layer setting)"),
            ("SCENES", "Per Scene", "One job per scene with a camera"),
        ],
        default="NONE",
        options={"SKIP_SAVE"},
    )
    scout: BoolProperty(  # type: ignore[valid-type]
        name="Scout Frames",
        description="Render the first, middle and last frame first at a higher priority; the full job "
                    "waits paused until approved in the Job panel",
        default=False,
        options={"SKIP_SAVE"},
    )

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not super().poll(context):
            return False
        if timer.bridge.busy(submitting.SUBMIT_KEY):
            cls.poll_message_set("A submission is already under way")
            return False
        return context.scene is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        scene = context.scene
        if self.mode == "SYNC" and not headless():
            # Waiting would sleep on Blender's main thread: the UI would freeze until the
            # Manager answered (or for up to HEADLESS_TIMEOUT). Only a script in -b may wait.
            self.report({"ERROR"}, 'mode="SYNC" waits for the Manager and only works in "blender -b"; '
                                   "in Blender's UI the submission runs in the background (mode=\"ASYNC\")")
            return {"CANCELLED"}
        # What is submitted is what the scene holds now: a profile's default preset still on its
        # way (picked just before) is not applied in the middle of this (profile_presets).
        profile_presets.drop("a submission started before the Manager's job types arrived")
        wait = self.mode == "SYNC" or (self.mode == "AUTO" and headless())
        if wait:
            # Headless runs start cold: get the Manager's current job types first.
            state.refresh()
            if not timer.bridge.wait_for(state.REFRESH_KEY, HEADLESS_TIMEOUT) or state.info() is None:
                line = state.connection_line()
                return self._fail(line.text if line else "Could not reach the Manager")
        if self.job_type:
            props.scene_props(scene).job_type = self.job_type
        if self.preset:
            problem = self._load_preset(scene, wait)
            if problem:
                return self._fail(problem)
        kind = "SCOUT" if self.scout else self.batch
        # {version}: the output folders (a batch's parts' too) listed first
        if wait and not templating.prefetch(scene, batching.part_values(scene, kind)):
            return self._fail("The output folder did not answer in time (for {version})")
        on_problems = {"ASK": "submit" if wait else "ask", "SUBMIT": "submit", "STOP": "stop"}[self.problems]
        try:
            request = submitting.prepare(scene, on_problems, per_part=kind in batching.PER_PART)
        except submitting.PrepareError as ex:
            return self._fail(str(ex))
        except RuntimeError as ex:  # e.g. saving the farm copy failed
            return self._fail(f"Could not save a copy for the farm: {ex}")

        if kind != "NONE":
            try:
                batching.start(scene, request, batching.parts(scene, kind, request), kind)
            except submitting.PrepareError as ex:
                submitting.discard_copy(request)
                return self._fail(str(ex))
        else:
            submitting.start(scene, request)
        if not wait:
            self.report({"INFO"}, "Submitting to Flamenco…")
            return {"FINISHED"}

        if not timer.bridge.wait_for(submitting.SUBMIT_KEY, HEADLESS_TIMEOUT):
            return self._fail("The submission did not finish in time")
        outcome = submitting.last_outcome
        if outcome is None or not outcome.ok:
            return self._fail(outcome.message if outcome else "The submission ended without a result")
        for warning in outcome.warnings:
            self.report({"WARNING"}, warning)
        self.report({"INFO"}, outcome.message)
        job_ids = outcome.job_id.split(",")
        if not all(models.UUID_RE.match(job_id) for job_id in job_ids):  # scripts parse these lines: only UUIDs
            return self._fail("The Manager answered with a job id that is not a UUID")
        for job_id in job_ids:
            print(f"FLAMENCO_DESK_JOB_ID={job_id}")
        return {"FINISHED"}

    def _load_preset(self, scene: bpy.types.Scene, wait: bool) -> str:
        """Apply the named preset; what it dropped is reported as a warning. Headless reads
        the preset folders first (in the background, waited for); the UI uses what the panel read."""
        if wait and job_presets.stale(props.scene_props(scene).job_type):
            job_presets.read(props.scene_props(scene).job_type)
            if not job_presets.wait():
                return "The preset folders did not answer in time"
        ok, text = job_presets.load(scene, self.preset)
        if not ok:
            return text
        self.report({"WARNING"} if "dropped" in text or "not in the preset" in text else {"INFO"}, text)
        return ""

    def _fail(self, message: str) -> set[str]:
        print(f"Flamenco Desk: error: {message}", file=sys.stderr)
        if bpy.app.background and self.exit_on_error and bpy.app.binary_path:
            # Real `blender -b --python-expr`: Blender exits 0 after a Python error unless
            # told otherwise, so a failed headless submission has to end the process itself.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(1)
        # In the bpy module (and the UI) an ERROR report raises in the calling script.
        self.report({"ERROR"}, message)
        return {"CANCELLED"}


class FLAMENCO_DESK_OT_cancel_submission(bpy.types.Operator):
    bl_idname = "flamenco_desk.cancel_submission"
    bl_label = "Cancel"
    bl_description = "Stop packing or uploading; no job is created and nothing complete-looking is left behind"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return timer.bridge.busy(submitting.SUBMIT_KEY)

    def execute(self, context: bpy.types.Context) -> set[str]:
        if submitting.cancel():
            self.report({"INFO"}, "Cancelling the submission…")
        return {"FINISHED"}


class FLAMENCO_DESK_OT_dismiss_problems(bpy.types.Operator):
    bl_idname = "flamenco_desk.dismiss_problems"
    bl_label = "Stop"
    bl_description = "Do not submit; fix the files first"

    def execute(self, context: bpy.types.Context) -> set[str]:
        submitting.pending_problems = None
        submitting.last_outcome = None
        state.redraw()
        return {"FINISHED"}


classes = (FLAMENCO_DESK_OT_submit_job, FLAMENCO_DESK_OT_cancel_submission, FLAMENCO_DESK_OT_dismiss_problems)
