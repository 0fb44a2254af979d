"""The farm doctor's diagnosis (core/doctor.py) on facts shaped like the real Manager's answers;
tests/e2e/test_farm_doctor.py checks the same findings against a real Manager and Workers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from flamenco_desk_src.api import events, models
from flamenco_desk_src.core import doctor
from flamenco_desk_src.core.doctor import Facts, FailedTask, QueuedJob, WorkerFacts
from flamenco_desk_src.core.monitor import Monitor

NOW = datetime(2026, 12, 4, 14, 0, tzinfo=timezone.utc)
JOB_ID = "11111111-1111-4111-8111-111111111111"
OTHER_JOB = "22222222-2222-4222-8222-222222222222"
GPU = "33333333-3333-4333-8333-333333333333"
TYPES = ("blender", "file-management", "misc")


def job(status: str = "queued", **fields: Any) -> models.Job:
    data = {"id": JOB_ID, "name": "shot-010", "type": "simple-blender-render", "priority": 50, "status": status,
            "activity": "", "created": "2026-12-04T13:00:00Z", "updated": "2026-12-04T13:00:00Z",
            "settings": {}, "metadata": {}, **fields}
    return models.Job.from_json(data)


def task(name: str, status: str = "queued", task_type: str = "blender", index: int = 1, worker: str = "",
         ident: str = "") -> models.TaskSummary:
    data: dict[str, Any] = {"id": ident or f"00000000-0000-4000-8000-{index:012d}", "name": name, "status": status,
                            "index_in_job": index, "priority": 50, "task_type": task_type,
                            "updated": f"2026-12-04T13:{index:02d}:00Z"}
    if worker:
        data["worker"] = {"id": f"w-{worker}", "name": worker, "address": "127.0.0.1"}
    return models.TaskSummary.from_json(data)


def worker(name: str, status: str = "awake", types: tuple[str, ...] = TYPES, tags: tuple[str, ...] = (),
           **fields: Any) -> WorkerFacts:
    return WorkerFacts(id=f"w-{name}", name=name, status=status, last_seen=NOW - timedelta(hours=2),
                       task_types=types, tag_ids=tags, **fields)


def facts(the_job: models.Job, tasks: list[models.TaskSummary], workers: list[WorkerFacts], **fields: Any) -> Facts:
    fields.setdefault("tags", {GPU: "gpu"})
    return Facts(the_job, tasks, workers, now=NOW, **fields)


def texts(f: Facts) -> list[str]:
    return [finding.text for finding in doctor.diagnose(f)]


def test_no_worker_at_all() -> None:
    assert texts(facts(job(), [task("render-1")], [])) == [
        "The Manager has no Workers: no task of this job runs until a Worker signs on."]


def test_no_worker_online_names_each_and_when_it_was_seen() -> None:
    found = doctor.diagnose(facts(job(), [task("render-1")], [worker("r1", "offline"), worker("r2", "error")]))
    assert found[0].kind == doctor.NO_WORKERS and found[0].blocking
    assert found[0].text == ("No Worker is online: r1 is offline (last seen 2 h ago); r2 is in error "
                             "(last seen 2 h ago).")
    assert found[0].workers == ("r1", "r2")


def test_tag_only_an_asleep_worker_has() -> None:
    sleepy = worker("doctor-gpu", "asleep", tags=(GPU,), sleep=None, sleep_known=True)
    found = doctor.diagnose(facts(job(worker_tag=GPU), [task("echo", task_type="misc")],
                                  [worker("doctor-render"), sleepy]))
    assert found[0].kind == doctor.TAG and found[0].tag == "gpu" and found[0].workers == ("doctor-gpu",)
    assert found[0].text == ('The job\'s worker tag "gpu" is on no awake Worker: only doctor-gpu has it, and it is '
                             "asleep (sent to sleep by hand, not by a sleep schedule).")
    assert [(a.kind, a.worker_name) for a in found[0].actions] == [(doctor.WAKE, "doctor-gpu"), (doctor.SET_TAG, "")]
    # The asleep finding would say the same again.
    assert [f.kind for f in found] == [doctor.TAG]


def test_tag_no_worker_has() -> None:
    found = doctor.diagnose(facts(job(worker_tag=GPU), [task("echo", task_type="misc")], [worker("r1")],
                                  can_set_tag=False))
    assert found[0].text == ('No Worker has the job\'s worker tag "gpu": no Worker takes it until one gets the tag '
                             "or the job's tag changes.")
    assert found[0].actions == ()  # a Manager before 3.8 cannot change a job's tag


def test_task_type_no_worker_offers() -> None:
    tasks = [task("render-1", "completed", index=1), task("preview-video", task_type="ffmpeg", index=2)]
    found = doctor.diagnose(facts(job("active"), tasks, [worker("b"), worker("a", types=("blender", "misc"))]))
    assert found[0].kind == doctor.TASK_TYPE and found[0].task_type == "ffmpeg" and found[0].count == 1
    assert found[0].text == ('No Worker offers "ffmpeg" tasks, which 1 task of this job needs ("preview-video"): '
                             "a and b offer only blender, file-management and misc.")


def test_task_type_offered_only_without_the_tag() -> None:
    tasks = [task("echo", task_type="misc"), task("preview-video", task_type="ffmpeg", index=2)]
    workers = [worker("gpu-1", tags=(GPU,)), worker("encoder", types=("ffmpeg",))]
    found = doctor.diagnose(facts(job(worker_tag=GPU), tasks, workers))
    assert found[0].text == ('No Worker with the tag "gpu" offers "ffmpeg" tasks, which 1 task of this job needs '
                             '("preview-video"): encoder offers them without the tag.')


def test_every_worker_asleep_on_a_sleep_schedule_says_until_when() -> None:
    local = NOW.astimezone()
    end = (local + timedelta(hours=2)).strftime("%H:%M") if (local + timedelta(hours=2)).date() == local.date() else ""
    schedule = models.SleepSchedule(True, "", "", end)
    workers = [worker(n, "asleep", sleep=schedule, sleep_known=True) for n in ("c", "a", "b")]
    found = doctor.diagnose(facts(job(), [task("render-1")], workers))
    until = f"until {end}" if end else "until midnight"
    assert found[0].kind == doctor.ASLEEP
    if end:
        assert found[0].text == f"No Worker is awake: a, b and c are asleep {until} by their sleep schedules."
    assert [a.worker_name for a in found[0].actions] == ["a", "b", "c"]


def test_sleep_schedule_follows_the_managers_rule() -> None:
    monday_10 = datetime(2026, 11, 30, 10, 0)  # a Monday
    office = models.SleepSchedule(True, "mo tu", "09:00", "18:00")
    assert doctor.scheduled_asleep(office, monday_10)
    assert not doctor.scheduled_asleep(office, monday_10.replace(hour=18))  # the end is awake
    assert not doctor.scheduled_asleep(office, monday_10 + timedelta(days=2))  # Wednesday
    assert not doctor.scheduled_asleep(models.SleepSchedule(False, "", "", ""), monday_10)
    assert doctor.scheduled_asleep(models.SleepSchedule(True, "", "18:00", "09:00"), monday_10)  # swapped, as the Manager does
    assert doctor.wakes_at(office, monday_10) == monday_10.replace(hour=18)
    assert doctor.until(monday_10.replace(hour=18), monday_10) == "until 18:00"
    nights = models.SleepSchedule(True, "", "", "")
    assert doctor.wakes_at(nights, monday_10) is None
    weekend = models.SleepSchedule(True, "sa su", "", "")
    saturday = monday_10 + timedelta(days=5)
    assert doctor.until(doctor.wakes_at(weekend, saturday), saturday) == "until Mon 00:00"  # type: ignore[arg-type]


def test_blocklisted_worker_with_its_failure_line_and_who_is_left() -> None:
    tasks = [task("render-1", "soft-failed", index=1), task("render-2", "soft-failed", index=2),
             task("render-3", index=3)]
    line = "Error: CUDA error: out of memory"
    failed = [FailedTask(t.id, t.name, "blender", "soft-failed", "w-broken", "broken", (("w-broken", "broken"),), line)
              for t in tasks[:2]]
    blocklist = [models.BlocklistEntry("w-broken", "blender", "broken")]
    workers = [worker("broken"), worker("render", "asleep", sleep_known=True)]
    found = doctor.diagnose(facts(job("active"), tasks, workers, blocklist=blocklist, failed=failed))
    by_kind = {f.kind: f for f in found}
    assert by_kind[doctor.BLOCKLIST].text == (
        f'broken is blocklisted for "blender" tasks of this job after 2 failed tasks (`{line}`); left for them: '
        "render is asleep (sent to sleep by hand, not by a sleep schedule).")
    assert by_kind[doctor.BLOCKLIST].blocking and by_kind[doctor.BLOCKLIST].count == 2
    action = by_kind[doctor.BLOCKLIST].actions[0]
    assert (action.kind, action.worker_id, action.task_type) == (doctor.UNBLOCK, "w-broken", "blender")
    assert by_kind[doctor.ASLEEP].text == ("No awake Worker can take this job: render is asleep (sent to sleep by "
                                           "hand, not by a sleep schedule).")
    assert by_kind[doctor.FAILURES].text == f"2 tasks failed on broken: `{line}`"
    # With an awake Worker left, the blocklist is a remark, not the reason.
    awake = doctor.diagnose(facts(job("active"), tasks, [worker("broken"), worker("render")], blocklist=blocklist,
                                  failed=failed))
    assert not next(f for f in awake if f.kind == doctor.BLOCKLIST).blocking
    alone = doctor.diagnose(facts(job("active"), tasks, [worker("broken")], blocklist=blocklist, failed=failed))
    assert next(f for f in alone if f.kind == doctor.BLOCKLIST).text.endswith("; no Worker is left for them.")


def test_job_states() -> None:
    assert texts(facts(job("paused"), [task("r")], [worker("r1")]))[0] == (
        "The job is paused: no Worker takes its tasks until it is resumed.")
    pausing = facts(job("pause-requested"), [task("render-1", "active", worker="r1"), task("render-2", "paused", index=2)],
                    [worker("r1")])
    assert texts(pausing) == ["The job is pausing: it waits for 1 running task to finish (r1 (render-1)), then it is "
                              "paused."]
    failed = job("failed", activity='Changed to status "failed": no more workers left to run tasks of type "blender"')
    assert texts(facts(failed, [task("r", "failed")], [worker("r1")]))[0] == (
        'The job failed: no more workers left to run tasks of type "blender".')
    assert texts(facts(job("completed"), [task("r", "completed")], [worker("r1")])) == ["The job completed."]
    assert texts(facts(job("cancel-requested"), [task("r", "active", worker="r1")], [worker("r1")])) == [
        "The job is being canceled: waiting for 1 running task to stop (r1 (r))."]


def test_healthy_job_no_false_alarm() -> None:
    idle = texts(facts(job(), [task("echo", task_type="misc")], [worker("r1"), worker("r2", "asleep")]))
    assert idle == ["Next in line: r1 is awake and idle and asks the Manager for work every 20 s."]
    busy_here = worker("r1", task_id="t", task_name="render-1", task_status="active", task_job_id=JOB_ID)
    found = doctor.diagnose(facts(job("active"), [task("render-1", "active", worker="r1"), task("render-2", index=2)],
                                  [busy_here]))
    assert [(f.kind, f.blocking) for f in found] == [(doctor.RENDERING, False)]
    assert found[0].text == "Rendering on 1 Worker: r1 (render-1)."


def test_priority_below_queued_jobs_on_the_same_workers() -> None:
    busy = worker("r1", task_id="t", task_name="render-9", task_status="active", task_job_id=OTHER_JOB)
    waiting = facts(job(priority=40), [task("render-1")], [busy])
    assert doctor.needs_queue(waiting)
    assert texts(waiting) == ['Waiting for a Worker: r1 ("render-9") is busy with other jobs.']
    queue = [QueuedJob(OTHER_JOB, "hero", 80, "active"), QueuedJob("x", "tagged elsewhere", 90, "queued", GPU),
             QueuedJob("y", "low", 10, "queued")]
    found = doctor.diagnose(facts(job(priority=40), [task("render-1")], [busy], queue=queue))
    assert found[0].kind == doctor.PRIORITY and found[0].count == 1
    assert found[0].text == 'Its priority (40) is below 1 queued job that r1 takes first: "hero" (80).'
    first = doctor.diagnose(facts(job(priority=90), [task("render-1")], [busy], queue=queue))
    assert [(f.kind, f.blocking) for f in first] == [(doctor.NEXT_IN_LINE, False)]


def test_failures_grouped_by_worker_and_line_most_first() -> None:
    def failed(i: int, worker_name: str, line: str | None) -> FailedTask:
        return FailedTask(f"t{i}", f"render-{i}", "blender", "failed", f"w-{worker_name}", worker_name, (), line)

    oom = "Error: CUDA error: out of memory"
    items = [failed(1, "render-03", oom), failed(2, "render-03", oom), failed(3, "render-03", oom),
             failed(4, "render-03", oom), failed(5, "render-01", None)]
    found = doctor.diagnose(facts(job("failed"), [], [worker("render-01")], failed=items))
    assert [f.text for f in found if f.kind == doctor.FAILURES] == [
        f"4 tasks failed on render-03: `{oom}`", "1 task failed on render-01 (its log gives no reason)"]
    assert all(f.blocking for f in found)


def test_gpu_job_on_the_cpu() -> None:
    line = "WARNING: cannot render on OPTIX, rendering on the CPU instead"
    found = doctor.diagnose(facts(job("completed"), [], [], cpu_fallback=("render-1", line)))
    assert [f.text for f in found] == ["The job completed.", f'A GPU job rendered on the CPU: task "render-1" says `{line}`.']


def test_most_blocking_first() -> None:
    tasks = [task("render-1", "active", worker="r1"), task("preview-video", task_type="ffmpeg", index=2)]
    busy = worker("r1", task_id="t", task_name="render-1", task_status="active", task_job_id=JOB_ID)
    kinds = [f.kind for f in doctor.diagnose(facts(job("active"), tasks, [busy]))]
    assert kinds == [doctor.TASK_TYPE, doctor.RENDERING]


def test_worker_notes_say_why_each_is_idle() -> None:
    tasks = [task("echo", task_type="misc")]
    workers = [worker("untagged"), worker("gpu", tags=(GPU,), types=("blender",)),
               worker("sleepy", "asleep", sleep_known=True),
               worker("busy", tags=(GPU,), task_id="t", task_name="render-9", task_status="active", task_job_id=OTHER_JOB)]
    notes = doctor.worker_notes(facts(job(worker_tag=GPU), tasks, workers))
    assert notes == {
        "w-untagged": 'idle: lacks the job\'s tag "gpu"',
        "w-gpu": 'idle: offers none of the job\'s waiting task types ("misc")',
        "w-sleepy": "asleep (sent to sleep by hand, not by a sleep schedule)",
        "w-busy": 'rendering "render-9" of another job',
    }


def test_unknown_worker_details_say_nothing_rather_than_something_wrong() -> None:
    unknown = WorkerFacts("w-1", "r1", "awake")
    assert texts(facts(job(), [task("render-1", task_type="ffmpeg")], [unknown])) == []
    assert texts(facts(job(), [task("render-1")], [worker("r1")], workers_read=False)) == []


# -- the monitor reads what the diagnosis needs, a few requests per poll --------------------------------


def test_monitor_plans_the_doctors_reads_only_while_its_findings_are_wanted() -> None:
    clock = [100.0]
    mon = Monitor(clock=lambda: clock[0])
    mon.open(JOB_ID)
    mon.open_job = job("active")
    mon.tasks = [task("render-1", "soft-failed")]
    summary = models.WorkerSummary("w-asleep", "sleepy", "asleep", "3.8.5")
    mon.farm.set_workers([summary], clock[0])
    mon.farm.set_tags([], clock[0])
    assert all(kind not in ("blocklist", "worker") for kind, _ in mon.wanted_requests())
    mon.want_doctor = True
    wanted = mon.wanted_requests()
    assert ("blocklist", JOB_ID) in wanted and ("sleep_schedule", "w-asleep") in wanted
    assert ("failed_task", mon.tasks[0].id) in wanted and ("worker", "w-asleep") in wanted
    assert len(mon.plan(None).requests) == 2  # the rest on the next polls
    assert events.Subscription(events.ALL_WORKERS) in mon.subscriptions()
    mon.doctor.apply("blocklist", JOB_ID, [], False, clock[0])
    mon.doctor.apply("sleep_schedule", "w-asleep", None, False, clock[0])
    assert ("blocklist", JOB_ID) not in mon.wanted_requests()
    # A task of the open job failed: its blocklist may have changed.
    mon.doctor.note_event(events.TaskUpdate.from_json({
        "id": mon.tasks[0].id, "job_id": JOB_ID, "name": "render-1", "updated": "2026-12-04T13:05:00Z",
        "status": "failed", "activity": "", "steps_completed": 0, "steps_total": 1}))
    assert ("blocklist", JOB_ID) in mon.wanted_requests()
