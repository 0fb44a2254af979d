"""Every ManagerClient method against the StubManager."""

from __future__ import annotations

import platform
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

import pytest
import requests

from api import (
    EtagMismatch,
    InvalidResponse,
    Job,
    JobStatus,
    ManagerClient,
    ManagerHTTPError,
    NotFound,
    SubmittedJob,
    TaskStatus,
)
from api.client import normalise_base_url
from tests.support import SleepRecorder, jobtypes
from tests.support.stub_manager import StubManager

MakeJob = Callable[..., SubmittedJob]
GPU_TAG = "9a2f4c1e-5b7d-4e8f-a1c3-2d4e6f8a0b1c"


# -- base URL ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://flamenco:8080/", "http://flamenco:8080"),
        ("flamenco:8080", "http://flamenco:8080"),
        ("  https://farm.example/flamenco/ ", "https://farm.example/flamenco"),
        ("127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_base_url_is_normalised(given: str, expected: str) -> None:
    assert normalise_base_url(given) == expected


@pytest.mark.parametrize("bad", ["", "   ", "ftp://host", "http://", "http://host:99999", "http://ho st", "http://h/?x=1"])
def test_garbage_base_url_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="Manager URL"):
        ManagerClient(bad)


# -- meta ---------------------------------------------------------------------


def test_version(client: ManagerClient, stub: StubManager) -> None:
    version = client.version()
    assert (version.version, version.shortversion, version.name) == ("3.8.5", "3.8.5", "Stub Manager")
    assert version.parsed == (3, 8, 5)
    request = stub.requests_to(r"/version$")[0]
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == "flamenco-desk"
    assert "Content-Type" not in request.headers  # no body, no content type


def test_features_are_cached_after_first_version(client: ManagerClient, stub: StubManager) -> None:
    assert client.features().steps
    client.features()
    assert len(stub.requests_to(r"/version$")) == 1


def test_shared_storage_defaults_to_users_and_this_platform(client: ManagerClient, stub: StubManager) -> None:
    storage = client.shared_storage()
    assert storage.location == str(stub.storage_dir)
    assert (storage.audience, storage.platform, storage.shaman_enabled) == ("users", platform.system().lower(), False)
    assert stub.requests_log[-1].path == f"/api/v3/configuration/shared-storage/users/{platform.system().lower()}"


def test_variables_have_no_name_field(client: ManagerClient) -> None:
    variables = client.variables("workers", "windows")
    assert variables["blender"].value == "blender"
    assert variables["jobs"].is_twoway is False
    assert set(variables) >= {"jobs", "blender", "blenderArgs"}


def test_farm_status(client: ManagerClient, stub: StubManager) -> None:
    stub.farm_status = "asleep"
    assert client.farm_status() == "asleep"


# -- job types, tags ----------------------------------------------------------


def test_job_types_parse_every_setting_field(client: ManagerClient, stub: StubManager) -> None:
    stub.set_job_types(jobtypes.fresh(*jobtypes.ALL_JOB_TYPES))
    by_name = {jt.name: jt for jt in client.job_types()}
    assert list(by_name) == ["echo-sleep-test", "hostile", "kitchen-sink", "simple-blender-render"]
    assert by_name["echo-sleep-test"].etag == stub.etag_of("echo-sleep-test")

    sink = by_name["kitchen-sink"]
    out = sink.setting("output_file")
    assert out is not None and out.eval_info is not None
    assert (out.subtype, out.label, out.default, out.required, out.editable) == (
        "file_path", "Output File", "//output.png", True, True,
    )
    assert out.eval_info.show_link_button and out.eval_info.description == "Next to the blend file"
    quality = sink.setting("quality")
    assert quality is not None and quality.choices == ("draft", "preview", "final")
    samples = sink.setting("samples")
    assert samples is not None and samples.propargs == {"min": 1, "max": 4096}
    bare = sink.setting("bare")
    assert bare is not None and (bare.visible, bare.required, bare.label, bare.eval_info) == (None, None, None, None)
    assert bare.shown_in_submitter and bare.display_label == "Bare"
    assert {s.visible for s in sink.settings} >= {"visible", "submission", "web", "hidden"}
    assert sink.raw["name"] == "kitchen-sink"

    hostile = by_name["hostile"]
    assert [s.eval for s in hostile.settings] == jobtypes.HOSTILE_EXPRESSIONS


