"""The example job types (manager_scripts/) on the real Manager, which runs them in its own
JavaScript engine (the session farm installs them): the definitions GET /jobs/types serves,
their `eval` expressions in the add-on's evaluator, the tasks a job compiles into (submitted
paused, never run here), the device snippet those tasks give Blender, and the errors
POST /jobs/check answers for bad settings. Rendering them end to end is the end-to-end tests' job."""

from __future__ import annotations

import builtins
import json
import sys
import types
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import pytest

import safe_eval
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


DROP = object()  # a settings change that leaves the key out


def _body(farm: Farm, script: Path, changes: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    settings = {**_settings(farm, script), **(changes or {})}
    body = {
        "name": unique("sq010_sh0040 lighting"), "type": _name(script), "priority": 50, "submitter_platform": "linux",
        "type_etag": _served(farm)[_name(script)]["etag"],
        "settings": {key: value for key, value in settings.items() if value is not DROP},
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


def _submitted(farm: Farm, script: Path, changes: dict[str, Any] | None = None,
               **fields: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A job submitted paused (stored, never run here) and its tasks as the Manager stores them."""
    status, job = _post(farm, "/api/v3/jobs", _body(farm, script, changes, initial_status="paused", **fields))
    assert status == 200, job
    summaries = sorted(farm.get_json(f"/api/v3/jobs/{job['id']}/tasks")["tasks"], key=lambda t: t["index_in_job"])
    return job, [farm.get_json(f"/api/v3/tasks/{t['id']}") for t in summaries]


def _stamp(job: dict[str, Any]) -> str:
    """What `{timestamp}` becomes: the job's creation time in the Manager's local time (it runs
    on this machine, in this process's time zone)."""
    return datetime.fromisoformat(job["created"]).astimezone().strftime("%Y-%m-%d_%H%M%S")


def _command(task: dict[str, Any]) -> dict[str, Any]:
    """The task's one command, without its step count (see _assert_steps)."""
    (command,) = task["commands"]
    return {key: value for key, value in command.items() if key != "total_step_count"}


def _arg_after(task: dict[str, Any], flag: str) -> str:
    args: list[str] = task["commands"][0]["parameters"]["args"]
    return args[args.index(flag) + 1]


def _assert_steps(farm: Farm, tasks: list[dict[str, Any]], counts: list[int]) -> None:
    """One step per frame, for the Manager's progress (3.6 has no step counts)."""
    if farm.release != "3.6":
        assert [t["steps_total"] for t in tasks] == counts
        assert [t["commands"][0]["total_step_count"] for t in tasks] == counts


# ---------------------------------------------------------------------------
# The definitions, as the Manager serves them


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_served_by_the_manager(farm: Farm, script: Path) -> None:
    served = _served(farm)
    assert _name(script) in served, f"the Manager does not offer {script.name}; see its log"
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
    output = layout["render_output_path"]  # computed, shown read-only
    assert (output["editable"], output["subtype"], "eval" in output) == (False, "file_path", True)


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_examples_show_every_setting_feature(farm: Farm, script: Path) -> None:
    job_type = _served(farm)[_name(script)]
    settings = job_type["settings"]
    assert job_type["description"]
    assert any("eval" in s for s in settings), "eval"
    assert any(s.get("evalInfo", {}).get("showLinkButton") for s in settings), "showLinkButton"
    assert any("choices" in s for s in settings), "choices"
    assert any("propargs" in s for s in settings), "propargs"
    assert any(s.get("visible") == "hidden" for s in settings), "hidden setting"
    assert any(s.get("visible") == "web" for s in settings), "web-only setting"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_settings_are_labelled_and_consistent(farm: Farm, script: Path) -> None:
    """What the guide in manager_scripts/README.md asks of a studio's job type."""
    settings = _served(farm)[_name(script)]["settings"]
    python_types: dict[str, Any] = {"string": str, "int32": int, "float": (int, float), "bool": bool}
    for s in settings:
        key = s["key"]
        assert s.get("label") and s.get("description"), f"{key}: the add-on shows them as label and tooltip"
        if "choices" in s or "subtype" in s:
            assert s["type"] == "string", f"{key}: choices/subtype need a string setting"
        if "choices" in s and "default" in s:
            assert s["default"] in s["choices"], key
        if "default" in s:
            assert isinstance(s["default"], python_types[s["type"]]), key
            assert s["type"] != "int32" or not isinstance(s["default"], bool), key
        low, high = s.get("propargs", {}).get("min"), s.get("propargs", {}).get("max")
        assert low is None or high is None or low <= high, key
        if "default" in s:
            assert (low is None or s["default"] >= low) and (high is None or s["default"] <= high), key
        if "evalInfo" in s:
            assert "eval" in s and s["evalInfo"]["description"], f"{key}: evalInfo without eval or description"
        if s.get("visible") in ("hidden", "web") and not ("eval" in s or "default" in s):
            # The add-on sends the zero value; such a setting must be filled by compileJob.
            assert not s.get("required"), f"{key}: required but nothing sets it at submission"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_realistic_job_compiles_on_the_manager(farm: Farm, script: Path) -> None:
    status, answer = _post(farm, "/api/v3/jobs/check", _body(farm, script))
    assert (status, answer) == (204, None)


# ---------------------------------------------------------------------------
# Compiled tasks


def test_cycles_job_renders_its_chunks_with_the_device_snippet(farm: Farm) -> None:
    job, tasks = _submitted(farm, CYCLES)
    folder = f"{_settings(farm, CYCLES)['render_output_root']}/sq010_sh0040 lighting/{_stamp(job)}"
    # The web UI shows the path the frames go to, the timestamp filled in.
    assert job["settings"]["render_output_path"] == f"{folder}/######"
    assert job["metadata"]["render.output_glob"] == f"{folder}/*.png"
    assert [(t["name"], t["task_type"], t["priority"]) for t in tasks] == [
        ("render-1-4", "blender", 50), ("render-5-8", "blender", 50), ("render-9,10", "blender", 50)]
    snippet = _arg_after(tasks[0], "--python-expr")
    for task, frames in zip(tasks, ["1..4", "5..8", "9,10"]):
        # --scene first: the snippet must see the scene that renders; exit code 1 lets it fail the task.
        args = ["--scene", "Scene", "--python-exit-code", "1", "--python-expr", snippet,
                "--render-output", f"{folder}/######", "--render-format", "PNG", "--render-frame", frames]
        assert _command(task) == {"name": "blender-render", "parameters": {
            "exe": "{blender}", "exeArgs": "{blenderArgs}", "argsBefore": [],
            "blendfile": _settings(farm, CYCLES)["blendfile"], "args": args}}
    _assert_steps(farm, tasks, [4, 4, 2])


def test_cycles_job_without_a_scene_passes_no_scene_argument(farm: Farm) -> None:
    _, tasks = _submitted(farm, CYCLES, {"scene": "", "frames": "1"})
    assert _command(tasks[0])["parameters"]["args"][:2] == ["--python-exit-code", "1"]


def test_layout_job_renders_into_the_studio_layout(farm: Farm) -> None:
    job, tasks = _submitted(farm, LAYOUT)
    output = "{jobs}/renders/sq010/sq010_sh0040_ana/######"  # the Worker expands {jobs}
    assert {k: job["settings"][k] for k in ("render_output_path", "expanded_job_name", "format")} == {
        "render_output_path": output, "expanded_job_name": "sq010_sh0040_ana", "format": "OPEN_EXR"}
    assert [(t["name"], t["task_type"], t["priority"]) for t in tasks] == [
        ("render-1-5", "blender", 50), ("render-6-10", "blender", 50)]
    for task, frames in zip(tasks, ["1..5", "6..10"]):
        assert _command(task) == {"name": "blender-render", "parameters": {
            "exe": "{blender}", "exeArgs": "{blenderArgs}", "argsBefore": [],
            "blendfile": _settings(farm, LAYOUT)["blendfile"],
            "args": ["--scene", "Scene", "--render-output", output, "--render-format", "OPEN_EXR",
                     "--render-frame", frames]}}
    _assert_steps(farm, tasks, [5, 5])


# (settings changed, other job fields, render_output_path the Manager stores, format rendered)
LAYOUT_VARIANTS = [
    ({"job_name_format": "{job}"}, {"name": "lighting v2"}, "{jobs}/renders/sq010/lighting_v2/######", "OPEN_EXR"),
    ({"job_name_format": "{sequence}-{job}-{timestamp}"}, {"name": "lighting v2"},
     "{jobs}/renders/sq010/sq010-lighting_v2-<stamp>/######", "OPEN_EXR"),
    ({"job_name_format": "{blendfile}_{scene}"}, {}, "{jobs}/renders/sq010/sq010_sh0040_lighting_Scene/######", "OPEN_EXR"),
    ({"job_name_format": "  {shot}.v001 "}, {}, "{jobs}/renders/sq010/sh0040.v001/######", "OPEN_EXR"),
    ({"user": "Ana María/Ops", "sequence": "sq 010"}, {}, "{jobs}/renders/sq_010/sq_010_sh0040_Ana_María_Ops/######",
     "OPEN_EXR"),
    ({"user": ""}, {"metadata": {"user.name": "Bob"}}, "{jobs}/renders/sq010/sq010_sh0040_Bob/######", "OPEN_EXR"),
    ({"output_format": "PNG"}, {}, "{jobs}/renders/sq010/sq010_sh0040_ana/######", "PNG"),
    # path.join alone would give "R:/renders//sq010": the script turns backslashes round first.
    ({"render_root": "R:\\renders\\", "frame_pattern": "frame_####"}, {},
     "R:/renders/sq010/sq010_sh0040_ana/frame_####", "OPEN_EXR"),
]


@pytest.mark.parametrize(("changes", "fields", "output", "file_format"), LAYOUT_VARIANTS,
                         ids=[",".join(changes) for changes, *_ in LAYOUT_VARIANTS])
def test_layout_job_names_its_folder(farm: Farm, changes: dict[str, Any], fields: dict[str, Any], output: str,
                                     file_format: str) -> None:
    job, tasks = _submitted(farm, LAYOUT, {"frames": "1", **changes}, **fields)
    output = output.replace("<stamp>", _stamp(job))
    assert job["settings"]["render_output_path"] == output
    assert job["settings"]["expanded_job_name"] == PurePosixPath(output).parent.name
    assert job["settings"]["format"] == file_format
    assert (_arg_after(tasks[0], "--render-output"), _arg_after(tasks[0], "--render-format")) == (output, file_format)


# ---------------------------------------------------------------------------
# Settings the scripts refuse, with a message for the artist (the Manager checks no `required`)


REFUSED = [
    (CYCLES, {"device": "METAL"}, 'Unknown render device "METAL"; choose one of OPTIX, CUDA, HIP, CPU'),
    (CYCLES, {"render_engine": "BLENDER_EEVEE_NEXT"}, "uses the BLENDER_EEVEE_NEXT render engine"),
    (CYCLES, {"format": "FFMPEG"}, 'This job type only renders images, and not "FFMPEG"'),
    (CYCLES, {"chunk_size": 0}, "Chunk Size (chunk_size) must be a whole number of at least 1, not 0"),
    (CYCLES, {"samples": -1}, "Samples Override (samples) must be a whole number of at least 0, not -1"),
    (CYCLES, {"blendfile": ""}, "Missing required setting: Blend File (blendfile)"),
    (CYCLES, {"blendfile": None, "frames": "  "}, "Missing required settings: Frames (frames), Blend File (blendfile)"),
    (CYCLES, {"format": DROP, "render_output_path": DROP},
     "Missing required settings: Render Output Path (render_output_path), Output Format (format)"),
    (CYCLES, {"frames": "10-1"}, 'GoError: invalid range "10-1": empty range'),
    (LAYOUT, {"job_name_format": "{sequence}_{take}"},
     'Unknown placeholder {take} in the job-name format "{sequence}_{take}"; '
     "use {job} {sequence} {shot} {user} {scene} {blendfile} {timestamp}"),
    (LAYOUT, {"user": ""}, 'The job-name format "{sequence}_{shot}_{user}" uses {user}, but its value is empty'),
    (LAYOUT, {"job_name_format": "{sequence}/{shot}"}, "contains characters that cannot be used in a folder name"),
    (LAYOUT, {"job_name_format": ".."}, "is empty or not usable as a folder name"),
    (LAYOUT, {"render_root": ""}, "Missing required setting: Render Root (render_root)"),
    (LAYOUT, {"sequence": None, "job_name_format": "", "blendfile": ""},
     "Missing required settings: Sequence (sequence), Job Name Format (job_name_format), Blend File (blendfile)"),
    (LAYOUT, {"render_root": "//renders"}, 'Render Root (render_root) "//renders" is relative to the blend file'),
    (LAYOUT, {"render_root": "\\\\nas\\renders"}, "is a UNC path"),
    (LAYOUT, {"output_format": "WEBM"}, 'Unknown output format "WEBM"'),
    (LAYOUT, {"output_format": "SCENE", "format": "FFMPEG"}, 'This job type only renders images, and not "FFMPEG"'),
    (LAYOUT, {"frame_pattern": "frames/####"}, "must be a file name containing '#'"),
    (LAYOUT, {"frame_pattern": "frame"}, "must be a file name containing '#'"),
    (LAYOUT, {"frames": "10-1"}, 'GoError: invalid range "10-1": empty range'),
]


@pytest.mark.parametrize(("script", "changes", "message"), REFUSED, ids=[
    f"{script.stem.split('_')[-1]}-" + ",".join(f"{k}={v if v is not DROP else 'missing'}" for k, v in changes.items())
    for script, changes, _ in REFUSED])
def test_bad_settings_are_refused_with_a_message(farm: Farm, script: Path, changes: dict[str, Any],
                                                 message: str) -> None:
    # No metadata: an empty Artist has no user.name to fall back on.
    status, answer = _post(farm, "/api/v3/jobs/check", _body(farm, script, changes, metadata={}))
    assert status == 400 and message in answer["message"], answer


# ---------------------------------------------------------------------------
# The device snippet the cycles job's tasks pass to Blender (--python-expr), run against a
# fake `bpy` that has just what it touches


@pytest.fixture(scope="module")
def snippet(farm: Farm) -> Callable[..., str]:
    """The snippet as the Manager compiled it, one paused one-task job per variant."""
    made: dict[tuple[Any, ...], str] = {}

    def get(device: str, samples: int = 0, require_gpu: bool = False) -> str:
        key = (device, samples, require_gpu)
        if key not in made:
            _, tasks = _submitted(farm, CYCLES, {"device": device, "samples": samples, "require_gpu": require_gpu,
                                                 "frames": "1"})
            made[key] = _arg_after(tasks[0], "--python-expr")
        return made[key]

    return get


class FakeDevice:
    def __init__(self, name: str, type_: str) -> None:
        self.name = name
        self.type = type_
        self.use = False


class FakeCyclesPrefs:
    TYPES = ("NONE", "CUDA", "OPTIX", "HIP", "ONEAPI", "METAL")

    def __init__(self, hardware: list[FakeDevice]) -> None:
        self.hardware = hardware
        self.devices: list[FakeDevice] = []
        self._type = "NONE"

    @property
    def compute_device_type(self) -> str:
        return self._type

    @compute_device_type.setter
    def compute_device_type(self, value: str) -> None:
        if value not in self.TYPES:
            raise TypeError(f"enum {value!r} not found in {self.TYPES}")
        self._type = value

    def refresh_devices(self) -> None:
        self.devices = list(self.hardware)


class FakeOldCyclesPrefs(FakeCyclesPrefs):
    """Before refresh_devices() existed, get_devices() filled the list."""

    def __getattribute__(self, name: str) -> Any:
        if name == "refresh_devices":
            raise AttributeError(name)
        return super().__getattribute__(name)

    def get_devices(self) -> None:
        self.devices = list(self.hardware)


def _hardware() -> list[FakeDevice]:
    return [FakeDevice("RTX 4090", "CUDA"), FakeDevice("RTX 4090", "OPTIX"), FakeDevice("Threadripper", "CPU")]


def _run_snippet(expr: str, prefs: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Runs the snippet as Blender would (a module named __main__), with `bpy` faked: the
    rendered scene and a second one, Cycles' preferences holding `prefs` (None: no Cycles)."""
    def scene(name: str) -> Any:
        return types.SimpleNamespace(name=name, cycles=types.SimpleNamespace(device="CPU", samples=64))

    addons = {} if prefs is None else {"cycles": types.SimpleNamespace(preferences=prefs)}
    scenes = [scene("Scene"), scene("Compositing")]
    bpy = types.SimpleNamespace(
        context=types.SimpleNamespace(scene=scenes[0], preferences=types.SimpleNamespace(addons=addons)),
        data=types.SimpleNamespace(scenes=scenes),
    )
    monkeypatch.setitem(sys.modules, "bpy", bpy)  # type: ignore[arg-type]
    exec(compile(expr, "<python-expr>", "exec"), {"__name__": "__main__"})
    return bpy


@pytest.mark.parametrize("device", ["OPTIX", "CUDA", "HIP", "CPU"])
def test_snippet_names_only_its_device(snippet: Callable[..., str], device: str) -> None:
    expr = snippet(device)
    compile(expr, "<python-expr>", "exec")
    assert all(f"'{other}'" not in expr for other in {"OPTIX", "CUDA", "HIP"} - {device})
    assert "samples" not in expr  # 0 keeps the scene's samples


@pytest.mark.parametrize("device", ["OPTIX", "CUDA"])
@pytest.mark.parametrize("prefs_class", [FakeCyclesPrefs, FakeOldCyclesPrefs])
def test_snippet_enables_the_chosen_gpu(snippet: Callable[..., str], monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], device: str, prefs_class: type) -> None:
    prefs = prefs_class(_hardware())
    bpy = _run_snippet(snippet(device), prefs, monkeypatch)
    assert prefs.compute_device_type == device
    assert {(d.type, d.use) for d in prefs.devices} == {("CUDA", device == "CUDA"), ("OPTIX", device == "OPTIX"),
                                                          ("CPU", False)}
    assert [s.cycles.device for s in bpy.data.scenes] == ["GPU", "GPU"]
    assert f"Cycles renders on {device}: RTX 4090" in capsys.readouterr().out


def test_snippet_without_the_gpu_renders_on_the_cpu_and_warns(snippet: Callable[..., str],
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    bpy = _run_snippet(snippet("HIP"), FakeCyclesPrefs(_hardware()), monkeypatch)  # no AMD card here
    assert [s.cycles.device for s in bpy.data.scenes] == ["CPU", "CPU"]
    assert "Flamenco WARNING: cannot render on HIP (no HIP device on this worker)" in capsys.readouterr().out


def test_snippet_fails_the_task_when_the_gpu_is_required(snippet: Callable[..., str],
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError, match="no HIP device"):
        _run_snippet(snippet("HIP", require_gpu=True), FakeCyclesPrefs(_hardware()), monkeypatch)
    assert "Flamenco ERROR: cannot render on HIP" in capsys.readouterr().out


@pytest.mark.parametrize("device", ["OPTIX", "CPU"])
def test_snippet_survives_a_missing_cycles_addon(snippet: Callable[..., str], monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], device: str) -> None:
    _run_snippet(snippet(device), None, monkeypatch)
    assert "Flamenco WARNING" in capsys.readouterr().out


def test_cpu_snippet_turns_the_gpu_off(snippet: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> None:
    prefs = FakeCyclesPrefs(_hardware())
    prefs.compute_device_type = "OPTIX"
    bpy = _run_snippet(snippet("CPU"), prefs, monkeypatch)
    assert prefs.compute_device_type == "NONE"
    assert [s.cycles.device for s in bpy.data.scenes] == ["CPU", "CPU"]


def test_snippet_overrides_the_samples_of_the_rendered_scene(snippet: Callable[..., str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    bpy = _run_snippet(snippet("OPTIX", samples=128), FakeCyclesPrefs(_hardware()), monkeypatch)
    assert [s.cycles.samples for s in bpy.data.scenes] == [128, 64]


# ---------------------------------------------------------------------------
# The `eval` expressions, as served, in the add-on's restricted evaluator and in plain Python
# (Flamenco's own add-on evaluates them with eval())


BLEND = "/projects/th/sq010_sh0040_lighting.blend"


def _expressions(farm: Farm, script: Path) -> dict[str, str]:
    return {s["key"]: s["eval"] for s in _served(farm)[_name(script)]["settings"] if "eval" in s}


def _fake_blender_names(settings: dict[str, Any], blend: str = BLEND) -> dict[str, Any]:
    render = types.SimpleNamespace(engine="CYCLES", file_extension=".exr",
                                   image_settings=types.SimpleNamespace(file_format="OPEN_EXR"))

    def abspath(path: str) -> str:
        return str(PurePosixPath(blend).parent) + "/" + path[2:] if path.startswith("//") else path

    def last_n_dir_parts(n: int, path: str | None = None) -> PurePosixPath:
        parts = PurePosixPath(path or blend).parent.parts
        return PurePosixPath(*parts[len(parts) - n:]) if n else PurePosixPath()

    return {
        "bpy": types.SimpleNamespace(data=types.SimpleNamespace(filepath=blend)),
        "C": types.SimpleNamespace(scene=types.SimpleNamespace(name="Scene", frame_start=1, frame_end=250, render=render)),
        "jobname": "sq010_sh0040 lighting", "Path": PurePosixPath, "abspath": abspath,
        "last_n_dir_parts": last_n_dir_parts, "settings": types.SimpleNamespace(**settings),
    }


def _python_evaluate(expression: str, names: dict[str, Any]) -> Any:
    allowed = {n: getattr(builtins, n) for n in ("str", "int", "float", "bool", "round", "min", "max", "len", "abs")}
    return eval(compile(expression, "<eval>", "eval"), {"__builtins__": allowed}, dict(names))  # noqa: S307


@pytest.fixture(params=["python", "safe_eval"])
def evaluate(request: pytest.FixtureRequest) -> Callable[[str, dict[str, Any]], Any]:
    return _python_evaluate if request.param == "python" else safe_eval.evaluate


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_eval_expressions_pass_the_restricted_evaluator(farm: Farm, script: Path) -> None:
    refused = []
    for key, expression in _expressions(farm, script).items():
        try:
            safe_eval.check(expression)
        except safe_eval.EvalError as ex:
            refused.append(f"{key}: {expression!r}: {ex}")
    assert refused == []


def test_cycles_eval_values(farm: Farm, evaluate: Callable[[str, dict[str, Any]], Any]) -> None:
    names = _fake_blender_names({"render_output_root": "/projects/th/render"})
    assert {key: evaluate(e, names) for key, e in _expressions(farm, CYCLES).items()} == {
        "frames": "1-250",
        "render_output_root": "/projects/th/render",
        "render_output_path": "/projects/th/render/sq010_sh0040 lighting/{timestamp}/######",
        "blendfile": BLEND,
        "scene": "Scene",
        "format": "OPEN_EXR",
        "image_file_extension": ".exr",
        "render_engine": "CYCLES",
    }


def test_layout_eval_values(farm: Farm, evaluate: Callable[[str, dict[str, Any]], Any]) -> None:
    names = _fake_blender_names({"render_root": "{jobs}/renders", "sequence": "sq010", "shot": "sh0040",
                                 "user": "ana", "job_name_format": "{sequence}_{shot}_{user}"})
    assert {key: evaluate(e, names) for key, e in _expressions(farm, LAYOUT).items()} == {
        "frames": "1-250",
        "sequence": "sq010",
        "shot": "sh0040",
        "render_output_path": "{jobs}/renders/sq010/sq010_sh0040_ana/######",
        "blendfile": BLEND,
        "scene": "Scene",
        "format": "OPEN_EXR",
    }


@pytest.mark.parametrize(("blend", "sequence", "shot"), [
    ("/p/sq010_sh0040_lighting.blend", "sq010", "sh0040"),
    ("/p/sq010_sh0040.blend", "sq010", "sh0040"),
    ("/p/sq010.blend", "sq010", ""),
    ("", "", ""),  # an unsaved file: empty, and the job is refused as Sequence is required
])
def test_layout_sequence_and_shot_from_the_blend_name(farm: Farm, evaluate: Callable[[str, dict[str, Any]], Any],
                                                      blend: str, sequence: str, shot: str) -> None:
    expressions, names = _expressions(farm, LAYOUT), _fake_blender_names({}, blend)
    assert (evaluate(expressions["sequence"], names), evaluate(expressions["shot"], names)) == (sequence, shot)
