"""The demo's artist side: headless Blender (the bpy module) with Flamenco Desk installed
from its zip, a generated shot, one-click submission, then the add-on's own progress lines
until the job ends, and where the frames are.

Run with a Python that has bpy: python tools/demo_blender.py --manager URL --workdir DIR
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
    parser.add_argument("--manager", required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    os.environ["BLENDER_USER_RESOURCES"] = str(args.workdir / "blender-user")
    sys.path.insert(0, str(ROOT / "tools"))
    import build_extension

    desk = build_extension.install(build_extension.build(args.workdir / "dist"))
    import bpy

    bpy.context.preferences.addons[build_extension.MODULE].preferences.manager_url = args.manager

    # A small shot: a lit, animated cube seen by a camera.
    bpy.ops.wm.read_homefile(use_empty=True)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 1, 12
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.active_object
    cube.keyframe_insert("rotation_euler", frame=1)
    cube.rotation_euler[2] = 1.5
    cube.keyframe_insert("rotation_euler", frame=12)
    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    cam.location, cam.rotation_euler = (6.0, -6.0, 4.5), (1.1, 0.0, 0.785)
    scene.collection.objects.link(cam)
    scene.camera = cam
    sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", "SUN"))
    scene.collection.objects.link(sun)
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
    grp.render_output_root = str(args.workdir / "shared" / "renders")
    grp.chunk_size = 3
    print(f"Submitting {shot} as simple-blender-render to {args.manager}", flush=True)
    bpy.ops.flamenco_desk.submit_job()  # headless: waits and prints the job id
    job_id = desk.submitting.last_outcome.job_id

    # Blender's event loop would run the add-on's timer; headless, we run it ourselves.
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    monitor = desk.watching.monitor
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        desk.runtime.timer.tick()
        job = monitor.open_job
        if job is not None and job.status in ("completed", "failed", "canceled") and not monitor._details:
            break
        time.sleep(0.1)
    else:
        print("Flamenco Desk demo: the job did not finish in time", flush=True)
        return 1

    info = desk.state.info()
    folder = desk.core.results.output_dir(job, info.variables if info else {})
    frames = desk.core.results.frame_files(folder) if folder else []
    print(f'\nJob "{job.name}" {job.status}. {len(frames)} frames in {folder}:', flush=True)
    for frame in frames:
        print(f"  {frame}")
    return 0 if job.status == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
