"""Command-line peek at a Manager, for debugging without Blender.

    python -m api --manager http://host:8080 version|job-types|jobs|job ID [--json]
    python -m api --manager http://host:8080 why JOB_ID [--json]
    python -m api --manager http://host:8080 blocklist JOB_ID [--json]
    python -m api --manager http://host:8080 unblock JOB_ID WORKER [TASK_TYPE] [--requeue]
    python -m api --manager http://host:8080 paths --platform windows|darwin|linux PATH...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from .client import ManagerClient
from .errors import FlamencoError
from .models import Job, TaskSummary

try:  # inside the add-on (and the tests' package of it)
    from ..core import doctor, platform_paths
except ImportError:  # `python -m api` from the repository root or the extension's folder
    from core import doctor, platform_paths  # type: ignore[no-redef]


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _progress(done: int, total: int) -> str:
    # Jobs report 0/0 until the first step is counted (api-notes §2.3).
    if total <= 0:
        return "-"
    return f"{done}/{total} ({100 * done // total}%)"


def _table(rows: list[list[str]], headers: list[str], out: TextIO) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    for row in [headers, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)


def _print_json(data: Any, out: TextIO) -> None:
    json.dump(data, out, indent=2, sort_keys=True, ensure_ascii=False)
    out.write("\n")


def _cmd_version(client: ManagerClient, as_json: bool, out: TextIO) -> None:
    version = client.version()
    if as_json:
        _print_json(version.raw, out)
        return
    features = client.features()
    print(f"{version.name}: Flamenco {version.version}", file=out)
    known = "" if features.version_known else " (version unknown, assuming newest)"
    flags = ", ".join(f"{name}={'yes' if getattr(features, name) else 'no'}" for name in ("jobs_list", "settag", "steps"))
    print(f"features: {flags}{known}", file=out)


def _cmd_job_types(client: ManagerClient, as_json: bool, out: TextIO) -> None:
    job_types = client.job_types()
    if as_json:
        _print_json({"job_types": [jt.raw for jt in job_types]}, out)
        return
    rows = [[jt.name, jt.label, str(len(jt.settings)), jt.etag[:12]] for jt in job_types]
    _table(rows, ["NAME", "LABEL", "SETTINGS", "ETAG"], out)


def _job_row(job: Job) -> list[str]:
    return [job.id, job.name, str(job.status), _progress(job.steps_completed, job.steps_total), _when(job.updated)]


def _cmd_jobs(client: ManagerClient, as_json: bool, out: TextIO) -> None:
    jobs = sorted(client.jobs(), key=lambda job: job.updated, reverse=True)
    if as_json:
        _print_json({"jobs": [job.raw for job in jobs]}, out)
        return
    _table([_job_row(job) for job in jobs], ["ID", "NAME", "STATUS", "PROGRESS", "UPDATED"], out)


def _task_row(task: TaskSummary) -> list[str]:
    worker = task.worker.name if task.worker and task.worker.assigned else "-"
    progress = _progress(task.steps_completed, task.steps_total)
    return [str(task.index_in_job), task.name, str(task.status), progress, worker, _when(task.updated)]


def _cmd_job(client: ManagerClient, job_id: str, as_json: bool, out: TextIO) -> None:
    job = client.job(job_id)
    tasks = client.job_tasks(job_id)
    if as_json:
        _print_json({"job": job.raw, "tasks": [task.raw for task in tasks]}, out)
        return
    details = [
        ("ID", job.id),
        ("Name", job.name),
        ("Type", job.type),
        ("Status", str(job.status)),
        ("Activity", job.activity or "-"),
        ("Priority", str(job.priority)),
        ("Progress", _progress(job.steps_completed, job.steps_total)),
        ("Created", _when(job.created)),
        ("Updated", _when(job.updated)),
    ]
    if job.delete_requested_at is not None:
        details.append(("Deletion requested", _when(job.delete_requested_at)))
    for label, value in details:
        print(f"{label + ':':<{20}}{value}", file=out)
    print(f"\n{len(tasks)} task(s):", file=out)
    if tasks:
        _table([_task_row(task) for task in tasks], ["#", "NAME", "STATUS", "PROGRESS", "WORKER", "UPDATED"], out)


def _cmd_why(client: ManagerClient, job_id: str, as_json: bool, out: TextIO) -> None:
    facts = doctor.gather(client, job_id)
    findings = doctor.diagnose(facts)
    if as_json:
        job = facts.job
        _print_json({
            "job": {"id": job.id, "name": job.name, "status": str(job.status), "priority": job.priority,
                    "worker_tag": job.worker_tag},
            "findings": [finding.to_json() for finding in findings],
        }, out)
        return
    for finding in findings:
        print(finding.text, file=out)


def _cmd_blocklist(client: ManagerClient, job_id: str, as_json: bool, out: TextIO) -> None:
    entries = client.job_blocklist(job_id)
    if as_json:
        _print_json([{"worker_id": e.worker_id, "worker_name": e.worker_name, "task_type": e.task_type}
                     for e in entries], out)
        return
    if not entries:
        print("No Worker is blocklisted for this job.", file=out)
        return
    rows = [[e.worker_name or "-", e.worker_id, e.task_type] for e in sorted(entries, key=lambda e: (e.worker_name, e.task_type))]
    _table(rows, ["WORKER", "WORKER ID", "TASK TYPE"], out)


def _cmd_unblock(client: ManagerClient, job_id: str, worker: str, task_type: str, requeue: bool, out: TextIO) -> None:
    entries = client.job_blocklist(job_id)
    matching = [e for e in entries if worker in (e.worker_id, e.worker_name) and (not task_type or e.task_type == task_type)]
    if not matching:
        listed = ", ".join(f"{e.worker_name or e.worker_id} ({e.task_type})" for e in entries) or "none"
        what = f'for "{task_type}" tasks ' if task_type else ""
        raise ValueError(f"{worker} is not blocklisted {what}for this job; blocklisted: {listed}")
    worker_id = matching[0].worker_id
    name = matching[0].worker_name or worker_id
    done = doctor.unblock(client, job_id, worker_id, task_type, requeue=requeue,
                          reason=f"{name} removed from the job's blocklist (python -m api)")
    types = doctor.names([f'"{e.task_type}"' for e in done.removed])
    print(f"Removed {name} from the job's blocklist for {types} tasks.", file=out)
    if done.job_requeued:
        print(f"Requeued the job ({doctor.plural(len(done.requeued), 'failed task')} of {name}).", file=out)
    elif done.requeued:
        print(f"Requeued {doctor.plural(len(done.requeued), 'task')} {name} failed: {doctor.names(list(done.requeued))}.",
              file=out)


def _cmd_paths(client: ManagerClient, artist: str, paths: list[str], as_json: bool, out: TextIO) -> bool:
    """Each path as the Manager will hand it to a Worker of each platform (its variables, the
    same logic as the add-on's path check); the farm's own Workers' platforms are marked.
    Returns whether any path has a problem."""
    farm = platform_paths.worker_platforms(client)
    platforms = tuple(dict.fromkeys([*farm, *platform_paths.PLATFORMS]))
    variables = platform_paths.manager_variables(client, [artist, *platforms])
    check = platform_paths.check([(p, p) for p in paths], artist, platforms, variables)
    if as_json:
        _print_json({"artist_platform": artist, "farm_platforms": list(farm), "paths": [
            {"path": r.sent, "stored": r.stored, "workers": r.per_platform, "problems": list(r.problems)}
            for r in check.rows]}, out)
    else:
        print(f"Workers on this farm: {', '.join(farm) or 'none registered'}", file=out)
        for line in check.lines()[1:]:
            print(line.removeprefix("  "), file=out)
    return bool(check.problems)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m api", description="Query a Flamenco Manager.")
    parser.add_argument(
        "--manager",
        default=os.environ.get("FLAMENCO_MANAGER", ""),
        help="Manager URL, e.g. http://flamenco:8080 (default: $FLAMENCO_MANAGER)",
    )
    parser.add_argument("--json", action="store_true", help="print the Manager's JSON")
    parser.add_argument("--timeout", type=float, default=10.0, help="read timeout in seconds")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("version", help="Manager name, version and features")
    commands.add_parser("job-types", help="available job types")
    commands.add_parser("jobs", help="all jobs (Manager 3.6+)")
    job = commands.add_parser("job", help="one job and its tasks")
    job.add_argument("job_id", metavar="ID")
    why = commands.add_parser("why", help="why a job is not rendering: one finding per line, most blocking first")
    why.add_argument("job_id", metavar="JOB_ID")
    blocklist = commands.add_parser("blocklist", help="the Workers blocklisted for a job, per task type")
    blocklist.add_argument("job_id", metavar="JOB_ID")
    paths = commands.add_parser("paths", help="each PATH as the Manager gives it to a Worker of each platform "
                                              "(exit status 1 when one has a problem)")
    paths.add_argument("--platform", required=True, choices=platform_paths.PLATFORMS,
                       help="the platform the paths are written on (the submitter's)")
    paths.add_argument("paths", metavar="PATH", nargs="+")
    for sub in (why, blocklist, paths):  # `why ID --json` as well as `--json why ID`
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    unblock = commands.add_parser("unblock", help="remove a Worker (name or ID) from a job's blocklist")
    unblock.add_argument("job_id", metavar="JOB_ID")
    unblock.add_argument("worker", metavar="WORKER", help="the Worker's name or ID")
    unblock.add_argument("task_type", metavar="TASK_TYPE", nargs="?", default="",
                         help="only for this task type (default: every type it is blocklisted for)")
    unblock.add_argument("--requeue", action="store_true",
                         help="also requeue the job's tasks this Worker failed (clears their failed-by lists)")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        if not args.manager:
            raise ValueError("no Manager given; use --manager URL or set FLAMENCO_MANAGER")
        with ManagerClient(args.manager, read_timeout=args.timeout, max_retries=1) as client:
            if args.command == "version":
                _cmd_version(client, args.json, out)
            elif args.command == "job-types":
                _cmd_job_types(client, args.json, out)
            elif args.command == "jobs":
                _cmd_jobs(client, args.json, out)
            elif args.command == "why":
                _cmd_why(client, args.job_id, args.json, out)
            elif args.command == "blocklist":
                _cmd_blocklist(client, args.job_id, args.json, out)
            elif args.command == "paths":
                return 1 if _cmd_paths(client, args.platform, args.paths, args.json, out) else 0
            elif args.command == "unblock":
                _cmd_unblock(client, args.job_id, args.worker, args.task_type, args.requeue, out)
            else:
                _cmd_job(client, args.job_id, args.json, out)
    except (FlamencoError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 1
    return 0
