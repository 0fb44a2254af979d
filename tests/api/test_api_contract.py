"""The OpenAPI validator itself: it reads the document the real Manager serves, must catch
bad traffic, and tolerates only the real Manager's documented deviations, which the real
Manager is shown to have."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

import local_farm
from local_farm import Farm
from support import openapi_contract as contract
from support.fault_proxy import FaultProxy
from support.farm_jobs import unique

URL = "http://127.0.0.1:8080/api/v3"
X = "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11"  # path IDs are UUIDs in the spec
JSON = {"Content-Type": "application/json"}
JOB: dict[str, Any] = {
    "id": "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11", "name": "n", "type": "t", "priority": 50, "status": "queued",
    "activity": "", "created": "2026-04-01T10:00:00Z", "updated": "2026-04-01T10:00:00Z",
    "steps_completed": 0, "steps_total": 0, "submitter_platform": "",
}
SUBMIT = {"name": "n", "type": "t", "priority": 50, "submitter_platform": "linux"}


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


def test_spec_is_the_document_the_manager_serves(farm: Farm) -> None:
    path = contract.spec_path(farm.release)
    assert path == local_farm.served_spec_path(farm.release)
    assert contract.REPO_ROOT not in path.parents  # beside the binaries, never in a clone
    assert "shared" not in path.parts  # nor in ../shared
    assert json.loads(path.read_text(encoding="utf-8")) == farm.get_json("/api/v3/openapi3.json")
    assert contract.document(farm.release)["paths"].keys() >= {"/api/v3/jobs", "/api/v3/version"}


def test_valid_requests_pass(release: str) -> None:
    assert contract.request_problems("GET", URL + "/version", release=release) == []
    assert contract.request_problems("POST", URL + "/jobs", JSON, body(SUBMIT), release=release) == []
    assert contract.request_problems("POST", URL + f"/jobs/{X}/setpriority", JSON, body({"priority": 1}), release=release) == []
    # settag exists since 3.8
    assert (contract.request_problems("POST", URL + f"/jobs/{X}/settag", JSON, body({}), release=release) == []) == (
        release != "3.6"
    )
    assert contract.request_problems("GET", "http://127.0.0.1:8080/job-files/x.jpg?t=1", release=release) == []


@pytest.mark.parametrize(
    ("method", "path", "headers", "data", "expected"),
    [
        ("POST", "/jobs", JSON, {"name": "n", "type": "t", "priority": 50}, "'submitter_platform' is a required property"),
        ("POST", "/jobs", JSON, {**SUBMIT, "priority": "high"}, "/priority: 'high' is not of type 'integer'"),
        ("POST", "/jobs", JSON, {**SUBMIT, "metadata": {"frames": 10}}, "/metadata/frames: 10 is not of type 'string'"),
        ("POST", "/jobs", JSON, {**SUBMIT, "initial_status": "running"}, "/initial_status: 'running' is not one of"),
        ("POST", "/jobs", {}, SUBMIT, "mimetype"),
        ("POST", f"/jobs/{X}/setpriority", JSON, {"priority": 101}, "greater than the maximum of 100"),
        ("POST", f"/jobs/{X}/setstatus", JSON, {"status": "queued"}, "'reason' is a required property"),
        ("GET", "/configuration/variables/admins/linux", {}, None, "'admins' is not one of"),
        ("GET", f"/jobs/{X}/nonexistent", {}, None, "is not in the API spec"),
    ],
)
def test_bad_requests_are_reported(
    release: str, method: str, path: str, headers: dict[str, str], data: Any, expected: str
) -> None:
    raw = body(data) if data is not None else None
    problems = contract.request_problems(method, URL + path, headers, raw, release=release)
    assert any(expected in p for p in problems), problems
    with pytest.raises(contract.ContractViolation, match=f"request {method} /api/v3"):
        contract.validate_request(method, URL + path, headers, raw, release=release)


def test_valid_responses_pass(release: str) -> None:
    assert contract.response_problems("GET", URL + f"/jobs/{X}", 200, JSON, body(JOB), release=release) == []
    assert contract.response_problems("POST", URL + f"/jobs/{X}/setstatus", 204, {}, b"", release=release) == []
    assert contract.response_problems("GET", URL + f"/tasks/{X}/logtail", 200, {"Content-Type": "text/plain"}, b"log",
                                      release=release) == []
    assert contract.response_problems("POST", URL + f"/jobs/{X}/setpriority", 400, JSON,
                                      body({"code": 400, "message": "invalid format"}), release=release) == []


@pytest.mark.parametrize(
    ("method", "path", "status", "headers", "data", "expected"),
    [
        ("GET", f"/jobs/{X}", 200, JSON, {k: v for k, v in JOB.items() if k != "updated"}, "'updated' is a required property"),
        ("GET", f"/jobs/{X}", 200, JSON, {**JOB, "status": "running"}, "/status: 'running' is not one of"),
        ("GET", f"/jobs/{X}", 200, JSON, {**JOB, "priority": "50"}, "/priority: '50' is not of type 'integer'"),
        ("GET", "/version", 200, JSON, "{not json", "Failed to deserialize"),
        ("GET", "/version", 200, {"Content-Type": "text/html"}, "<html>", "mimetype"),
        ("GET", "/jobs/types", 200, JSON, {"job_types": [{"name": "x", "settings": [], "etag": "e"}]}, "'label' is a required property"),
        ("GET", "/worker-mgt/tags", 200, JSON, {"tags": [{"id": "x"}]}, "'name' is a required property"),
        ("GET", f"/jobs/{X}/tasks", 200, JSON, {"tasks": [{"id": "t"}]}, "'status' is a required property"),
        ("GET", "/configuration/variables/users/linux", 200, JSON, {"v": {"value": 1, "is_twoway": False}}, "/v/value: 1 is not of type 'string'"),
        ("GET", f"/jobs/{X}", 404, JSON, {"error": "gone"}, "not an error object"),
        ("GET", f"/jobs/{X}", 500, JSON, {"message": "boom"}, "lacks an integer 'code'"),
        ("POST", "/jobs", 500, JSON, {"message": "boom"}, "'code' is a required property"),
        ("POST", "/jobs", 400, JSON, {"message": "x", "detail": 1}, "'code' is a required property"),
        ("GET", "/version", 201, JSON, {}, "not a documented response"),
    ],
)
def test_bad_responses_are_reported(
    release: str, method: str, path: str, status: int, headers: dict[str, str], data: Any, expected: str
) -> None:
    raw = data.encode() if isinstance(data, str) else body(data)
    problems = contract.response_problems(method, URL + path, status, headers, raw, release=release)
    assert any(expected in p for p in problems), problems
    with pytest.raises(contract.ContractViolation, match=f"response {status} to {method}"):
        contract.validate_response(method, URL + path, status, headers, raw, release=release)


def test_only_documented_deviations_are_tolerated(release: str) -> None:
    # api-notes §7: variables lack "name", JobTasksSummary lacks "jobs", validator errors lack
    # "code"; never-assigned tasks have an empty worker id.
    assert contract.response_problems("GET", URL + "/configuration/variables/users/linux", 200, JSON,
                                      body({"jobs": {"value": "/srv", "is_twoway": False}}), release=release) == []
    assert contract.response_problems("GET", URL + f"/jobs/{X}/tasks", 200, JSON, body({"tasks": []}), release=release) == []
    assert contract.response_problems("POST", URL + f"/jobs/{X}/setpriority", 400, JSON,
                                      body({"message": "request body has an error"}), release=release) == []
    task = {"id": str(uuid.uuid4()), "name": "t", "status": "queued", "index_in_job": 1, "priority": 50,
            "task_type": "misc", "updated": "2026-04-01T10:00:00Z", "steps_completed": 0, "steps_total": 1}
    unassigned = {**task, "worker": {"id": "", "name": "", "address": ""}}
    broken = {**task, "worker": {"id": "not-a-uuid", "name": "", "address": ""}}
    assert contract.response_problems("GET", URL + f"/jobs/{X}/tasks", 200, JSON, body({"tasks": [unassigned]}),
                                      release=release) == []
    broken_problems = contract.response_problems("GET", URL + f"/jobs/{X}/tasks", 200, JSON,
                                                 body({"tasks": [broken]}), release=release)
    if release != "3.6":
        assert broken_problems
    else:  # 3.6's TaskSummary declares no worker: an extra field, not checked
        assert broken_problems == []
    assert len(contract.KNOWN_DEVIATIONS) == 4


def test_steps_are_required_only_where_the_release_has_them(release: str) -> None:
    old_job = {k: v for k, v in JOB.items() if not k.startswith("steps_")}
    problems = contract.response_problems("GET", URL + f"/jobs/{X}", 200, JSON, body(old_job), release=release)
    assert bool(problems) == (release != "3.6"), problems


def test_proxy_keeps_canned_garbage_apart_and_reports_bad_requests(proxy: FaultProxy) -> None:
    proxy.respond(r"/version$", 200, {"version": "3.8.5", "name": "n"})
    assert requests.get(proxy.url + "/api/v3/version", timeout=10).status_code == 200
    assert any("'shortversion' is a required property" in v for v in proxy.intentional_violations)
    assert proxy.contract_violations == []  # the garbage was asked for
    proxy.assert_contract_clean()

    # A request that breaks the contract is reported, whatever the Manager made of it
    # (the real one does not check the audience in the path at all).
    response = requests.get(proxy.url + "/api/v3/configuration/shared-storage/admins/linux", timeout=10)
    assert response.status_code == 200 and response.json()["audience"] == "admins"
    assert any("'admins' is not one of" in v for v in proxy.contract_violations)
    with pytest.raises(AssertionError, match="violated the Flamenco API contract"):
        proxy.assert_contract_clean()
    proxy.contract_violations.clear()


def test_manager_answers_invalid_requests_with_the_validator_shape(proxy: FaultProxy, farm: Farm) -> None:
    name = unique("invalid")
    response = requests.post(proxy.url + "/api/v3/jobs", json={"name": name, "type": "t", "priority": 50}, timeout=10)
    assert response.status_code == 400
    assert set(response.json()) == {"message"}  # no "code": the validator's shape
    assert response.json()["message"].startswith("request body has an error")
    assert [j for j in farm.get_json("/api/v3/jobs")["jobs"] if j["name"] == name] == []
    assert any("submitter_platform" in v for v in proxy.contract_violations)
    proxy.contract_violations.clear()  # sent on purpose
    missing = requests.get(proxy.url + "/api/v3/nope", timeout=10)
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}
    proxy.contract_violations.clear()


def test_manager_error_answers_for_bad_and_unknown_ids(proxy: FaultProxy) -> None:
    """The real answers the client's error handling is built on; the proxy checks each
    against the spec and the documented deviations."""
    bad = requests.get(proxy.url + "/api/v3/jobs/not-a-uuid", timeout=10)
    assert bad.status_code == 400 and bad.json() == {"code": 400, "message": "job ID not valid"}
    assert [v for v in proxy.contract_violations if "'not-a-uuid' is not a 'uuid'" in v]  # sent on purpose
    proxy.contract_violations.clear()
    unknown = "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11"
    missing = requests.get(f"{proxy.url}/api/v3/jobs/{unknown}", timeout=10)
    assert missing.status_code == 404 and missing.json() == {"code": 404, "message": "no such job"}
    assert requests.get(f"{proxy.url}/api/v3/jobs/{unknown}/last-rendered", timeout=10).status_code == 204
    logtail = requests.get(f"{proxy.url}/api/v3/tasks/{unknown}/logtail", timeout=10)
    assert logtail.status_code == 404 and logtail.json() == {"code": 404, "message": "no such task"}
    assert proxy.contract_violations == []
    wrong_method = requests.put(proxy.url + "/api/v3/version", timeout=10)
    # The request validator answers before Echo's router could say 405.
    assert wrong_method.status_code == 400 and wrong_method.json() == {"message": "method not allowed"}
    proxy.contract_violations.clear()  # PUT /version isn't in the spec: noted on purpose
