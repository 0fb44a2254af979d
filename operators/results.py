"""Results of a job: its output folder, its frames in Blender, the job in the web UI,
and a large view of the last rendered frame."""

from pathlib import Path
from typing import Any, Callable, Optional

import bpy
from bpy.props import EnumProperty

from .. import manager_watches, state, watching
from ..core import image_check, results
from ..core.plain_text import one_line
from ..runtime import share, timer
from .jobs import JobOperator
from .online import OnlineOperator


def _output_dir(job: Any) -> Optional[Path]:
    info = None if job is None else manager_watches.info_for_job(job.id)  # the variables of the job's Manager
    return None if job is None else results.output_dir(job, info.variables if info else {})


# In `blender -b` (and the bpy module) the operators wait this long for the share's answer, so
# scripts get a result; with a UI they return at once and the answer arrives via the queue.
HEADLESS_TIMEOUT = 30.0

def _mode() -> Any:
    return EnumProperty(
        name="Mode",
        items=[("AUTO", "Automatic", "Wait for the answer only when Blender runs without a UI"),
               ("ASYNC", "Background", "Return at once; the answer shows in the panel")],
        default="AUTO", options={"SKIP_SAVE"},
    )


class _OnShare:
    """Ask the shared storage on a thread of its own (runtime/share.py), never on the main
    thread: a hung share must not freeze Blender. `apply` runs on the main thread with the
    answer and returns an error for the artist, or None."""

    mode: str

    def on_share(self, key: str, what: str, work: Callable[[], Any],
                 apply: Callable[[Any], Optional[str]]) -> set[str]:
        answer: dict[str, Optional[str]] = {}

        def done(value: object) -> None:
            try:
                error = apply(value)
            except Exception as ex:  # noqa: BLE001 - e.g. no file manager to open the folder with
                error = f"{what[:1].upper()}{what[1:]} failed: {ex}"
            answer["error"] = error
            share.last_message = error
            if error:
                print(f"Flamenco Desk: {error}")

        def failed(ex: BaseException) -> None:
            done_error = f"Shared storage: {ex}"
            answer["error"] = share.last_message = done_error
            print(f"Flamenco Desk: {done_error}")

        share.last_message = None
        if not share.run(key, what, work, done, failed):
            self.report({"WARNING"}, f"Still waiting for shared storage ({what})")  # type: ignore[attr-defined]
            return {"CANCELLED"}
        if self.mode == "ASYNC" or not bpy.app.background:
            return {"FINISHED"}
        if not share.wait_for(key, HEADLESS_TIMEOUT):
            self.report({"ERROR"}, f"Shared storage did not answer within {HEADLESS_TIMEOUT:.0f} s ({what})")  # type: ignore[attr-defined]
            return {"CANCELLED"}
        if answer.get("error"):
            self.report({"ERROR"}, answer["error"] or "")  # type: ignore[attr-defined]
            return {"CANCELLED"}
        return {"FINISHED"}


class FLAMENCO_DESK_OT_open_output_folder(JobOperator, _OnShare, bpy.types.Operator):
    bl_idname = "flamenco_desk.open_output_folder"
    bl_label = "Open Output Folder"
    bl_description = "Open the folder the job renders into"

    mode: _mode()  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        folder = _output_dir(self.job())
        if folder is None:
            self.report({"ERROR"}, "This job type does not say where it renders to")
            return {"CANCELLED"}

        def apply(is_dir: object) -> Optional[str]:
            if not is_dir:
                return f"{folder} does not exist (yet) or is not reachable from here"
            bpy.ops.wm.path_open(filepath=str(folder))  # starts the file manager; reads nothing itself
            return None

        return self.on_share(f"folder:{self.job_id}", "opening the output folder", folder.is_dir, apply)


class FLAMENCO_DESK_OT_load_frames(JobOperator, _OnShare, bpy.types.Operator):
    bl_idname = "flamenco_desk.load_frames"
    bl_label = "Load Rendered Frames"
    bl_description = "Load the job's rendered frames as an image sequence"
    bl_options = {"INTERNAL", "UNDO"}

    target: EnumProperty(  # type: ignore[valid-type]
        items=[("IMAGE_EDITOR", "Image Editor", ""), ("SEQUENCER", "Sequencer", "")], default="IMAGE_EDITOR",
    )
    mode: _mode()  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        folder = _output_dir(self.job())
        if folder is None:
            self.report({"ERROR"}, "Unknown output folder")
            return {"CANCELLED"}
        target, scene_name = self.target, context.scene.name  # the operator is gone when `apply` runs

        def apply(found: object) -> Optional[str]:
            frames: list[Path] = list(found)  # type: ignore[call-overload]
            if not frames:
                return f"No rendered frames found in {folder}"
            scene = bpy.data.scenes.get(scene_name) or bpy.context.scene
            return _load(frames, target, scene)

        return self.on_share(f"frames:{self.job_id}", "listing the rendered frames",
                             lambda: results.frame_files(folder), apply)


