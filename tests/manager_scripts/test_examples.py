"""The example job types in manager_scripts/, run under tools/jobtype_shim.js (no Blender, no Manager).

- The exported AvailableJobType matches the Flamenco OpenAPI schema and uses every
  feature the examples are meant to show (eval, link button, choices, propargs,
  hidden and web-only settings, labels and descriptions).
- compileJob produces the tasks a Manager would store: frame chunks, the
  --python-expr device snippet, output paths of the studio layout, and clear errors.
- Every `eval` expression is accepted by the add-on's restricted evaluator and
  evaluates to the expected value against a fake Blender context.
- The shim itself reproduces the Manager's frame syntax, path helpers, shellSplit and
  JSON/etag encoding.
"""

from __future__ import annotations

import builtins
import copy
import hashlib
import re
import shutil
import sys
import types
from pathlib import Path, PurePosixPath
from typing import Any

import local_farm
import pytest

from support import openapi_contract

REPO_ROOT = Path(__file__).resolve().parents[2]
JOB_TYPES_DIR = REPO_ROOT / "manager_scripts"
CYCLES = JOB_TYPES_DIR / "talkingheads_cycles_device.js"
LAYOUT = JOB_TYPES_DIR / "talkingheads_studio_layout.js"
EXAMPLES = [CYCLES, LAYOUT]

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None,
    reason="Node.js (`node`) is not on PATH: the job-type scripts are run by tools/jobtype_shim.js under Node",
)

CREATED = "2026-01-02T03:04:05Z"  # The shim runs with TZ=UTC.
CREATED_STAMP = "2026-01-02_030405"


@pytest.fixture(scope="module")
def spec(release: str) -> dict[str, Any]:
    """The API document the real Manager of the release under test serves (recorded beside
    its binaries by tools/install_flamenco.sh)."""
    try:
        return openapi_contract.document(release)
    except local_farm.FlamencoMissing as ex:
        pytest.fail(str(ex), pytrace=False)


def _schema_validator(spec: dict[str, Any], name: str) -> Any:
    from openapi_schema_validator import OAS30Validator

    return OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


def _schema_errors(spec: dict[str, Any], name: str, instance: Any) -> list[str]:
    validator = _schema_validator(spec, name)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


@pytest.fixture(scope="module")
def exported(shim: Any) -> dict[Path, dict[str, Any]]:
    return {script: shim.export(script) for script in EXAMPLES}


def _settings(job_type: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in job_type["settings"]}


# ---------------------------------------------------------------------------
# Typical jobs


def cycles_job(**settings: Any) -> dict[str, Any]:
    job_settings: dict[str, Any] = {
        "frames": "1-10",
        "chunk_size": 4,
        "device": "OPTIX",
        "require_gpu": False,
        "samples": 0,
        "render_output_root": "/render/shots",
        "render_output_path": "/render/shots/sq010_sh0040 lighting/{timestamp}/######",
        "blendfile": "/projects/th/sq010_sh0040_lighting.blend",
        "scene": "Scene",
        "format": "PNG",
        "image_file_extension": ".png",
        "render_engine": "CYCLES",
    }
    job_settings.update(settings)
    return {
        "name": "sq010_sh0040 lighting",
        "type": "talkingheads-cycles-device",
        "priority": 50,
        "submitter_platform": "linux",
        "created": CREATED,
        "settings": job_settings,
        "metadata": {},
    }


def layout_job(name: str = "lighting v2", metadata: dict[str, str] | None = None, **settings: Any) -> dict[str, Any]:
    job_settings: dict[str, Any] = {
        "frames": "1-10",
        "chunk_size": 5,
        "render_root": "{jobs}/renders",
        "sequence": "sq010",
        "shot": "sh0040",
        "user": "ana",
        "job_name_format": "{sequence}_{shot}_{user}",
        "output_format": "SCENE",
        "render_output_path": "",
        "frame_pattern": "######",
        "blendfile": "/projects/th/sq010_sh0040_lighting.blend",
        "scene": "Scene",
        "format": "OPEN_EXR",
        "expanded_job_name": "",
    }
    job_settings.update(settings)
    return {
        "name": name,
        "type": "talkingheads-studio-layout",
        "priority": 50,
        "submitter_platform": "linux",
        "created": CREATED,
        "settings": job_settings,
        "metadata": metadata or {},
    }


def _args(task: dict[str, Any]) -> list[str]:
    args: list[str] = task["commands"][0]["parameters"]["args"]
    return args


def _arg_after(task: dict[str, Any], flag: str) -> str:
    args = _args(task)
    assert flag in args, f"{flag} not in {args}"
    return args[args.index(flag) + 1]


# ---------------------------------------------------------------------------
# Export: the AvailableJobType JSON


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_export_name_and_etag(shim: Any, script: Path) -> None:
    raw = shim.export_raw(script).rstrip("\n")
    job_type = shim.export(script)
    assert job_type["name"] == script.stem.replace("_", "-")
    # etag = SHA-1 of the same JSON with an empty etag.
    without_etag = raw.replace(f'"etag":"{job_type["etag"]}"', '"etag":""', 1)
    assert hashlib.sha1(without_etag.encode("utf-8")).hexdigest() == job_type["etag"]


