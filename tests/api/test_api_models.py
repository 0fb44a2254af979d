"""JSON → model validation, leniency for older Managers, and request bodies."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from api import (
    InvalidResponse,
    Job,
    JobSetting,
    JobStatus,
    JobStorage,
    JobType,
    LastRendered,
    ManagerVariable,
    ManagerVersion,
    SubmittedJob,
    Task,
    TaskSummary,
    parse_version,
)
from local_farm import TESTED_RELEASES
from record_manager import recording_path

JOB: dict[str, Any] = {
    "id": "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11",
    "name": "shot",
    "type": "simple-blender-render",
    "priority": 50,
    "status": "queued",
    "activity": "",
    "created": "2026-04-01T10:00:00Z",
    "updated": "2026-04-01T10:00:01.123456789Z",
    "steps_completed": 0,
    "steps_total": 0,
    "settings": {"frames": "1-3"},
    "metadata": {"a": "b"},
    "submitter_platform": "",
}


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("3.8.5", (3, 8, 5)),
        ("3.8", (3, 8, 0)),
        ("3.9-beta1", (3, 9, 0)),
        ("3.8 (abc123)", (3, 8, 0)),
        ("3.3-alpha0 (v3.2-76-gdd34d538)", (3, 3, 0)),
        ("v3.7", (3, 7, 0)),
        ("set-during-build", None),
        ("", None),
        ("three", None),
    ],
)
def test_parse_version(text: str, parsed: tuple[int, int, int] | None) -> None:
    assert parse_version(text) == parsed


def test_manager_version_prefers_shortversion() -> None:
    version = ManagerVersion.from_json({"version": "3.9-beta1 (v3.8.5-3-g1)", "shortversion": "3.9-beta1", "name": "n", "git": "g"})
    assert version.parsed == (3, 9, 0)
    assert ManagerVersion("set-during-build", "set-during-build", "", "").parsed is None


def test_job_parses_timestamps_with_nanoseconds() -> None:
    job = Job.from_json(JOB)
    assert job.created == datetime(2026, 4, 1, 10, 0, tzinfo=timezone.utc)
    assert job.updated.utcoffset() == timedelta(0) and job.updated.microsecond == 123456
    assert job.status is JobStatus.QUEUED and job.worker_tag is None and job.storage is None


def test_job_is_lenient_with_older_managers() -> None:
    old = {k: v for k, v in JOB.items() if k not in ("steps_completed", "steps_total", "activity", "metadata")}
    job = Job.from_json(old)
    assert (job.steps_completed, job.steps_total, job.activity, job.metadata) == (0, 0, "", {})
    assert Job.from_json({**JOB, "status": "levitating"}).status == "levitating"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "'id' should be a string, not null"),
        ({"priority": "high"}, "'priority' should be an integer, not a string"),
        ({"priority": True}, "'priority' should be an integer, not a boolean"),
        ({"priority": 1.5}, "'priority' should be an integer"),
        ({"created": "yesterday"}, "'created' is not a valid timestamp"),
        ({"settings": []}, "'settings' should be an object, not a list"),
        ({"steps_total": "3"}, "'steps_total' should be an integer"),
    ],
)
def test_job_validation_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidResponse, match=message):
        Job.from_json({**JOB, **change})


def test_missing_required_field() -> None:
    without = dict(JOB)
    del without["updated"]
    with pytest.raises(InvalidResponse, match="a job lacks the field 'updated'"):
        Job.from_json(without)
    with pytest.raises(InvalidResponse, match="should be an object, not a list"):
        Job.from_json([JOB])


def test_integral_float_counts_are_accepted() -> None:
    assert Job.from_json({**JOB, "priority": 50.0}).priority == 50


def test_task_summary_and_task() -> None:
    summary = TaskSummary.from_json({
        "id": "t", "name": "render-1-3", "status": "soft-failed", "priority": 50, "task_type": "blender",
        "updated": "2026-04-01T10:00:00.5Z", "worker": {"id": "", "name": "", "address": ""},
    })
    assert (summary.index_in_job, summary.steps_total) == (0, 0)  # pre-3.6 / pre-3.8
    assert summary.worker is not None and not summary.worker.assigned
    task = Task.from_json({
        "id": "t", "created": "2026-04-01T10:00:00Z", "updated": "2026-04-01T10:00:00Z", "job_id": "j",
        "index_in_job": 2, "name": "n", "status": "failed", "priority": 50, "task_type": "misc", "activity": "x",
        "commands": [{"name": "echo", "parameters": {"message": "{blender}"}, "total_step_count": 0}],
        "steps_completed": 0, "steps_total": 1, "failed_by_workers": [{"id": "w", "name": "w1", "address": "1.2.3.4"}],
    })
    assert task.commands[0].parameters == {"message": "{blender}"} and task.failed_by_workers[0].name == "w1"
    assert task.worker is None and task.last_touched is None


def test_variables_mapping_ignores_missing_name() -> None:
    variables = ManagerVariable.mapping_from_json({"blender": {"value": "/opt/blender", "is_twoway": False}})
    assert variables == {"blender": ManagerVariable("/opt/blender", False)}
    with pytest.raises(InvalidResponse, match="variable 'x'"):
        ManagerVariable.mapping_from_json({"x": {"value": 1}})


def _recorded_job_types(release: str) -> list[dict[str, Any]]:
    """What that release's real Manager serves at GET /jobs/types (tests/recorded/)."""
    job_types: list[dict[str, Any]] = json.loads(recording_path(release).read_text(encoding="utf-8"))["job_types"]
    return job_types


