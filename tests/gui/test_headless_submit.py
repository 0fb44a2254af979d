"""The README's headless command with the real `blender` binary (Debian's Blender 4.3 in the GUI
chroot) against the real Manager and Worker:

    blender -b --online-mode shot.blend --python-expr "import bpy; bpy.ops.flamenco_desk.submit_job()"

Set up like a real user's machine: the extension installed from its zip into a throw-away user
folder, the Manager URL set in the add-on's preferences and saved with Blender's user
preferences; the headless run gets it from there. The shot is prepared by an artist's Blender
(the same binary): job type chosen, settings filled, saved.
"""

from __future__ import annotations

import re
import socket
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from gui_helpers import MODULE
from local_farm import Farm
from support.blender_helpers import cancel_unfinished
from tools.gui.session import blender_headless

EXPR = "import bpy; bpy.ops.flamenco_desk.submit_job()"
JOB_ID = re.compile(r"^FLAMENCO_DESK_JOB_ID=([0-9a-f-]{36})$", re.M)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def blender_b(work: Path, args: list[str], binds: list[Path]) -> tuple[int, str, str]:
    run = blender_headless(args, work, binds=binds, timeout=300)
    return run.returncode, run.stdout, run.stderr


def install_for_user(work: Path, zip_path: Path, manager_url: str) -> None:
    """What a user does once: install the zip, set the Manager URL, save the preferences."""
    code, out, err = blender_b(
        work,
        ["--python-expr", textwrap.dedent(f"""
            import bpy
            prefs = bpy.context.preferences
            result = bpy.ops.extensions.package_install_files(
                filepath={str(zip_path)!r}, repo="user_default", enable_on_install=True)
            assert result == {{"FINISHED"}}, result
            prefs.addons[{MODULE!r}].preferences.manager_url = {manager_url!r}
            prefs.use_preferences_save = True
            bpy.ops.wm.save_userpref()
            print("INSTALLED")
        """)],
        [zip_path.parent],
    )  # fmt: skip
    assert code == 0 and "INSTALLED" in out, out + err
    assert (work / "blender-user" / "config" / "userpref.blend").is_file()


def prepare_shot(work: Path, farm: Farm, blend: Path, job_type: str, settings: dict[str, object]) -> Path:
    """The artist's file: saved with a job type and its settings (and Submit Paused, so the
    shared Worker is not kept busy). Needs the Manager's job types, fetched as the panel does."""
    code, out, err = blender_b(
        work,
        ["--online-mode", "--python-expr", textwrap.dedent(f"""
            import os, sys
            import bpy
            desk = sys.modules[{MODULE!r}]
            desk.state.refresh()
            assert desk.runtime.timer.bridge.wait_for(desk.state.REFRESH_KEY, 60), "no answer"
            assert desk.state.info() is not None, desk.state.connection_line()
            scene = bpy.context.scene
            scene.frame_start, scene.frame_end = 1, 3
            sp = desk.props.scene_props(scene)
            sp.job_type = {job_type!r}
            sp.submit_paused = True
            grp = desk.jobtypes.registry.group(scene)
            for key, value in {settings!r}.items():
                setattr(grp, desk.jobtypes.setting_props.identifier(key), value)
            os.makedirs({str(blend.parent)!r}, exist_ok=True)
            bpy.ops.wm.save_as_mainfile(filepath={str(blend)!r})
            print("SAVED")
        """)],
        [farm.root],
    )  # fmt: skip
    assert code == 0 and "SAVED" in out, out + err
    return blend


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory, extension_zip: Path, farm: Farm) -> Iterator[Path]:
    """A user folder (with its own HOME and temp folder) pointed at the farm."""
    work = tmp_path_factory.mktemp("headless")
    install_for_user(work, extension_zip, farm.url)
    yield work
    cancel_unfinished(farm)


def test_headless_submit_prints_the_job_id_and_exits_0(user: Path, farm: Farm) -> None:
    shot = prepare_shot(user, farm, user / "artist" / "sq010_sh030.blend", "simple-blender-render",
                        {"render_output_root": str(farm.shared / "renders")})
    code, out, err = blender_b(user, ["--online-mode", str(shot), "--python-expr", EXPR], [farm.root])
    assert code == 0, out + err
    ids = JOB_ID.findall(out)
    assert len(ids) == 1, out
    job = farm.job(ids[0])
    assert job["type"] == "simple-blender-render" and job["status"] == "paused"
    assert job["settings"]["frames"] == "1-3"
    assert job["metadata"]["blendfile"] == str(shot)
    assert job["metadata"]["blender_version"].startswith("4.3")
    # The Worker can read the .blend the headless Blender wrote.
    assert Path(job["settings"]["blendfile"]).is_file()
    assert "Flamenco Desk: error" not in err


def test_a_required_setting_left_empty_is_a_clear_message_and_exit_1(user: Path, farm: Farm) -> None:
    shot = prepare_shot(user, farm, user / "artist" / "sq010_sh040.blend", "simple-blender-render",
                        {"render_output_root": ""})
    before = {j["id"] for j in farm.get_json("/api/v3/jobs")["jobs"]}
    code, out, err = blender_b(user, ["--online-mode", str(shot), "--python-expr", EXPR], [farm.root])
    assert code == 1, out + err
    assert 'Flamenco Desk: error: Cannot submit: Setting "Render Output Root" is required' in err, err
    assert not JOB_ID.search(out)
    assert {j["id"] for j in farm.get_json("/api/v3/jobs")["jobs"]} == before


def test_the_manager_down_is_a_clear_message_and_exit_1(tmp_path: Path, extension_zip: Path, user: Path,
                                                        farm: Farm) -> None:
    shot = prepare_shot(user, farm, user / "artist" / "sq010_sh050.blend", "simple-blender-render",
                        {"render_output_root": str(farm.shared / "renders")})
    elsewhere = tmp_path / "user-without-manager"
    install_for_user(elsewhere, extension_zip, f"http://127.0.0.1:{closed_port()}")
    code, out, err = blender_b(elsewhere, ["--online-mode", str(shot), "--python-expr", EXPR], [farm.root, user])
    assert code == 1, out + err
    assert "Flamenco Desk: error: " in err and "refused" in err.lower(), err
    assert not JOB_ID.search(out)
