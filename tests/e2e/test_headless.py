"""`blender -b shot.blend --python-expr "import bpy; bpy.ops.flamenco_desk.submit_job()"`
submits and prints the job id, or fails with a clear message and a non-zero exit.

The bpy module has no `blender` executable, so a fresh Python process plays Blender: it
does what Blender's start-up does for an installed, enabled add-on (enable it, apply the
saved preferences; `wm.read_userpref` itself crashes the 4.2 bpy module), opens the file
and runs exactly the expression above.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest

from support.blender_helpers import MODULE, farm_jobs, save_shot, select_job_type
from local_farm import Farm

EXPR = "import bpy; bpy.ops.flamenco_desk.submit_job()"


def run_python(user_dir: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(user_dir))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def blender_user(tmp_path: Path, extension_zip: Path) -> Path:
    """A Blender user folder with Flamenco Desk installed from its zip."""
    user = tmp_path / "blender-user"
    user.mkdir()
    setup = run_python(user, textwrap.dedent(f"""
        import bpy
        bpy.ops.extensions.package_install_files(filepath={str(extension_zip)!r}, repo="user_default", enable_on_install=True)
    """))
    assert setup.returncode == 0, setup.stderr
    return user


def blender_b(user: Path, blend: Path, manager_url: str) -> subprocess.CompletedProcess[str]:
    return run_python(user, textwrap.dedent(f"""
        import bpy
        # Blender's start-up: saved preferences, enabled add-ons.
        bpy.context.preferences.system.use_online_access = True
        bpy.ops.preferences.addon_enable(module={MODULE!r})
        bpy.context.preferences.addons[{MODULE!r}].preferences.manager_url = {manager_url!r}
        bpy.ops.wm.open_mainfile(filepath={str(blend)!r})
        {EXPR}
    """))


def test_headless_submit_prints_the_job_id(connected: ModuleType, farm: Farm, blender_user: Path,
                                           tmp_path: Path) -> None:
    shot = save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(connected, "echo-sleep-test").message = "from a script"
    bpy.context.scene.flamenco_desk.submit_paused = True
    bpy.ops.wm.save_mainfile()

    proc = blender_b(blender_user, shot, farm.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (job,) = farm_jobs(farm, blendfile=str(shot))
    assert f"FLAMENCO_DESK_JOB_ID={job['id']}" in proc.stdout
    assert job["settings"]["message"] == "from a script"
    assert "Submitting" in proc.stdout  # progress lines while it works


def test_headless_failure_is_clear_and_exits_non_zero(connected: ModuleType, farm: Farm, blender_user: Path,
                                                      tmp_path: Path) -> None:
    shot = save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(connected, "echo-sleep-test")  # required "message" left empty
    bpy.ops.wm.save_mainfile()

    proc = blender_b(blender_user, shot, farm.url)
    assert proc.returncode != 0
    assert 'Setting "Message" is required' in proc.stderr
    assert farm_jobs(farm, blendfile=str(shot)) == []