def test_export_reproduces_the_managers_etag(shim: Any, tmp_path: Path) -> None:
    """The Manager's own unit test expects this etag for the built-in echo-sleep-test."""
    script = tmp_path / "echo_sleep_test.js"
    script.write_text(
        """
        const JOB_TYPE = {
            label: "Echo Sleep Test",
            settings: [
                { key: "message", type: "string", required: true },
                { key: "sleep_duration_seconds", type: "int32", default: 1 },
                { key: "sleep_repeats", type: "int32", default: 1 },
            ]
        };
        function compileJob(job) {}
        """,
        encoding="utf-8",
    )
    job_type = shim.export(script)
    assert job_type["name"] == "echo-sleep-test"
    assert job_type["etag"] == "eba586e16d6b55baaa43e32f9e78ae514b457fee"


def test_export_follows_go_encoding(shim: Any, tmp_path: Path) -> None:
    script = tmp_path / "my_odd_type.js"
    script.write_text(
        """
        const JOB_TYPE = {
            settings: [
                { type: "int32", key: "n", default: 0, required: false, unknownKey: 1,
                  propargs: {max: 10, min: 0}, label: null },
                { key: "s", type: "string", description: "a <b> & c", choices: ["x", "y"] },
            ],
            extra: "dropped",
        };
        function compileJob(job) {}
        """,
        encoding="utf-8",
    )
    raw = shim.export_raw(script)
    assert raw.startswith('{"etag":"')
    assert '"label":"","name":"my-odd-type","settings":[{"default":0,"key":"n",' in raw
    assert '"propargs":{"max":10,"min":0},"required":false,"type":"int32"}' in raw
    assert "unknownKey" not in raw and "extra" not in raw
    assert '"description":"a \\u003cb\\u003e \\u0026 c"' in raw  # Go escapes HTML characters.


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_export_field_order_is_go_struct_order(shim: Any, script: Path) -> None:
    job_type = shim.export(script)
    assert list(job_type) == ["description", "etag", "label", "name", "settings"]
    for setting in job_type["settings"]:
        assert list(setting) == sorted(setting), setting["key"]


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_export_matches_openapi_schema(spec: dict[str, Any], exported: dict[Path, Any], script: Path) -> None:
    job_type = exported[script]
    assert _schema_errors(spec, "AvailableJobType", job_type) == []
    assert _schema_errors(spec, "AvailableJobTypes", {"job_types": [job_type]}) == []

    setting_schema = spec["components"]["schemas"]["AvailableJobSetting"]
    known = set(setting_schema["properties"])
    enums = {
        "type": spec["components"]["schemas"]["AvailableJobSettingType"]["enum"],
        "subtype": spec["components"]["schemas"]["AvailableJobSettingSubtype"]["enum"],
        "visible": spec["components"]["schemas"]["AvailableJobSettingVisibility"]["enum"],
    }
    for setting in job_type["settings"]:
        assert set(setting) <= known, f"{setting['key']}: unknown fields {set(setting) - known}"
        for field in setting_schema["required"]:
            assert field in setting, f"{setting['key']}: missing {field}"
        for field, allowed in enums.items():
            if field in setting:
                assert setting[field] in allowed, f"{setting['key']}.{field}"
        if "evalInfo" in setting:
            assert set(setting["evalInfo"]) == {"showLinkButton", "description"}
            assert setting["evalInfo"]["description"], f"{setting['key']}: empty evalInfo.description"
            assert "eval" in setting, f"{setting['key']}: evalInfo without eval"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_every_setting_has_label_and_description(exported: dict[Path, Any], script: Path) -> None:
    for setting in exported[script]["settings"]:
        assert isinstance(setting.get("label"), str) and setting["label"], setting["key"]
        assert isinstance(setting.get("description"), str) and setting["description"], setting["key"]


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_uses_every_setting_feature(exported: dict[Path, Any], script: Path) -> None:
    settings = exported[script]["settings"]
    assert any("eval" in s for s in settings), "eval"
    assert any(s.get("evalInfo", {}).get("showLinkButton") for s in settings), "showLinkButton"
    assert any("choices" in s for s in settings), "choices"
    assert any("propargs" in s for s in settings), "propargs"
    assert any(s.get("visible") == "hidden" for s in settings), "hidden setting"
    assert any(s.get("visible") == "web" for s in settings), "web-only setting"
    assert exported[script].get("description")


def test_studio_layout_has_a_computed_read_only_output_path(exported: dict[Path, Any]) -> None:
    setting = _settings(exported[LAYOUT])["render_output_path"]
    assert setting["editable"] is False
    assert setting["subtype"] == "file_path"
    assert "eval" in setting


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_settings_are_consistent(exported: dict[Path, Any], script: Path) -> None:
    settings = exported[script]["settings"]
    keys = [s["key"] for s in settings]
    assert len(keys) == len(set(keys)), "duplicate keys"
    python_types: dict[str, Any] = {"string": str, "int32": int, "float": (int, float), "bool": bool}
    for s in settings:
        key = s["key"]
        if "choices" in s or "subtype" in s:
            assert s["type"] == "string", f"{key}: choices/subtype need a string setting"
        if "choices" in s:
            assert s["choices"] and all(isinstance(c, str) for c in s["choices"])
            if "default" in s:
                assert s["default"] in s["choices"], key
        if "default" in s:
            assert isinstance(s["default"], python_types[s["type"]]), key
            if s["type"] == "int32":
                assert not isinstance(s["default"], bool), key
        if "propargs" in s:
            low, high = s["propargs"].get("min"), s["propargs"].get("max")
            if low is not None and high is not None:
                assert low <= high, key
            if "default" in s and low is not None:
                assert s["default"] >= low, key
            if "default" in s and high is not None:
                assert s["default"] <= high, key
        if s.get("visible") in ("hidden", "web") and not ("eval" in s or "default" in s):
            # The add-on sends the zero value; such a setting must be filled by compileJob.
            assert not s.get("required"), f"{key}: required but nothing sets it at submission"


