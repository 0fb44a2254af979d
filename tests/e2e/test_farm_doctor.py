"""Why isn't my job rendering? The farm doctor against a real Manager with three real Workers
(tests/support/farm_fixtures.py `doctor_farm`): doctor-render (the real Blender, awake),
doctor-broken (the stand-in Blender that fails every task, asleep) and doctor-gpu (the real
Blender, tag "gpu", asleep); none offers ffmpeg. Each scenario reads the findings from the
command line (`python -m api … why`, through the contract-checking proxy) and, where it is
about Blender, from the add-on's Job and Farm panels, and fixes what it can from there.

Nothing is simulated: the Workers are the Manager's, asleep by its sleep scheduler or by hand,
blocklisted by the Manager after their real failures."""

from __future__ import annotations

import io
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import bpy
import pytest

from api.cli import main as cli
from local_farm import Farm, wait_until
from support.blender_helpers import refresh, tick_until
from support.fake_layout import FakeLayout
from support.farm_fixtures import DOCTOR_BROKEN, DOCTOR_BROKEN_ERROR, DOCTOR_GPU, DOCTOR_GPU_TAG, DOCTOR_RENDER
from support.farm_jobs import cancel_runnable, echo_settings, render_settings, save_blendfile, settings_for, submit
from support.fault_proxy import FaultProxy

STAND_IN_ERROR = DOCTOR_BROKEN_ERROR
BY_HAND = "asleep (sent to sleep by hand, not by a sleep schedule)"


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def doctor_proxy(doctor_farm: Farm) -> Iterator[FaultProxy]:
    """The command line goes through the proxy: every request and answer is checked against
    the API document the Manager serves."""
    with FaultProxy(doctor_farm.url, doctor_farm.release) as proxy:
        yield proxy
    proxy.assert_contract_clean()


@pytest.fixture(autouse=True)
def farm_as_it_was(doctor_farm: Farm) -> Iterator[None]:
    """After each test: no runnable job, doctor-render awake, the other two asleep (asking for
    the status a Worker has also cancels a change asked for before)."""
    yield
    cancel_runnable(doctor_farm)
    workers = doctor_farm.workers
    for name, status in ((DOCTOR_BROKEN, "asleep"), (DOCTOR_GPU, "asleep"), (DOCTOR_RENDER, "awake")):
        workers[name].set_status(status)


@pytest.fixture
def on_doctor_farm(clean_desk: ModuleType, doctor_farm: Farm, prefs: Any) -> ModuleType:
    """The add-on talking to the doctor farm (directly: the event stream is on)."""
    prefs.manager_url = doctor_farm.url
    refresh(clean_desk)
    return clean_desk


# -- helpers -----------------------------------------------------------------------------------------


