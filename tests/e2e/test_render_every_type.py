"""Each job type the farm offers goes from one click in Blender to completed work on disk,
rendered by the real Worker."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import bpy
import pytest

from local_farm import Farm
from support.blender_helpers import save_shot, select_job_type, tick_until

RENDER_TYPES = {
    # job type → the setting naming where frames go
    "simple-blender-render": "render_output_root",
    "talkingheads-cycles-device": "render_output_root",
    "talkingheads-studio-layout": "render_root",
}


def submit(desk: ModuleType) -> str:
    desk.submitting.last_outcome = None
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None, timeout=30)
    outcome = desk.submitting.last_outcome
    assert outcome.ok, outcome.message
    return str(outcome.job_id)


@pytest.mark.parametrize("job_type", sorted(RENDER_TYPES))
def test_render_job_type_completes_with_frames_where_the_job_said(connected: ModuleType, farm: Farm,
                                                                  tmp_path: Path, job_type: str) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "sq020_sh0010_anim.blend", 1, 3)
    bpy.context.scene.render.engine = "CYCLES"  # the Cycles job type refuses other engines
    grp = select_job_type(desk, job_type)
    setattr(grp, RENDER_TYPES[job_type], str(farm.shared / "renders" / job_type))
    if job_type == "talkingheads-cycles-device":
        grp.device = "CPU"  # the farm has no GPU
    if job_type == "talkingheads-studio-layout":
        grp.user = "ana"  # the job-name format uses {user}
    job_id = submit(desk)

    job = farm.wait_for_job(job_id, ("completed", "failed"))
    assert job["status"] == "completed", farm.log_tail("worker")
    info = desk.state.info()
    stored = desk.api.models.Job.from_json(job)
    folder = desk.core.results.output_dir(stored, info.variables)
    assert folder is not None and folder.is_relative_to(farm.shared / "renders" / job_type), folder
    frames = [p.name for p in desk.core.results.frame_files(folder)]
    assert frames == ["000001.png", "000002.png", "000003.png"], (folder, frames)
    # Rendered by the real Blender: its banner and its own progress lines are in the task logs.
    logs = "".join(farm.task_log(t["id"]) for t in farm.get_json(f"/api/v3/jobs/{job_id}/tasks")["tasks"]
                   if t["task_type"] == "blender")
    assert f"Blender {farm.worker_blender_version()}" in logs, logs[:2000]
    assert any("Fra:" in line and "Sample" in line for line in logs.splitlines()), logs[:2000]


def test_echo_sleep_test_completes_and_logs_the_message(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "echo.blend")
    grp = select_job_type(desk, "echo-sleep-test")
    grp.message, grp.sleep_duration_seconds, grp.sleep_repeats = "hello from Blender", 1, 2
    job_id = submit(desk)
    job = farm.wait_for_job(job_id, ("completed", "failed"))
    assert job["status"] == "completed", farm.log_tail("worker")
    tasks = farm.get_json(f"/api/v3/jobs/{job_id}/tasks")["tasks"]
    # echo-sleep-test: one echo, then sleep_repeats sleep tasks (all named "sleep"), all run.
    in_order = sorted(tasks, key=lambda t: t["index_in_job"])
    assert [(t["name"], t["status"]) for t in in_order] == [("echo", "completed"), ("sleep", "completed"), ("sleep", "completed")]
    echo = next(t for t in tasks if t["name"] == "echo")
    assert "hello from Blender" in farm.get_raw(f"/api/v3/tasks/{echo['id']}/logtail").decode()
