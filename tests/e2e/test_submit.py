"""One-click submission: the .blend reaches the farm without touching the artist's file,
settings are checked locally and by the Manager, and nothing is ever submitted twice."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest

from support.blender_helpers import farm_jobs, refresh, save_shot, select_job_type, tick_until, unique_name
from local_farm import Farm
from support.fault_proxy import FaultProxy

SUBMISSION_KEY = "flamenco_desk.submission_id"


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


def submitted(farm: Farm, outcome: Any) -> dict[str, Any]:
    """The job as the real Manager stored it, after checking it is the only one that
    submission made."""
    job = farm.job(outcome.job_id)
    made = farm_jobs(farm, **{SUBMISSION_KEY: job["metadata"][SUBMISSION_KEY]})
    assert [j["id"] for j in made] == [job["id"]]
    return job  # type: ignore[no-any-return]


def test_builtin_render_job_is_accepted_with_the_farm_blendfile(connected: ModuleType, farm: Farm,
                                                              tmp_path: Path) -> None:
    """The real simple-blender-render declares `blendfile` required, web-only, without eval:
    the add-on fills it in, the artist is never asked for it."""
    desk = connected
    shot = save_shot(tmp_path / "artist" / "blendfile_check.blend")
    select_render(desk, farm.shared / "renders")
    bpy.context.scene.flamenco_desk.submit_paused = True
    jt = desk.jobtypes.registry.job_type()
    blendfile = next(s for s in jt.settings if s.key == "blendfile")
    assert blendfile.required and blendfile.visible == "web" and not blendfile.eval

    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    job = submitted(farm, outcome)
    assert Path(job["settings"]["blendfile"]).is_file()
    assert Path(job["settings"]["blendfile"]).name == shot.name


def test_blend_outside_shared_storage_is_copied_to_a_fresh_folder(connected: ModuleType, farm: Farm,
                                                                tmp_path: Path) -> None:
    desk = connected
    shot = save_shot(tmp_path / "artist" / "sq010_sh020.blend", 5, 9)
    before = digest(shot)
    select_render(desk, farm.shared / "renders")
    bpy.context.scene.flamenco_desk.submit_paused = True

    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    job = submitted(farm, outcome)
    blendfile = Path(job["settings"]["blendfile"])
    assert blendfile.is_file() and blendfile.name == "sq010_sh020.blend"
    assert blendfile.parent.parent == farm.shared / "flamenco-desk"
    assert (blendfile.parent / "pack-info.txt").is_file()  # packed by BAT, with its dependencies
    assert digest(shot) == before, "the artist's file must not change"

    assert job["settings"]["frames"] == "5-9"
    assert job["name"] == "sq010_sh020" and job["priority"] == 50 and job["status"] == "paused"
    meta = job["metadata"]
    assert meta["blendfile"] == str(shot) and meta["scene"] == "Scene"
    assert meta[SUBMISSION_KEY] and meta["blender_version"] == bpy.app.version_string
    # The job is remembered in the .blend for monitoring.
    refs = bpy.context.scene.flamenco_desk.jobs
    assert [r.job_id for r in refs] == [job["id"]]
    assert refs[0].submission_id == meta[SUBMISSION_KEY]


def test_clean_blend_on_shared_storage_is_submitted_in_place(connected: ModuleType, farm: Farm,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    desk = connected
    shot = save_shot(farm.shared / unique_name("project") / "shot.blend")
    select_render(desk, farm.shared / "renders")
    bpy.context.scene.flamenco_desk.submit_paused = True
    # The bpy module always reports unsaved changes; an artist's saved file has none.
    monkeypatch.setattr(desk.submitting, "blend_is_dirty", lambda: False)
    copies = farm.shared / "flamenco-desk"
    before = sorted(copies.iterdir()) if copies.exists() else []
    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    assert submitted(farm, outcome)["settings"]["blendfile"] == str(shot)
    assert (sorted(copies.iterdir()) if copies.exists() else []) == before, "nothing copied"
    assert sorted(p.name for p in shot.parent.iterdir()) == ["shot.blend"]


def test_unsaved_changes_go_to_a_copy_next_to_the_original(connected: ModuleType, farm: Farm) -> None:
    desk = connected
    shot = save_shot(farm.shared / unique_name("project") / "shot.blend", 1, 10)
    before = digest(shot)
    select_render(desk, farm.shared / "renders")
    bpy.context.scene.flamenco_desk.submit_paused = True
    bpy.context.scene.frame_end = 20  # unsaved edit
    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    job = submitted(farm, outcome)
    farm_blend = Path(job["settings"]["blendfile"])
    assert farm_blend != shot and farm_blend.parent == shot.parent
    assert farm_blend.name.startswith("shot.flamenco-") and farm_blend.is_file()
    assert digest(shot) == before and bpy.data.filepath == str(shot)
    assert job["settings"]["frames"] == "1-20"


def test_unsaved_file_is_refused_with_a_message(connected: ModuleType, proxy: FaultProxy) -> None:
    desk = connected
    select_job_type(desk, "echo-sleep-test")
    with pytest.raises(RuntimeError, match="Save the file first"):
        bpy.ops.flamenco_desk.submit_job(mode="ASYNC")
    assert proxy.requests_to(r"^/api/v3/jobs(/check)?$", method="POST") == []


def test_required_setting_and_bad_frames_are_caught_locally(connected: ModuleType, proxy: FaultProxy,
                                                            tmp_path: Path) -> None:
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
    assert proxy.requests_to(r"^/api/v3/jobs(/check)?$", method="POST") == []


def test_manager_compile_error_is_shown_as_is(connected: ModuleType, farm: Farm, proxy: FaultProxy,
                                              tmp_path: Path) -> None:
    """The real simple-blender-render refuses video formats: its script throws, the Manager
    answers 400 with the script's message, and the artist sees that message."""
    desk = connected
    save_shot(tmp_path / "artist" / "video.blend")
    select_render(desk, farm.shared / "renders")
    image_settings = bpy.context.scene.render.image_settings
    if hasattr(image_settings, "media_type"):  # Blender 5.0 picks the media type first
        image_settings.media_type = "VIDEO"
    image_settings.file_format = "FFMPEG"
    outcome = submit_and_wait(desk)
    assert not outcome.ok
    assert outcome.message.startswith("The Manager refused the job: ")
    assert "FFMPEG" in outcome.message or "video" in outcome.message.lower(), outcome.message
    assert proxy.requests_to(r"^/api/v3/jobs$", method="POST") == []  # stopped at /jobs/check


