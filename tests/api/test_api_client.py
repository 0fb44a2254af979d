"""Every ManagerClient method against the real Manager (through the contract-checking fault
proxy). Jobs that must reach a state are run by the real Worker (test_api_lifecycle.py has
the state changes themselves)."""

from __future__ import annotations

import platform
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from api import (
    EtagMismatch,
    FarmStatus,
    InvalidResponse,
    Job,
    JobStatus,
    JobStorage,
    ManagerClient,
    ManagerHTTPError,
    NotFound,
    SubmittedJob,
    TaskStatus,
    UnsupportedFeature,
)
from api.client import normalise_base_url
from local_farm import Farm
from support import SleepRecorder
from support.fault_proxy import FaultProxy
from support.farm_jobs import unique, wait_until
from support.job_type_scripts import HOSTILE_EXPRESSIONS, source

MakeJob = Callable[..., SubmittedJob]
WriteScript = Callable[[str, str], Path]
# The etag Flamenco's own unit test expects for its built-in echo-sleep-test (api-notes §3.4).
ECHO_SLEEP_TEST_ETAG = "eba586e16d6b55baaa43e32f9e78ae514b457fee"


def _jobs_named(farm: Farm, name: str) -> list[dict[str, Any]]:
    return [job for job in farm.get_json("/api/v3/jobs")["jobs"] if job["name"] == name]


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


def test_version(client: ManagerClient, proxy: FaultProxy, farm: Farm) -> None:
    version = client.version()
    assert (version.shortversion, version.name) == (farm.release, farm.name)
    assert version.version == farm.release  # a release build: version == shortversion
    assert version.parsed == tuple(int(p) for p in (farm.release + ".0").split(".")[:3])
    request = proxy.requests_to(r"/version$")[0]
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == "flamenco-desk"
    assert "Content-Type" not in request.headers  # no body, no content type


def test_features_are_cached_after_first_version(client: ManagerClient, proxy: FaultProxy, farm: Farm) -> None:
    assert client.features().steps == (farm.release != "3.6")
    client.features()
    assert len(proxy.requests_to(r"/version$")) == 1


def test_shared_storage_defaults_to_users_and_this_platform(client: ManagerClient, proxy: FaultProxy, farm: Farm) -> None:
    storage = client.shared_storage()
    assert storage.location == str(farm.shared)
    assert (storage.audience, storage.platform, storage.shaman_enabled) == ("users", platform.system().lower(), False)
    assert proxy.requests_log[-1].path == f"/api/v3/configuration/shared-storage/users/{platform.system().lower()}"


def test_variables_have_no_name_field(client: ManagerClient, farm: Farm) -> None:
    variables = client.variables("users", "linux")
    assert variables["blender"].value == str(farm.blender)
    assert variables["blenderArgs"].value == "-b -y"
    assert variables["jobs"].value == str(farm.shared) and variables["jobs"].is_twoway is False
    # `blender` is configured for Linux only; the implicit `jobs` exists for every platform.
    windows = client.variables("workers", "windows")
    assert "blender" not in windows and set(windows) >= {"jobs", "blenderArgs"}


def test_farm_status(client: ManagerClient, farm: Farm) -> None:
    status = client.farm_status()
    assert status in set(FarmStatus)
    assert status == farm.get_json("/api/v3/status")["status"]


# -- job types, tags ----------------------------------------------------------