# ---------------------------------------------------------------------------
# Cycles device job type


def test_cycles_chunks_frames_into_render_tasks(shim: Any) -> None:
    result = shim.compile(CYCLES, cycles_job(frames="1-10", chunk_size=4))
    tasks = result.tasks
    assert [t["name"] for t in tasks] == ["render-1-4", "render-5-8", "render-9,10"]
    assert [t["index_in_job"] for t in tasks] == [1, 2, 3]
    assert {t["task_type"] for t in tasks} == {"blender"}
    assert {t["priority"] for t in tasks} == {50}
    assert [_arg_after(t, "--render-frame") for t in tasks] == ["1..4", "5..8", "9,10"]
    assert [t["commands"][0]["total_step_count"] for t in tasks] == [4, 4, 2]
    assert [t["steps_total"] for t in tasks] == [4, 4, 2]
    for task in tasks:
        assert task["dependencies"] == []
        (command,) = task["commands"]
        assert command["name"] == "blender-render"
        params = command["parameters"]
        assert params["exe"] == "{blender}"
        assert params["exeArgs"] == "{blenderArgs}"
        assert params["argsBefore"] == []
        assert params["blendfile"] == "/projects/th/sq010_sh0040_lighting.blend"
        assert _arg_after(task, "--render-format") == "PNG"
        assert _args(task)[:2] == ["--scene", "Scene"]


def test_cycles_commands_match_the_openapi_command_schema(shim: Any, spec: dict[str, Any]) -> None:
    for task in shim.compile(CYCLES, cycles_job()).tasks:
        for command in task["commands"]:
            assert _schema_errors(spec, "Command", command) == []


def test_cycles_merges_and_sorts_irregular_frames(shim: Any) -> None:
    result = shim.compile(CYCLES, cycles_job(frames="9-10, 1..3,2, 7", chunk_size=3))
    assert [t["name"] for t in result.tasks] == ["render-1-3", "render-7,9,10"]
    assert [_arg_after(t, "--render-frame") for t in result.tasks] == ["1..3", "7,9,10"]
    assert [t["steps_total"] for t in result.tasks] == [3, 3]


def test_cycles_output_path_gets_the_timestamp(shim: Any) -> None:
    result = shim.compile(CYCLES, cycles_job())
    expected = f"/render/shots/sq010_sh0040 lighting/{CREATED_STAMP}/######"
    assert result.settings["render_output_path"] == expected
    for task in result.tasks:
        assert _arg_after(task, "--render-output") == expected
    assert result.body["job"]["metadata"]["render.output_glob"] == (
        f"/render/shots/sq010_sh0040 lighting/{CREATED_STAMP}/*.png"
    )


def test_cycles_keeps_manager_variables_in_the_output_path(shim: Any) -> None:
    result = shim.compile(CYCLES, cycles_job(render_output_path="{render}/th/{timestamp}/frame_######"))
    assert result.settings["render_output_path"] == f"{{render}}/th/{CREATED_STAMP}/frame_######"


def _python_expr(result: Any) -> str:
    task = result.tasks[0]
    args = _args(task)
    # --scene comes first (the snippet must see the right scene), then the exit code.
    assert args.index("--scene") < args.index("--python-exit-code") < args.index("--python-expr")
    assert _arg_after(task, "--python-exit-code") == "1"
    expr = _arg_after(task, "--python-expr")
    assert all(_arg_after(t, "--python-expr") == expr for t in result.tasks)
    return expr


@pytest.mark.parametrize("device", ["OPTIX", "CUDA", "HIP", "CPU"])
def test_cycles_python_expr_per_device(shim: Any, device: str) -> None:
    expr = _python_expr(shim.compile(CYCLES, cycles_job(device=device)))
    compile(expr, "<python-expr>", "exec")  # Valid Python.
    assert expr.startswith("import bpy\n")
    assert "try:" in expr and "except Exception" in expr
    if device == "CPU":
        assert "compute_device_type = 'NONE'" in expr
        assert "sc.cycles.device = 'CPU'" in expr
        assert "'GPU'" not in expr
    else:
        assert f"device_type = '{device}'" in expr
        assert "prefs.compute_device_type = device_type" in expr
        assert "sc.cycles.device = 'GPU'" in expr
    for other in {"OPTIX", "CUDA", "HIP"} - {device}:
        assert f"'{other}'" not in expr
    assert "samples" not in expr  # samples=0 keeps the scene's value.


# A fake `bpy`, just enough for the device snippet.


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

    refresh_devices = None  # type: ignore[assignment]

    def __getattribute__(self, name: str) -> Any:
        if name == "refresh_devices":
            raise AttributeError(name)
        return super().__getattribute__(name)

    def get_devices(self) -> None:
        self.devices = list(self.hardware)


