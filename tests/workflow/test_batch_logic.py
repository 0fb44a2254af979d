"""The batch, re-render and scout logic in plain Python (bpy-free core modules)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from flamenco_desk_src.api import models
from flamenco_desk_src.core import batch, batch_templates, rerender, scout
from flamenco_desk_src.core.frames import format_frames, parse_frames
from flamenco_desk_src.core.templates import TemplateError

M = batch.MarkerCamera


def test_camera_marker_spans_run_to_the_next_marker_and_the_last_to_the_end() -> None:
    spans = batch.camera_marker_ranges([M(5, "b", "B"), M(1, "a", "A"), M(9, "c", "C")], 1, 12)
    assert [(m.camera, a, b) for m, a, b in spans] == [("A", 1, 4), ("B", 5, 8), ("C", 9, 12)]


def test_camera_markers_outside_the_range_are_clipped_or_left_out() -> None:
    spans = batch.camera_marker_ranges([M(-10, "a", "A"), M(3, "b", "B"), M(50, "c", "C")], 1, 20)
    assert [(m.camera, a, b) for m, a, b in spans] == [("A", 1, 2), ("B", 3, 20)]
    # A marker before the start is shadowed by one at the start itself.
    spans = batch.camera_marker_ranges([M(0, "a", "A"), M(1, "b", "B")], 1, 4)
    assert [(m.camera, a, b) for m, a, b in spans] == [("B", 1, 4)]


def test_part_names_from_a_template_stay_as_they_are_when_they_differ() -> None:
    names = ["sq030_M1_CamA", "sq030_M2_CamB"]
    assert batch_templates.distinct_names(names, ["CamA", "CamB"]) == names


def test_a_template_that_does_not_tell_the_parts_apart_gets_each_label_appended() -> None:
    # "{file}_{version}" in a batch per camera: as a batch without a template names its parts.
    assert batch_templates.distinct_names(["sq030_v004"] * 2, ["CamA", "Cam/B"]) == \
        ["sq030_v004 CamA", "sq030_v004 Cam_B"]
    # One camera bound to two markers, no {marker} in the template: said before anything is sent.
    with pytest.raises(TemplateError, match=r'parts 1 and 3 of the batch would both be called "sq030_v004 CamA"'):
        batch_templates.distinct_names(["sq030_v004"] * 3, ["CamA", "CamB", "CamA"])


def test_two_parts_writing_the_same_frames_to_one_path_are_refused() -> None:
    same = "/r/sq030/v004/######"
    layers = [{"render_output_path": same, "frames": "1-10"}, {"render_output_path": same, "frames": "1-10"}]
    message = batch_templates.output_clash(layers, ["Beauty", "Shadow"], "{view_layer}")
    assert message == (f'Output template: Beauty and Shadow would write the same frames to "{same}"; '
                       "add {view_layer} to the output template")
    # Parts per camera marker have frames of their own: one path is one sequence.
    cameras = [{"render_output_path": same, "frames": "1-4"}, {"render_output_path": same, "frames": "5-8"}]
    assert batch_templates.output_clash(cameras, ["CamA", "CamB"], "{camera}") is None
    apart = [{"render_output_root": "/r/A"}, {"render_output_root": "/r/B"}]
    assert batch_templates.output_clash(apart, ["A", "B"], "{scene}") is None
    assert batch_templates.output_of({"render_output_root": "/r", "render_output_path": "/r/x/######"}) == \
        "/r/x/######"


@pytest.mark.parametrize("frames, text", [([3, 7, 12, 13, 14], "3,7,12-14"), ([2, 5], "2,5"), ([1, 2], "1,2"),
                                          ([4], "4"), ([9, 1, 2, 3, 3], "1-3,9")])
def test_frame_lists_are_short_and_read_back_the_same(frames: list[int], text: str) -> None:
    assert format_frames(frames) == text
    assert parse_frames(text) == sorted(set(frames))


def test_scout_frames_are_first_middle_and_last() -> None:
    assert scout.scout_frames(range(1, 8)) == "1,4,7"
    assert scout.scout_frames([10, 11]) == "10,11"
    assert scout.scout_frames([5]) == "5"


def test_names_for_paths_lose_path_characters() -> None:
    assert batch.safe_name_part("Cam/01:{x}..y") == "Cam_01__x__y"


def test_frame_file_follows_blenders_hash_rule() -> None:
    assert rerender.frame_file("/r/shot/######", ".png", 7) == Path("/r/shot/000007.png")
    assert rerender.frame_file("/r/shot_##_x", ".exr", 123) == Path("/r/shot_123_x.exr")
    assert rerender.frame_file("/r/shot_", ".png", 3) == Path("/r/shot_0003.png")


T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def job(status: str, frames: str = "1-6") -> models.Job:
    return models.Job("j", "shot", "simple-blender-render", 50, status, "", T0, T0, 0, 0, {"frames": frames}, {})


def task(name: str, status: str) -> models.TaskSummary:
    return models.TaskSummary(name, name, status, 0, 50, "blender", T0, 0, 1)


def test_a_failed_job_is_requeued_when_only_unfinished_tasks_lack_frames() -> None:
    tasks = [task("render-1-2", "completed"), task("render-3-4", "failed"), task("render-5-6", "canceled")]
    plan = rerender.plan(job("failed"), tasks, [3, 4, 5, 6])
    assert plan.action == "requeue-job" and plan.frames == (3, 4, 5, 6)


def test_frames_lost_from_completed_tasks_need_a_new_job() -> None:
    tasks = [task("render-1-2", "completed"), task("render-3-4", "failed"), task("render-5-6", "completed")]
    plan = rerender.plan(job("failed"), tasks, [2, 3, 4])
    assert plan.action == "new-job" and plan.frames == (2, 3, 4)
    plan = rerender.plan(job("completed"), [task("render-1-6", "completed")], [2, 5])
    assert plan.action == "new-job" and plan.frames == (2, 5)


def test_a_running_job_requeues_its_failed_tasks_and_waits_for_the_rest() -> None:
    tasks = [task("render-1-2", "failed"), task("render-3-4", "active"), task("render-5-6", "queued")]
    plan = rerender.plan(job("active"), tasks, [1, 2, 3, 4, 5, 6])
    assert plan.action == "requeue-tasks" and plan.failed_tasks == ("render-1-2",) and plan.frames == (1, 2)
    plan = rerender.plan(job("active"), tasks[1:], [3, 4, 5, 6])
    assert plan.action == "nothing"


def test_a_job_submitted_paused_is_not_started_behind_the_artists_back() -> None:
    tasks = [task("render-1-3", "queued"), task("render-4-6", "queued")]
    assert rerender.plan(job("paused"), tasks, [1, 2, 3, 4, 5, 6]).action == "nothing"
    # Frames lost from its completed tasks: a new job for those only.
    tasks = [task("render-1-3", "completed"), task("render-4-6", "paused")]
    plan = rerender.plan(job("paused"), tasks, [2, 4, 5, 6])
    assert plan.action == "new-job" and plan.frames == (2,)


def test_nothing_to_do_when_every_frame_is_there() -> None:
    assert rerender.plan(job("completed"), [task("render-1-6", "completed")], []).action == "nothing"
