"""Several Managers: two real Managers (the session's `farm` and a second farm of the other
tested release), each with its own Worker. A job submitted to each through the submit panel's
Manager picker, both watched at once (each Manager's own monitor and event stream, its features
from its own /version), a pause reaching only the Manager its job is on, the job list naming
each job's Manager, and opening the other Manager's job reading its tasks from that Manager."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Iterator

import bpy
import pytest

from local_farm import Farm
from managers_support import second_farm, status_on, submit_echo  # noqa: F401 - a fixture
from support.blender_helpers import cancel_unfinished, refresh, tick_until, unique_name
from support.fake_layout import FakeLayout


@pytest.fixture
def two_profiles(clean_desk: ModuleType, prefs: object, farm: Farm, second_farm: Farm) -> Iterator[ModuleType]:  # noqa: F811
    """Profiles "Studio" (the session's farm, migrated from the old single URL preference) and
    "Second" (the second farm, echo-sleep-test as its default job type)."""
    desk = clean_desk
    p = bpy.context.preferences.addons[desk.state.ADDON_ID].preferences
    p.managers.clear()  # as saved by a version without profiles: one URL
    p.active_manager = 0
    p.manager_url, p.connect_timeout, p.read_timeout = farm.url, 2.0, 10.0
    desk.runtime.timer.tick()
    assert [(m.name, m.url) for m in p.managers] == [("Manager", farm.url)], "the old URL became the first profile"
    p.managers[0].name = "Studio"
    second = p.managers.add()
    second.name, second.url, second.default_job_type = "Second", second_farm.url, "echo-sleep-test"
    yield desk
    cancel_unfinished(farm)
    cancel_unfinished(second_farm)
    p = bpy.context.preferences.addons[desk.state.ADDON_ID].preferences
    p.managers.clear()
    p.active_manager = 0
    desk.manager_watches.stop_all()


def pick(desk: ModuleType, name: str) -> None:
    """What the submit panel's Manager menu does, then its refresh."""
    p = bpy.context.preferences.addons[desk.state.ADDON_ID].preferences
    layout = FakeLayout()
    desk.panels.submit_ui.draw(layout, bpy.context)
    assert "active_manager_ui" in layout.props(), "the submit panel offers the Manager profiles"
    p.active_manager_ui = str(next(i for i, m in enumerate(p.managers) if m.name == name))
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY), timeout=20)
    refresh(desk)


def test_two_managers_submit_watch_and_act_on_the_right_one(two_profiles: ModuleType, farm: Farm,
                                                             second_farm: Farm, tmp_path: Path) -> None:  # noqa: F811
    desk = two_profiles
    p = bpy.context.preferences.addons[desk.state.ADDON_ID].preferences
    scene_props = desk.props.scene_props(bpy.context.scene)

    pick(desk, "Second")
    assert p.manager_url == second_farm.url
    assert scene_props.job_type == "echo-sleep-test", "the profile's default job type"
    assert desk.state.info().version.version.startswith(second_farm.release)
    on_b = submit_echo(desk, tmp_path / "b" / "shot.blend", unique_name("second"))
    pick(desk, "Studio")
    assert p.manager_url == farm.url
    on_a = submit_echo(desk, tmp_path / "a" / "shot.blend", unique_name("studio"))
    # Each job is on the Manager it was submitted to, and only there.
    assert status_on(second_farm, on_b) and status_on(farm, on_a)
    refs = {ref.job_id: ref.manager_url for ref in scene_props.jobs}
    assert refs == {on_a: farm.url, on_b: second_farm.url}

    # Both watched at once: Studio by the main monitor, Second by a watch of its own, with its
    # features from its own /version.
    watches = desk.manager_watches.watches
    tick_until(desk, lambda: second_farm.url in watches and on_b in watches[second_farm.url].monitor.jobs
               and on_a in desk.watching.monitor.jobs, timeout=20)
    watch = watches[second_farm.url]
    assert watch.info.version.version.startswith(second_farm.release)
    assert watch.info.features.steps == (second_farm.release >= "3.8")
    assert desk.state.info().features.steps == (farm.release >= "3.8")
    assert on_b not in desk.watching.monitor.jobs and on_a not in watch.monitor.jobs

    # The job list shows both, each with its Manager.
    ui = bpy.context.window_manager.flamenco_desk_ui
    ui.list_scope, ui.status_filter = "FILE", "ALL"
    listed, total = desk.panels.jobs_ui.listed(ui)
    assert {j.id for j in listed} == {on_a, on_b} and total == 2
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_job_list(layout, bpy.context)
    labels = layout.labels()
    assert labels.count("Studio") == 1 and labels.count("Second") == 1, labels

    # Pause the job on Second: it pauses there, Studio's job runs on.
    tick_until(desk, lambda: watch.monitor.jobs[on_b].status in ("queued", "active"), timeout=20)
    assert bpy.ops.flamenco_desk.job_action(job_id=on_b, action="pause") == {"FINISHED"}
    tick_until(desk, lambda: status_on(second_farm, on_b) in ("pause-requested", "paused"), timeout=20)
    tick_until(desk, lambda: watch.monitor.jobs[on_b].status in ("pause-requested", "paused"), timeout=20)
    assert status_on(farm, on_a) in ("queued", "active", "completed")
    assert desk.watching.monitor.jobs[on_a].status in ("queued", "active", "completed")
    tick_until(desk, lambda: {r.job_id: r.status for r in scene_props.jobs}[on_b] in ("pause-requested", "paused"))

    # Opening Second's job makes Second the active Manager: its tasks are read from there. Only
    # looking at a job leaves the artist's settings alone (no switch to Second's default job type).
    scene_props.job_type = "simple-blender-render"
    assert bpy.ops.flamenco_desk.open_job(job_id=on_b) == {"FINISHED"}
    assert p.manager_url == second_farm.url
    assert scene_props.job_type == "simple-blender-render"
    refresh(desk)
    mon = desk.watching.monitor
    tick_until(desk, lambda: mon.open_job is not None and len(mon.tasks) == 7, timeout=20)
    assert mon.open_job.id == on_b
    # ... and Studio's job is now the one watched on its own.
    tick_until(desk, lambda: farm.url in watches and on_a in watches[farm.url].monitor.jobs, timeout=20)
    assert second_farm.url not in watches
