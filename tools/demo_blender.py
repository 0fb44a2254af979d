"""The demo: a local Flamenco farm (the real Manager and Worker, tools/local_farm.py), and
headless Blender (the bpy module) with Flamenco Desk installed from its zip: a generated
shot, one-click submission of the built-in `simple-blender-render`, the add-on's own
progress lines until the job ends, then where the frames and the preview video are.

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

    try:
        farm = local_farm.Farm(args.workdir / "farm", args.release, name="Flamenco Desk Demo Farm").start()
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
    print(f"Farm: Flamenco Manager {farm.release} at {farm.url} with one Worker "
          f"(logs in {farm.root}); shared storage {farm.shared}", flush=True)

    desk = build_extension.install(build_extension.build(args.workdir / "dist"))  # type: ignore[attr-defined]
    import bpy

    bpy.context.preferences.addons[build_extension.MODULE].preferences.manager_url = farm.url  # type: ignore[attr-defined]

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
    print(f'\nJob "{job.name}" {job.status} on Flamenco {farm.release}. {len(frames)} frames in {folder}:', flush=True)
    for frame in frames:
        print(f"  {frame}")
    for video in videos:
        print(f"Preview video: {video}")
    return 0 if job.status == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