def test_job_types_parse_every_setting_field(client: ManagerClient, job_type_script: WriteScript) -> None:
    job_type_script("kitchen_sink.js", source("kitchen_sink.js"))
    job_type_script("hostile.js", source("hostile.js"))
    job_types = client.job_types()
    names = [jt.name for jt in job_types]
    assert names == sorted(names)  # the Manager sorts them by name
    by_name = {jt.name: jt for jt in job_types}
    assert {"echo-sleep-test", "hostile", "kitchen-sink", "simple-blender-render"} <= set(by_name)
    assert by_name["echo-sleep-test"].etag == ECHO_SLEEP_TEST_ETAG

    sink = by_name["kitchen-sink"]
    assert (sink.label, sink.description) == ("Kitchen Sink", "Uses every job setting feature the API offers.")
    out = sink.setting("output_file")
    assert out is not None and out.eval_info is not None
    assert (out.type, out.subtype, out.label, out.default, out.required, out.editable, out.visible) == (
        "string", "file_path", "Output File", "//output.png", True, True, "visible",
    )
    assert out.eval == "abspath('//output.png')" and out.propargs == {"maxlen": 1024}
    assert out.description == "Where the output goes"
    assert out.eval_info.show_link_button and out.eval_info.description == "Next to the blend file"
    assert {s.key: s.subtype for s in sink.settings if s.subtype} == {
        "output_file": "file_path", "work_dir": "dir_path", "log_name": "file_name", "frame_pattern": "hashed_file_path",
    }
    quality = sink.setting("quality")
    assert quality is not None and quality.choices == ("draft", "preview", "final")
    assert quality.required is False and quality.default == "preview"  # an explicit false is served
    samples = sink.setting("samples")
    assert samples is not None and samples.propargs == {"min": 1, "max": 4096} and samples.default == 64
    exposure = sink.setting("exposure")
    # Whole JS numbers are exported as integers, fractions stay floats.
    assert exposure is not None and exposure.propargs == {"min": -10, "max": 10, "step": 0.1}
    assert exposure.default == 0.5
    denoise = sink.setting("denoise")
    assert denoise is not None and (denoise.type, denoise.default, denoise.label) == ("bool", True, "Denoise")
    camera = sink.setting("camera")
    assert camera is not None and camera.eval_info is not None
    assert not camera.eval_info.show_link_button and camera.eval_info.description == "The scene camera"
    checksum = sink.setting("checksum")
    assert checksum is not None and (checksum.editable, checksum.eval) == (False, "jobname.upper()")
    bare = sink.setting("bare")
    assert bare is not None and (bare.visible, bare.required, bare.label, bare.eval_info) == (None, None, None, None)
    assert bare.shown_in_submitter and bare.display_label == "Bare"
    assert [s.visible for s in sink.settings if s.visible] == [
        "visible", "submission", "web", "hidden", "submission", "submission", "web"]
    assert sink.raw["name"] == "kitchen-sink"

    hostile = by_name["hostile"]
    assert [s.eval for s in hostile.settings] == HOSTILE_EXPRESSIONS  # served byte for byte


def test_job_type_single_and_unknown(client: ManagerClient) -> None:
    sbr = client.job_type("simple-blender-render")
    frames = sbr.setting("frames")
    assert frames is not None and frames.eval_info is not None and frames.eval_info.show_link_button
    blendfile = sbr.setting("blendfile")
    # The built-in leaves the blend file to the submitter: required, web-only, no eval.
    assert blendfile is not None and (blendfile.required, blendfile.visible, blendfile.eval) == (True, "web", None)
    with pytest.raises(NotFound) as caught:
        client.job_type("no-such-type")
    assert caught.value.code == 404 and caught.value.message == "no such job type known"


def test_broken_studio_scripts(client: ManagerClient, make_job: MakeJob, job_type_script: WriteScript) -> None:
    """A script with a syntax error is left out of the list (and unknown by name); one whose
    compileJob throws is listed, and its message comes back on submission."""
    job_type_script("syntax_error.js", "const JOB_TYPE = { label: 'Broken', settings: [\n")
    job_type_script("throws.js", (
        "const JOB_TYPE = { label: 'Throws', settings: [{ key: 'x', type: 'string' }] };\n"
        "function compileJob(job) { throw 'nope: ' + job.settings.x; }\n"
    ))
    names = {jt.name for jt in client.job_types()}
    assert "throws" in names and "syntax-error" not in names
    with pytest.raises(NotFound):
        client.job_type("syntax-error")
    throws = client.job_type("throws")
    with pytest.raises(ManagerHTTPError) as caught:
        client.check_job(make_job("throws", type_etag=throws.etag, settings={"x": "boom"}))
    assert caught.value.status == 400 and caught.value.message.startswith("nope: boom at compileJob (throws.js:")


