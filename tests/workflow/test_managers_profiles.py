"""Manager profiles in the preferences, in real Blender against the real Manager: the old single
URL becomes the first profile, the active profile and `Manager URL` stay equal both ways, the last
profile cannot be removed, and a job whose URL no profile has is looked for on the active one. A
profile's default preset is applied when it is picked, once that Manager's job types are in; a
missing one, or another job type's, changes nothing and says so; a submission started before the
job types arrived is not given the preset behind the script's back."""

from __future__ import annotations

import uuid
from types import ModuleType
from typing import Any, Iterator

import bpy
import pytest

from local_farm import Farm
from support.blender_helpers import refresh, save_shot, select_job_type, tick_until, unique_name
from support.fault_proxy import FaultProxy

from presets_support import V1, probe_file_name, probe_script


@pytest.fixture
def profile_prefs(clean_desk: ModuleType, prefs: object, proxy: FaultProxy) -> Iterator[Any]:
    p = bpy.context.preferences.addons[clean_desk.state.ADDON_ID].preferences
    p.managers.clear()
    p.active_manager = 0
    yield p
    # What the add-on still asks the proxy ends before the proxy closes (else it retries).
    clean_desk.props.scene_props(bpy.context.scene).jobs.clear()
    tick_until(clean_desk, lambda: not clean_desk.runtime.timer.bridge.pending(), timeout=30)
    p = bpy.context.preferences.addons[clean_desk.state.ADDON_ID].preferences
    p.managers.clear()
    p.active_manager = 0


def test_old_url_becomes_first_profile_and_stays_in_step(clean_desk: ModuleType, profile_prefs: Any, farm: Farm,
                                                         proxy: FaultProxy) -> None:
    # Two URLs the add-on reaches (it asks a newly picked Manager for its job types at once):
    # the farm, and the proxy in front of it, as if it were a second Manager.
    OLD_URL, OTHER_URL = farm.url, proxy.url  # noqa: N806
    desk, p = clean_desk, profile_prefs
    p.manager_url = OLD_URL  # what an older version saved
    p.managers.clear()
    assert desk.profiles.profiles(p) == [("Manager", OLD_URL)], "shown before the migration ran"
    desk.runtime.timer.tick()  # the migration runs on the timer, where writing is allowed
    assert [(m.name, m.url) for m in p.managers] == [("Manager", OLD_URL)]

    assert bpy.ops.flamenco_desk.add_manager() == {"FINISHED"}
    p.managers[1].url = OTHER_URL
    assert p.manager_url == OLD_URL, "editing another profile's URL leaves the active Manager alone"
    p.active_manager_ui = "1"
    assert p.manager_url == OTHER_URL and p.active_manager == 1
    p.managers[1].url = OTHER_URL + "/"
    assert p.manager_url == OTHER_URL + "/", "the active profile's URL is the Manager URL"
    p.manager_url = OTHER_URL  # a script (or an older test) setting the URL: the profile follows
    assert p.managers[1].url == OTHER_URL and p.managers[0].url == OLD_URL

    # A job submitted to a URL no profile has any more is looked for on the active Manager.
    refs = desk.props.scene_props(bpy.context.scene).jobs
    job_a, job_b, job_gone = (str(uuid.uuid4()) for _ in range(3))
    for job_id, url in ((job_a, OLD_URL + "/"), (job_b, OTHER_URL), (job_gone, "http://127.0.0.1:13")):
        ref = refs.add()
        ref.job_id, ref.manager_url = job_id, url
    assert desk.profiles.file_jobs() == {OLD_URL: [job_a], OTHER_URL: [job_b, job_gone]}
    assert desk.profiles.manager_of(job_a) == OLD_URL
    assert desk.profiles.name_for(OLD_URL) == "Manager"

    # Removing the active profile makes the first one active; the last one stays.
    assert bpy.ops.flamenco_desk.remove_manager(index=1) == {"FINISHED"}
    assert p.manager_url == OLD_URL and p.active_manager == 0
    with pytest.raises(RuntimeError, match="cannot be removed"):
        bpy.ops.flamenco_desk.remove_manager(index=0)
    assert len(p.managers) == 1



def add_profile(p: Any, name: str, url: str, job_type: str, preset: str) -> Any:
    assert bpy.ops.flamenco_desk.add_manager() == {"FINISHED"}
    profile = p.managers[-1]
    profile.name, profile.url, profile.default_job_type, profile.default_preset = name, url, job_type, preset
    return profile


def preset_said(desk: ModuleType, *words: str) -> str:
    """Tick (timers do not tick in the bpy module) until the preset row says all of `words`."""
    def said() -> bool:
        return desk.job_presets.message is not None and all(w in desk.job_presets.message[0] for w in words)

    tick_until(desk, said, timeout=30)
    return str(desk.job_presets.message[0])


def settings(desk: ModuleType) -> tuple[Any, ...]:
    grp = desk.jobtypes.registry.group(bpy.context.scene)
    return grp.message, grp.quality, grp.count