@pytest.mark.parametrize("release", TESTED_RELEASES)
def test_every_recorded_job_type_parses(release: str) -> None:
    for raw in _recorded_job_types(release):
        job_type = JobType.from_json(raw)
        assert job_type.name == raw["name"] and job_type.etag == raw["etag"]
        assert [s.key for s in job_type.settings] == [s["key"] for s in raw["settings"]]


def test_job_types_keep_raw_json_and_unknowns_as_none() -> None:
    raw = next(jt for jt in _recorded_job_types("3.8.5") if jt["name"] == "simple-blender-render")
    job_type = JobType.from_json(raw)
    assert job_type.raw is raw and len(job_type.settings) == len(raw["settings"])
    assert json.loads(json.dumps(job_type.raw)) == raw  # cacheable as is
    frames = job_type.setting("frames")
    assert frames is not None and frames.eval_info is not None and frames.eval_info.show_link_button
    blendfile = job_type.setting("blendfile")
    # Not given by the job type: None, not a made-up default.
    assert blendfile is not None and (blendfile.eval, blendfile.eval_info, blendfile.default, blendfile.label) == (
        None, None, None, None,
    )
    add_path = job_type.setting("add_path_components")
    assert add_path is not None and add_path.propargs == {"min": 0, "max": 32} and add_path.default == 0
    assert job_type.setting("nope") is None
    with pytest.raises(InvalidResponse, match="setting 'x' field 'choices' should hold only strings"):
        JobSetting.from_json({"key": "x", "type": "string", "choices": [1]})


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ({"type": "int32"}, 24.0, 24),
        ({"type": "int32"}, "7", 7),
        ({"type": "float"}, 24, 24.0),
        ({"type": "bool"}, 1, True),
        ({"type": "string"}, None, ""),
    ],
)
def test_setting_coercion(setting: dict[str, Any], value: object, expected: object) -> None:
    coerced = JobSetting.from_json({"key": "k", **setting}).coerce(value)
    assert coerced == expected and type(coerced) is type(expected)


def test_setting_coercion_rejects_fractions() -> None:
    with pytest.raises(ValueError, match="whole number"):
        JobSetting("k", "int32").coerce(2.5)


def test_last_rendered_paths() -> None:
    info = LastRendered.from_json({"base": "\\job-files\\job-6f1c\\6f1c1a7e", "suffixes": ["last-rendered.jpg", "last-rendered-tiny.jpg"]})
    assert info.image_paths() == ["/job-files/job-6f1c/6f1c1a7e/last-rendered.jpg", "/job-files/job-6f1c/6f1c1a7e/last-rendered-tiny.jpg"]


def test_submitted_job_body() -> None:
    job = SubmittedJob(
        "shot", "echo-sleep-test", True + 49, "linux", "etag",
        {"sleep_repeats": True, "nested": {"n": 3}, "f": 1.5}, {"a": "b"},
        initial_status=JobStatus.PAUSED, storage=JobStorage("co/1"),
    )
    body = job.to_json()
    assert body == {
        "name": "shot", "type": "echo-sleep-test", "priority": 50, "submitter_platform": "linux",
        "type_etag": "etag", "settings": {"sleep_repeats": True, "nested": {"n": 3}, "f": 1.5},
        "metadata": {"a": "b"}, "initial_status": "paused", "storage": {"shaman_checkout_id": "co/1"},
    }
    text = json.dumps(body)
    assert '"priority": 50' in text and '"initial_status": "paused"' in text
    minimal = SubmittedJob("s", "t", submitter_platform="windows").to_json()
    assert set(minimal) == {"name", "type", "priority", "submitter_platform"}


@pytest.mark.parametrize(
    "job",
    [
        SubmittedJob("s", "t", 50.0, "linux"),  # type: ignore[arg-type]
        SubmittedJob("s", "t", True, "linux"),
        SubmittedJob("s", "t", 50, ""),
        SubmittedJob("s", "t", 50, "linux", metadata={"n": 1}),  # type: ignore[dict-item]
    ],
)
def test_submitted_job_rejects_bad_values(job: SubmittedJob) -> None:
    with pytest.raises(ValueError):
        job.to_json()