def test_worker_tags(client: ManagerClient, worker_tags: dict[str, str]) -> None:
    tags = {t.name: t for t in client.worker_tags()}
    assert (tags["GPU"].id, tags["GPU"].description) == (worker_tags["GPU"], "GPU renderers")
    assert (tags["CPU"].id, tags["CPU"].description) == (worker_tags["CPU"], None)


# -- submission -----------------------------------------------------------------


def test_check_job_stores_nothing(client: ManagerClient, farm: Farm, make_job: MakeJob) -> None:
    name = unique("checked")
    client.check_job(make_job(name=name))
    assert _jobs_named(farm, name) == []


def test_submit_job_sends_ints_and_returns_job(
    client: ManagerClient, proxy: FaultProxy, farm: Farm, make_job: MakeJob
) -> None:
    job = client.submit_job(make_job(priority=70, initial_status=None))
    assert isinstance(job, Job) and farm.job(job.id)["id"] == job.id
    assert (job.status, job.activity, job.steps_completed, job.steps_total) == ("queued", "", 0, 0)
    assert ("steps_total" in job.raw) == client.features().steps  # 3.8 sends 0/0, 3.6 nothing
    assert job.progress is None
    assert job.submitter_platform == "" and job.metadata == {"desk.submission": "test"}
    assert job.created.tzinfo is not None and abs((datetime.now(timezone.utc) - job.created).total_seconds()) < 5
    assert "{timestamp}" not in job.settings["render_output_path"]  # the script filled it in

    request = proxy.requests_to(r"/api/v3/jobs$", "POST")[0]
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


def test_etag_changes_when_job_types_change(client: ManagerClient, job_type_script: WriteScript) -> None:
    original = source("kitchen_sink.js")
    job_type_script("kitchen_sink.js", original)
    loaded = client.job_type("kitchen-sink")
    job = SubmittedJob("sink", "kitchen-sink", 50, "linux", loaded.etag,
                       {s.key: s.default for s in loaded.settings if s.default is not None})
    client.check_job(job)

    # Only compileJob changed: same JOB_TYPE, same etag, the job still compiles.
    job_type_script("kitchen_sink.js", original.replace("'kitchen sink: quality='", "'sink: quality='"))
    assert client.job_type("kitchen-sink").etag == loaded.etag
    client.check_job(job)

    job_type_script("kitchen_sink.js", original.replace("label: 'Kitchen Sink'", "label: 'Kitchen Sink v2'"))
    with pytest.raises(EtagMismatch):
        client.check_job(job)
    assert client.job_type("kitchen-sink").etag != loaded.etag


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
    assert "HTTP 400" in str(caught.value) and caught.value.code == 400


def test_submit_unknown_worker_tag_is_500_and_not_retried(
    client: ManagerClient, proxy: FaultProxy, farm: Farm, make_job: MakeJob, sleeps: SleepRecorder
) -> None:
    name = unique("bad-tag")
    client.check_job(make_job(name=name, worker_tag=str(uuid.uuid4())))  # check doesn't resolve tags
    with pytest.raises(ManagerHTTPError) as caught:
        client.submit_job(make_job(name=name, worker_tag=str(uuid.uuid4())))
    assert (caught.value.status, caught.value.message) == (500, "error persisting job in database")
    assert len(proxy.requests_to(r"/api/v3/jobs$", "POST")) == 1 and sleeps.calls == []
    assert _jobs_named(farm, name) == []


def test_submit_with_known_worker_tag(client: ManagerClient, make_job: MakeJob, worker_tags: dict[str, str]) -> None:
    job = client.submit_job(make_job(worker_tag=worker_tags["GPU"]))
    assert job.worker_tag == worker_tags["GPU"] and client.job(job.id).worker_tag == worker_tags["GPU"]


