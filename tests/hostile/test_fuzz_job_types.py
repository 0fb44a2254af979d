"""Fuzzed job types, as a Manager could send them, through the add-on in real Blender.

A seeded generator driven by hypothesis (pinned) makes job-type JSON: every AvailableJobSetting
field with wrong types or missing, duplicate keys, unknown type/subtype/visible, junk propargs,
control characters, NUL, lone surrogates and non-ASCII in keys and labels, `eval` from a grammar
of Python expressions including reads outside the allow-list; explicit cases add 0 and 5,000
settings and 100 KB strings. Each one is parsed, registered, drawn, refreshed and collected for
submitting (eval_cases.run_job_type). Invariants: only the add-on's documented failures come
out; no planted secret reaches a value, a message or the panel; the file's data is unchanged;
a setting that reads outside the allow-list is named with the reason; the recorded built-in
job type still works afterwards. Seeded (derandomize), so every run sees the same cases.
"""

from __future__ import annotations

import json
import os
import random
from types import ModuleType
from typing import Any

import bpy
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from hostile import eval_cases as cases
from hostile.eval_cases import SECRET
from support.fake_layout import FakeLayout

# FUZZ_EXAMPLES: more (or fewer, while debugging) than the 2,000 every run does.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))

# Generation is plain `random` driven by one hypothesis draw (st.randoms, derandomized): the
# same cases every run, and cheap enough for 2,000 job types in real Blender within the tests'
# time budget (composite hypothesis strategies of this size spent most of the time drawing).

# Text with what a Manager's JSON may hold: control characters, non-ASCII, a lone surrogate
# (JSON's "\ud800"), RNA-reserved names, Python keywords.
_CHARS = list("ab_Z09 -./\\{}'\"") + ["\x00", "\x01", "\n", "\t", "\x7f", "é", "ß", "世", "🎬", "\u202e",
                                         "\ufeff", "\ud800"]
_NAMED_KEYS = ["frames", "name", "rna_type", "bl_rna", "class", "job_type_name", "blendfile", "x" * 70, "1abc",
               "edited_frames", "autoeval_frames", "_", "_private", "None", "True"]
_TYPES = ["string", "int32", "float", "bool", "", "STRING", "enum", "int64"]
_SUBTYPES = ["file_path", "dir_path", "file_name", "hashed_file_path", "", "PIXEL", "bogus"]
_VISIBLE = ["visible", "submission", "web", "hidden", "", "VISIBLE", "bogus"]
_PROPARG_KEYS = ["min", "max", "soft_min", "soft_max", "step", "precision", "maxlen", "subtype", "update", "get",
                 "set", "options", "default"]
_PROPARG_VALUES = [float("inf"), float("-inf"), float("nan"), 10**30, -(10**30), 2**31, -(2**31) - 1, "FILE_PATH",
                   "NONE", "PERCENTAGE", 0, 1, -1, 0.5]
_FORMS = ["({} + {})", "({} * {})", "({} / {})", "({} ** {})", "({} % {})", "str({})", "int({})", "len({})",
          "f'{{{}}}-{{{}}}'", "({} if {} else {})", "{}[0]", "{}[1:3]", "({}).upper()", "{}.real", "({}, {})",
          "({} == {})", "Path({}).name", "max({}, {})", "{}.__class__", "[x for x in {}]", "({}).format({})",
          "getattr({}, 'x')", "(lambda: {})()", "{}.lines[0].body", "{}['secret']", "not {}", "-{}"]
_NAMES = ["settings.frames", "settings.nope", "x", "__import__", "open", "C", "bpy", "Path", "None", "True",
          "C.scene", "bpy.data", "C.scene.render"]


def text(r: random.Random) -> str:
    return "".join(r.choice(_CHARS) for _ in range(r.choice([0, 1, 2, 3, 5, 8])))


def junk(r: random.Random) -> Any:
    return r.choice([
        lambda: None, lambda: r.random() < 0.5, lambda: r.randint(-(2**70), 2**70), lambda: r.uniform(-1e300, 1e300),
        lambda: text(r), lambda: [r.randint(0, 9)], lambda: {text(r): r.randint(0, 9)},
    ])()


