"""The example job types on the REAL Manager (the session farm installs manager_scripts/):
they are offered in GET /jobs/types exactly as the shim exports them, and a job of each, with
the settings an artist would send, compiles on the Manager into the tasks the shim predicts.
Rendering them end to end is the end-to-end tests' job."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from local_farm import Farm
from support.farm_jobs import unique

REPO_ROOT = Path(__file__).resolve().parents[2]
CYCLES = REPO_ROOT / "manager_scripts" / "talkingheads_cycles_device.js"
LAYOUT = REPO_ROOT / "manager_scripts" / "talkingheads_studio_layout.js"
EXAMPLES = [CYCLES, LAYOUT]


def _name(script: Path) -> str:
    return script.stem.replace("_", "-")


def _served(farm: Farm) -> dict[str, dict[str, Any]]:
    return {jt["name"]: jt for jt in farm.get_json("/api/v3/jobs/types")["job_types"]}


def _settings(farm: Farm, script: Path) -> dict[str, Any]:
    """What the add-on sends for a typical shot: every key of the job type, values as the
    scene and the artist would give them, the .blend in shared storage."""
    blendfile = str(farm.shared / "projects" / "th" / "sq010_sh0040_lighting.blend")
    if script == CYCLES:
        root = str(farm.shared / "render" / "shots")
        return {
            "frames": "1-10", "chunk_size": 4, "device": "CUDA", "require_gpu": False, "samples": 64,
            "render_output_root": root, "render_output_path": f"{root}/sq010_sh0040 lighting/{{timestamp}}/######",
            "blendfile": blendfile, "scene": "Scene", "format": "PNG", "image_file_extension": ".png",
            "render_engine": "CYCLES",
        }
    return {
        "frames": "1-10", "chunk_size": 5, "render_root": "{jobs}/renders", "sequence": "sq010", "shot": "sh0040",
        "user": "ana", "job_name_format": "{sequence}_{shot}_{user}", "output_format": "SCENE",
        "render_output_path": "", "frame_pattern": "######", "blendfile": blendfile, "scene": "Scene",
        "format": "OPEN_EXR", "expanded_job_name": "sq010_sh0040_ana",
    }


def _body(farm: Farm, script: Path, **fields: Any) -> dict[str, Any]:
    body = {
        "name": unique("sq010_sh0040 lighting"), "type": _name(script), "priority": 50, "submitter_platform": "linux",
        "type_etag": _served(farm)[_name(script)]["etag"], "settings": _settings(farm, script),
        "metadata": {"user.name": "ana"},
    }
    body.update(fields)
    return body


def _post(farm: Farm, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        farm.url + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data = response.read()
            return response.status, json.loads(data) if data else None
    except urllib.error.HTTPError as ex:
        return ex.code, json.loads(ex.read() or b"null")


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_served_exactly_as_the_shim_exports(farm: Farm, shim: Any, script: Path) -> None:
    served = _served(farm)
    assert _name(script) in served, f"the Manager does not offer {script.name}; see its log"
    assert served[_name(script)] == shim.export(script)  # every field, and so the same etag
    assert farm.get_json(f"/api/v3/jobs/type/{_name(script)}") == served[_name(script)]


def test_served_settings_are_the_expected_ones(farm: Farm) -> None:
    served = _served(farm)
    cycles = {s["key"]: s for s in served["talkingheads-cycles-device"]["settings"]}
    assert list(cycles) == ["frames", "chunk_size", "device", "require_gpu", "samples", "render_output_root",
                            "render_output_path", "blendfile", "scene", "format", "image_file_extension", "render_engine"]
    assert cycles["device"]["choices"] == ["OPTIX", "CUDA", "HIP", "CPU"] and cycles["device"]["default"] == "OPTIX"
    assert cycles["frames"]["evalInfo"] == {"showLinkButton": True, "description": "Scene frame range"}
    assert cycles["samples"]["propargs"] == {"min": 0, "max": 65536}
    assert cycles["blendfile"]["visible"] == "web"
    layout = {s["key"]: s for s in served["talkingheads-studio-layout"]["settings"]}
    assert list(layout) == ["frames", "chunk_size", "render_root", "sequence", "shot", "user", "job_name_format",
                            "output_format", "render_output_path", "frame_pattern", "blendfile", "scene", "format",
                            "expanded_job_name"]
    assert layout["output_format"]["choices"] == ["SCENE", "PNG", "JPEG", "OPEN_EXR", "OPEN_EXR_MULTILAYER", "TIFF"]
    assert layout["render_root"]["default"] == "{jobs}/renders"
    assert layout["frame_pattern"]["visible"] == "hidden"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_realistic_job_compiles_on_the_manager(farm: Farm, script: Path) -> None:
    status, answer = _post(farm, "/api/v3/jobs/check", _body(farm, script))
    assert (status, answer) == (204, None)


def _comparable(task: dict[str, Any], steps: bool) -> dict[str, Any]:
    """What the Manager stores of a task and the shim predicts; 3.6 stores no step counts."""
    commands = [{k: v for k, v in c.items() if steps or k != "total_step_count"} for c in task["commands"]]
    kept = {"name": task["name"], "task_type": task["task_type"], "priority": task["priority"], "commands": commands}
    if steps:
        kept["steps_total"] = task["steps_total"]
    return kept


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_manager_makes_the_tasks_the_shim_predicts(farm: Farm, shim: Any, script: Path) -> None:
    body = _body(farm, script, initial_status="paused")  # stored, never run here
    status, job = _post(farm, "/api/v3/jobs", body)
    assert status == 200, job
    summaries = sorted(farm.get_json(f"/api/v3/jobs/{job['id']}/tasks")["tasks"], key=lambda t: t["index_in_job"])
    tasks = [farm.get_json(f"/api/v3/tasks/{t['id']}") for t in summaries]
    expected_names = ["render-1-4", "render-5-8", "render-9,10"] if script == CYCLES else ["render-1-5", "render-6-10"]
    assert [t["name"] for t in tasks] == expected_names

    # The same job through the shim, created at the same moment (both format it in UTC).
    submitted = {k: v for k, v in body.items() if k not in ("type_etag", "initial_status")}
    predicted = shim.compile(script, {**submitted, "created": job["created"]})
    assert predicted.settings == job["settings"]  # what the script stored, e.g. the filled-in output path
    assert "{timestamp}" not in json.dumps(job["settings"])
    steps = farm.release != "3.6"
    assert [_comparable(t, steps) for t in tasks] == [_comparable(t, steps) for t in predicted.tasks]


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_bad_settings_are_refused_by_the_manager(farm: Farm, script: Path) -> None:
    bad = _body(farm, script)
    bad["settings"]["frames"] = "10-1"
    status, answer = _post(farm, "/api/v3/jobs/check", bad)
    assert status == 400 and answer["message"].startswith('GoError: invalid range "10-1"')