def test_validator_error_shape_has_no_code(client: ManagerClient, proxy: FaultProxy, make_job: MakeJob) -> None:
    with pytest.raises(ManagerHTTPError) as caught:
        client.submit_job(make_job(initial_status="running"))
    assert caught.value.status == 400 and caught.value.code is None
    assert caught.value.message.startswith("request body has an error")
    # The request broke the contract on purpose; the proxy noticed.
    assert any("initial_status" in v for v in proxy.contract_violations)
    proxy.contract_violations.clear()


# -- monitoring -----------------------------------------------------------------


def test_jobs_and_find_by_metadata(client: ManagerClient, make_job: MakeJob) -> None:
    a, b = unique("submission"), unique("submission")
    first = client.submit_job(make_job(metadata={"desk.submission": a}))
    second = client.submit_job(make_job(metadata={"desk.submission": b}))
    assert {first.id, second.id} <= {j.id for j in client.jobs()}
    assert [j.id for j in client.find_jobs_by_metadata("desk.submission", a)] == [first.id]
    assert client.find_jobs_by_metadata("desk.submission", unique("nobody")) == []


def test_job_fetch_and_errors(client: ManagerClient, proxy: FaultProxy, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    assert client.job(job.id) == job
    with pytest.raises(NotFound) as caught:
        client.job(str(uuid.uuid4()))
    assert caught.value.message == "no such job" and caught.value.code == 404
    before = len(proxy.requests_log)
    with pytest.raises(ValueError, match="not a valid job ID"):
        client.job("../../etc/passwd")
    assert len(proxy.requests_log) == before  # rejected locally


def test_job_tasks_are_sorted_by_index(client: ManagerClient, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    tasks = client.job_tasks(job.id)
    assert [t.index_in_job for t in tasks] == [1, 2, 3, 4, 5]
    assert [t.name for t in tasks] == ["render-1-3", "render-4-6", "render-7-9", "render-10", "preview-video"]
    steps = [3, 3, 3, 1, 1] if client.features().steps else [0] * 5
    assert [t.steps_total for t in tasks] == steps
    # Never assigned: 3.8 sends a worker with empty strings, 3.6 none at all.
    if client.features().steps:  # the same release (3.8) added both
        assert all(t.worker is not None and not t.worker.assigned for t in tasks)
    else:
        assert all(t.worker is None and "worker" not in t.raw for t in tasks)
    assert client.job_tasks(str(uuid.uuid4())) == []  # unknown job: empty, not 404


def test_task_details(client: ManagerClient, farm: Farm, rendered_job: dict[str, Any]) -> None:
    summary = client.job_tasks(rendered_job["id"])[0]
    task = client.task(summary.id)
    assert (task.job_id, task.index_in_job, task.name, task.status) == (rendered_job["id"], 1, "render-1", "completed")
    assert task.steps_completed == task.steps_total == (1 if client.features().steps else 0)
    assert task.worker is not None and task.worker.assigned and task.worker.name == farm.worker_name
    assert task.last_touched is not None and task.activity == "Completed"
    assert task.commands[0].name == "blender-render"
    assert task.commands[0].parameters["exe"] == "{blender}"  # stored unexpanded
    assert task.commands[0].total_step_count == (1 if client.features().steps else 0)
    with pytest.raises(NotFound):
        client.task(str(uuid.uuid4()))


def test_logtail(client: ManagerClient, proxy: FaultProxy, make_job: MakeJob, rendered_job: dict[str, Any]) -> None:
    fresh = client.submit_job(make_job())
    assert client.task_logtail(client.job_tasks(fresh.id)[0].id) is None  # no log yet: 204
    assert proxy.requests_log[-1].headers["Accept"] == "text/plain"

    task_id = client.job_tasks(rendered_job["id"])[0].id
    tail = client.task_logtail(task_id)
    assert tail is not None and len(tail.encode()) <= 2048
    assert "Saved: '" in tail and tail.endswith("task changed status active -> completed\n")
    whole = requests.get(f"{proxy.url}/api/v3/tasks/{task_id}/log", timeout=10).json()
    full = client.fetch_bytes(whole["url"]).decode()
    assert full.endswith(tail)
    # Whole lines only: the partial first line is dropped.
    assert len(full) == len(tail) or full[len(full) - len(tail) - 1] == "\n"


def test_logtail_is_decoded_as_utf8(client: ManagerClient, farm: Farm) -> None:
    from support.farm_jobs import echo_settings, submit

    job = submit(farm, "echo-sleep-test", echo_settings("héllo wörld ✓", 1, 0), priority=100)
    farm.wait_for_job(job["id"])
    tail = client.task_logtail(client.job_tasks(job["id"])[0].id)
    assert tail is not None and 'echo: "héllo wörld ✓"' in tail


def test_last_rendered_and_fetch_bytes(
    client: ManagerClient, proxy: FaultProxy, make_job: MakeJob, rendered_job: dict[str, Any]
) -> None:
    assert client.job_last_rendered(client.submit_job(make_job()).id) is None  # no image yet: 204
    assert client.job_last_rendered(str(uuid.uuid4())) is None  # unknown job: also 204
    job_id = rendered_job["id"]
    info = client.job_last_rendered(job_id)
    assert info is not None and info.base == f"/job-files/job-{job_id[:4]}/{job_id}"
    paths = info.image_paths()
    assert paths == [f"{info.base}/last-rendered{s}.jpg" for s in ("", "-small", "-tiny")]
    data = client.fetch_bytes(paths[-1])
    assert data.startswith(b"\xff\xd8")  # a JPEG the Manager made from the Worker's frame
    assert "t" in proxy.requests_log[-1].query  # cache-buster
    with pytest.raises(ValueError):
        client.fetch_bytes("http://elsewhere/x.jpg")
    with pytest.raises(ManagerHTTPError) as caught:
        client.fetch_bytes("/job-files/nope.jpg")
    assert caught.value.status == 404 and isinstance(caught.value, NotFound)


# -- control ------------------------------------------------------------------------


def test_set_job_priority(client: ManagerClient, proxy: FaultProxy, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    client.set_job_priority(job.id, 100)
    after = client.job(job.id)
    assert after.priority == 100 and after.updated > job.updated
    sent = len(proxy.requests_log)
    for bad in (101, -1, 50.0, True):
        with pytest.raises(ValueError, match="0 to 100"):
            client.set_job_priority(job.id, bad)  # type: ignore[arg-type]
    assert len(proxy.requests_log) == sent


def test_set_job_tag(client: ManagerClient, proxy: FaultProxy, make_job: MakeJob, worker_tags: dict[str, str]) -> None:
    job = client.submit_job(make_job())
    if not client.features().settag:
        sent = len(proxy.requests_log)
        with pytest.raises(UnsupportedFeature, match="3.8"):
            client.set_job_tag(job.id, tag_name="CPU")
        assert len(proxy.requests_log) == sent
        return
    client.set_job_tag(job.id, tag_name="CPU")
    assert client.job(job.id).worker_tag == worker_tags["CPU"]
    client.set_job_tag(job.id, tag_id=worker_tags["GPU"])
    assert client.job(job.id).worker_tag == worker_tags["GPU"]
    client.set_job_tag(job.id)
    assert client.job(job.id).worker_tag is None
    assert proxy.requests_to(r"/settag$")[-1].body == {}
    with pytest.raises(ManagerHTTPError) as caught:
        client.set_job_tag(job.id, tag_name="NoSuchTag")
    assert (caught.value.status, caught.value.code, caught.value.message) == (406, 406, "tag not found")
    with pytest.raises(ValueError):
        client.set_job_tag(job.id, tag_id=worker_tags["GPU"], tag_name="GPU")


def test_delete_job(client: ManagerClient, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    assert client.what_would_delete_do(job.id) is False
    client.delete_job(job.id)

    def gone() -> bool:
        try:
            pending = client.job(job.id)
        except NotFound:
            return True
        # The Manager deletes in the background; until then the job says it is going.
        assert pending.delete_requested_at is not None
        return False

    wait_until(gone, 30, "deleted job gone")


def test_what_would_delete_do_with_shaman(shaman_farm: Farm) -> None:
    with FaultProxy(shaman_farm.url, shaman_farm.release) as proxy, ManagerClient(proxy.url) as client:
        assert client.shared_storage().shaman_enabled is True
        etag = client.job_type("echo-sleep-test").etag
        job = client.submit_job(SubmittedJob(
            unique("shaman"), "echo-sleep-test", 50, "linux", etag,
            {"message": "hi", "sleep_duration_seconds": 1, "sleep_repeats": 1},
            initial_status="paused", storage=JobStorage("shot-010/abc"),
        ))
        assert job.storage is not None and job.storage.shaman_checkout_id == "shot-010/abc"
        assert client.what_would_delete_do(job.id) is True
        client.delete_job(job.id)
    proxy.assert_contract_clean()


def test_set_task_status(client: ManagerClient, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    tasks = client.job_tasks(job.id)
    for task in tasks:
        client.set_task_status(task.id, "canceled", "not needed")
    assert client.task(tasks[0].id).activity == "not needed"
    after = client.job(job.id)
    assert after.status == "canceled"  # no runnable task left
    assert after.activity == 'Changed to status "canceled": canceled task was last runnable task of job, canceling job'
    assert {t.status for t in client.job_tasks(job.id)} == {TaskStatus.CANCELED}
    with pytest.raises(ValueError):
        client.set_task_status(tasks[0].id, "soft-fail", "typo")
    with pytest.raises(NotFound):
        client.set_task_status(str(uuid.uuid4()), "queued", "")


# -- malformed answers ------------------------------------------------------------------


def test_non_json_body_is_invalid_response(client: ManagerClient, proxy: FaultProxy) -> None:
    proxy.respond(r"/version$", 200, "{not json")
    with pytest.raises(InvalidResponse) as caught:
        client.version()
    assert "GET /api/v3/version" in str(caught.value) and "not valid JSON" in str(caught.value)
    assert proxy.intentional_violations and not proxy.contract_violations


def test_missing_field_is_invalid_response(client: ManagerClient, proxy: FaultProxy) -> None:
    proxy.respond(r"/version$", 200, {"version": "3.8.5", "shortversion": 3, "name": "x", "git": ""})
    with pytest.raises(InvalidResponse, match="'shortversion' should be a string"):
        client.version()
    proxy.respond(r"/api/v3/jobs/types$", 200, {"job_types": [{"name": "x", "settings": [], "label": "X"}]})
    with pytest.raises(InvalidResponse, match="lacks the field 'etag'"):
        client.job_types()


def test_unexpected_success_status_is_invalid_response(client: ManagerClient, proxy: FaultProxy) -> None:
    proxy.respond(r"/version$", 204)
    with pytest.raises(InvalidResponse, match="unexpected HTTP status 204"):
        client.version()


def test_html_error_body_in_a_few_words(client: ManagerClient, proxy: FaultProxy) -> None:
    # A reverse proxy's error page: its heading, not its markup (found by bench/faults.py).
    proxy.respond(r"/version$", 502, "<html>\n<h1>Bad   Gateway</h1>\n</html>", content_type="text/html", times=None)
    with pytest.raises(ManagerHTTPError) as caught:
        client.version()
    assert caught.value.message == ("Bad Gateway (an HTML page, not the Manager's answer: from a proxy in between?)")
    assert caught.value.code is None
    assert "\n" not in str(caught.value)


def test_client_owns_and_closes_its_session(proxy: FaultProxy) -> None:
    session = requests.Session()
    with ManagerClient(proxy.url, session=session) as manager:
        assert manager.session is session
        manager.version()
    # A borrowed session stays usable.
    assert session.get(proxy.url + "/api/v3/version", timeout=5).status_code == 200
    session.close()