def expression(r: random.Random, depth: int = 0) -> str:
    """From a grammar: reads inside and outside the allow-list, literals, and the evaluator's
    operations (and some it refuses), nested up to three deep."""
    if depth >= 3 or r.random() < 0.4:
        return r.choice([
            lambda: r.choice(cases.ALLOWED), lambda: r.choice(cases.LEAKS), lambda: r.choice(_NAMES),
            lambda: repr(r.randint(-(10**6), 10**6)), lambda: repr(text(r)), lambda: repr(r.uniform(-1e6, 1e6)),
        ])()
    form = r.choice(_FORMS)
    return form.format(*(expression(r, depth + 1) for _ in range(form.count("{}"))))


def maybe(r: random.Random, typed: bool, good: Any) -> Any:
    """A value of the spec's type, or (in a broken job type) now and then junk."""
    return junk(r) if not typed and r.random() < 0.3 else good


def setting(r: random.Random, typed: bool) -> dict[str, Any]:
    """One AvailableJobSetting; fields left out at random (key and type too, when broken)."""
    fields: dict[str, Any] = {
        "key": maybe(r, typed, r.choice(_NAMED_KEYS) if r.random() < 0.3 else text(r)),
        "type": maybe(r, typed, r.choice(_TYPES)),
        "subtype": maybe(r, typed, r.choice(_SUBTYPES)),
        "choices": maybe(r, typed, [text(r) for _ in range(r.randint(0, 4))]),
        "propargs": maybe(r, typed, {r.choice(_PROPARG_KEYS + [text(r)]): r.choice(_PROPARG_VALUES + [junk(r)])
                                     for _ in range(r.randint(0, 4))}),
        "description": text(r) if r.random() < 0.7 else junk(r),
        "label": text(r) if r.random() < 0.7 else junk(r),
        "default": junk(r),
        "eval": maybe(r, typed, expression(r) if r.random() < 0.8 else text(r)),
        "evalInfo": maybe(r, typed, {"showLinkButton": r.random() < 0.5, "description": text(r)}),
        "visible": maybe(r, typed, r.choice(_VISIBLE)),
        "required": maybe(r, typed, r.random() < 0.5),
        "editable": maybe(r, typed, r.random() < 0.7),
    }
    required = ("key", "type") if typed else ()
    return {k: v for k, v in fields.items() if k in required or r.random() < 0.5}


def leak_setting(r: random.Random, key: str) -> dict[str, Any]:
    """A well-formed setting that reads outside the allow-list (always, whatever the wrapper),
    shown or not: the artist must be told which setting and why."""
    leak: dict[str, Any] = {"key": key, "type": r.choice(["string", "int32", "float", "bool"]),
                            "eval": r.choice(cases.LEAK_WRAPPERS).format(r.choice(cases.LEAKS))}
    optional = {"label": text(r), "visible": r.choice(["visible", "submission", "web", "hidden"]),
                "editable": r.random() < 0.5, "required": r.random() < 0.5,
                "evalInfo": {"showLinkButton": True, "description": "auto"}}
    leak.update({k: v for k, v in optional.items() if r.random() < 0.5})
    return leak


def job_type(r: random.Random) -> tuple[Any, list[str]]:
    broken = r.random() < 0.1  # junk where the spec wants a type
    settings_ = [setting(r, typed=not broken) for _ in range(r.choice([0, 1, 2, 3, 4, 6]))]
    if settings_ and r.random() < 0.3:  # a duplicate key, with other fields
        settings_.append({**settings_[0], "label": text(r), "type": r.choice(_TYPES)})
    leak_keys = [f"leak_{i}" for i in range(r.choice([0, 1, 1, 2]))]
    for key in leak_keys:
        settings_.insert(r.randint(0, len(settings_)), leak_setting(r, key))
    raw: dict[str, Any] = {"name": r.choice(["fuzz", "fuzz-2"]) if r.random() < 0.7 else text(r),
                           "etag": text(r) if r.random() < 0.5 else "e", "settings": settings_}
    for field_ in ("label", "description"):
        if r.random() < 0.5:
            raw[field_] = maybe(r, not broken, text(r))
    if broken and r.random() < 0.3:  # the job type itself is broken
        return r.choice([{**raw, "settings": None}, {**raw, "name": 5}, {k: v for k, v in raw.items()
                                                                        if k != "etag"}, [raw], None]), []
    return raw, leak_keys


