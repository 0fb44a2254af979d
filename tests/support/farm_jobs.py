"""Jobs on the real farm for tests: complete settings for the built-in job types, direct
submission (not through the client under test), waiting, and leaving the one Worker free."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))
from local_farm import Farm, wait_until  # noqa: E402

# Job statuses in which the Worker may still be handed (or be running) a task of the job.
RUNNABLE = ("queued", "active", "requeueing", "pause-requested", "under-construction")


def settings_for(farm: Farm, job_type: str) -> dict[str, object]:
    """Complete, correctly typed settings for the built-in job types (the Manager applies
    no defaults: every key is sent)."""
    if job_type == "echo-sleep-test":
        return {"message": "hi", "sleep_duration_seconds": 1, "sleep_repeats": 2}
    if job_type == "simple-blender-render":
        out = farm.shared / "render" / "api-tests"
        return {
            "frames": "1-10",
            "chunk_size": 3,
            "render_output_root": str(out),
            "add_path_components": 0,
            "render_output_path": str(out / "job" / "{timestamp}" / "######"),
            "blendfile": str(farm.shared / "nothing-here.blend"),
            "fps": 24,
            "format": "PNG",
            "image_file_extension": ".png",
            "has_previews": False,
            "scene": "Scene",
        }
    raise KeyError(job_type)


def etags_of(farm: Farm) -> dict[str, str]:
    return {jt["name"]: jt["etag"] for jt in farm.get_json("/api/v3/jobs/types")["job_types"]}


def unique(prefix: str) -> str:
    """A job name or metadata value no other test (or earlier session) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def cancel_runnable(farm: Farm, job_ids: list[str] | None = None) -> None:
    """Cancel the given jobs (default: every job) that the Worker could still run."""
    for job in farm.get_json("/api/v3/jobs")["jobs"]:
        if job["status"] in RUNNABLE and (job_ids is None or job["id"] in job_ids):
            farm.post_json(f"/api/v3/jobs/{job['id']}/setstatus",
                           {"status": "cancel-requested", "reason": "test finished"})


def task_statuses(farm: Farm, job_id: str) -> list[str]:
    tasks = farm.get_json(f"/api/v3/jobs/{job_id}/tasks")["tasks"]
    return [t["status"] for t in sorted(tasks, key=lambda t: t["index_in_job"])]


def submit(farm: Farm, job_type: str, settings: dict[str, object], **fields: object) -> dict[str, Any]:
    """Submit straight to the Manager (not through the client under test)."""
    body: dict[str, object] = {
        "name": unique(job_type), "type": job_type, "priority": 50, "submitter_platform": "linux",
        "type_etag": etags_of(farm)[job_type], "settings": settings, "metadata": {},
    }
    body.update(fields)
    job: dict[str, Any] = farm.post_json("/api/v3/jobs", body)
    return job


def echo_settings(message: str = "hi", seconds: int = 1, repeats: int = 1) -> dict[str, object]:
    return {"message": message, "sleep_duration_seconds": seconds, "sleep_repeats": repeats}


def echo_job(farm: Farm, name: str, sleep: int = 1, repeats: int = 1, paused: bool = True) -> str:
    """An echo-sleep-test job called `name` (its message too); paused, it waits for the test."""
    job = submit(farm, "echo-sleep-test", echo_settings(name, sleep, repeats), name=name,
                 initial_status="paused" if paused else "queued")
    return str(job["id"])


def render_settings(farm: Farm, blendfile: Path, frames: str = "1-2", chunk_size: int = 1) -> dict[str, object]:
    """simple-blender-render without a preview video (fps 0), so no ffmpeg is needed."""
    out = farm.shared / "render" / unique("api")
    return {
        "frames": frames, "chunk_size": chunk_size, "render_output_root": str(out), "add_path_components": 0,
        "render_output_path": str(out / "######"), "blendfile": str(blendfile), "fps": 0, "format": "PNG",
        "image_file_extension": ".png", "has_previews": False, "scene": "Scene",
    }


# The default scene, made quick to render (as blender_helpers.quick_render does in-process).
QUICK_SCENE = """
import bpy
s = bpy.context.scene
s.render.engine = "CYCLES"
s.cycles.device, s.cycles.samples, s.cycles.use_denoising = "CPU", 4, False
s.render.resolution_x, s.render.resolution_y, s.render.resolution_percentage = 64, 36, 100
bpy.ops.wm.save_as_mainfile(filepath=PATH)
"""


def save_blendfile(farm: Farm, path: Path) -> Path:
    """A real .blend, saved by a Blender whose files the farm's Worker Blender opens."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        subprocess.run(
            [farm.blender_python, "-c", f"PATH = {str(path)!r}\n" + QUICK_SCENE],
            check=True, capture_output=True, timeout=120,
        )
    return path


def failing_render_settings(farm: Farm, frames: str = "1-2") -> dict[str, object]:
    """simple-blender-render of a .blend that does not exist: the Worker's blender exits 1,
    and on a one-Worker farm the first failed task fails the job."""
    return render_settings(farm, farm.shared / unique("missing") / "missing.blend", frames=frames)


def wait_for_task(farm: Farm, job_id: str, name: str, status: str, timeout: float = 120.0) -> dict[str, Any]:
    """The first task of the job called `name` once it has `status` (the Worker is not kicked)."""

    def find() -> dict[str, Any] | None:
        for task in farm.get_json(f"/api/v3/jobs/{job_id}/tasks")["tasks"]:
            if task["name"] == name and task["status"] == status:
                return dict(task)
        return None

    found: dict[str, Any] = wait_until(find, timeout, f"task {name!r} of job {job_id} {status}")
    return found
