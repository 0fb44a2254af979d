"""The README's main command works end to end, and the bpy-based `blender` for workers
behaves like Blender for Flamenco's blender-render command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bpy

ROOT = Path(__file__).resolve().parents[2]


def test_blender_for_worker_renders_frames_and_reports_them(tmp_path: Path) -> None:
    bpy.ops.wm.read_homefile()
    bpy.context.scene.frame_end = 3
    blend = tmp_path / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    cmd = [sys.executable, str(ROOT / "tools" / "blender_for_worker.py"), "-b", "-y", str(blend),
           "--scene", "Scene", "--python-expr", "import bpy; print('EXPR', bpy.context.scene.name)",
           "--render-output", str(tmp_path / "out" / "######"), "--render-format", "PNG", "--render-frame", "2..3"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "EXPR Scene" in proc.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["000002.png", "000003.png"]
    assert sum(line.startswith("Time: ") for line in proc.stdout.splitlines()) == 2
    assert f"Saved: '{tmp_path / 'out' / '000003.png'}'" in proc.stdout

    broken = subprocess.run([*cmd[:4], str(tmp_path / "missing.blend"), "--render-frame", "1"],
                            capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1 and "Error" in broken.stderr


def test_main_command_submits_and_follows_a_job_to_its_frames() -> None:
    """`bash tools/demo.sh`: the real Manager and Worker render the add-on's job."""
    env = dict(os.environ)
    env.pop("BLENDER_USER_RESOURCES", None)  # the demo makes its own
    proc = subprocess.run(["bash", str(ROOT / "tools" / "demo.sh")], capture_output=True, text=True, timeout=600, env=env)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "Farm: Flamenco Manager 3.8.5 at http://127.0.0.1:" in out  # says what it runs against
    assert "FLAMENCO_DESK_JOB_ID=" in out
    progress = [line for line in out.splitlines() if line.startswith('Flamenco Desk: job "sq010_sh010"')]
    assert len(progress) >= 3 and "completed 100%" in progress[-1]
    assert 'Job "sq010_sh010" completed on Flamenco 3.8.5.' in out
    frames = [line.strip() for line in out.splitlines() if line.startswith("  /") and line.endswith(".png")]
    assert len(frames) == 12 and all(Path(f).is_file() for f in frames)
    (video,) = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Preview video: ")]
    assert Path(video).stat().st_size > 0
