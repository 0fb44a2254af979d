"""The GUI chroot's real `blender` binary also runs headless (`-b`), as the README's headless
submit command needs: a file is opened and a Python expression runs with Online Access on."""

from __future__ import annotations

from pathlib import Path

from tools.gui.session import blender_headless


def test_chroot_blender_runs_headless(tmp_path: Path) -> None:
    blend = tmp_path / "shot.blend"
    made = blender_headless(
        ["--factory-startup", "--python-expr", f"import bpy; bpy.ops.wm.save_as_mainfile(filepath={str(blend)!r})"],
        tmp_path,
    )
    assert made.returncode == 0 and blend.exists(), made.stdout + made.stderr

    run = blender_headless(
        ["--online-mode", str(blend), "--python-expr", "import bpy; print('ONLINE', bpy.app.online_access, bpy.app.version_string)"],
        tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ONLINE True 4.3" in run.stdout

    failed = blender_headless(["--online-mode", str(blend), "--python-expr", "import sys; sys.exit(1)"], tmp_path)
    assert failed.returncode == 1