@pytest.fixture
def planted(clean_desk: ModuleType) -> Any:
    planted = cases.plant_secrets()
    yield planted
    cases.remove_secrets(planted)
    clean_desk.jobtypes.registry.use(None)


def _check(desk: ModuleType, result: cases.Pass, raw: Any, leak_keys: list[str], planted: cases.Planted) -> None:
    assert SECRET not in result.everything_shown(), "a planted secret reached the artist or the Manager"
    cases.assert_nothing_changed(planted)
    # Blender's UI takes only valid UTF-8 (a lone surrogate fails the panel's draw).
    for kind, value in result.layout.log if result.layout is not None else []:
        repr(value).encode("utf-8")
        if kind == "label":
            value.encode("utf-8")
    if result.parse_error:
        return
    problems = "; ".join(result.problems)
    panel = " ".join(result.layout.labels())
    for key in leak_keys:
        setting = next(s for s in cases.iter_settings(raw) if s.get("key") == key)
        label = str(setting.get("label") or key).encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        named = f'setting "{label}"'
        message = result.message_for(key) or next((p for p in result.problems if named in p), "")
        assert named in message and " is refused: " in message, (key, setting, message)
        # Shown to the artist: under the field / in the panel, or as the reason submitting stopped.
        if result.selected:
            assert "is refused" in panel or named in problems, (key, panel[:300])


def _still_usable(desk: ModuleType) -> None:
    """The recorded built-in job type loads and evaluates as before."""
    raw = next(r for r in cases.recorded_job_types() if r["name"] == "simple-blender-render")
    result = cases.run_job_type(desk, raw)
    assert result.messages == {}, result.messages
    assert result.problems == [] or all("required" in p for p in result.problems), result.problems
    grp = desk.jobtypes.registry.group(bpy.context.scene)
    assert grp.frames == "7-42"


def _nothing_escaped_into_blender(capfd: pytest.CaptureFixture[str]) -> None:
    """Exceptions in the add-on's RNA callbacks (getters, updates) are printed by Blender,
    not raised: they must not happen either."""
    err = capfd.readouterr().err
    escaped = [line for line in err.splitlines() if "Traceback" in line or "flamenco_desk" in line and
               "WARNING" not in line]
    assert escaped == [], "\n".join(err.splitlines()[:40])


def test_fuzzed_job_types(clean_desk: ModuleType, planted: cases.Planted, capfd: pytest.CaptureFixture[str]) -> None:
    desk = clean_desk
    seen = {"count": 0, "parse_errors": 0, "leaks": 0}

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
    @given(st.randoms(use_true_random=False))
    def one(r: random.Random) -> None:
        raw, leak_keys = job_type(r)
        raw = json.loads(json.dumps(raw))  # what the Manager's JSON can carry
        note(f"job type: {json.dumps(raw)[:4000]}")
        result = cases.run_job_type(desk, raw)
        _check(desk, result, raw, leak_keys, planted)
        seen["count"] += 1
        seen["parse_errors"] += bool(result.parse_error)
        seen["leaks"] += len(leak_keys) if not result.parse_error else 0
        if seen["count"] % 250 == 0:
            _still_usable(desk)

    one()
    _nothing_escaped_into_blender(capfd)
    with capfd.disabled():
        print(f"\nfuzzed job types: {seen}")
    assert seen["count"] >= EXAMPLES
    assert seen["leaks"] > EXAMPLES // 4 and seen["parse_errors"] < EXAMPLES // 2  # the generator reaches both
    _still_usable(desk)