@pytest.fixture
def probe_shot(connected: ModuleType, profile_prefs: Any, job_type_script: Any, tmp_path: Any) -> str:
    """A saved shot, the first profile ("Manager", the proxy) in place, the probe job type on the
    Manager; returns the probe's name."""
    desk = connected
    desk.job_presets.reset()
    script, job_type = probe_file_name()
    job_type_script(script, probe_script(V1))
    refresh(desk)
    save_shot(tmp_path / "profile_shot.blend")
    desk.runtime.timer.tick()  # the first profile is made on the timer
    assert [m.name for m in profile_prefs.managers] == ["Manager"]
    return job_type


def test_picking_a_profile_applies_its_default_preset(connected: ModuleType, profile_prefs: Any,
                                                      probe_shot: str, farm: Farm) -> None:
    desk, p, job_type = connected, profile_prefs, probe_shot
    sp = desk.props.scene_props(bpy.context.scene)
    grp = select_job_type(desk, job_type)
    grp.message, grp.quality, grp.count = "studio look", "final", 42
    assert bpy.ops.flamenco_desk.preset_save(name="Studio Look") == {"FINISHED"}
    grp.message, grp.quality, grp.count = "by hand", "preview", 1
    select_job_type(desk, "echo-sleep-test")  # the shot is on another job type when the profile is picked
    add_profile(p, "Studio", farm.url, job_type, "Studio Look")

    p.active_manager_ui = "1"
    assert sp.job_type == job_type, "the default job type at once"
    assert "Studio's default preset" not in desk.job_presets.message[0], "not before the job types are in"
    text = preset_said(desk, "Studio's default preset")
    assert text.startswith('Studio\'s default preset "Studio Look": 4 settings applied'), text
    assert "dropped" not in text
    assert desk.state.info().url == farm.url and desk.jobtypes.registry.job_type().name == job_type
    assert settings(desk) == ("studio look", "final", 42)
    assert desk.job_presets.current_for(bpy.context.scene) == ("Studio Look", "ARTIST")  # the menu names it

    # A script picks the profile again and submits at once: the job and the scene keep what the
    # scene held; the preset is not applied in the middle of the submission.
    grp = desk.jobtypes.registry.group(bpy.context.scene)
    grp.message, grp.quality = "picked and submitted", "preview"
    p.active_manager_ui = "0"
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY), timeout=30)
    p.active_manager_ui = "1"
    sp.job_name, sp.submit_paused = unique_name("profile-preset"), True  # the shared Worker need not run it
    assert bpy.ops.flamenco_desk.submit_job() == {"FINISHED"}  # headless: waits for the Manager
    job = farm.job(str(desk.submitting.last_outcome.job_id))
    assert (job["settings"]["message"], job["settings"]["quality"]) == ("picked and submitted", "preview")
    assert "not applied: a submission started" in desk.job_presets.message[0]
    tick_until(desk, lambda: not desk.runtime.timer.bridge.pending(), timeout=30)
    assert settings(desk) == ("picked and submitted", "preview", 42)


def test_a_missing_default_preset_or_another_job_types_changes_nothing(connected: ModuleType, profile_prefs: Any,
                                                                      probe_shot: str, farm: Farm) -> None:
    desk, p, job_type = connected, profile_prefs, probe_shot
    select_job_type(desk, "echo-sleep-test")
    echo_look = unique_name("Echo Look")  # a preset of another job type (left for no later test)
    assert bpy.ops.flamenco_desk.preset_save(name=echo_look) == {"FINISHED"}
    try:
        grp = select_job_type(desk, job_type)
        grp.message, grp.quality, grp.count = "as it was", "preview", 5
        add_profile(p, "Studio", farm.url, job_type, "Nope")

        p.active_manager_ui = "1"
        text = preset_said(desk, "Studio's default preset")
        assert text == ('Studio\'s default preset "Nope" not found among the presets of Preset Probe (yours, the '
                        "project's, the studio's): the settings are left as they are"), text
        assert desk.job_presets.message[1] == "ERROR"
        assert settings(desk) == ("as it was", "preview", 5)
        assert desk.job_presets.current_for(bpy.context.scene) is None, "no preset loaded"

        p.managers[1].default_preset = echo_look
        p.active_manager_ui = "0"
        tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY), timeout=30)
        p.active_manager_ui = "1"
        text = preset_said(desk, echo_look)
        echo_label = desk.state.info().job_types["echo-sleep-test"].label or "echo-sleep-test"
        assert text == (f'Studio\'s default preset "{echo_look}" is a preset of {echo_label}, not of Preset Probe: '
                        "not applied, the settings are left as they are"), text
        assert settings(desk) == ("as it was", "preview", 5)
    finally:
        select_job_type(desk, "echo-sleep-test")
        assert bpy.ops.flamenco_desk.preset_delete(name=echo_look, level="ARTIST") == {"FINISHED"}
