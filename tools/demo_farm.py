"""The demo's stand-in farm: the loopback stub Manager from the tests plus a worker loop
that renders real frames with the bpy-based `blender` (tools/blender_for_worker.py).

It is NOT Flamenco: the real Manager cannot be installed here (see README). Everything the
add-on sends and receives is still checked against Flamenco's OpenAPI file.

Run with a Python that has bpy: python tools/demo_farm.py --storage DIR --url-file FILE
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.stub_manager import StubManager  # noqa: E402

BLENDER = [sys.executable, str(ROOT / "tools" / "blender_for_worker.py")]


def render_task(stub: StubManager, job_id: str, task_id: str, frame_seconds: float) -> None:
    job, task = stub.jobs[job_id], stub.tasks[task_id]
    s = job.settings
    args = list(task.commands[0]["parameters"]["args"])
    cmd = [*BLENDER, "-b", "-y", s["blendfile"]]
    if s.get("scene"):
        cmd += ["--scene", s["scene"]]
    cmd += ["--render-output", s["render_output_path"], "--render-format", s.get("format") or "PNG", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        stub.append_task_log(task_id, line)
        if line.startswith("Saved: '"):
            frame = Path(line.strip()[len("Saved: '"):-1])
            stub.advance(job_id, 1)  # one frame = one step, as the Worker reports it
            # The Manager would make JPEG thumbnails; the add-on only displays the bytes.
            stub.set_last_rendered(job_id, image=frame.read_bytes())
            # Tiny frames render in a blink; a pause per frame makes the progress watchable.
            time.sleep(frame_seconds)
    if proc.wait() != 0:
        stub.fail_task(task_id, f"blender exited with code {proc.returncode}")


def work_once(stub: StubManager, frame_seconds: float) -> bool:
    for job in sorted(stub.jobs.values(), key=lambda j: j.created):
        if job.status not in ("queued", "active") or job.delete_requested_at is not None:
            continue
        task = next((t for t in stub.tasks_of(job.id) if t.status in ("queued", "soft-failed", "active")), None)
        if task is None:
            continue
        if task.task_type == "blender" and job.settings.get("blendfile"):
            render_task(stub, job.id, task.id, frame_seconds)
        else:
            stub.advance(job.id, 1)
            time.sleep(frame_seconds)
        return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--storage", type=Path, required=True)
    parser.add_argument("--url-file", type=Path, required=True)
    parser.add_argument("--frame-seconds", type=float, default=1.0)
    args = parser.parse_args()
    args.storage.mkdir(parents=True, exist_ok=True)
    with StubManager(args.storage, name="Demo farm (stub Manager)") as stub:
        args.url_file.write_text(stub.url)
        print(f"demo farm: stub Manager at {stub.url}, shared storage {args.storage}", flush=True)
        try:
            while True:
                if not work_once(stub, args.frame_seconds):
                    time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            if stub.contract_violations:
                print("demo farm: OpenAPI contract violations:\n" + "\n".join(stub.contract_violations), flush=True)


if __name__ == "__main__":
    main()