def test_job_type_single_and_unknown(client: ManagerClient) -> None:
    sbr = client.job_type("simple-blender-render")
    frames = sbr.setting("frames")
    assert frames is not None and frames.eval_info is not None and frames.eval_info.show_link_button
    with pytest.raises(NotFound) as caught:
        client.job_type("no-such-type")
    assert caught.value.code == 404 and caught.value.message == "no such job type known"


def test_worker_tags(client: ManagerClient) -> None:
    tags = client.worker_tags()
    assert [(t.name, t.description) for t in tags] == [("GPU", "GPU renderers"), ("CPU", None)]


# -- submission -----------------------------------------------------------------


def test_check_job_stores_nothing(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    client.check_job(make_job())
    assert stub.jobs == {}


def test_submit_job_sends_ints_and_returns_job(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job(priority=70))
    assert isinstance(job, Job) and job.id in stub.jobs
    assert (job.status, job.activity, job.steps_completed, job.steps_total) == ("queued", "", 0, 0)
    assert job.progress is None
    assert job.submitter_platform == "" and job.metadata == {"desk.submission": "test"}
    assert job.created.tzinfo is not None and abs((datetime.now(timezone.utc) - job.created).total_seconds()) < 5
    assert "{timestamp}" not in job.settings["render_output_path"]  # the "script" filled it in

    request = stub.requests_to(r"/api/v3/jobs$", "POST")[0]
    assert request.headers["Content-Type"] == "application/json"
    assert b'"priority": 70' in request.raw_body and b'"chunk_size": 3' in request.raw_body
    assert isinstance(request.body["priority"], int)


def test_submit_paused(client: ManagerClient, make_job: MakeJob) -> None:
    assert client.submit_job(make_job(initial_status="paused")).status == JobStatus.PAUSED


def test_submit_with_stale_etag_is_412(client: ManagerClient, make_job: MakeJob) -> None:
    with pytest.raises(EtagMismatch) as caught:
        client.submit_job(make_job(type_etag="0" * 40))
    assert (caught.value.status, caught.value.code) == (412, 412)
    assert "refresh the job type" in caught.value.message
    assert "refresh the job types" in str(caught.value)


def test_etag_changes_when_job_types_change(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = make_job()
    changed = jobtypes.fresh()
    changed[1]["label"] = "Simple Blender Render v2"
    stub.set_job_types(changed)
    with pytest.raises(EtagMismatch):
        client.check_job(job)
    assert client.job_type("simple-blender-render").etag != job.type_etag


def test_submit_unknown_type_uses_handler_error_shape(client: ManagerClient, make_job: MakeJob) -> None:
    with pytest.raises(ManagerHTTPError) as caught:
        client.submit_job(make_job("nonexistent-type"))
    assert (caught.value.status, caught.value.code, caught.value.message) == (400, 400, "job type unknown")


def test_submit_compile_error_message_passes_through(client: ManagerClient, make_job: MakeJob) -> None:
    job = make_job()
    bad = SubmittedJob(**{**job.__dict__, "settings": {**(job.settings or {}), "frames": "1-x"}})
    with pytest.raises(ManagerHTTPError) as caught:
        client.check_job(bad)
    assert caught.value.message.startswith('GoError: invalid range "1-x"')
    assert "HTTP 400" in str(caught.value)


def test_submit_unknown_worker_tag_is_500_and_not_retried(
    client: ManagerClient, stub: StubManager, make_job: MakeJob, sleeps: SleepRecorder
) -> None:
    client.check_job(make_job(worker_tag=str(uuid.uuid4())))  # check doesn't resolve tags
    with pytest.raises(ManagerHTTPError) as caught:
        client.submit_job(make_job(worker_tag=str(uuid.uuid4())))
    assert caught.value.status == 500
    assert len(stub.requests_to(r"/api/v3/jobs$", "POST")) == 1 and sleeps.calls == []


def test_submit_with_known_worker_tag(client: ManagerClient, make_job: MakeJob) -> None:
    assert client.submit_job(make_job(worker_tag=GPU_TAG)).worker_tag == GPU_TAG


def test_validator_error_shape_has_no_code(client: ManagerClient, stub: StubManager) -> None:
    with pytest.raises(ManagerHTTPError) as caught:
        client.shared_storage(audience="admins")
    assert caught.value.status == 400 and caught.value.code is None
    assert caught.value.message.startswith("request has an error")
    # The request broke the contract on purpose; the stub noticed.
    assert any("admins" in v for v in stub.contract_violations)
    stub.contract_violations.clear()


# -- monitoring -----------------------------------------------------------------


def test_jobs_and_find_by_metadata(client: ManagerClient, make_job: MakeJob) -> None:
    first = client.submit_job(make_job(metadata={"desk.submission": "a"}))
    client.submit_job(make_job(metadata={"desk.submission": "b"}))
    assert len(client.jobs()) == 2
    assert [j.id for j in client.find_jobs_by_metadata("desk.submission", "a")] == [first.id]
    assert client.find_jobs_by_metadata("desk.submission", "zzz") == []


def test_job_fetch_and_errors(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    assert client.job(job.id) == job
    with pytest.raises(NotFound) as caught:
        client.job(str(uuid.uuid4()))
    assert caught.value.message == "no such job" and caught.value.code == 404
    before = len(stub.requests_log)
    with pytest.raises(ValueError, match="not a valid job ID"):
        client.job("../../etc/passwd")
    assert len(stub.requests_log) == before  # rejected locally


def test_job_tasks_are_sorted_by_index(client: ManagerClient, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    tasks = client.job_tasks(job.id)
    assert [t.index_in_job for t in tasks] == [1, 2, 3, 4]  # the stub sends them reversed
    assert [t.name for t in tasks] == ["render-1-3", "render-4-6", "render-7-9", "render-10"]
    assert [t.steps_total for t in tasks] == [3, 3, 3, 1]
    assert tasks[0].worker is not None and not tasks[0].worker.assigned
    assert client.job_tasks(str(uuid.uuid4())) == []  # unknown job: empty, not 404


def test_task_details(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    summary = client.job_tasks(job.id)[0]
    stub.advance(job.id)
    task = client.task(summary.id)
    assert (task.job_id, task.index_in_job, task.status, task.steps_completed) == (job.id, 1, "active", 1)
    assert task.worker is not None and task.worker.assigned and task.last_touched is not None
    assert task.commands[0].name == "blender-render" and task.commands[0].total_step_count == 3
    with pytest.raises(NotFound):
        client.task(str(uuid.uuid4()))


def test_logtail(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    task_id = client.job_tasks(job.id)[0].id
    assert client.task_logtail(task_id) is None
    stub.append_task_log(task_id, "".join(f"line {i:04d} é\n" for i in range(400)))
    tail = client.task_logtail(task_id)
    assert tail is not None and tail.endswith("line 0399 é\n") and tail.startswith("line ")
    assert len(tail.encode()) <= 2048
    assert stub.requests_log[-1].headers["Accept"] == "text/plain"


def test_last_rendered_and_fetch_bytes(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    assert client.job_last_rendered(job.id) is None
    assert client.job_last_rendered(str(uuid.uuid4())) is None  # unknown job: also 204
    stub.set_last_rendered(job.id, windows=True)
    info = client.job_last_rendered(job.id)
    assert info is not None and "\\" in info.base
    paths = info.image_paths()
    assert paths[0] == f"/job-files/job-{job.id[:4]}/{job.id}/last-rendered.jpg"
    assert all("\\" not in p for p in paths) and len(paths) == 3
    data = client.fetch_bytes(paths[-1])
    assert data.startswith(b"\xff\xd8")
    assert "t" in stub.requests_log[-1].query  # cache-buster
    with pytest.raises(ValueError):
        client.fetch_bytes("http://elsewhere/x.jpg")
    with pytest.raises(ManagerHTTPError) as caught:
        client.fetch_bytes("/job-files/nope.jpg")
    assert caught.value.status == 404 and "404 page not found" in caught.value.message


# -- control ------------------------------------------------------------------------


def test_set_job_status_cancel(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    stub.advance(job.id)
    client.set_job_status(job.id, "cancel-requested", "artist changed their mind")
    after = client.job(job.id)
    assert after.status == JobStatus.CANCELED
    assert after.activity == 'Changed to status "canceled": artist changed their mind'
    assert {t.status for t in client.job_tasks(job.id)} == {TaskStatus.CANCELED}
    assert stub.requests_log[-3].body == {"status": "cancel-requested", "reason": "artist changed their mind"}
    with pytest.raises(ValueError):
        client.set_job_status(job.id, "exploded", "")


def test_set_job_status_requeue_and_pause(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    stub.advance(job.id)
    client.set_job_status(job.id, "pause-requested", "lunch")
    assert client.job(job.id).status == "pause-requested"  # active task runs on
    stub.advance(job.id, 5)
    # The running task finishes, no new one starts, and the job settles as paused.
    assert client.job(job.id).status == "paused"
    assert [t.status for t in client.job_tasks(job.id)].count("active") == 0
    client.set_job_status(job.id, "requeueing", "back")
    assert client.job(job.id).status == "queued"


def test_set_job_priority(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    client.set_job_priority(job.id, 100)
    after = client.job(job.id)
    assert after.priority == 100 and after.updated > job.updated
    sent = len(stub.requests_log)
    for bad in (101, -1, 50.0, True):
        with pytest.raises(ValueError, match="0 to 100"):
            client.set_job_priority(job.id, bad)  # type: ignore[arg-type]
    assert len(stub.requests_log) == sent


def test_set_job_tag(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    client.set_job_tag(job.id, tag_name="CPU")
    assert client.job(job.id).worker_tag == "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
    client.set_job_tag(job.id, tag_id=GPU_TAG)
    assert client.job(job.id).worker_tag == GPU_TAG
    client.set_job_tag(job.id)
    assert client.job(job.id).worker_tag is None
    assert stub.requests_to(r"/settag$")[-1].body == {}
    with pytest.raises(ManagerHTTPError) as caught:
        client.set_job_tag(job.id, tag_name="NoSuchTag")
    assert (caught.value.status, caught.value.code, caught.value.message) == (406, 406, "tag not found")
    with pytest.raises(ValueError):
        client.set_job_tag(job.id, tag_id=GPU_TAG, tag_name="GPU")


def test_delete_job(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    stub.deletion_delay = 60.0
    job = client.submit_job(make_job())
    assert client.what_would_delete_do(job.id) is False
    client.delete_job(job.id)
    pending = client.job(job.id)
    assert pending.delete_requested_at is not None
    stub.deletion_delay = 0.0
    with pytest.raises(NotFound):
        client.job(job.id)


def test_what_would_delete_do_with_shaman(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    from api import JobStorage

    stub.shaman_enabled = True
    job = client.submit_job(make_job(storage=JobStorage("shot-010/abc")))
    assert job.storage is not None and job.storage.shaman_checkout_id == "shot-010/abc"
    assert client.what_would_delete_do(job.id) is True


def test_set_task_status(client: ManagerClient, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    tasks = client.job_tasks(job.id)
    for task in tasks:
        client.set_task_status(task.id, "canceled", "not needed")
    assert client.task(tasks[0].id).activity == "not needed"
    assert client.job(job.id).status == "canceled"  # no runnable task left
    with pytest.raises(ValueError):
        client.set_task_status(tasks[0].id, "soft-fail", "typo")
    with pytest.raises(NotFound):
        client.set_task_status(str(uuid.uuid4()), "queued", "")


# -- malformed answers ------------------------------------------------------------------


def test_non_json_body_is_invalid_response(client: ManagerClient, stub: StubManager) -> None:
    stub.respond(r"/version$", 200, "{not json")
    with pytest.raises(InvalidResponse) as caught:
        client.version()
    assert "GET /api/v3/version" in str(caught.value) and "not valid JSON" in str(caught.value)
    assert stub.intentional_violations and not stub.contract_violations


def test_missing_field_is_invalid_response(client: ManagerClient, stub: StubManager) -> None:
    stub.respond(r"/version$", 200, {"version": "3.8.5", "shortversion": 3, "name": "x", "git": ""})
    with pytest.raises(InvalidResponse, match="'shortversion' should be a string"):
        client.version()
    stub.respond(r"/api/v3/jobs/types$", 200, {"job_types": [{"name": "x", "settings": [], "label": "X"}]})
    with pytest.raises(InvalidResponse, match="lacks the field 'etag'"):
        client.job_types()


def test_unexpected_success_status_is_invalid_response(client: ManagerClient, stub: StubManager) -> None:
    stub.respond(r"/version$", 204)
    with pytest.raises(InvalidResponse, match="unexpected HTTP status 204"):
        client.version()


def test_plain_text_error_body(client: ManagerClient, stub: StubManager) -> None:
    stub.respond(r"/version$", 502, "<html>\n<h1>Bad   Gateway</h1>\n</html>", content_type="text/html", times=None)
    with pytest.raises(ManagerHTTPError) as caught:
        client.version()
    assert caught.value.message == "<html> <h1>Bad Gateway</h1> </html>" and caught.value.code is None
    assert "\n" not in str(caught.value)


def test_client_owns_and_closes_its_session(stub: StubManager) -> None:
    session = requests.Session()
    with ManagerClient(stub.url, session=session) as manager:
        assert manager.session is session
        manager.version()
    # A borrowed session stays usable.
    assert session.get(stub.url + "/api/v3/version", timeout=5).status_code == 200
    session.close()
