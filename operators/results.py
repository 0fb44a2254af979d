"""Results of a job: its output folder, its frames in Blender, the job in the web UI,
and a large view of the last rendered frame."""

from pathlib import Path
from typing import Any, Optional

import bpy
from bpy.props import EnumProperty

from .. import state, watching
from ..core import image_check, results
from ..core.plain_text import one_line
from ..runtime import timer
from .jobs import JobOperator
from .online import OnlineOperator


def _output_dir(job: Any) -> Optional[Path]:
    info = state.info()
    return None if job is None else results.output_dir(job, info.variables if info else {})


class FLAMENCO_DESK_OT_open_output_folder(JobOperator, bpy.types.Operator):
    bl_idname = "flamenco_desk.open_output_folder"
    bl_label = "Open Output Folder"
    bl_description = "Open the folder the job renders into"

    def execute(self, context: bpy.types.Context) -> set[str]:
        folder = _output_dir(self.job())
        if folder is None:
            self.report({"ERROR"}, "This job type does not say where it renders to")
            return {"CANCELLED"}
        if not folder.is_dir():
            self.report({"ERROR"}, f"{folder} does not exist (yet) or is not reachable from here")
            return {"CANCELLED"}
        bpy.ops.wm.path_open(filepath=str(folder))
        return {"FINISHED"}


class FLAMENCO_DESK_OT_load_frames(JobOperator, bpy.types.Operator):
    bl_idname = "flamenco_desk.load_frames"
    bl_label = "Load Rendered Frames"
    bl_description = "Load the job's rendered frames as an image sequence"
    bl_options = {"INTERNAL", "UNDO"}

    target: EnumProperty(  # type: ignore[valid-type]
        items=[("IMAGE_EDITOR", "Image Editor", ""), ("SEQUENCER", "Sequencer", "")], default="IMAGE_EDITOR",
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        folder = _output_dir(self.job())
        frames = results.frame_files(folder) if folder else []
        if not frames:
            self.report({"ERROR"}, f"No rendered frames found in {folder}" if folder else "Unknown output folder")
            return {"CANCELLED"}
        if self.target == "SEQUENCER":
            scene = context.scene
            editor = scene.sequence_editor or scene.sequence_editor_create()
            strips = editor.strips if hasattr(editor, "strips") else editor.sequences  # renamed in 5.0
            strip = strips.new_image(name=frames[0].stem, filepath=str(frames[0]), channel=1, frame_start=scene.frame_start)
            for frame in frames[1:]:
                strip.elements.append(frame.name)
            self.report({"INFO"}, f"Added {len(frames)} frames to the Sequencer")
            return {"FINISHED"}
        image = bpy.data.images.load(str(frames[0]), check_existing=True)
        image.source = "SEQUENCE" if len(frames) > 1 else "FILE"
        _show_in_image_editor(context, image, frame_duration=len(frames))
        self.report({"INFO"}, f"Loaded {len(frames)} frames as {image.name}")
        return {"FINISHED"}


def _show_in_image_editor(context: Any, image: Any, frame_duration: int = 1) -> None:
    for area in getattr(context.screen, "areas", []) if context.screen else []:
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
        bpy.ops.wm.url_open(url=results.web_url(state.client().base_url, self.job_id))
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
        client, job_id = state.client(), self.job_id  # the operator is gone when `show` runs
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
