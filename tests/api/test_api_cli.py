"""`python -m api` against the real Manager (through the contract-checking proxy): output,
--json and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from api.cli import main
from local_farm import Farm
from support.fault_proxy import FaultProxy
from support.farm_jobs import echo_settings, submit, wait_for_task
from support.network import free_port

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def _newest_features(farm: Farm) -> str:
    newest = "yes" if farm.release != "3.6" else "no"
    return f"features: jobs_list=yes, settag={newest}, steps={newest}"


def test_version(proxy: FaultProxy, farm: Farm) -> None:
    code, out, err = run("--manager", proxy.url, "version")
    assert code == 0 and err == ""
    assert out.splitlines() == [f"{farm.name}: Flamenco {farm.release}", _newest_features(farm)]


def test_version_json(proxy: FaultProxy, farm: Farm) -> None:
    code, out, _ = run("--manager", proxy.url, "--json", "version")
    assert code == 0 and json.loads(out) == farm.get_json("/api/v3/version")


def test_job_types(proxy: FaultProxy, farm: Farm) -> None:
    served = farm.get_json("/api/v3/jobs/types")["job_types"]
    etag = {jt["name"]: jt["etag"] for jt in served}
    code, out, _ = run("--manager", proxy.url, "job-types")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["NAME", "LABEL", "SETTINGS", "ETAG"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert list(rows) == [jt["name"] for jt in served]
    assert rows["echo-sleep-test"].startswith("echo-sleep-test") and etag["echo-sleep-test"][:12] in rows["echo-sleep-test"]
    assert " 11 " in rows["simple-blender-render"]
    code, out, _ = run("--manager", proxy.url, "--json", "job-types")
    assert json.loads(out) == {"job_types": served}


def test_jobs_table(proxy: FaultProxy, farm: Farm) -> None:
    job_id = submit(farm, "echo-sleep-test", echo_settings("cli", seconds=30, repeats=2), priority=100)["id"]
    farm.wait_for_job(job_id, ("active",))
    wait_for_task(farm, job_id, "sleep", "active")  # echo done: 1 of 3 steps, for 30 s
    code, out, _ = run("--manager", proxy.url, "jobs")
    header, *rows = out.splitlines()
    assert code == 0 and header.split() == ["ID", "NAME", "STATUS", "PROGRESS", "UPDATED"]
    row = next(r for r in rows if r.startswith(job_id))  # the shared Manager has other jobs too
    assert "echo-sleep-test-" in row and " active " in row
    assert ("1/3 (33%)" if farm.release != "3.6" else " - ") in row  # 3.6 counts no steps
    code, out, _ = run("--manager", proxy.url, "--json", "jobs")
    assert job_id in {job["id"] for job in json.loads(out)["jobs"]}


def test_job_details(proxy: FaultProxy, farm: Farm) -> None:
    job_id = submit(farm, "echo-sleep-test", echo_settings("cli", repeats=2), initial_status="paused")["id"]
    code, out, _ = run("--manager", proxy.url, "job", job_id)
    assert code == 0
    assert f"ID:                 {job_id}" in out and "Status:             paused" in out
    assert "Progress:           -" in out  # a new job reports 0/0
    assert "3 task(s):" in out
    task_lines = out.split("3 task(s):\n")[1].splitlines()
    assert [line.split()[:3] for line in task_lines[1:]] == [["1", "echo", "queued"], ["2", "sleep", "queued"], ["3", "sleep", "queued"]]
    code, out, _ = run("--manager", proxy.url, "--json", "job", job_id)
    data = json.loads(out)
    assert data["job"]["id"] == job_id and len(data["tasks"]) == 3


def test_errors_are_one_line_on_stderr(proxy: FaultProxy) -> None:
    code, out, err = run("--manager", f"http://127.0.0.1:{free_port()}", "version")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("error: Cannot reach the Flamenco Manager at http://127.0.0.1:")
    code, _, err = run("--manager", proxy.url, "job", "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11")
    assert code == 1 and err == "error: The Flamenco Manager does not know this item (HTTP 404): no such job.\n"
    code, _, err = run("--manager", proxy.url, "job", "not-a-uuid")
    assert code == 1 and "not a valid job ID" in err
    code, _, err = run("--manager", "ftp://x", "version")
    assert code == 1 and "not a valid Manager URL" in err


def test_python_dash_m(proxy: FaultProxy, farm: Farm) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api", "--manager", proxy.url, "version"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{farm.name}: Flamenco {farm.release}")