def _fake_scene(name: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(name=name, cycles=types.SimpleNamespace(device="CPU", samples=64))


def _run_snippet(expr: str, prefs: FakeCyclesPrefs, monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    scene, other = _fake_scene("Scene"), _fake_scene("Compositing")
    bpy = types.SimpleNamespace(
        context=types.SimpleNamespace(
            scene=scene,
            preferences=types.SimpleNamespace(addons={"cycles": types.SimpleNamespace(preferences=prefs)}),
        ),
        data=types.SimpleNamespace(scenes=[scene, other]),
    )
    monkeypatch.setitem(sys.modules, "bpy", bpy)  # type: ignore[arg-type]
    exec(compile(expr, "<python-expr>", "exec"), {"__name__": "__main__"})
    return bpy


def _hardware() -> list[FakeDevice]:
    return [
        FakeDevice("RTX 4090", "CUDA"),
        FakeDevice("RTX 4090", "OPTIX"),
        FakeDevice("Threadripper", "CPU"),
    ]


@pytest.mark.parametrize("device", ["OPTIX", "CUDA"])
@pytest.mark.parametrize("prefs_class", [FakeCyclesPrefs, FakeOldCyclesPrefs])
def test_cycles_snippet_enables_the_chosen_gpu(
    shim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], device: str, prefs_class: type
) -> None:
    expr = _python_expr(shim.compile(CYCLES, cycles_job(device=device)))
    prefs = prefs_class(_hardware())
    bpy = _run_snippet(expr, prefs, monkeypatch)
    assert prefs.compute_device_type == device
    assert {(d.type, d.use) for d in prefs.devices} == {
        ("CUDA", device == "CUDA"),
        ("OPTIX", device == "OPTIX"),
        ("CPU", False),
    }
    assert [s.cycles.device for s in bpy.data.scenes] == ["GPU", "GPU"]
    assert f"Cycles renders on {device}: RTX 4090" in capsys.readouterr().out


def test_cycles_snippet_falls_back_to_cpu_with_a_warning(
    shim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    expr = _python_expr(shim.compile(CYCLES, cycles_job(device="HIP")))
    bpy = _run_snippet(expr, FakeCyclesPrefs(_hardware()), monkeypatch)  # No AMD card here.
    assert [s.cycles.device for s in bpy.data.scenes] == ["CPU", "CPU"]
    out = capsys.readouterr().out
    assert "Flamenco WARNING: cannot render on HIP (no HIP device on this worker)" in out


def test_cycles_snippet_fails_the_task_when_gpu_is_required(
    shim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    expr = _python_expr(shim.compile(CYCLES, cycles_job(device="HIP", require_gpu=True)))
    with pytest.raises(RuntimeError, match="no HIP device"):
        _run_snippet(expr, FakeCyclesPrefs(_hardware()), monkeypatch)
    assert "Flamenco ERROR: cannot render on HIP" in capsys.readouterr().out


def test_cycles_snippet_survives_a_missing_cycles_addon(
    shim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for device in ("OPTIX", "CPU"):
        expr = _python_expr(shim.compile(CYCLES, cycles_job(device=device)))
        bpy = types.SimpleNamespace(
            context=types.SimpleNamespace(scene=types.SimpleNamespace(), preferences=types.SimpleNamespace(addons={})),
            data=types.SimpleNamespace(scenes=[types.SimpleNamespace(name="Scene")]),
        )
        monkeypatch.setitem(sys.modules, "bpy", bpy)  # type: ignore[arg-type]
        exec(compile(expr, "<python-expr>", "exec"), {"__name__": "__main__"})
        assert "Flamenco WARNING" in capsys.readouterr().out


def test_cycles_cpu_snippet(shim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    expr = _python_expr(shim.compile(CYCLES, cycles_job(device="CPU")))
    prefs = FakeCyclesPrefs(_hardware())
    prefs.compute_device_type = "OPTIX"
    bpy = _run_snippet(expr, prefs, monkeypatch)
    assert prefs.compute_device_type == "NONE"
    assert [s.cycles.device for s in bpy.data.scenes] == ["CPU", "CPU"]


def test_cycles_samples_override(shim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    expr = _python_expr(shim.compile(CYCLES, cycles_job(samples=128)))
    assert "samples = 128" in expr
    bpy = _run_snippet(expr, FakeCyclesPrefs(_hardware()), monkeypatch)
    assert bpy.context.scene.cycles.samples == 128
    assert bpy.data.scenes[1].cycles.samples == 64  # Only the rendered scene.


def test_cycles_without_scene_setting_has_no_scene_argument(shim: Any) -> None:
    result = shim.compile(CYCLES, cycles_job(scene=""))
    assert "--scene" not in _args(result.tasks[0])
    assert _args(result.tasks[0])[:2] == ["--python-exit-code", "1"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"device": "METAL"}, 'Unknown render device "METAL"; choose one of OPTIX, CUDA, HIP, CPU'),
        ({"render_engine": "BLENDER_EEVEE_NEXT"}, "uses the BLENDER_EEVEE_NEXT render engine"),
        ({"format": "FFMPEG"}, 'This job type only renders images, and not "FFMPEG"'),
        ({"chunk_size": 0}, "Chunk Size (chunk_size) must be a whole number of at least 1, not 0"),
        ({"samples": -1}, "Samples Override (samples) must be a whole number of at least 0, not -1"),
        ({"blendfile": ""}, "Missing required setting: Blend File (blendfile)"),
        (
            {"blendfile": None, "frames": "  "},
            "Missing required settings: Frames (frames), Blend File (blendfile)",
        ),
    ],
)
def test_cycles_rejects_bad_settings(shim: Any, settings: dict[str, Any], message: str) -> None:
    result = shim.compile(CYCLES, cycles_job(**settings))
    assert result.returncode == 1
    assert result.body["code"] == 400
    assert message in result.thrown


def test_cycles_missing_setting_keys_are_reported(shim: Any) -> None:
    job = cycles_job()
    del job["settings"]["format"]
    del job["settings"]["render_output_path"]
    result = shim.compile(CYCLES, job)
    assert "Missing required settings: Render Output Path (render_output_path), Output Format (format)" in (
        result.thrown
    )


BAD_FRAMES = [
    ("1-x", 'GoError: invalid range "1-x":  1-x (strconv.ParseInt: parsing "x": invalid syntax)'),
    ("1..x", 'GoError: invalid range "1-x":  1-x (strconv.ParseInt: parsing "x": invalid syntax)'),
    ("-5", 'GoError: invalid range "-5":  -5 (strconv.ParseInt: parsing "": invalid syntax)'),
    ("10-1", 'GoError: invalid range "10-1": empty range'),
    ("1-10x2", 'GoError: invalid range "1-10x2":  1-10x2 (strconv.ParseInt: parsing "10x2": invalid syntax)'),
    ("1-2-3", 'GoError: invalid range "1-2-3": 1-2-3'),
    ("1,,3", 'GoError: invalid range "1,,3":   (strconv.ParseInt: parsing "": invalid syntax)'),
]


@pytest.mark.parametrize(("script", "make_job"), [(CYCLES, cycles_job), (LAYOUT, layout_job)], ids=["cycles", "layout"])
@pytest.mark.parametrize(("frames", "message"), BAD_FRAMES, ids=[f for f, _ in BAD_FRAMES])
def test_bad_frame_ranges_are_rejected_like_the_manager(
    shim: Any, script: Path, make_job: Any, frames: str, message: str
) -> None:
    result = shim.compile(script, make_job(frames=frames))
    assert result.returncode == 1
    assert result.body["code"] == 400
    assert result.thrown == message
    # Manager shape: "<thrown value> at <function> (<file>:<line>:<col>...)".
    assert re.fullmatch(re.escape(message) + rf" at \w+ \({re.escape(script.name)}:\d+:\d+\)", result.error)


def test_outdated_etag_is_rejected(shim: Any) -> None:
    job = cycles_job()
    job["type_etag"] = "0" * 40
    result = shim.compile(CYCLES, job)
    assert result.body == {
        "code": 412,
        "message": "rejecting job because its settings are outdated, refresh the job type",
    }
    job["type_etag"] = shim.export(CYCLES)["etag"]
    assert shim.compile(CYCLES, job).ok


# ---------------------------------------------------------------------------
# Studio layout job type


def test_layout_output_path_follows_the_studio_layout(shim: Any) -> None:
    result = shim.compile(LAYOUT, layout_job())
    expected = "{jobs}/renders/sq010/sq010_sh0040_ana/######"
    assert result.settings["render_output_path"] == expected
    assert result.settings["expanded_job_name"] == "sq010_sh0040_ana"
    assert result.settings["format"] == "OPEN_EXR"
    tasks = result.tasks
    assert [t["name"] for t in tasks] == ["render-1-5", "render-6-10"]
    assert [t["steps_total"] for t in tasks] == [5, 5]
    for task in tasks:
        assert _arg_after(task, "--render-output") == expected
        assert _arg_after(task, "--render-format") == "OPEN_EXR"
        assert _args(task)[:2] == ["--scene", "Scene"]
        params = task["commands"][0]["parameters"]
        assert (params["exe"], params["exeArgs"], params["argsBefore"]) == ("{blender}", "{blenderArgs}", [])


@pytest.mark.parametrize(
    ("name_format", "expected"),
    [
        ("{sequence}_{shot}_{user}", "sq010_sh0040_ana"),
        ("{job}", "lighting_v2"),
        ("{sequence}-{job}-{timestamp}", f"sq010-lighting_v2-{CREATED_STAMP}"),
        ("{blendfile}_{scene}", "sq010_sh0040_lighting_Scene"),
        ("  {shot}.v001 ", "sh0040.v001"),
    ],
)
def test_layout_job_name_format(shim: Any, name_format: str, expected: str) -> None:
    result = shim.compile(LAYOUT, layout_job(job_name_format=name_format))
    assert result.settings["expanded_job_name"] == expected
    assert result.settings["render_output_path"] == f"{{jobs}}/renders/sq010/{expected}/######"


def test_layout_sanitizes_values(shim: Any) -> None:
    result = shim.compile(LAYOUT, layout_job(user="Ana María/Ops", sequence="sq 010"))
    assert result.settings["render_output_path"] == "{jobs}/renders/sq_010/sq_010_sh0040_Ana_María_Ops/######"


def test_layout_user_falls_back_to_metadata(shim: Any) -> None:
    result = shim.compile(LAYOUT, layout_job(user="", metadata={"user.name": "Bob"}))
    assert result.settings["expanded_job_name"] == "sq010_sh0040_Bob"


def test_layout_output_format_choice_overrides_the_scene(shim: Any) -> None:
    result = shim.compile(LAYOUT, layout_job(output_format="PNG"))
    assert result.settings["format"] == "PNG"
    assert {_arg_after(t, "--render-format") for t in result.tasks} == {"PNG"}


def test_layout_custom_frame_pattern_and_windows_root(shim: Any) -> None:
    # path.join alone would give "R:/renders//sq010": the script normalises backslashes first.
    result = shim.compile(LAYOUT, layout_job(render_root="R:\\renders\\", frame_pattern="frame_####"))
    assert result.settings["render_output_path"] == "R:/renders/sq010/sq010_sh0040_ana/frame_####"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"job_name_format": "{sequence}_{take}"},
            'Unknown placeholder {take} in the job-name format "{sequence}_{take}"; '
            "use {job} {sequence} {shot} {user} {scene} {blendfile} {timestamp}",
        ),
        ({"user": ""}, 'The job-name format "{sequence}_{shot}_{user}" uses {user}, but its value is empty'),
        ({"job_name_format": "{sequence}/{shot}"}, "contains characters that cannot be used in a folder name"),
        ({"job_name_format": ".."}, "is empty or not usable as a folder name"),
        ({"render_root": ""}, "Missing required setting: Render Root (render_root)"),
        ({"sequence": ""}, "Missing required setting: Sequence (sequence)"),
        (
            {"sequence": None, "job_name_format": "", "blendfile": ""},
            "Missing required settings: Sequence (sequence), Job Name Format (job_name_format), "
            "Blend File (blendfile)",
        ),
        ({"render_root": "//renders"}, 'Render Root (render_root) "//renders" is relative to the blend file'),
        ({"render_root": "\\\\nas\\renders"}, "is a UNC path"),
        ({"output_format": "WEBM"}, 'Unknown output format "WEBM"'),
        ({"output_format": "SCENE", "format": "FFMPEG"}, 'This job type only renders images, and not "FFMPEG"'),
        ({"frame_pattern": "frames/####"}, "must be a file name containing '#'"),
        ({"frame_pattern": "frame"}, "must be a file name containing '#'"),
    ],
)
def test_layout_rejects_bad_settings(shim: Any, settings: dict[str, Any], message: str) -> None:
    result = shim.compile(LAYOUT, layout_job(**settings))
    assert result.returncode == 1
    assert result.body["code"] == 400
    assert message in result.thrown


