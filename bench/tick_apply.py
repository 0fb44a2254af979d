"""Main-thread cost of applying one monitor poll: the open job and its 2,000 tasks (a poll
reads watched jobs one by one; the whole list only for the All Jobs view, see
bench/farm_scale.py), next to `json.loads` of a 50-job list and the tasks (the floor any
client pays for those payloads).

The poll's HTTP, JSON decoding and model building happen on a background thread; this
measures only what the timer callback does on the main thread with the result.

Run: .venv/bpy-5.0.1/bin/python bench/tick_apply.py
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import _setup
from _setup import summary

desk = _setup.installed_addon()
import bpy  # noqa: E402

models = desk.api.models
core_monitor = desk.core.monitor
RUNS = 200


def stamp(seconds: int) -> str:
    return (datetime(2026, 11, 29, tzinfo=timezone.utc) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def job_json(n: int) -> dict:
    return {
        "id": str(uuid.uuid4()), "name": f"shot_{n:03d}", "type": "simple-blender-render", "priority": 50,
        "status": "active", "activity": "", "created": stamp(n), "updated": stamp(n + 60),
        "steps_completed": n, "steps_total": 2000, "submitter_platform": "",
        "settings": {"frames": "1-2000", "chunk_size": 1, "render_output_path": f"/render/shot_{n}/######"},
        "metadata": {"user": "artist", "flamenco_desk.submission_id": str(uuid.uuid4())},
    }


def task_json(job_id: str, n: int) -> dict:
    status = "completed" if n < 700 else "active" if n < 704 else "queued"
    return {
        "id": str(uuid.uuid4()), "name": f"render-{n + 1}", "status": status, "index_in_job": n + 1,
        "priority": 50, "task_type": "blender", "updated": stamp(n), "steps_completed": 1 if status == "completed" else 0,
        "steps_total": 1, "worker": {"id": str(uuid.uuid4()), "name": "w1", "address": "10.0.0.1"},
    }


def main() -> None:
    jobs_payload = json.dumps({"jobs": [job_json(n) for n in range(50)]})
    open_id = json.loads(jobs_payload)["jobs"][0]["id"]
    tasks_payload = json.dumps({"tasks": [task_json(open_id, n) for n in range(2000)]})

    decode = []
    for _ in range(RUNS):
        start = time.perf_counter()
        json.loads(jobs_payload)
        json.loads(tasks_payload)
        decode.append(time.perf_counter() - start)

    # What the background thread hands over (built there, not timed here).
    jobs = {j["id"]: models.Job.from_json(j) for j in json.loads(jobs_payload)["jobs"]}
    tasks = [models.TaskSummary.from_json(t) for t in json.loads(tasks_payload)["tasks"]]
    bpy.ops.wm.read_homefile(use_empty=True)
    watching = desk.watching
    watching.monitor.open(open_id)

    apply = []
    for _ in range(RUNS):
        result = core_monitor.PollResult(
            open_job_id=open_id, requests=2, done=[("job", open_id), ("tasks", open_id)],
            jobs={open_id: jobs[open_id]}, tasks=list(tasks), task_counts=Counter(t.status for t in tasks),
        )
        start = time.perf_counter()
        watching._apply(result)
        apply.append(time.perf_counter() - start)

    print(f"Blender {bpy.app.version_string}; payloads: jobs {len(jobs_payload) / 1024:.0f} KiB, tasks {len(tasks_payload) / 1024:.0f} KiB\n")
    print(f"main thread, apply one poll (open job + 2,000 tasks): {summary(apply)}")
    print(f"json.loads of the same two payloads               : {summary(decode)}")


if __name__ == "__main__":
    main()
