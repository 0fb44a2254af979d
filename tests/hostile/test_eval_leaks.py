"""No data leaves through `eval`: what an expression may read is an allow-list (safe_eval/
allowlist.py). In real Blender, with secrets planted where a spoofed Manager would look:
every leak path is refused naming the setting and the read, in the panel and at submit;
the recorded job types' expressions still give what Python's own eval gives."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import bpy
import pytest

from hostile import eval_cases as cases
from hostile.eval_cases import SECRET
from support.blender_helpers import refresh, select_job_type
from support.fake_layout import FakeLayout


@pytest.fixture
def planted(clean_desk: ModuleType) -> Iterator[cases.Planted]:
    planted = cases.plant_secrets()
    yield planted
    cases.remove_secrets(planted)
    clean_desk.jobtypes.registry.use(None)


def _job_type(settings: list[dict[str, Any]], name: str = "leaky") -> dict[str, Any]:
    return {"name": name, "label": "Leaky", "etag": f"etag-{len(settings)}-{hash(str(settings))}",
            "settings": settings}


def test_every_leak_path_is_refused_naming_the_setting(clean_desk: ModuleType, planted: cases.Planted) -> None:
    desk = clean_desk
    # Each leak twice: shown (evaluated when the job type loads, message under the field) and
    # hidden (evaluated when the job type loads and at submit, message in the panel and in
    # the submit error that `blender -b` prints).
    settings = []
    for i, read in enumerate(cases.LEAKS):
        settings.append({"key": f"shown_{i}", "type": "string", "label": f"Shown {i}", "eval": read})
        settings.append({"key": f"hidden_{i}", "type": "string", "visible": "hidden", "eval": read})
    result = cases.run_job_type(desk, _job_type(settings))

    assert result.values is None and result.problems, "a job with leaking settings was let through"
    submit_error = "; ".join(result.problems)
    panel = " ".join(result.layout.labels())  # wrapped lines, joined back
    for i, read in enumerate(cases.LEAKS):
        for key, name in ((f"shown_{i}", f"Shown {i}"), (f"hidden_{i}", f"hidden_{i}")):
            message = result.message_for(key)
            assert f'Job type "Leaky", setting "{name}": reading ' in message and " is refused: " in message, \
                (read, message)
            assert "a job type may read (the scene" in message
            # The refused read is named (shortened only when long).
            assert read.split(".")[0] in message
            assert " ".join(message.split()[:6]) in panel, f"{key} not in the panel"
        assert f'setting "hidden_{i}"' in submit_error, f"hidden_{i} not named at submit"
    assert SECRET not in result.everything_shown()
    cases.assert_nothing_changed(planted)

    # The issue's two reads, verbatim: the messages name what was read and why.
    texts = result.message_for("hidden_0")
    prefs = result.message_for("hidden_1")
    assert "reading bpy.data.texts is refused: BlendData.texts is not among" in texts
    assert "reading C.preferences is refused: Context.preferences is not among" in prefs


# The issue's job type: hidden settings that read a text and the preferences.
LEAKY_JS = """
const JOB_TYPE = {
  label: 'Leaky',
  settings: [
    { key: 'frames', type: 'string', eval: "f'{C.scene.frame_start}-{C.scene.frame_end}'", required: true },
    { key: 'note', type: 'string', visible: 'hidden', eval: "bpy.data.texts['secret'].lines[0].body" },
    { key: 'tmp', type: 'string', visible: 'hidden', eval: 'C.preferences.filepaths.temporary_directory' },
  ],
};
function compileJob(job) {
  const task = author.Task('leaky', 'misc');
  task.addCommand(author.Command('echo', { message: 'leaky' }));
  job.addTask(task);
}
"""


def test_the_issues_job_type_on_the_real_manager_is_refused(connected: ModuleType, proxy: Any,
                                                             job_type_script: Any, tmp_path: Path) -> None:
    """Served by the real Manager: loading names both settings in the panel; submitting is
    refused with both named (what `blender -b` prints) and nothing is sent."""
    desk = connected
    planted = cases.plant_secrets()
    try:
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "shot.blend"))
        job_type_script("leaky.js", LEAKY_JS)
        refresh(desk)
        select_job_type(desk, "leaky")
        layout = FakeLayout()
        desk.panels.submit_ui.draw(layout, bpy.context)
        panel = " ".join(layout.labels())
        assert 'setting "note": reading bpy.data.texts is refused' in panel
        assert 'setting "tmp": reading C.preferences is refused' in panel
        with pytest.raises(RuntimeError) as raised:
            bpy.ops.flamenco_desk.submit_job(mode="ASYNC")
        error = str(raised.value)
        print(error)
        assert 'Job type "Leaky", setting "note": reading bpy.data.texts is refused' in error
        assert 'Job type "Leaky", setting "tmp": reading C.preferences is refused' in error
        assert SECRET not in error and SECRET not in panel
        assert proxy.requests_to(r"^/api/v3/jobs(/check)?$", method="POST") == []
    finally:
        cases.remove_secrets(planted)


@pytest.mark.parametrize("release", ["3.8.5", "3.6"])
def test_recorded_job_types_evaluate_like_python(clean_desk: ModuleType, planted: cases.Planted,
                                                 release: str, tmp_path: Path) -> None:
    """Every `eval` of the built-in and example job types the real Managers served gives what
    Python's own eval gives (the official add-on's behaviour) on a real scene and file."""
    desk = clean_desk
    evaluation, registry = desk.jobtypes.evaluation, desk.jobtypes.registry
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 25, 1.001
    scene.render.image_settings.file_format = "OPEN_EXR"
    shot = tmp_path / "seq010_sh020_anim.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    checked = 0
    for raw in cases.recorded_job_types(release):
        jt = desk.api.models.JobType.from_json(raw)
        registry.use(jt, scene)
        grp = registry.group(scene)
        jobname = desk.jobtypes.naming.job_name(scene)
        for setting in jt.settings:
            if not setting.eval:
                continue
            got = evaluation.evaluate_setting(jt, setting, grp, jobname)
            want = evaluation.coerce(setting, cases.reference_value(setting.eval, evaluation.names(grp, jobname)))
            assert got == want, (jt.name, setting.key, got, want)
            checked += 1
        assert registry.refused == {} and registry.eval_errors == {}, (jt.name, registry.eval_errors)
    assert checked >= 20
    # A few values spelled out, so a reference that went wrong the same way cannot pass.
    jt = desk.api.models.JobType.from_json(next(r for r in cases.recorded_job_types(release)
                                                 if r["name"] == "simple-blender-render"))
    registry.use(jt, scene)
    grp = registry.group(scene)
    value = lambda key: evaluation.evaluate_setting(jt, jt.setting(key), grp, "J")  # noqa: E731
    assert value("frames") == "7-42"
    assert value("format") == "OPEN_EXR" and value("image_file_extension") == ".exr"
    assert value("fps") == pytest.approx(25 / 1.001)
    assert value("scene") == scene.name