# ---------------------------------------------------------------------------
# eval expressions


def _eval_expressions(exported: dict[Path, Any]) -> list[tuple[str, str, str]]:
    return [
        (script.stem, setting["key"], setting["eval"])
        for script, job_type in exported.items()
        for setting in job_type["settings"]
        if "eval" in setting
    ]


def test_eval_expressions_pass_the_restricted_evaluator(exported: dict[Path, Any]) -> None:
    safe_eval = pytest.importorskip("safe_eval")
    if not hasattr(safe_eval, "check"):
        pytest.skip("safe_eval does not export `check` yet")
    check = safe_eval.check
    expressions = _eval_expressions(exported)
    assert len(expressions) >= 10
    refused = []
    for script, key, expression in expressions:
        try:
            check(expression)
        except Exception as ex:  # noqa: BLE001 - report every refusal at once
            refused.append(f"{script}.{key}: {expression!r}: {type(ex).__name__}: {ex}")
    assert refused == []


def test_eval_expressions_use_only_allowed_names(exported: dict[Path, Any]) -> None:
    """Static check independent of safe_eval: names, calls and no private attributes."""
    import ast

    allowed_names = {"bpy", "C", "jobname", "Path", "abspath", "last_n_dir_parts", "settings"}
    callable_names = {"str", "int", "float", "bool", "round", "min", "max", "len", "abs"} | {
        "Path",
        "abspath",
        "last_n_dir_parts",
    }
    for script, key, expression in _eval_expressions(exported):
        tree = ast.parse(expression, mode="eval")
        for node in ast.walk(tree):
            where = f"{script}.{key}"
            if isinstance(node, ast.Name):
                assert node.id in allowed_names | callable_names, f"{where}: name {node.id}"
            if isinstance(node, ast.Attribute):
                assert not node.attr.startswith("_"), f"{where}: {node.attr}"
                assert node.attr not in {"format", "format_map"}, f"{where}: {node.attr}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id in callable_names, f"{where}: call {node.func.id}"
            assert not isinstance(node, (ast.Lambda, ast.ListComp, ast.GeneratorExp, ast.NamedExpr)), where