BIG = "é" * 50_000  # 100 KB of UTF-8


@pytest.mark.parametrize("case", ["0 settings", "5000 settings", "100 KB strings"])
def test_big_job_types(clean_desk: ModuleType, planted: cases.Planted, case: str,
                       capfd: pytest.CaptureFixture[str]) -> None:
    desk = clean_desk
    if case == "0 settings":
        settings_: list[dict[str, Any]] = []
    elif case == "5000 settings":
        settings_ = [{"key": f"s{i}", "type": ["string", "int32", "float", "bool"][i % 4],
                      "eval": cases.ALLOWED[i % len(cases.ALLOWED)] if i % 3 else cases.LEAKS[i % len(cases.LEAKS)],
                      "visible": ["visible", "hidden"][i % 2]} for i in range(5000)]
    else:
        settings_ = [{"key": BIG, "type": "string", "label": BIG, "description": BIG, "default": BIG,
                      "choices": [BIG, BIG + "x"], "eval": BIG},
                     {"key": "k" + BIG, "type": "string", "label": "\x00" + BIG, "eval": "'" + "x" * 99_000 + "'",
                      "propargs": {"maxlen": BIG}, "subtype": BIG},
                     {"key": "leak_0", "type": "string", "label": BIG, "eval": cases.LEAKS[0]}]
    raw = {"name": "big", "label": BIG if case == "100 KB strings" else "Big", "etag": case,
           "description": BIG if case == "100 KB strings" else None, "settings": settings_}
    raw = json.loads(json.dumps(raw))
    result = cases.run_job_type(desk, raw)
    assert SECRET not in result.everything_shown()
    cases.assert_nothing_changed(planted)
    assert not result.parse_error
    if case == "5000 settings":
        refused = [k for k, m in result.messages.items() if " is refused: " in m]
        assert len(refused) == len([i for i in range(5000) if i % 3 == 0]), len(refused)
    _nothing_escaped_into_blender(capfd)
    _still_usable(desk)


def test_a_broken_job_type_costs_no_other(connected: ModuleType, proxy: Any, farm: Any, capsys: Any) -> None:
    """A Manager (spoofed: the real one only serves well-typed job types) whose job-type list
    mixes the real job types with broken ones: the real ones stay usable, the broken ones are
    named in the panel (and headless on the console) with what is wrong."""
    desk = connected
    real = farm.get_json("/api/v3/jobs/types")["job_types"]
    r = random.Random(15)
    broken = [None, [], {"name": "no-settings", "etag": "e", "settings": None},
              {"name": "bad-setting", "etag": "e", "settings": [{"key": 5, "type": "string"}]},
              {"name": "x" * 100_000, "etag": "e", "settings": [{"type": "string"}]}]
    while len(broken) < 20:  # and generated ones that do not parse
        raw, _ = job_type(r)
        try:
            desk.api.models.JobType.from_json(json.loads(json.dumps(raw)))
        except desk.api.errors.InvalidResponse:
            broken.append(json.loads(json.dumps(raw)))
    mixed = broken[:10] + real + broken[10:]
    proxy.respond(r"^/api/v3/jobs/types$", 200, body={"job_types": mixed}, times=None, method="GET")
    capsys.readouterr()
    cases.refresh(desk)
    info = desk.state.info()
    assert sorted(info.job_types) == sorted(jt["name"] for jt in real)
    assert len(info.job_type_problems) == len(broken)
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Flamenco Desk: Left out: ")]
    assert len(printed) == len(broken) and any("'bad-setting'" in line for line in printed), printed
    assert any("'bad-setting'" in p and "'key' should be a string" in p for p in info.job_type_problems)
    assert all(len(p) <= 300 for p in info.job_type_problems)
    layout = FakeLayout()
    desk.panels.submit_ui.draw(layout, bpy.context)
    assert sum(label.startswith("Left out: ") for label in layout.labels()) >= 8
    grp = cases.select(desk, "simple-blender-render")
    assert grp.frames == f"{bpy.context.scene.frame_start}-{bpy.context.scene.frame_end}"
