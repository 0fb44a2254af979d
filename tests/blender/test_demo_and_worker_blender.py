"""The README's main command works end to end with a real Blender on the Worker, and the
stand-in Blender that fails on purpose does only that."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the IHDR chunk
    return int(width), int(height)


def test_stand_in_blender_fails_every_task_and_says_it_is_a_stand_in(tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "tools" / "blender_stand_in_that_fails.py"), "-b", "-y",
           str(tmp_path / "shot.blend"), "--render-frame", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout.startswith("Blender stand-in that fails on purpose")
    assert "Error: stand-in Blender fails on purpose" in proc.stdout
    told = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "STAND_IN_ERROR": "Error: CUDA error: out of memory"})
    assert told.returncode == 1 and told.stdout.rstrip().endswith("Error: CUDA error: out of memory")
    assert not (tmp_path / "shot.blend").exists()  # it renders nothing


def test_main_command_submits_and_follows_a_job_to_its_frames() -> None:
    """`bash tools/demo.sh`: the real Manager and Worker, and the Worker's real Blender, render
    the add-on's job."""
    env = dict(os.environ)
    env.pop("BLENDER_USER_RESOURCES", None)  # the demo makes its own
    proc = subprocess.run(["bash", str(ROOT / "tools" / "demo.sh")], capture_output=True, text=True, timeout=900, env=env)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    # Says what it runs against: the version the Manager reports, the Worker's real Blender.
    assert "Farm: Flamenco Manager 3.8.5 at http://127.0.0.1:" in out
    assert " with one Worker rendering with Blender 5." in out  # Debian sid's, for Blender 5.0 files
    assert "FLAMENCO_DESK_JOB_ID=" in out
    progress = [line for line in out.splitlines() if line.startswith('Flamenco Desk: job "sq010_sh010"')]
    assert len(progress) >= 3 and "completed 100%" in progress[-1]
    assert 'Job "sq010_sh010" completed on Flamenco 3.8.5.' in out
    frames = [Path(line.strip()) for line in out.splitlines() if line.startswith("  /") and line.endswith(".png")]
    assert len(frames) == 12 and all(f.is_file() for f in frames)
    assert {png_size(f) for f in frames} == {(480, 270)}  # the scene's size: nothing on the Worker overrides it
    assert len({f.read_bytes() for f in frames}) == 12  # the camera moves: every frame differs
    (video,) = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Preview video: ")]
    assert Path(video).stat().st_size > 0
    worker_log = (ROOT / ".cache" / "demo" / "farm" / "worker" / "worker.log").read_text()
    assert "tools/worker_blender.py" in (ROOT / ".cache" / "demo" / "farm" / "bin" / "blender").read_text()
    assert "command exited abnormally" not in worker_log