def _load(frames: list[Path], target: str, scene: Any) -> Optional[str]:
    """Main thread, with the listing made in the background. (Blender's image loader opens the
    first frame: the share answered a moment ago; a sequence's other frames load lazily.)"""
    if target == "SEQUENCER":
        editor = scene.sequence_editor or scene.sequence_editor_create()
        strips = editor.strips if hasattr(editor, "strips") else editor.sequences  # renamed in 5.0
        strip = strips.new_image(name=frames[0].stem, filepath=str(frames[0]), channel=1, frame_start=scene.frame_start)
        for frame in frames[1:]:
            strip.elements.append(frame.name)
        print(f"Flamenco Desk: added {len(frames)} frames to the Sequencer")
        return None
    image = bpy.data.images.load(str(frames[0]), check_existing=True)
    image.source = "SEQUENCE" if len(frames) > 1 else "FILE"
    _show_in_image_editor(bpy.context, image, frame_duration=len(frames))
    print(f"Flamenco Desk: loaded {len(frames)} frames as {image.name}")
    return None


def _show_in_image_editor(context: Any, image: Any, frame_duration: int = 1) -> None:
    # From a timer (an answer from the queue) there is no context screen: look in every window.
    screens = [context.screen] if getattr(context, "screen", None) else [
        w.screen for w in getattr(getattr(context, "window_manager", None), "windows", [])]
    for area in (a for screen in screens for a in screen.areas):
        if area.type == "IMAGE_EDITOR":
            space = area.spaces.active
            space.image = image
            if image.source == "SEQUENCE":
                space.image_user.frame_duration = frame_duration
            area.tag_redraw()
            return


class FLAMENCO_DESK_OT_open_in_web(JobOperator, bpy.types.Operator):
    bl_idname = "flamenco_desk.open_in_web"
    bl_label = "Open in Flamenco"
    bl_description = "Open this job in the Manager's web interface"

    def execute(self, context: bpy.types.Context) -> set[str]:
        bpy.ops.wm.url_open(url=results.web_url(self.client().base_url, self.job_id))
        return {"FINISHED"}


class FLAMENCO_DESK_OT_view_last_rendered(JobOperator, OnlineOperator):
    bl_idname = "flamenco_desk.view_last_rendered"
    bl_label = "View Last Rendered Frame"
    bl_description = "Load the job's last rendered frame (large) into the Image Editor"

    def execute(self, context: bpy.types.Context) -> set[str]:
        rendered = watching.monitor.last_rendered
        if rendered is None or watching.monitor.open_job_id != self.job_id:
            self.report({"ERROR"}, "No rendered frame yet")
            return {"CANCELLED"}
        client, job_id = self.client(), self.job_id  # the operator is gone when `show` runs
        target = state.cache_dir() / "thumbnails" / f"{job_id}-large.jpg"
        url = rendered.base.replace("\\", "/").rstrip("/") + "/last-rendered.jpg"

        def fetch() -> Path:  # background thread: checked here, loaded by Blender in `show`
            data = image_check.check(client.fetch_bytes(url, limit=image_check.MAX_BYTES))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            return target

        def show(path: object) -> None:
            name = f"Flamenco {job_id[:8]}"
            image = bpy.data.images.get(name)
            if image is None:
                image = bpy.data.images.load(str(path))
                image.name = name
            else:
                image.filepath = str(path)
                image.reload()
            _show_in_image_editor(bpy.context, image)

        def failed(ex: BaseException) -> None:
            text = str(ex) if isinstance(ex, image_check.ImageRefused) else state.describe_error(ex)
            watching.monitor.thumbnail_problem = one_line(text)
            print(f"Flamenco Desk: could not fetch the frame: {watching.monitor.thumbnail_problem}")
            state.redraw()

        timer.run(fetch, show, failed)
        return {"FINISHED"}


classes = (
    FLAMENCO_DESK_OT_open_output_folder,
    FLAMENCO_DESK_OT_load_frames,
    FLAMENCO_DESK_OT_open_in_web,
    FLAMENCO_DESK_OT_view_last_rendered,
)