BLEND = "/projects/th/sq010_sh0040_lighting.blend"


def _fake_blender_names(settings: dict[str, Any]) -> dict[str, Any]:
    scene = types.SimpleNamespace(
        name="Scene",
        frame_start=1,
        frame_end=250,
        render=types.SimpleNamespace(
            engine="CYCLES",
            file_extension=".exr",
            image_settings=types.SimpleNamespace(file_format="OPEN_EXR"),
        ),
    )

    def abspath(path: str) -> str:
        return str(PurePosixPath(BLEND).parent) + "/" + path[2:] if path.startswith("//") else path

    def last_n_dir_parts(n: int, path: str | None = None) -> PurePosixPath:
        parts = PurePosixPath(path or BLEND).parent.parts
        return PurePosixPath(*parts[len(parts) - n :]) if n else PurePosixPath()

    return {
        "bpy": types.SimpleNamespace(data=types.SimpleNamespace(filepath=BLEND)),
        "C": types.SimpleNamespace(scene=scene),
        "jobname": "sq010_sh0040 lighting",
        "Path": PurePosixPath,
        "abspath": abspath,
        "last_n_dir_parts": last_n_dir_parts,
        "settings": types.SimpleNamespace(**settings),
    }


def _python_evaluate(expression: str, names: dict[str, Any]) -> Any:
    safe_builtins = {n: getattr(builtins, n) for n in ("str", "int", "float", "bool", "round", "min", "max", "len", "abs")}
    return eval(compile(expression, "<eval>", "eval"), {"__builtins__": safe_builtins}, dict(names))  # noqa: S307


