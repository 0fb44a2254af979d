"""The OpenAPI validator itself: it must catch bad traffic, and tolerate only
the documented real-Manager deviations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import openapi_contract as contract
from tests.support.stub_manager import StubManager

URL = "http://127.0.0.1:8080/api/v3"
JSON = {"Content-Type": "application/json"}
JOB: dict[str, Any] = {
    "id": "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11", "name": "n", "type": "t", "priority": 50, "status": "queued",
    "activity": "", "created": "2026-04-01T10:00:00Z", "updated": "2026-04-01T10:00:00Z",
    "steps_completed": 0, "steps_total": 0, "submitter_platform": "",
}
SUBMIT = {"name": "n", "type": "t", "priority": 50, "submitter_platform": "linux"}


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


def test_spec_is_read_from_shared_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    assert contract.spec_path() == contract.REPO_ROOT.parent / "shared" / "flamenco" / "flamenco-openapi.yaml"
    assert not (contract.REPO_ROOT / "flamenco-openapi.yaml").exists()
    monkeypatch.setenv("FLAMENCO_OPENAPI", "/elsewhere/spec.yaml")
    assert contract.spec_path() == Path("/elsewhere/spec.yaml")


def test_valid_requests_pass() -> None:
    assert contract.request_problems("GET", URL + "/version") == []
    assert contract.request_problems("POST", URL + "/jobs", JSON, body(SUBMIT)) == []
    assert contract.request_problems("POST", URL + "/jobs/x/settag", JSON, body({})) == []
    assert contract.request_problems("GET", "http://127.0.0.1:8080/job-files/x.jpg?t=1") == []  # not API


@pytest.mark.parametrize(
    ("method", "path", "headers", "data", "expected"),
    [
        ("POST", "/jobs", JSON, {"name": "n", "type": "t", "priority": 50}, "'submitter_platform' is a required property"),
        ("POST", "/jobs", JSON, {**SUBMIT, "priority": "high"}, "/priority: 'high' is not of type 'integer'"),
        ("POST", "/jobs", JSON, {**SUBMIT, "metadata": {"frames": 10}}, "/metadata/frames: 10 is not of type 'string'"),
        ("POST", "/jobs", JSON, {**SUBMIT, "initial_status": "running"}, "/initial_status: 'running' is not one of"),
        ("POST", "/jobs", {}, SUBMIT, "mimetype"),
        ("POST", "/jobs/x/setpriority", JSON, {"priority": 101}, "greater than the maximum of 100"),
        ("POST", "/jobs/x/setstatus", JSON, {"status": "queued"}, "'reason' is a required property"),
        ("GET", "/configuration/variables/admins/linux", {}, None, "'admins' is not one of"),
        ("GET", "/jobs/x/nonexistent", {}, None, "is not in the API spec"),
    ],
)
def test_bad_requests_are_reported(method: str, path: str, headers: dict[str, str], data: Any, expected: str) -> None:
    problems = contract.request_problems(method, URL + path, headers, body(data) if data is not None else None)
    assert any(expected in p for p in problems), problems
    with pytest.raises(contract.ContractViolation, match=f"request {method} /api/v3"):
        contract.validate_request(method, URL + path, headers, body(data) if data is not None else None)


def test_valid_responses_pass() -> None:
    assert contract.response_problems("GET", URL + "/jobs/x", 200, JSON, body(JOB)) == []
    assert contract.response_problems("POST", URL + "/jobs/x/setstatus", 204, {}, b"") == []
    assert contract.response_problems("GET", URL + "/tasks/x/logtail", 200, {"Content-Type": "text/plain"}, b"log") == []
    assert contract.response_problems("POST", URL + "/jobs/x/settag", 406, JSON, body({"code": 406, "message": "tag not found"})) == []


@pytest.mark.parametrize(
    ("method", "path", "status", "headers", "data", "expected"),
    [
        ("GET", "/jobs/x", 200, JSON, {k: v for k, v in JOB.items() if k != "updated"}, "'updated' is a required property"),
        ("GET", "/jobs/x", 200, JSON, {**JOB, "status": "running"}, "/status: 'running' is not one of"),
        ("GET", "/jobs/x", 200, JSON, {**JOB, "priority": "50"}, "/priority: '50' is not of type 'integer'"),
        ("GET", "/version", 200, JSON, "{not json", "Failed to deserialize"),
        ("GET", "/version", 200, {"Content-Type": "text/html"}, "<html>", "mimetype"),
        ("GET", "/jobs/types", 200, JSON, {"job_types": [{"name": "x", "settings": [], "etag": "e"}]}, "'label' is a required property"),
        ("GET", "/worker-mgt/tags", 200, JSON, {"tags": [{"id": "x"}]}, "'name' is a required property"),
        ("GET", "/jobs/x/tasks", 200, JSON, {"tasks": [{"id": "t"}]}, "'status' is a required property"),
        ("GET", "/configuration/variables/users/linux", 200, JSON, {"v": {"value": 1, "is_twoway": False}}, "/v/value: 1 is not of type 'string'"),
        ("GET", "/jobs/x", 404, JSON, {"error": "gone"}, "not an error object"),
        ("GET", "/jobs/x", 500, JSON, {"message": "boom"}, "lacks an integer 'code'"),
        ("POST", "/jobs", 500, JSON, {"message": "boom"}, "'code' is a required property"),
        ("POST", "/jobs", 400, JSON, {"message": "x", "detail": 1}, "'code' is a required property"),
        ("GET", "/version", 201, JSON, {}, "not a documented response"),
    ],
)
def test_bad_responses_are_reported(method: str, path: str, status: int, headers: dict[str, str], data: Any, expected: str) -> None:
    raw = data.encode() if isinstance(data, str) else body(data)
    problems = contract.response_problems(method, URL + path, status, headers, raw)
    assert any(expected in p for p in problems), problems
    with pytest.raises(contract.ContractViolation, match=f"response {status} to {method}"):
        contract.validate_response(method, URL + path, status, headers, raw)


def test_only_documented_deviations_are_tolerated() -> None:
    # §7: variables lack "name", JobTasksSummary lacks "jobs", validator errors lack "code".
    assert contract.response_problems("GET", URL + "/configuration/variables/users/linux", 200, JSON,
                                      body({"jobs": {"value": "/srv", "is_twoway": False}})) == []
    assert contract.response_problems("GET", URL + "/jobs/x/tasks", 200, JSON, body({"tasks": []})) == []
    assert contract.response_problems("POST", URL + "/jobs/x/setpriority", 400, JSON,
                                      body({"message": "request body has an error"})) == []
    assert len(contract.KNOWN_DEVIATIONS) == 3
    # Fields only an emulated old Manager may leave out.
    old_job = {k: v for k, v in JOB.items() if not k.startswith("steps_")}
    assert contract.response_problems("GET", URL + "/jobs/x", 200, JSON, body(old_job))
    assert contract.response_problems("GET", URL + "/jobs/x", 200, JSON, body(old_job),
                                      legacy_missing=("steps_completed", "steps_total")) == []


def test_stub_reports_its_own_bad_responses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with StubManager(tmp_path) as stub:
        monkeypatch.setattr(stub, "version_json", lambda: {"version": "3.8.5", "name": "n"})
        assert requests.get(stub.url + "/api/v3/version", timeout=5).status_code == 200
        assert any("'shortversion' is a required property" in v for v in stub.contract_violations)
        with pytest.raises(AssertionError, match="violated the Flamenco API contract"):
            stub.assert_contract_clean()


def test_stub_answers_invalid_requests_like_the_validator(tmp_path: Path) -> None:
    with StubManager(tmp_path) as stub:
        response = requests.post(stub.url + "/api/v3/jobs", json={"name": "n", "type": "t", "priority": 50}, timeout=5)
        assert response.status_code == 400
        assert set(response.json()) == {"message"}
        assert response.json()["message"].startswith("request body has an error")
        assert stub.jobs == {}
        assert any("submitter_platform" in v for v in stub.contract_violations)
        missing = requests.get(stub.url + "/api/v3/nope", timeout=5)
        assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}
