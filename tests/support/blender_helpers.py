"""Helpers for tests in real Blender (a plain module: `conftest` names clash across folders)."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, Callable

import bpy

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))
from local_farm import Farm  # noqa: E402

MODULE = "bl_ext.user_default.flamenco_desk"


# Blender's default widths at UI scale 1: the 3D View sidebar and the Properties editor of the
# default layout on a 1600 px wide window.
SIDEBAR = 252
PROPERTIES = 370


def panel_context(width: int = SIDEBAR) -> Any:
    """bpy.context as a panel in a region of `width` pixels sees it (the default: the sidebar)."""
    c = bpy.context
    return SimpleNamespace(scene=c.scene, window_manager=c.window_manager, preferences=c.preferences,
                           region=SimpleNamespace(width=width))


def tick_until(desk: ModuleType, condition: Callable[[], Any], timeout: float = 10.0) -> None:
    """Call the add-on's timer callback (timers do not tick in the bpy module) until
    `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        desk.runtime.timer.tick()
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def refresh(desk: ModuleType) -> None:
    assert bpy.ops.flamenco_desk.refresh_manager() == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY))
    assert desk.state.info() is not None, desk.state.connection_line()


def quick_render(scene: Any, size: tuple[int, int] = (64, 36)) -> None:
    """What a test scene sets so the Worker's real Blender renders it in a second: Cycles on the
    CPU, a few samples, a small frame, no denoising (Debian's Blender has no OpenImageDenoise:
    a denoised render fails there). The file says it, as an artist's would; nothing on the
    Worker overrides it."""
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 4
    scene.cycles.use_denoising = False
    scene.render.resolution_x, scene.render.resolution_y = size
    scene.render.resolution_percentage = 100


def save_shot(path: Path, frame_start: int = 1, frame_end: int = 12) -> Path:
    scene = bpy.context.scene
    quick_render(scene)
    scene.frame_start, scene.frame_end = frame_start, frame_end
    if scene.camera is None:
        cam = bpy.data.objects.new("ShotCam", bpy.data.cameras.new("ShotCam"))
        scene.collection.objects.link(cam)
        scene.camera = cam
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def select_job_type(desk: ModuleType, name: str) -> Any:
    desk.props.scene_props(bpy.context.scene).job_type = name
    grp = desk.jobtypes.registry.group(bpy.context.scene)
    assert desk.jobtypes.registry.job_type().name == name
    return grp


UNFINISHED = ("queued", "active", "paused", "pause-requested", "requeueing", "under-construction")


def cancel_unfinished(farm: Farm) -> None:
    """Cancel every job that could still run (test hygiene on the shared farm)."""
    for job in farm.get_json("/api/v3/jobs")["jobs"]:
        if job["status"] in UNFINISHED:
            farm.post_json(f"/api/v3/jobs/{job['id']}/setstatus",
                           {"status": "cancel-requested", "reason": "test finished"})


def farm_jobs(farm: Farm, **metadata: str) -> list[dict[str, Any]]:
    """Jobs on the real Manager whose metadata has these values."""
    return [job for job in farm.get_json("/api/v3/jobs")["jobs"]
            if all(job.get("metadata", {}).get(k) == v for k, v in metadata.items())]


def unique_name(prefix: str = "test") -> str:
    """A job name no other test uses (the farm is shared by the session)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