@pytest.fixture(params=["python", "safe_eval"])
def evaluate(request: pytest.FixtureRequest) -> Any:
    """Plain Python eval (always), and the add-on's restricted evaluator when it is there."""
    if request.param == "python":
        return _python_evaluate
    safe_eval = pytest.importorskip("safe_eval")
    if not hasattr(safe_eval, "evaluate"):
        pytest.skip("safe_eval does not export `evaluate` yet")
    return lambda expression, names: safe_eval.evaluate(expression, names)


def test_cycles_eval_values(exported: dict[Path, Any], evaluate: Any) -> None:
    _evaluate = evaluate
    settings = _settings(exported[CYCLES])
    names = _fake_blender_names({"render_output_root": "/projects/th/render"})
    values = {key: _evaluate(s["eval"], names) for key, s in settings.items() if "eval" in s}
    assert values == {
        "frames": "1-250",
        "render_output_root": "/projects/th/render",
        "render_output_path": "/projects/th/render/sq010_sh0040 lighting/{timestamp}/######",
        "blendfile": BLEND,
        "scene": "Scene",
        "format": "OPEN_EXR",
        "image_file_extension": ".exr",
        "render_engine": "CYCLES",
    }


def test_layout_eval_values(exported: dict[Path, Any], evaluate: Any) -> None:
    _evaluate = evaluate
    settings = _settings(exported[LAYOUT])
    names = _fake_blender_names(
        {
            "render_root": "{jobs}/renders",
            "sequence": "sq010",
            "shot": "sh0040",
            "user": "ana",
            "job_name_format": "{sequence}_{shot}_{user}",
        }
    )
    values = {key: _evaluate(s["eval"], names) for key, s in settings.items() if "eval" in s}
    assert values == {
        "frames": "1-250",
        "sequence": "sq010",
        "shot": "sh0040",
        "render_output_path": "{jobs}/renders/sq010/sq010_sh0040_ana/######",
        "blendfile": BLEND,
        "scene": "Scene",
        "format": "OPEN_EXR",
    }


@pytest.mark.parametrize(
    ("blend", "sequence", "shot"),
    [
        ("/p/sq010_sh0040_lighting.blend", "sq010", "sh0040"),
        ("/p/sq010_sh0040.blend", "sq010", "sh0040"),
        ("/p/sq010.blend", "sq010", ""),
        ("", "", ""),  # Unsaved file: empty, and the job is refused as "Sequence" is required.
    ],
)
def test_layout_sequence_and_shot_from_blend_name(
    exported: dict[Path, Any], evaluate: Any, blend: str, sequence: str, shot: str
) -> None:
    _evaluate = evaluate
    settings = _settings(exported[LAYOUT])
    names = _fake_blender_names({})
    names["bpy"] = types.SimpleNamespace(data=types.SimpleNamespace(filepath=blend))
    assert _evaluate(settings["sequence"]["eval"], names) == sequence
    assert _evaluate(settings["shot"]["eval"], names) == shot


# ---------------------------------------------------------------------------
# The shim's Manager globals


CHUNKER_CASES: list[tuple[str, int, list[str]]] = [
    ("1-3", 3, ["1-3"]),
    ("1-5", 3, ["1-3", "4,5"]),
    ("1-10", 1, [str(i) for i in range(1, 11)]),
    ("1..10,20..25,40", 5, ["1-5", "6-10", "20-24", "25,40"]),
    ("0-12,34-40", 100, ["0-12,34-40"]),
    ("5,1-3,2,3", 10, ["1-3,5"]),
    (" 1 - 3 , 7 ", 10, ["1-3,7"]),
    ("3, 5-10, 47-327", 300, ["3,5-10,47-327"]),
    ("+4", 1, ["4"]),
    ("7", 5, ["7"]),
]


def test_frame_chunker(shim: Any) -> None:
    cases = [[f, c] for f, c, _ in CHUNKER_CASES]
    out = shim.node_eval(
        f"console.log(JSON.stringify({cases!r}.map(([f, c]) => shim.frameChunker(f, c))))".replace("'", '"')
    )
    assert out == [expected for _, _, expected in CHUNKER_CASES]


def test_frame_chunker_and_count_errors(shim: Any) -> None:
    code = """
    const out = [];
    const cases = [["", 1], ["   ", 1], ["1-10", 0], ["1-10", -2], ["10-1", 1], ["-5", 1], ["1-10x2", 1],
                   ["1..x", 1], ["1-2-3", 1], ["a", 1], ["99999999999999999999", 1]];
    for (const [f, c] of cases) {
      try { out.push(shim.frameChunker(f, c)); } catch (e) { out.push(String(e.message)); }
    }
    out.push(shim.frameCount("1-10,5,20..21"));
    try { shim.frameCount(""); } catch (e) { out.push(e.message); }
    console.log(JSON.stringify(out));
    """
    assert shim.node_eval(code) == [
        'invalid range "": empty range',
        'invalid range "": empty range',
        "invalid chunk size, must be positive number: 0",
        "invalid chunk size, must be positive number: -2",
        'invalid range "10-1": empty range',
        'invalid range "-5":  -5 (strconv.ParseInt: parsing "": invalid syntax)',
        'invalid range "1-10x2":  1-10x2 (strconv.ParseInt: parsing "10x2": invalid syntax)',
        'invalid range "1-x":  1-x (strconv.ParseInt: parsing "x": invalid syntax)',
        'invalid range "1-2-3": 1-2-3',
        'invalid range "a":  a (strconv.ParseInt: parsing "a": invalid syntax)',
        'invalid range "99999999999999999999":  99999999999999999999 '
        '(strconv.ParseInt: parsing "99999999999999999999": value out of range)',
        12,
        'invalid range "":   (strconv.ParseInt: parsing "": invalid syntax)',  # Go's "%q:  %s (%s)" with "".
    ]


