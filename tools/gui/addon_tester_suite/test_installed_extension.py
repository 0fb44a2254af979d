"""A small suite run inside the real Blender binary (the GUI chroot's Blender 4.3, without a
window) through blender-addon-tester (tools/gui/addon_tester.py): the extension as installed
from its zip by the load script."""

import bpy
import pytest

MODULE = "bl_ext.user_default.flamenco_desk"


def test_the_extension_is_installed_and_enabled() -> None:
    assert MODULE in bpy.context.preferences.addons
    assert bpy.context.preferences.addons[MODULE].preferences.manager_url is not None


def test_its_operators_and_panels_are_registered() -> None:
    for op in ("submit_job", "refresh_manager", "open_job", "job_action"):
        assert hasattr(bpy.ops.flamenco_desk, op)
    for panel in ("FLAMENCO_DESK_PT_output", "FLAMENCO_DESK_PT_sidebar", "FLAMENCO_DESK_PT_jobs", "FLAMENCO_DESK_PT_job"):
        assert getattr(bpy.types, panel).is_registered


def test_without_online_access_the_submit_operator_says_why() -> None:
    # blender-addon-tester starts `blender -b` without --online-mode: Online Access is off.
    assert not bpy.app.online_access
    assert not bpy.ops.flamenco_desk.submit_job.poll()
    with pytest.raises(RuntimeError, match="Online access is disabled"):
        bpy.ops.flamenco_desk.submit_job()


def test_job_type_settings_start_empty_in_a_new_scene() -> None:
    assert bpy.context.scene.flamenco_desk.job_type == ""
