"""Job submission on the stub Manager: the built-in job scripts' frame syntax,
chunking and task authoring, and the check/submit endpoints."""

from __future__ import annotations

import re
import uuid

from .stub_records import JobRecord, JSONDict, Reply, TaskRecord, now
from .stub_views import StubViews


class CompileError(Exception):
    """The job script threw: the Manager answers 400 with this message."""


def parse_frames(frames: str, script: str = "simple_blender_render.js") -> list[int]:
    """Flamenco's frame syntax: "1-3, 7, 10..12"; duplicates merged, sorted."""
    where = f" at compileJob ({script}:120:18(55))"
    result: set[int] = set()
    for part in str(frames).split(","):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(\S+?)\s*(?:-|\.\.)\s*(\S+)", part) if ("-" in part[1:] or ".." in part) else None
        pieces = [match[1], match[2]] if match else [part]
        try:
            numbers = [int(piece) for piece in pieces]
        except ValueError as exc:
            raise CompileError(f'GoError: invalid range "{part}": {part} ({exc}){where}') from None
        if any(n < 0 for n in numbers):
            raise CompileError(f'GoError: invalid range "{part}": negative frame number{where}')
        start, end = numbers[0], numbers[-1]
        if end < start:
            raise CompileError(f'GoError: invalid range "{part}": empty range{where}')
        result.update(range(start, end + 1))
    if not result:
        raise CompileError(f'GoError: invalid range "{frames}": empty range{where}')
    return sorted(result)


def chunk_frames(frames: list[int], size: int) -> list[list[int]]:
    return [frames[i : i + size] for i in range(0, len(frames), size)]


def chunk_name(chunk: list[int]) -> str:
    # Like frameChunker: "1-3" for runs, "4,5" for two frames.
    if len(chunk) == 1:
        return str(chunk[0])
    if len(chunk) == 2:
        return f"{chunk[0]},{chunk[1]}"
    if chunk[-1] - chunk[0] == len(chunk) - 1:
        return f"{chunk[0]}-{chunk[-1]}"
    return ",".join(map(str, chunk))


class StubSubmission(StubViews):
    """``POST jobs/check`` and ``POST jobs``: compile the job into tasks and store it."""

    # -- submission -----------------------------------------------------------------

    def _compile(self, body: JSONDict) -> list[JSONDict] | Reply:
        job_type = body["type"]
        if job_type not in self._job_types:
            return Reply.error(400, "job type unknown")
        etag = body.get("type_etag")
        if etag and etag != self.etag_of(job_type):
            return Reply.error(412, "rejecting job because its settings are outdated, refresh the job type")
        try:
            return self._author_tasks(job_type, body.get("settings") or {})
        except CompileError as exc:
            return Reply.error(400, str(exc))

    def _author_tasks(self, job_type: str, settings: JSONDict) -> list[JSONDict]:
        """Task specs (name, type, commands, steps) like the built-in scripts make."""
        script = job_type.replace("-", "_") + ".js"
        if "frames" in settings:
            frames = parse_frames(settings["frames"], script)
            chunk_size = settings.get("chunk_size", 1)
            if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
                raise CompileError(f"TypeError: chunk_size must be a positive integer at compileJob ({script}:95:5(12))")
            return [
                {
                    "name": f"render-{chunk_name(chunk)}",
                    "type": "blender",
                    "commands": [
                        {
                            "name": "blender-render",
                            "parameters": {"exe": "{blender}", "argsBefore": [], "args": ["--render-frame", chunk_name(chunk).replace("-", "..")]},
                            "total_step_count": len(chunk),
                        }
                    ],
                }
                for chunk in chunk_frames(frames, chunk_size)
            ]
        if job_type == "echo-sleep-test":
            repeats = settings.get("sleep_repeats", 0)
            tasks = [{"name": "echo", "type": "misc", "commands": [{"name": "echo", "parameters": {"message": settings.get("message", "")}, "total_step_count": 0}]}]
            if isinstance(repeats, int) and not isinstance(repeats, bool):
                tasks += [
                    {"name": f"sleep-{i + 1}", "type": "misc", "commands": [{"name": "sleep", "parameters": {"duration_in_seconds": settings.get("sleep_duration_seconds")}, "total_step_count": 0}]}
                    for i in range(repeats)
                ]
            return tasks
        return [
            {"name": f"task-{i}", "type": "misc", "commands": [{"name": "echo", "parameters": {"message": f"step {i}"}, "total_step_count": 0}]}
            for i in (1, 2, 3)
        ]

    def _post_check(self, body: JSONDict) -> Reply:
        result = self._compile(body)
        return result if isinstance(result, Reply) else Reply.empty()

    def _post_job(self, body: JSONDict) -> Reply:
        result = self._compile(body)
        if isinstance(result, Reply):
            return result
        tag = body.get("worker_tag") or ""
        if tag and tag not in {t.get("id") for t in self.worker_tags}:
            return Reply.error(500, "error persisting job in database")
        created = now()
        job_id = str(uuid.uuid4())
        settings = dict(body.get("settings") or {})
        output = settings.get("render_output_path")
        if isinstance(output, str) and "{timestamp}" in output:
            settings["render_output_path"] = output.replace("{timestamp}", created.astimezone().strftime("%Y-%m-%d_%H%M%S"))
        job = JobRecord(
            id=job_id,
            name=body["name"],
            type=body["type"],
            priority=body["priority"],
            status=body.get("initial_status") or "queued",
            created=created,
            updated=created,
            settings=settings,
            metadata=dict(body.get("metadata") or {}),
            task_ids=[],
            worker_tag=tag,
            shaman_checkout_id=(body.get("storage") or {}).get("shaman_checkout_id") or None,
        )
        for index, spec in enumerate(result, start=1):
            steps = sum(max(1, c["total_step_count"]) for c in spec["commands"])
            task = TaskRecord(
                id=str(uuid.uuid4()),
                job_id=job_id,
                index_in_job=index,
                name=spec["name"],
                task_type=spec["type"],
                commands=spec["commands"],
                steps_total=steps,
                created=created,
                updated=created,
            )
            self.tasks[task.id] = task
            job.task_ids.append(task.id)
        self.jobs[job_id] = job
        return Reply.json(200, self._job_json(job))