def test_path_module(shim: Any) -> None:
    code = r"""
    const p = shim.pathModule;
    console.log(JSON.stringify([
      p.basename("/a/b/c.exr"), p.basename("C:\\renders\\x.png"), p.basename("/a/b/"), p.basename(""),
      p.basename("///"),
      p.dirname("/a/b/c.exr"), p.dirname("c.exr"), p.dirname("/c.exr"), p.dirname(""),
      p.dirname("\\\\nas\\share\\f"), p.dirname("/a//b/"),
      p.join("/a", "b/../c", "d"), p.join("{jobs}", "renders", "", "x"), p.join("", ""), p.join("a/", "/b/"),
      p.join("R:\\renders\\", "sq"),
      p.stem("/a/b/file.flamenco.blend"), p.stem("/a/.hidden"), p.stem("C:\\x\\y.png"), p.stem("noext"),
    ]));
    """
    assert shim.node_eval(code) == [
        "c.exr", "x.png", "b", ".", "/",
        "/a/b", ".", "/", ".", "//nas/share", "/a//b",
        # Go cleans before converting backslashes, so a trailing "\\" leaves "//" (Manager behaviour).
        "/a/c/d", "{jobs}/renders/x", "", "a/b", "R:/renders//sq",
        "file.flamenco", "", "y", "noext",
    ]  # fmt: skip


def test_shell_split(shim: Any) -> None:
    code = r"""
    const out = [];
    for (const s of ['-b -y', '  a "b c" \'d e\' f\\ g ', '--python-expr "import bpy; x = \\"q\\""',
                     'a # comment\nb', '""', 'x"y"z', '"open', 'end\\']) {
      try { out.push(shim.shellSplit(s)); } catch (e) { out.push(e.message); }
    }
    console.log(JSON.stringify(out));
    """
    assert shim.node_eval(code) == [
        ["-b", "-y"],
        ["a", "b c", "d e", "f g"],
        ["--python-expr", 'import bpy; x = "q"'],
        ["a", "b"],
        [""],
        ["xyz"],
        "EOF found when expecting closing quote",
        "EOF found after escape character",
    ]


def test_format_timestamp_local(shim: Any) -> None:
    out = shim.node_eval('console.log(JSON.stringify(shim.formatTimestampLocal(new Date("2026-12-31T23:59:58Z"))))')
    assert out == "2026-12-31_235958"  # TZ=UTC


def test_author_globals_follow_the_manager(shim: Any, tmp_path: Path) -> None:
    script = tmp_path / "probe_type.js"
    script.write_text(
        """
        const JOB_TYPE = { label: "Probe", settings: [] };
        function compileJob(job) {
            const params = {args: ["a"], n: 2.5, nested: {z: 1, a: 2}};
            const cmd = author.Command("echo", params, 3);
            params.args.push("changed later");            // Parameters were copied already.
            const first = author.Task("first", "misc");
            first.addCommand(cmd);
            const second = author.Task("  second  ", "misc");
            second.addCommand(author.Command("sleep", {duration_in_seconds: 1}));
            second.addDependency(first);
            job.addTask(first);
            job.addTask(second);
            first.addCommand(author.Command("lost", {}));  // After addTask: not in the job.
            job.settings.added_by_script = job.jobType + "/" + job.priority;
            job.metadata.note = typeof console;
            let err = "";
            try { author.Task("x", ""); } catch (e) { err = String(e); }
            job.metadata.error = err;
        }
        """,
        encoding="utf-8",
    )
    job = {"name": "probe", "type": "probe-type", "priority": 70, "created": CREATED, "settings": {}, "metadata": {}}
    result = shim.compile(script, job)
    first, second = result.tasks
    assert first["commands"] == [
        {"name": "echo", "parameters": {"args": ["a"], "n": 2.5, "nested": {"a": 2, "z": 1}}, "total_step_count": 3}
    ]
    assert first["steps_total"] == 3
    assert second["name"] == "second"
    assert second["steps_total"] == 1  # A command without steps counts as one.
    assert second["dependencies"] == [{"index_in_job": 1, "name": "first"}]
    assert result.settings == {"added_by_script": "probe-type/70"}
    assert result.body["job"]["metadata"] == {
        "note": "undefined",  # goja has no console.
        "error": "GoError: author.Task(name, type): type is required",
    }


def test_shim_cli_usage_and_broken_scripts(shim: Any, tmp_path: Path) -> None:
    assert shim.run().returncode == 2
    no_job_type = tmp_path / "no_job_type.js"
    no_job_type.write_text("function compileJob(job) {}\n", encoding="utf-8")
    proc = shim.run("export", str(no_job_type))
    assert proc.returncode == 1
    assert "does not define a JOB_TYPE object" in proc.stderr
    syntax_error = tmp_path / "syntax_error.js"
    syntax_error.write_text("const JOB_TYPE = {;\n", encoding="utf-8")
    assert shim.run("export", str(syntax_error)).returncode == 1


def test_wrong_job_type_name_is_unknown(shim: Any) -> None:
    job = copy.deepcopy(cycles_job())
    job["type"] = "talkingheads_cycles_device"  # The name uses '-', not '_'.
    assert shim.compile(CYCLES, job).body == {"code": 400, "message": "job type unknown"}
