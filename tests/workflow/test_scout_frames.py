"""Scout frames: the first, middle and last frame render first as their own job at a higher
priority; the full job waits paused until approved, and a rejection deletes both."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import bpy

from batch_support import frame_path, panel_context, select_render, submit
from local_farm import Farm, wait_until
from support.blender_helpers import save_shot, tick_until
from support.fake_layout import FakeLayout

LABEL_KEY = "flamenco_desk.batch_label"


def act(desk: ModuleType, operator: str, job_id: str) -> str:
    assert getattr(bpy.ops.flamenco_desk, operator)(job_id=job_id) == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.operators.workflow.WORKFLOW_KEY), timeout=60)
    result = desk.operators.workflow.result
    assert result.ok, result.message
    return str(result.message)


def submit_scouted(desk: ModuleType, farm: Farm, tmp_path: Path, name: str) -> tuple[dict, dict]:
    save_shot(tmp_path / "artist" / f"{name}.blend", 1, 7)
    select_render(desk, farm.shared / "renders" / "scout")
    outcome = submit(desk, scout=True)
    assert outcome.ok, outcome.message
    scout_id, full_id = outcome.job_id.split(",")
    return farm.job(scout_id), farm.job(full_id)


def test_scout_frames_render_first_and_the_full_job_waits_until_approved(
        connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    scout, full = submit_scouted(desk, farm, tmp_path, "sq050_sh010")
    assert scout["metadata"][LABEL_KEY] == "scout" and full["metadata"][LABEL_KEY] == "full"
    assert scout["settings"]["frames"] == "1,4,7"
    assert full["settings"]["frames"] == "1-7"
    assert scout["priority"] > full["priority"]
    assert full["status"] == "paused"
    assert scout["settings"]["blendfile"] == full["settings"]["blendfile"]  # one pack

    done = farm.wait_for_job(scout["id"], ("completed", "failed"), timeout=180)
    assert done["status"] == "completed", farm.log_tail("worker")
    assert all(frame_path(done, f).stat().st_size > 0 for f in (1, 4, 7))
    waiting = farm.job(full["id"])
    assert waiting["status"] == "paused"
    assert {t["status"] for t in farm.get_json(f"/api/v3/jobs/{full['id']}/tasks")["tasks"]} == {"queued"}

    # The Job panel offers Approve / Reject for the pair.
    layout = FakeLayout()
    desk.panels.workflow_ui.draw_open_job_extras(layout, panel_context(), desk.watching.monitor.jobs[full["id"]])
    offered = [name for name, _ in layout.operators()]
    assert "flamenco_desk.scout_approve" in offered and "flamenco_desk.scout_reject" in offered

    message = act(desk, "scout_approve", scout["id"])  # from either job of the pair
    assert "Approved" in message
    wait_until(lambda: farm.job(full["id"])["status"] in ("queued", "active", "completed"), 30, "full job resumed")


def test_rejected_scout_deletes_both_jobs(connected: ModuleType, farm: Farm, tmp_path: Path, release: str) -> None:
    desk = connected
    bpy.context.scene.flamenco_desk.priority = 10  # the scout job waits behind other tests' jobs
    scout, full = submit_scouted(desk, farm, tmp_path, "sq050_sh020")
    message = act(desk, "scout_reject", full["id"])
    assert "deleted" in message, message

    def gone(job_id: str) -> bool:
        try:
            job = farm.job(job_id)
        except Exception:  # 404 once the Manager's deleter removed it
            return True
        return bool(job.get("delete_requested_at"))

    wait_until(lambda: gone(scout["id"]) and gone(full["id"]), 30, "both jobs deleted")
