"""A Windows artist on a farm with a Linux Manager and Worker (tests/platforms/conftest.py):
settings written as `S:\\…` and as `S:/…` reach the real Linux Worker as Linux paths and it
renders; the path check's table is what the real Manager hands Workers of each platform (fake
Windows, macOS and Linux Workers take probe jobs through the Worker API); the prefix trap, a
path under no variable, a UNC and a drive-relative path are each a problem and each arrive
untranslated or wrong, as the check says."""

from __future__ import annotations

import uuid
from pathlib import Path, PurePosixPath
from typing import Any

import bpy
import pytest
from platform_support import PROBE_TAG, WINDOWS_STORAGE, FakeWorker

import local_farm
from api import models
from api.client import ManagerClient
from flamenco_desk_src.core import platform_paths as pp
from support.blender_helpers import save_shot

PROBE_PATHS = {
    "p0": "S:\\Flamenco\\probe\\shot.blend",
    "p1": "S:/Flamenco/probe/renders/######",
    "p2": "S:\\Flamenco2\\renders",  # the prefix trap
    "p3": "\\\\nas\\flamenco\\renders",  # UNC
    "p4": "D:\\local\\renders",  # under no variable
    "p5": "S:renders",  # drive-relative
}


def _etag(client: ManagerClient, name: str) -> str:
    return str(client.job_type(name).etag)


def _stored_commands(farm: local_farm.Farm, job_id: str) -> list[dict[str, Any]]:
    """The compiled tasks' commands as the Manager stores them (GET /jobs/{id}/tasks, /tasks/{id})."""
    tasks = farm.get_json(f"/api/v3/jobs/{job_id}/tasks")["tasks"]
    return [cmd for t in tasks for cmd in farm.get_json(f"/api/v3/tasks/{t['id']}")["commands"]]


def test_windows_settings_render_on_the_linux_worker(mixed_farm: local_farm.Farm, tmp_path: Path) -> None:
    folder = f"win-{uuid.uuid4().hex[:6]}"
    save_shot(mixed_farm.shared / folder / "shot.blend", 1, 2)
    blend = pp.join(WINDOWS_STORAGE, f"{folder}/shot.blend", "windows")  # S:\Flamenco\win-…\shot.blend
    out_root = f"S:/Flamenco/{folder}/renders"  # the forward-slash form Blender on Windows also writes
    settings = {"frames": "1-2", "chunk_size": 2, "render_output_root": out_root, "add_path_components": 0,
                "render_output_path": f"{out_root}/job/######", "blendfile": blend, "fps": 0,
                "format": "PNG", "image_file_extension": ".png", "has_previews": False, "scene": "Scene"}
    with ManagerClient(mixed_farm.url) as client:
        job = client.submit_job(models.SubmittedJob(
            name=folder, type="simple-blender-render", submitter_platform="windows",
            type_etag=_etag(client, "simple-blender-render"), settings=settings))
    [render] = [c for c in _stored_commands(mixed_farm, job.id) if c["name"] == "blender-render"]
    # The Manager replaced the Windows prefix, whichever the separators, by the variable.
    assert render["parameters"]["blendfile"] == f"{{storage}}\\{folder}\\shot.blend"
    assert f"{{storage}}/{folder}/renders/job/######" in render["parameters"]["args"]
    mixed_farm.wait_for_job(job.id, timeout=120)
    # Rendered by the Linux Worker through its own path: the frames are in the farm's storage.
    frames = sorted(p.name for p in (mixed_farm.shared / folder / "renders" / "job").iterdir())
    assert frames == ["000001.png", "000002.png"]


def _probe(farm: local_farm.Farm, client: ManagerClient, worker: FakeWorker) -> dict[str, str]:
    tag = farm.ensure_tag(PROBE_TAG)
    job = client.submit_job(models.SubmittedJob(
        name=f"probe-{worker.platform}", type="path-probe", submitter_platform="windows", priority=100,
        type_etag=_etag(client, "path-probe"), settings=dict(PROBE_PATHS), worker_tag=tag))
    try:
        task = worker.take_task()
        assert task["job"] == job.id
        params = task["commands"][0]["parameters"]
        return {key: params[key] for key in PROBE_PATHS}
    finally:
        farm.post_json(f"/api/v3/jobs/{job.id}/setstatus", {"status": "cancel-requested", "reason": "probe read"})


def test_the_path_check_is_what_the_manager_hands_each_platform(
        mixed_farm: local_farm.Farm, fake_workers: dict[str, FakeWorker]) -> None:
    with ManagerClient(mixed_farm.url) as client:
        platforms = pp.worker_platforms(client)
        assert set(platforms) == {"linux", "windows", "darwin"}
        variables = pp.manager_variables(client, ["windows", *platforms])
        assert variables.manager_platform == "linux"
        table = pp.check(list(PROBE_PATHS.items()), "windows", platforms, variables)
        received = {plat: _probe(mixed_farm, client, worker) for plat, worker in fake_workers.items()}
    for row in table.rows:
        for plat in platforms:
            assert row.per_platform[plat] == received[plat][row.label], (row.label, plat)
    by_key = {row.label: row for row in table.rows}
    assert received["linux"]["p0"] == str(PurePosixPath(mixed_farm.shared, "probe", "shot.blend"))
    assert received["darwin"]["p1"].startswith("/Volumes/FlamencoDesk-")
    assert by_key["p0"].problems == () and by_key["p1"].problems == ()
    assert "only its first characters match" in by_key["p2"].problems[0]
    assert received["linux"]["p2"] == f"{mixed_farm.shared}2/renders"  # what the trap does
    assert "UNC" in by_key["p3"].problems[0] and received["linux"]["p3"] == PROBE_PATHS["p3"]
    assert "under no two-way variable" in by_key["p4"].problems[0]
    assert "drive-relative" in by_key["p5"].problems[0]
    assert len(table.problems) == 4


def test_python_m_api_paths_prints_what_each_platform_gets(mixed_farm: local_farm.Farm) -> None:
    """`python -m api paths` (bpy-free, as pipeline tools run it): a process of its own."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-m", "api", "--manager", mixed_farm.url, "paths", "--platform", "windows",
                          PROBE_PATHS["p1"], PROBE_PATHS["p2"]], cwd=root, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr  # the trap is a problem
    print(run.stdout)
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Workers on this farm: linux")
    assert f"  linux:     {mixed_farm.shared}/probe/renders/######" in lines
    assert "  darwin:    /Volumes/FlamencoDesk-" in run.stdout
    assert "  windows:   S:\\Flamenco\\probe\\renders\\######" in lines
    assert "PROBLEM: only its first characters match the two-way variable storage" in run.stdout
