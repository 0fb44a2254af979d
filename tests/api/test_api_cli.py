"""`python -m api`: output, --json and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import requests

from api.cli import main
from tests.support.stub_manager import StubManager, free_port

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def _submit(stub: StubManager) -> str:
    body = {"name": "cli-job", "type": "echo-sleep-test", "priority": 50, "submitter_platform": "linux",
            "settings": {"message": "hi", "sleep_duration_seconds": 1, "sleep_repeats": 2}}
    response = requests.post(stub.url + "/api/v3/jobs", json=body, timeout=5)
    assert response.status_code == 200
    return str(response.json()["id"])


def test_version(stub: StubManager) -> None:
    code, out, err = run("--manager", stub.url, "version")
    assert code == 0 and err == ""
    assert out.splitlines() == ["Stub Manager: Flamenco 3.8.5", "features: jobs_list=yes, settag=yes, steps=yes"]


def test_version_json(stub: StubManager) -> None:
    code, out, _ = run("--manager", stub.url, "--json", "version")
    assert code == 0 and json.loads(out) == stub.version_json()


def test_job_types(stub: StubManager) -> None:
    code, out, _ = run("--manager", stub.url, "job-types")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["NAME", "LABEL", "SETTINGS", "ETAG"]
    assert lines[1].startswith("echo-sleep-test") and stub.etag_of("echo-sleep-test")[:12] in lines[1]
    assert lines[2].startswith("simple-blender-render") and " 11 " in lines[2]
    code, out, _ = run("--manager", stub.url, "--json", "job-types")
    assert [jt["name"] for jt in json.loads(out)["job_types"]] == ["echo-sleep-test", "simple-blender-render"]


def test_jobs_table(stub: StubManager) -> None:
    job_id = _submit(stub)
    stub.advance(job_id)
    code, out, _ = run("--manager", stub.url, "jobs")
    header, row = out.splitlines()
    assert header.split() == ["ID", "NAME", "STATUS", "PROGRESS", "UPDATED"]
    assert row.startswith(job_id) and "cli-job" in row and "active" in row and "1/3 (33%)" in row
    code, out, _ = run("--manager", stub.url, "--json", "jobs")
    assert json.loads(out)["jobs"][0]["id"] == job_id


def test_job_details(stub: StubManager) -> None:
    job_id = _submit(stub)
    code, out, _ = run("--manager", stub.url, "job", job_id)
    assert code == 0
    assert f"ID:                 {job_id}" in out and "Status:             queued" in out
    assert "Progress:           -" in out  # a new job reports 0/0
    assert "3 task(s):" in out
    task_lines = out.split("3 task(s):\n")[1].splitlines()
    assert [line.split()[:3] for line in task_lines[1:]] == [["1", "echo", "queued"], ["2", "sleep-1", "queued"], ["3", "sleep-2", "queued"]]
    code, out, _ = run("--manager", stub.url, "--json", "job", job_id)
    data = json.loads(out)
    assert data["job"]["id"] == job_id and len(data["tasks"]) == 3


def test_errors_are_one_line_on_stderr(stub: StubManager) -> None:
    code, out, err = run("--manager", f"http://127.0.0.1:{free_port()}", "version")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("error: Cannot reach the Flamenco Manager at http://127.0.0.1:")
    code, _, err = run("--manager", stub.url, "job", "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11")
    assert code == 1 and err == "error: The Flamenco Manager does not know this item (HTTP 404): no such job.\n"
    code, _, err = run("--manager", stub.url, "job", "not-a-uuid")
    assert code == 1 and "not a valid job ID" in err
    code, _, err = run("--manager", "ftp://x", "version")
    assert code == 1 and "not a valid Manager URL" in err


def test_old_manager_jobs_command(tmp_path: Path) -> None:
    with StubManager(tmp_path, version="3.5") as stub:
        code, _, err = run("--manager", stub.url, "jobs")
    assert code == 1 and "needs Flamenco 3.6 or newer" in err


def test_python_dash_m(stub: StubManager) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api", "--manager", stub.url, "version"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Stub Manager: Flamenco 3.8.5")
