"""Shots and helpers for the batch, re-render and scout tests (a plain module: no conftest in
this folder, other helpers' tests live here too)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import bpy

from local_farm import Farm
from support.blender_helpers import panel_context, quick_render, select_job_type, tick_until  # noqa: F401 (re-exported)

# Three cameras, each looking straight down at a plane of its own colour (emission, so the
# colour reaches the pixel as is): a frame's centre pixel says which camera rendered it.
CAMERA_COLOURS = {"CamRed": (1.0, 0.0, 0.0), "CamGreen": (0.0, 1.0, 0.0), "CamBlue": (0.0, 0.0, 1.0)}
MARKER_FRAMES = {"CamRed": 1, "CamGreen": 3, "CamBlue": 5}


def _emission(name: str, colour: tuple[float, float, float]) -> Any:
    mat = bpy.data.materials.new(name)
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True  # always on (and deprecated) from 5.0
    nodes = mat.node_tree.nodes
    nodes.clear()
    emit = nodes.new("ShaderNodeEmission")
    emit.inputs["Color"].default_value = (*colour, 1.0)
    out = nodes.new("ShaderNodeOutputMaterial")
    mat.node_tree.links.new(emit.outputs[0], out.inputs["Surface"])
    return mat


def camera_marker_shot(path: Path, frame_end: int = 6) -> Path:
    """The current (empty) file made into a shot with three cameras bound to markers at
    frames 1, 3 and 5, saved at `path`."""
    scene = bpy.context.scene
    quick_render(scene, (32, 18))
    scene.cycles.samples = 1
    scene.view_settings.view_transform = "Standard"
    scene.frame_start, scene.frame_end = 1, frame_end
    for i, (name, colour) in enumerate(CAMERA_COLOURS.items()):
        x = 20.0 * i
        mesh = bpy.data.meshes.new(f"Plane{name}")
        mesh.from_pydata([(-8, -8, 0), (8, -8, 0), (8, 8, 0), (-8, 8, 0)], [], [(0, 1, 2, 3)])
        mesh.materials.append(_emission(f"Mat{name}", colour))
        plane = bpy.data.objects.new(f"Plane{name}", mesh)
        plane.location = (x, 0, 0)
        scene.collection.objects.link(plane)
        cam = bpy.data.objects.new(name, bpy.data.cameras.new(name))
        cam.location = (x, 0, 5)  # no rotation: looks down -Z at its plane
        scene.collection.objects.link(cam)
        marker = scene.timeline_markers.new(f"M_{name}", frame=MARKER_FRAMES[name])
        marker.camera = cam
    scene.camera = bpy.data.objects["CamRed"]
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def centre_colour(image_path: Path) -> tuple[float, float, float]:
    img = bpy.data.images.load(str(image_path), check_existing=False)
    try:
        w, h = img.size
        px = list(img.pixels)
        i = 4 * ((h // 2) * w + w // 2)
        return px[i], px[i + 1], px[i + 2]
    finally:
        bpy.data.images.remove(img)


def camera_seen(image_path: Path) -> str:
    r, g, b = centre_colour(image_path)
    channel = max(range(3), key=lambda c: (r, g, b)[c])
    return list(CAMERA_COLOURS)[channel]


def select_render(desk: ModuleType, renders: Path) -> Any:
    """simple-blender-render, two frames a task, EXR frames without previews: the job type then
    makes no preview video (its fps comes from the scene and cannot be 0), which saves each job
    an ffmpeg task and the Worker's pause before it."""
    image = bpy.context.scene.render.image_settings
    image.file_format = "OPEN_EXR"
    image.use_preview = False
    grp = select_job_type(desk, "simple-blender-render")
    grp.render_output_root = str(renders)
    grp.chunk_size = 2
    return grp


def submit(desk: ModuleType, timeout: float = 60.0, **kwargs: Any) -> Any:
    desk.submitting.last_outcome = None
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC", **kwargs) == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None, timeout=timeout)
    return desk.submitting.last_outcome


def frame_path(job: dict[str, Any], frame: int) -> Path:
    """Where simple-blender-render writes `frame` for this job (its stored settings)."""
    pattern = job["settings"]["render_output_path"]
    hashes = pattern.count("#")
    return Path(pattern.replace("#" * hashes, f"{frame:0{hashes}d}") + job["settings"]["image_file_extension"])


def wait_all(farm: Farm, job_ids: list[str], timeout: float = 240.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    done = []
    for i, job_id in enumerate(job_ids):
        # Kicked once: kicking restarts the Worker, which would requeue a running task.
        done.append(farm.wait_for_job(job_id, ("completed", "failed", "canceled"),
                                      timeout=max(5.0, deadline - time.monotonic()), kick=i == 0))
    return done


@contextmanager
def blender_failing_on(farm: Farm, frames: list[int]) -> Iterator[Path]:
    """The farm's Worker Blender made to fail on `frames` while the yielded flag file exists:
    a wrapper around the real Blender (which renders every other frame) that exits 1 when its
    `--render-frame` is one of them, as a Blender crashing on those frames would. Delete the
    flag to make it render them again; the real one is put back afterwards."""
    original = farm.blender.read_text()
    real = farm.blender.with_name("blender-real")
    real.write_text(original)
    real.chmod(0o755)
    flag = farm.root / f"fail-frames-{time.monotonic_ns()}"
    flag.write_text(",".join(map(str, frames)))
    pattern = "|".join(f"{f}|{f}..{f}" for f in frames)
    farm.blender.write_text(f"""#!/bin/sh
# Flamenco Desk test: the real Blender, failing on frames {frames} while {flag} exists.
prev=""
for a in "$@"; do
  if [ "$prev" = "--render-frame" ] && [ -e "{flag}" ]; then
    case "$a" in {pattern}) echo "Error: frame $a fails on purpose (Flamenco Desk test)"; exit 1;; esac
  fi
  prev="$a"
done
exec "{real}" "$@"
""")
    try:
        yield flag
    finally:
        farm.blender.write_text(original)
        flag.unlink(missing_ok=True)


