"""Command-line peek at a Manager, for debugging without Blender.

    python -m api --manager http://host:8080 version|job-types|jobs|job ID [--json]
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
            else:
                _cmd_job(client, args.job_id, args.json, out)
    except (FlamencoError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 1
    return 0