def why(proxy: FaultProxy, job_id: str, *options: str) -> list[str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli(["--manager", proxy.url, *options, "why", job_id], out, err)
    assert (code, err.getvalue()) == (0, ""), err.getvalue()
    print(f"$ python -m api --manager URL why {job_id}\n{out.getvalue()}")  # shown with -s; pasted in the README
    return out.getvalue().splitlines()


def run_cli(proxy: FaultProxy, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli(["--manager", proxy.url, *argv], out, err)
    return code, out.getvalue(), err.getvalue()


def job_panel(desk: ModuleType) -> FakeLayout:
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_open_job(layout, bpy.context)
    return layout


def farm_panel(desk: ModuleType) -> FakeLayout:
    layout = FakeLayout()
    desk.panels.farm_ui.draw_farm(layout, bpy.context)
    return layout


def squashed(text: str) -> str:
    return "".join(text.split())


def findings(desk: ModuleType, job_id: str, until: Callable[[Any], bool], timeout: float = 60.0) -> Any:
    """Open the job and look at its Job panel (as the artist would) until its findings satisfy
    `until`; the timer is driven by hand (timers do not tick in the bpy module)."""
    if desk.watching.monitor.open_job_id != job_id:
        assert bpy.ops.flamenco_desk.open_job(job_id=job_id) == {"FINISHED"}
    found: list[Any] = []

    def check() -> bool:
        job_panel(desk)
        farm_panel(desk)
        current = desk.watching.monitor.doctor.findings(job_id)
        if current and until(current):
            found[:] = current
            return True
        return False

    try:
        tick_until(desk, check, timeout)
    except AssertionError:
        current = desk.watching.monitor.doctor.findings(job_id)
        raise AssertionError(f"findings not reached: {[f.text for f in current]}") from None
    return found


def kinds(found: Any) -> list[str]:
    return [f.kind for f in found]


def act(desk: ModuleType, operator: Callable[..., set[str]], **properties: Any) -> str:
    assert operator("EXEC_DEFAULT", **properties) == {"FINISHED"}
    jobs = desk.operators.jobs
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(jobs.ACTION_KEY), timeout=60)
    assert jobs.feedback.icon == "CHECKMARK", jobs.feedback.text
    return str(jobs.feedback.text)


def buttons(layout: FakeLayout, idname: str) -> list[dict[str, Any]]:
    return [record for kind, (name, record) in ((e[0], e[1]) for e in layout.log if e[0] == "operator")
            if name == idname]


def task_workers(farm: Farm, job_id: str) -> dict[str, str]:
    """Task name → the Worker it last ran on (from each task's details: 3.6 lists none)."""
    tasks = farm.get_json(f"/api/v3/jobs/{job_id}/tasks")["tasks"]
    return {t["name"]: farm.get_json(f"/api/v3/tasks/{t['id']}").get("worker", {}).get("name", "") for t in tasks}


def failed_by(farm: Farm, job_id: str, worker_name: str) -> list[str]:
    """The job's tasks this Worker failed, as the Manager lists them."""
    names = []
    for summary in farm.get_json(f"/api/v3/jobs/{job_id}/tasks")["tasks"]:
        task = farm.get_json(f"/api/v3/tasks/{summary['id']}")
        if any(w["name"] == worker_name for w in task.get("failed_by_workers") or []):
            names.append(task["name"])
    return sorted(names)


# -- scenarios -----------------------------------------------------------------------------------------


def test_tag_only_an_asleep_worker_has_and_waking_it_from_blender(on_doctor_farm: ModuleType, doctor_farm: Farm,
                                                                  doctor_proxy: FaultProxy) -> None:
    desk = on_doctor_farm
    gpu_tag = doctor_farm.ensure_tag(DOCTOR_GPU_TAG)
    job_id = submit(doctor_farm, "echo-sleep-test", echo_settings("tagged", 1, 1), worker_tag=gpu_tag)["id"]

    expected = ('The job\'s worker tag "gpu" is on no awake Worker: only doctor-gpu has it, and it is '
                f"{BY_HAND}.")
    assert why(doctor_proxy, job_id) == [expected]

    found = findings(desk, job_id, lambda f: kinds(f) == ["tag"])
    assert found[0].text == expected and found[0].blocking
    panel = job_panel(desk)
    assert squashed(expected) in squashed("".join(panel.labels()))
    wake = buttons(panel, "flamenco_desk.wake_worker")
    gpu_id = doctor_farm.workers[DOCTOR_GPU].id
    assert wake == [{"worker_id": gpu_id, "worker_name": DOCTOR_GPU}]
    settag = buttons(panel, "flamenco_desk.set_worker_tag")
    assert (settag != []) == (doctor_farm.release != "3.6")  # changing a job's tag needs 3.8
    # The Farm panel says why the awake Worker does not take it.
    farm_text = squashed("".join(farm_panel(desk).labels()))
    assert squashed('idle: lacks the job\'s tag "gpu"') in farm_text
    assert squashed(f"{BY_HAND}") in farm_text

    # The TD wakes doctor-gpu from the finding's button (confirmed); it takes the job.
    assert "doctor-gpu" in act(desk, bpy.ops.flamenco_desk.wake_worker, **wake[0])
    doctor_farm.workers[DOCTOR_GPU].wait_for(("awake",), 30)
    doctor_farm.wait_for_job(job_id, timeout=60, kick=False)
    assert set(task_workers(doctor_farm, job_id).values()) == {DOCTOR_GPU}
    assert kinds(findings(desk, job_id, lambda f: kinds(f) == ["done"])) == ["done"]
    assert why(doctor_proxy, job_id) == ["The job completed."]


def test_job_needing_ffmpeg_no_worker_offers_and_paused(doctor_farm: Farm, doctor_proxy: FaultProxy) -> None:
    # simple-blender-render with a frame rate: its last task makes the preview video with ffmpeg.
    job_id = submit(doctor_farm, "simple-blender-render", settings_for(doctor_farm, "simple-blender-render"),
                    initial_status="paused")["id"]
    lines = why(doctor_proxy, job_id)
    assert lines == [
        "The job is paused: no Worker takes its tasks until it is resumed.",
        'No Worker offers "ffmpeg" tasks, which 1 task of this job needs ("preview-video"): doctor-broken, '
        "doctor-gpu and doctor-render offer only blender, file-management and misc.",
    ]
    code, out, _ = run_cli(doctor_proxy, "why", job_id, "--json")
    data = json.loads(out)
    assert code == 0 and data["job"]["id"] == job_id and data["job"]["status"] == "paused"
    assert [(f["kind"], f["task_type"], f["count"], f["blocking"]) for f in data["findings"]] == [
        ("job-state", "", 0, True), ("task-type", "ffmpeg", 1, True)]
    assert data["findings"][1]["workers"] == [DOCTOR_BROKEN, DOCTOR_GPU, DOCTOR_RENDER]
    assert data["findings"][0]["actions"] == [{"kind": "resume", "label": "Resume"}]


def test_every_worker_asleep_on_a_sleep_schedule(on_doctor_farm: ModuleType, doctor_farm: Farm,
                                                 doctor_proxy: FaultProxy) -> None:
    desk = on_doctor_farm
    now = datetime.now().astimezone()  # the Manager runs here: its local time is ours
    later = now + timedelta(hours=2)
    # Asleep from the start of today until two hours from now; only today, so it always ends.
    end = later.strftime("%H:%M") if later.date() == now.date() else ""
    schedule = {"is_active": True, "days_of_week": ("mo", "tu", "we", "th", "fr", "sa", "su")[now.weekday()],
                "start_time": "", "end_time": end}
    workers = doctor_farm.workers
    try:
        for worker in workers.values():
            doctor_farm.post_json(f"/api/v3/worker-mgt/workers/{worker.id}/sleep-schedule", schedule)
        workers[DOCTOR_RENDER].kick()  # an idle Worker hears of it when it next asks for work
        for worker in workers.values():
            worker.wait_for(("asleep",), 30)
        job_id = submit(doctor_farm, "echo-sleep-test", echo_settings("night", 1, 1))["id"]

        until = f"until {end}" if end else "until midnight"
        expected = (f"No Worker is awake: doctor-broken, doctor-gpu and doctor-render are asleep {until} by their "
                    "sleep schedules.")
        assert why(doctor_proxy, job_id) == [expected]
        found = findings(desk, job_id, lambda f: kinds(f) == ["asleep"])
        assert found[0].text == expected
        assert sorted(a.worker_name for a in found[0].actions) == [DOCTOR_BROKEN, DOCTOR_GPU, DOCTOR_RENDER]
        # One row per Worker in the Farm panel, each saying until when it sleeps.
        farm_text = squashed("".join(farm_panel(desk).labels()))
        assert farm_text.count(squashed(f"asleep {until} by its sleep schedule")) == 3, farm_text
    finally:
        cancel_runnable(doctor_farm)
        for worker in workers.values():
            doctor_farm.post_json(f"/api/v3/worker-mgt/workers/{worker.id}/sleep-schedule",
                                  {**schedule, "is_active": False})


def test_broken_worker_blocklisted_then_unblock_and_requeue_lets_another_worker_finish(
        on_doctor_farm: ModuleType, doctor_farm: Farm, doctor_proxy: FaultProxy, tmp_path: Path) -> None:
    desk = on_doctor_farm
    workers = doctor_farm.workers
    render, broken = workers[DOCTOR_RENDER], workers[DOCTOR_BROKEN]
    render.set_status("asleep")
    broken.set_status("awake")
    blend = save_blendfile(doctor_farm, doctor_farm.shared / "doctor" / "shot.blend")
    settings = render_settings(doctor_farm, blend, frames="1-3", chunk_size=1)
    job_id = submit(doctor_farm, "simple-blender-render", settings)["id"]
    broken.kick()
    blocklist_path = f"/api/v3/jobs/{job_id}/blocklist"
    wait_until(lambda: doctor_farm.get_json(blocklist_path), 120, "doctor-broken blocklisted")
    time.sleep(0.5)  # the failure that blocklisted it is recorded in the same request

    failed = failed_by(doctor_farm, job_id, DOCTOR_BROKEN)
    n = len(failed)
    assert n >= 2, failed  # the Manager's threshold is 3, and it counts the failure at hand twice
    left = f"doctor-gpu and doctor-render are {BY_HAND}"
    lines = why(doctor_proxy, job_id)
    assert lines == [
        f'doctor-broken is blocklisted for "blender" tasks of this job after {n} failed tasks (`{STAND_IN_ERROR}`); '
        f"left for them: {left}.",
        f"No awake Worker can take this job: {left}.",
        f"{n} tasks failed on doctor-broken: `{STAND_IN_ERROR}`",
    ]
    code, out, _ = run_cli(doctor_proxy, "blocklist", job_id)
    assert code == 0 and out.splitlines()[0].split() == ["WORKER", "WORKER", "ID", "TASK", "TYPE"]
    assert out.splitlines()[1].split() == [DOCTOR_BROKEN, broken.id, "blender"]
    code, _, err = run_cli(doctor_proxy, "unblock", job_id, DOCTOR_RENDER)
    assert code == 1 and err == f"error: {DOCTOR_RENDER} is not blocklisted for this job; blocklisted: doctor-broken (blender)\n"

    # From the command line, by its ID: unblocked, the broken Worker takes the task it has not
    # failed yet, fails it, and the Manager blocklists it again at once (its failures still count).
    code, out, err = run_cli(doctor_proxy, "unblock", job_id, broken.id, "blender")
    assert (code, out, err) == (0, 'Removed doctor-broken from the job\'s blocklist for "blender" tasks.\n', "")
    assert doctor_farm.get_json(blocklist_path) == []
    broken.kick()
    wait_until(lambda: doctor_farm.get_json(blocklist_path), 120, "doctor-broken blocklisted again")

    # In Blender: the TD takes the broken machine out of the farm, removes it from the job's
    # blocklist and requeues what it failed, and wakes doctor-render, which finishes the job.
    broken.set_status("asleep")
    found = findings(desk, job_id, lambda f: "blocklist" in kinds(f) and "asleep" in kinds(f)
                     and f[0].count >= 2 and "asleep (" in f[0].text)
    block = next(f for f in found if f.kind == "blocklist")
    assert block.blocking and block.workers == (DOCTOR_BROKEN,) and STAND_IN_ERROR in block.text
    panel = job_panel(desk)
    assert squashed(block.text) in squashed("".join(panel.labels()))
    unblock = buttons(panel, "flamenco_desk.unblock_worker")
    assert unblock == [{"job_id": job_id, "worker_id": broken.id, "worker_name": DOCTOR_BROKEN, "task_type": "blender"}]
    requeued = failed_by(doctor_farm, job_id, DOCTOR_BROKEN)
    said = act(desk, bpy.ops.flamenco_desk.unblock_worker, **unblock[0])
    assert said == f"Unblocked doctor-broken; requeued {len(requeued)} tasks it failed", said
    assert doctor_farm.get_json(blocklist_path) == [] and failed_by(doctor_farm, job_id, DOCTOR_BROKEN) == []
    found = findings(desk, job_id, lambda f: "blocklist" not in kinds(f) and "asleep" in kinds(f))
    wake = next(a for f in found for a in f.actions if a.kind == "wake" and a.worker_name == DOCTOR_RENDER)
    act(desk, bpy.ops.flamenco_desk.wake_worker, worker_id=wake.worker_id, worker_name=wake.worker_name)
    doctor_farm.wait_for_job(job_id, timeout=180, kick=False)
    assert set(task_workers(doctor_farm, job_id).values()) == {DOCTOR_RENDER}
    # doctor-render's own `blender` (the real one, first on its PATH) rendered the frames.
    frames = Path(str(settings["render_output_root"]))
    assert sorted(p.name for p in frames.rglob("*.png")) == ["000001.png", "000002.png", "000003.png"]
    assert kinds(findings(desk, job_id, lambda f: kinds(f) == ["done"])) == ["done"]


def test_healthy_jobs_raise_no_false_alarm_and_wait_by_priority(on_doctor_farm: ModuleType, doctor_farm: Farm,
                                                                 doctor_proxy: FaultProxy) -> None:
    desk = on_doctor_farm
    # A Worker that just asked for work and got none asks again only 20 s later: that long the
    # job is next in line.
    doctor_farm.workers[DOCTOR_RENDER].kick_and_wait_idle()
    # Its sleep task runs 15 s: long enough for the looks below and the pause while it runs.
    first = submit(doctor_farm, "echo-sleep-test", echo_settings("first", 5, 3), name="doctor-first", priority=50)["id"]
    next_in_line = ["Next in line: doctor-render is awake and idle and asks the Manager for work every 20 s."]
    assert why(doctor_proxy, first) == next_in_line
    found = findings(desk, first, lambda f: kinds(f) == ["next-in-line"])
    assert not any(f.blocking for f in found)

    doctor_farm.workers[DOCTOR_RENDER].kick()
    wait_until(lambda: any(t["name"] == "sleep" and t["status"] == "active"
                           for t in doctor_farm.get_json(f"/api/v3/jobs/{first}/tasks")["tasks"]), 60, "sleeping")
    assert why(doctor_proxy, first) == ["Rendering on 1 Worker: doctor-render (sleep)."]
    # (Managers before 3.8 name no Worker with a task: the add-on asks the awake Workers.)
    found = findings(desk, first, lambda f: kinds(f) == ["rendering"] and f[0].workers == (DOCTOR_RENDER,))
    assert found[0].text == "Rendering on 1 Worker: doctor-render (sleep)." and not found[0].blocking
    assert any("rendering\"sleep\"ofthisjob" in squashed(line) for line in farm_panel(desk).labels())

    # A second job of lower priority waits for the only awake Worker that can take it.
    second = submit(doctor_farm, "echo-sleep-test", echo_settings("second", 1, 1), name="doctor-second",
                    priority=40)["id"]
    assert why(doctor_proxy, second) == ['Its priority (40) is below 1 queued job that doctor-render takes first: '
                                         '"doctor-first" (50).']

    # Paused while its task runs: it waits for that task, then it is paused.
    doctor_farm.post_json(f"/api/v3/jobs/{first}/setstatus", {"status": "pause-requested", "reason": "test"})
    assert why(doctor_proxy, first) == ["The job is pausing: it waits for 1 running task to finish "
                                        "(doctor-render (sleep)), then it is paused."]
    doctor_farm.wait_for_job(first, ("paused",), timeout=60, kick=False)
    assert why(doctor_proxy, first)[0] == "The job is paused: no Worker takes its tasks until it is resumed."
