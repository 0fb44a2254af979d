"""Manager profiles in the preferences, in real Blender (no Manager needed): the old single URL
becomes the first profile, the active profile and `Manager URL` stay equal both ways, the last
profile cannot be removed, and a job whose URL no profile has is looked for on the active one."""

from __future__ import annotations

import uuid
from types import ModuleType
from typing import Any, Iterator

import bpy
import pytest

from local_farm import Farm
from support.blender_helpers import tick_until
from support.fault_proxy import FaultProxy



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

