"""One-click submission: the .blend reaches the farm without touching the artist's file,
settings are checked locally and by the Manager, and nothing is ever submitted twice."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest

from blender_helpers import refresh, save_shot, select_job_type, tick_until


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def submit_and_wait(desk: ModuleType) -> Any:
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None, timeout=30)
    return desk.submitting.last_outcome


def select_render(desk: ModuleType, renders: Path) -> Any:
    grp = select_job_type(desk, "simple-blender-render")
    grp.render_output_root = str(renders)
    return grp


def only_job(stub: Any) -> Any:
    assert len(stub.jobs) == 1
    return next(iter(stub.jobs.values()))


def test_blend_outside_shared_storage_is_copied_to_a_fresh_folder(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    shot = save_shot(tmp_path / "artist" / "sq010_sh020.blend", 5, 9)
    before = digest(shot)
    select_render(desk, tmp_path / "renders")

    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    job = only_job(stub)
    blendfile = Path(job.settings["blendfile"])
    assert blendfile.is_file() and blendfile.name == "sq010_sh020.blend"
    assert blendfile.parent.parent == stub.storage_dir / "flamenco-desk"
    assert digest(shot) == before, "the artist's file must not change"
    assert (blendfile.parent / "pack-info.txt").is_file()  # packed by BAT, with its dependencies

    assert job.settings["frames"] == "5-9"
    assert job.name == "sq010_sh020" and job.priority == 50 and job.status == "queued"
    meta = job.metadata
    assert meta["blendfile"] == str(shot) and meta["scene"] == "Scene"
    assert meta["flamenco_desk.submission_id"] and meta["blender_version"] == bpy.app.version_string
    # The job is remembered in the .blend for monitoring.
    refs = bpy.context.scene.flamenco_desk.jobs
    assert [r.job_id for r in refs] == [job.id]
    assert refs[0].submission_id == meta["flamenco_desk.submission_id"]


def test_clean_blend_on_shared_storage_is_submitted_in_place(connected: ModuleType, stub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = connected
    shot = save_shot(stub.storage_dir / "project" / "shot.blend")
    select_render(desk, stub.storage_dir / "renders")
    # The bpy module always reports unsaved changes; an artist's saved file has none.
    monkeypatch.setattr(desk.submitting, "blend_is_dirty", lambda: False)
    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    assert only_job(stub).settings["blendfile"] == str(shot)
    assert not (stub.storage_dir / "flamenco-desk").exists()
    assert sorted(p.name for p in shot.parent.iterdir()) == ["shot.blend"]


def test_unsaved_changes_go_to_a_copy_next_to_the_original(connected: ModuleType, stub: Any) -> None:
    desk = connected
    shot = save_shot(stub.storage_dir / "project" / "shot.blend", 1, 10)
    before = digest(shot)
    select_render(desk, stub.storage_dir / "renders")
    bpy.context.scene.frame_end = 20  # unsaved edit
    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    farm_blend = Path(only_job(stub).settings["blendfile"])
    assert farm_blend != shot and farm_blend.parent == shot.parent
    assert farm_blend.name.startswith("shot.flamenco-") and farm_blend.is_file()
    assert digest(shot) == before and bpy.data.filepath == str(shot)
    assert only_job(stub).settings["frames"] == "1-20"


def test_unsaved_file_is_refused_with_a_message(connected: ModuleType, stub: Any) -> None:
    desk = connected
    select_job_type(desk, "echo-sleep-test")
    with pytest.raises(RuntimeError, match="Save the file first"):
        bpy.ops.flamenco_desk.submit_job(mode="ASYNC")
    assert stub.requests_to(r"^/api/v3/jobs(/check)?$", method="POST") == []


def test_required_setting_and_bad_frames_are_caught_locally(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(desk, "echo-sleep-test")
    with pytest.raises(RuntimeError, match='"Message" is required'):
        bpy.ops.flamenco_desk.submit_job(mode="ASYNC")

    grp = select_render(desk, tmp_path / "renders")
    grp.autoeval_frames = False
    grp.frames = "1-x"
    with pytest.raises(RuntimeError, match='"1-x" is not a frame or range'):
        bpy.ops.flamenco_desk.submit_job(mode="ASYNC")
    grp.frames = "10-1"
    with pytest.raises(RuntimeError, match="runs backwards"):
        bpy.ops.flamenco_desk.submit_job(mode="ASYNC")
    assert stub.requests_to(r"^/api/v3/jobs(/check)?$", method="POST") == []


def test_manager_compile_error_is_shown_as_is(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(desk, "echo-sleep-test").message = "hi"
    stub.respond(r"^/api/v3/jobs/check$", 400, {"code": 400, "message": "GoError: something broke at compileJob (x.js:1:2(3))"})
    outcome = submit_and_wait(desk)
    assert not outcome.ok
    assert "GoError: something broke" in outcome.message
    assert stub.jobs == {}


def test_outdated_job_type_412_refreshes_and_says_what_changed(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    grp = select_job_type(desk, "echo-sleep-test")
    grp.message = "keep me"
    old_etag = desk.jobtypes.registry.job_type().etag

    from blender_helpers import sample_jobtypes

    changed = sample_jobtypes.fresh(sample_jobtypes.ECHO_SLEEP_TEST)
    changed[0]["settings"].append({"key": "volume", "type": "int32", "default": 11})
    stub.set_job_types(changed + sample_jobtypes.fresh(sample_jobtypes.SIMPLE_BLENDER_RENDER))

    outcome = submit_and_wait(desk)
    assert not outcome.ok
    assert "changed on the Manager" in outcome.message and "volume" in outcome.message
    assert stub.jobs == {}
    jt = desk.jobtypes.registry.job_type()
    assert jt.etag != old_etag and any(s.key == "volume" for s in jt.settings)
    assert desk.jobtypes.registry.group(bpy.context.scene).message == "keep me"

    desk.submitting.last_outcome = None
    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    assert only_job(stub).settings["volume"] == 11


def test_lost_submit_response_does_not_create_a_second_job(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(desk, "echo-sleep-test").message = "once"
    stub.drop_response(r"^/api/v3/jobs$", method="POST")
    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    job = only_job(stub)
    assert outcome.job_id == job.id
    assert len(stub.requests_to(r"^/api/v3/jobs$", method="POST")) == 1


def test_lost_response_and_unreachable_lookup_is_looked_up_before_next_submit(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(desk, "echo-sleep-test").message = "once"
    stub.drop_response(r"^/api/v3/jobs$", method="POST")
    stub.respond(r"^/api/v3/jobs$", 500, {"code": 500, "message": "database busy"}, method="GET", times=None)
    outcome = submit_and_wait(desk)
    assert not outcome.ok and "looked up before the next submission" in outcome.message
    sp = bpy.context.scene.flamenco_desk
    assert sp.pending_submission_id
    assert len(stub.jobs) == 1  # the Manager did create it

    stub.clear_faults()
    desk.submitting.last_outcome = None
    outcome = submit_and_wait(desk)
    assert outcome.ok and "nothing new was submitted" in outcome.message
    assert len(stub.jobs) == 1
    assert len(stub.requests_to(r"^/api/v3/jobs$", method="POST")) == 1
    assert sp.pending_submission_id == "" and [r.job_id for r in sp.jobs] == [only_job(stub).id]


def test_priority_paused_and_worker_tag_are_sent(connected: ModuleType, stub: Any, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(desk, "echo-sleep-test").message = "tagged"
    sp = bpy.context.scene.flamenco_desk
    sp.priority, sp.submit_paused, sp.job_name = 80, True, "Nightly check"
    sp.worker_tag_ui = stub.worker_tags[0]["id"]
    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    job = only_job(stub)
    assert (job.name, job.priority, job.status) == ("Nightly check", 80, "paused")
    assert job.worker_tag == stub.worker_tags[0]["id"]
