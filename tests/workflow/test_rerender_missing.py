"""Re-render what failed or is missing: a job whose Blender failed on two frames, and a
completed job that lost frames on disk, both end with a complete output folder, and only the
missing frames are rendered again."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import bpy

from batch_support import blender_failing_on, frame_path, select_render, submit, wait_all
from local_farm import Farm
from support.blender_helpers import save_shot, tick_until

FRAMES = [1, 2, 3, 4]


def rerender(desk: ModuleType, job_id: str) -> None:
    assert bpy.ops.flamenco_desk.rerender_missing(job_id=job_id) == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.workflow.WORKFLOW_KEY), timeout=60)
    assert desk.operators.workflow.result.ok, desk.operators.workflow.result.message


def frames_on_disk(job: dict, frames: list[int]) -> dict[int, int]:
    """frame → file size (0: missing or empty)."""
    return {f: (frame_path(job, f).stat().st_size if frame_path(job, f).exists() else 0) for f in frames}


def test_frames_of_failed_tasks_are_rendered_again_and_the_folder_is_complete(
        connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "sq040_sh010.blend", 1, 4)
    grp = select_render(desk, farm.shared / "renders" / "rerender")
    grp.chunk_size = 1
    with blender_failing_on(farm, [2, 4]) as flag:
        outcome = submit(desk)
        assert outcome.ok, outcome.message
        job = farm.wait_for_job(outcome.job_id, ("failed",), timeout=180)
        flag.unlink()  # the Blender is "fixed": frames 2 and 4 render now
        tasks = farm.get_json(f"/api/v3/jobs/{job['id']}/tasks")["tasks"]
        failed = {t["name"] for t in tasks if t["status"] == "failed"}
        assert failed and failed <= {"render-2", "render-4"}, tasks
        before = frames_on_disk(job, FRAMES)
        missing = sorted(f for f, size in before.items() if size == 0)
        assert 2 in missing and 1 not in missing, before
        done = {t["name"] for t in tasks if t["status"] == "completed"}

        rerender(desk, job["id"])
        message = desk.operators.workflow.result.message
        assert "Requeued" in message and f"(frames {desk.core.frames.format_frames(missing)})" in message, message
        # Only the unfinished tasks were requeued; the completed ones were kept.
        after = farm.get_json(f"/api/v3/jobs/{job['id']}/tasks")["tasks"]
        assert {t["name"] for t in after if t["status"] == "completed"} == done
        finished = wait_all(farm, [job["id"]])[0]
    assert finished["status"] == "completed", farm.log_tail("worker")
    now = frames_on_disk(finished, FRAMES)
    assert all(now.values()), now
    kept = [f for f in FRAMES if f not in missing]
    assert all(frame_path(job, f).stat().st_mtime_ns <= frame_path(job, missing[0]).stat().st_mtime_ns for f in kept)


def test_frames_deleted_from_a_completed_job_get_a_job_of_exactly_those_frames(
        connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "sq040_sh020.blend", 1, 4)
    select_render(desk, farm.shared / "renders" / "rerender")
    outcome = submit(desk)
    assert outcome.ok, outcome.message
    job = wait_all(farm, [outcome.job_id])[0]
    assert job["status"] == "completed", farm.log_tail("worker")
    frame_path(job, 2).unlink()
    frame_path(job, 4).write_bytes(b"")  # an empty file counts as missing
    untouched = {f: frame_path(job, f).stat().st_mtime_ns for f in (1, 3)}

    rerender(desk, job["id"])
    new_id = desk.operators.workflow.result.new_job_id
    assert new_id, desk.operators.workflow.result.message
    new = farm.job(new_id)
    assert new["settings"]["frames"] == "2,4"
    assert new["metadata"]["flamenco_desk.rerender_of"] == job["id"]
    assert new["settings"]["render_output_path"] == job["settings"]["render_output_path"]
    assert new["settings"]["blendfile"] == job["settings"]["blendfile"]
    assert new_id in {ref.job_id for ref in bpy.context.scene.flamenco_desk.jobs}  # in the job list
    assert wait_all(farm, [new_id])[0]["status"] == "completed", farm.log_tail("worker")
    assert all(frames_on_disk(job, FRAMES).values())
    assert {f: frame_path(job, f).stat().st_mtime_ns for f in (1, 3)} == untouched