ECHO_V1 = """
const JOB_TYPE = {
  label: "Echo Versioned",
  settings: [{ key: "message", type: "string", required: true }],
};
function compileJob(job) {
  const task = author.Task("echo", "misc");
  task.addCommand(author.Command("echo", { message: job.settings.message }));
  job.addTask(task);
}
"""
ECHO_V2 = ECHO_V1.replace(
    '{ key: "message", type: "string", required: true }',
    '{ key: "message", type: "string", required: true }, { key: "volume", type: "int32", default: 11 }',
)


def test_outdated_job_type_412_refreshes_and_says_what_changed(connected: ModuleType, farm: Farm,
                                                               job_type_script: Any, tmp_path: Path) -> None:
    desk = connected
    job_type_script("echo_versioned.js", ECHO_V1)
    refresh(desk)
    save_shot(tmp_path / "artist" / "shot.blend")
    grp = select_job_type(desk, "echo-versioned")
    grp.message = "keep me"
    bpy.context.scene.flamenco_desk.submit_paused = True
    old_etag = desk.jobtypes.registry.job_type().etag

    job_type_script("echo_versioned.js", ECHO_V2)  # a TD edits the script on the Manager
    outcome = submit_and_wait(desk)
    assert not outcome.ok
    assert "changed on the Manager" in outcome.message and "volume" in outcome.message
    sid = bpy.context.scene.flamenco_desk.jobs[-1].submission_id if len(bpy.context.scene.flamenco_desk.jobs) else None
    assert sid is None
    jt = desk.jobtypes.registry.job_type()
    assert jt.etag != old_etag and any(s.key == "volume" for s in jt.settings)
    assert desk.jobtypes.registry.group(bpy.context.scene).message == "keep me"

    desk.submitting.last_outcome = None
    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    assert submitted(farm, outcome)["settings"]["volume"] == 11


def test_lost_submit_response_does_not_create_a_second_job(connected: ModuleType, farm: Farm, proxy: FaultProxy,
                                                           tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(desk, "echo-sleep-test").message = "once"
    bpy.context.scene.flamenco_desk.submit_paused = True
    proxy.drop_response(r"^/api/v3/jobs$", method="POST")  # the Manager creates it; the answer is lost
    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    job = submitted(farm, outcome)  # exactly one job with this submission's id
    assert outcome.job_id == job["id"]
    assert len(proxy.requests_to(r"^/api/v3/jobs$", method="POST")) == 1


def test_lost_response_and_unreachable_lookup_is_looked_up_before_next_submit(
        connected: ModuleType, farm: Farm, proxy: FaultProxy, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(desk, "echo-sleep-test").message = "once"
    sp = bpy.context.scene.flamenco_desk
    sp.submit_paused = True
    proxy.drop_response(r"^/api/v3/jobs$", method="POST")
    proxy.respond(r"^/api/v3/jobs$", 500, {"code": 500, "message": "database busy"}, method="GET", times=None)
    outcome = submit_and_wait(desk)
    assert not outcome.ok and "looked up before the next submission" in outcome.message
    assert sp.pending_submission_id
    made = farm_jobs(farm, **{SUBMISSION_KEY: sp.pending_submission_id})
    assert len(made) == 1  # the Manager did create it

    proxy.clear_faults()
    desk.submitting.last_outcome = None
    outcome = submit_and_wait(desk)
    assert outcome.ok and "nothing new was submitted" in outcome.message
    assert outcome.job_id == made[0]["id"]
    assert len(farm_jobs(farm, **{SUBMISSION_KEY: made[0]["metadata"][SUBMISSION_KEY]})) == 1
    assert len(proxy.requests_to(r"^/api/v3/jobs$", method="POST")) == 1
    assert sp.pending_submission_id == "" and [r.job_id for r in sp.jobs] == [made[0]["id"]]


def test_priority_paused_and_worker_tag_are_sent(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    """Every tested release takes a worker tag at submission (SubmittedJob.worker_tag; only
    changing it afterwards, settag, needs 3.8)."""
    desk = connected
    tag = farm.post_json("/api/v3/worker-mgt/tags", {"name": unique_name("gpu"), "description": "GPU renderers"})
    refresh(desk)
    save_shot(tmp_path / "artist" / "shot.blend")
    select_job_type(desk, "echo-sleep-test").message = "tagged"
    sp = bpy.context.scene.flamenco_desk
    sp.priority, sp.submit_paused, sp.job_name = 80, True, "Nightly check"
    sp.worker_tag_ui = tag["id"]
    outcome = submit_and_wait(desk)
    assert outcome.ok, outcome.message
    job = submitted(farm, outcome)
    assert (job["name"], job["priority"], job["status"]) == ("Nightly check", 80, "paused")
    assert job["worker_tag"] == tag["id"]
