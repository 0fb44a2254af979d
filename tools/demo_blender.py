"""The demo: a local Flamenco farm (the real Manager and Worker, tools/local_farm.py, whose
Worker renders with a real Blender), and headless Blender (the bpy module) with Flamenco Desk
installed from its zip: a small generated shot (a few objects, a light, a moving camera),
one-click submission of the built-in `simple-blender-render`, the add-on's own progress lines
until the job ends, then where the frames and the preview video are.

Run with a Python that has bpy: python tools/demo_blender.py --workdir DIR [--release 3.8.5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--release", default="3.8.5")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    os.environ["BLENDER_USER_RESOURCES"] = str(args.workdir / "blender-user")
    sys.path.insert(0, str(ROOT / "tools"))
    import build_extension
    import local_farm

    import bpy

    # The Worker's Blender must open the files this Blender saves (local_farm.py).
    worker_blender = local_farm.worker_blender_for(tuple(bpy.app.version))
    try:
        farm = local_farm.Farm(args.workdir / "farm", args.release, name="Flamenco Desk Demo Farm",
                               worker_blender=worker_blender).start()
    except local_farm.FlamencoMissing as ex:
        print(f"Flamenco Desk demo: {ex}", flush=True)
        return 2
    try:
        return demo(args, farm, build_extension)
    finally:
        farm.stop()


def demo(args: argparse.Namespace, farm: "object", build_extension: "object") -> int:
    import local_farm

    assert isinstance(farm, local_farm.Farm)
    manager_version = farm.get_json("/api/v3/version")["version"]  # what it says it is, not what was asked for
    print(f"Farm: Flamenco Manager {manager_version} at {farm.url} with one Worker rendering with "
          f"Blender {farm.worker_blender_version()} (logs in {farm.root}); shared storage {farm.shared}",
          flush=True)

    desk = build_extension.install(build_extension.build(args.workdir / "dist"))  # type: ignore[attr-defined]
    import bpy

    bpy.context.preferences.addons[build_extension.MODULE].preferences.manager_url = farm.url  # type: ignore[attr-defined]

    make_shot(bpy)
    scene = bpy.context.scene
    shot = args.workdir / "project" / "sq010_sh010.blend"
    shot.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))

    # As an artist clicks "Refresh" once: the Manager's job types, storage and tags.
    bpy.ops.flamenco_desk.refresh_manager()
    if not desk.runtime.timer.bridge.wait_for(desk.state.REFRESH_KEY, 60) or desk.state.info() is None:
        print(f"Flamenco Desk demo: {desk.state.connection_line().text}", flush=True)
        return 1
    print(f"Flamenco Desk: {desk.state.connection_line().text}", flush=True)

    sp = desk.props.scene_props(scene)
    sp.job_type = "simple-blender-render"
    grp = desk.jobtypes.registry.group(scene)
    grp.render_output_root = str(farm.shared / "renders")
    grp.chunk_size = 3
    print(f"Submitting {shot} as simple-blender-render to {farm.url}", flush=True)
    bpy.ops.flamenco_desk.submit_job()  # headless: waits and prints the job id
    job_id = desk.submitting.last_outcome.job_id
    # An idle Worker asks for work every 20 s; restarting it makes it ask now.
    farm.kick_worker()

    # Blender's event loop would run the add-on's timer; headless, we run it ourselves.
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    monitor = desk.watching.monitor
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        desk.runtime.timer.tick()
        job = monitor.open_job
        if job is not None and job.status in ("completed", "failed", "canceled") and not monitor.pending_details:
            break
        time.sleep(0.1)
    else:
        print("Flamenco Desk demo: the job did not finish in time", flush=True)
        return 1

    info = desk.state.info()
    folder = desk.core.results.output_dir(job, info.variables if info else {})
    frames = desk.core.results.frame_files(folder) if folder else []
    videos = sorted(p for p in folder.iterdir() if p.suffix in (".mp4", ".mkv", ".mov")) if folder else []
    print(f'\nJob "{job.name}" {job.status} on Flamenco {manager_version}. {len(frames)} frames in {folder}:',
          flush=True)
    for frame in frames:
        print(f"  {frame}")
    for video in videos:
        print(f"Preview video: {video}")
    return 0 if job.status == "completed" else 1


def make_shot(bpy: "object") -> None:
    """A shot a person can look at: a floor, three shapes, a sun, and a camera that moves
    past them over 12 frames, 480×270. Cycles with few samples and no denoising, so the
    Worker's Blender renders a frame in about a second on a CPU (Debian's Blender 4.3 cannot
    denoise)."""
    bpy.ops.wm.read_homefile(use_empty=True)  # type: ignore[attr-defined]
    scene = bpy.context.scene  # type: ignore[attr-defined]
    scene.frame_start, scene.frame_end = 1, 12
    render = scene.render
    render.engine = "CYCLES"
    render.resolution_x, render.resolution_y, render.resolution_percentage = 480, 270, 100
    scene.cycles.device, scene.cycles.samples, scene.cycles.use_denoising = "CPU", 16, False
    ops, data = bpy.ops, bpy.data  # type: ignore[attr-defined]
    ops.mesh.primitive_plane_add(size=20)
    for add, location, color in (
        (ops.mesh.primitive_cube_add, (-2.5, 0.0, 1.0), (0.8, 0.15, 0.1, 1.0)),
        (ops.mesh.primitive_uv_sphere_add, (0.0, 0.5, 1.0), (0.1, 0.5, 0.8, 1.0)),
        (ops.mesh.primitive_cone_add, (2.5, 0.0, 1.0), (0.9, 0.7, 0.1, 1.0)),
    ):
        add(location=location)
        material = data.materials.new("Paint")
        material.diffuse_color = color
        if bpy.app.version < (5, 0, 0):  # type: ignore[attr-defined]  # always on since 5.0
            material.use_nodes = True
        material.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = color
        bpy.context.active_object.data.materials.append(material)  # type: ignore[attr-defined]
    sun = data.objects.new("Sun", data.lights.new("Sun", "SUN"))
    sun.rotation_euler = (0.7, 0.2, 0.5)
    sun.data.energy = 4.0
    scene.collection.objects.link(sun)
    world = data.worlds.new("Sky")
    world.color = (0.4, 0.5, 0.7)
    scene.world = world
    cam = data.objects.new("Camera", data.cameras.new("Camera"))
    scene.collection.objects.link(cam)
    scene.camera = cam
    # The camera moves across the set: each frame shows something new.
    for frame, x in ((1, -5.0), (12, 5.0)):
        cam.location, cam.rotation_euler = (x, -9.0, 3.5), (1.25, 0.0, x * 0.04)
        cam.keyframe_insert("location", frame=frame)
        cam.keyframe_insert("rotation_euler", frame=frame)


if __name__ == "__main__":
    sys.exit(main())
