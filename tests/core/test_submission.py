"""The network half of a submission (core/submission.py) against the real Manager behind the
fault proxy: an answer that is lost or comes too late never turns into a second job."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from flamenco_desk_src.api import models
from flamenco_desk_src.api.client import ManagerClient
from flamenco_desk_src.core import submission
from local_farm import Farm
from support.fault_proxy import FaultProxy
from support.farm_jobs import etags_of, save_blendfile, settings_for, wait_until


def _request(farm: Farm, lookup_first: bool = False, submission_id: str = "") -> submission.SubmissionRequest:
    submission_id = submission_id or str(uuid.uuid4())
    job = models.SubmittedJob(
        "shot-010", "simple-blender-render", 50, "linux", etags_of(farm)["simple-blender-render"],
        settings_for(farm, "simple-blender-render"), {submission.SUBMISSION_ID_KEY: submission_id},
        initial_status="paused",
    )
    blend = save_blendfile(farm, farm.shared / "core-tests" / "shot.blend")  # already on shared storage
    return submission.SubmissionRequest(job, blend, submission_id, str(farm.shared), lookup_first=lookup_first)


def _jobs_of(farm: Farm, submission_id: str) -> list[str]:
    return [j["id"] for j in farm.get_json("/api/v3/jobs")["jobs"]
            if j["metadata"].get(submission.SUBMISSION_ID_KEY) == submission_id]


def test_a_submission_reaches_the_manager_once(farm: Farm, proxy: FaultProxy) -> None:
    request = _request(farm)
    with ManagerClient(proxy.url) as client:
        result = submission.run(client, request)
    assert not result.recovered and result.blend_path == str(request.blend_source)
    assert _jobs_of(farm, request.submission_id) == [result.job.id]
    assert result.job.settings["blendfile"] == str(request.blend_source)  # filled in by the submitter


def test_dropped_answer_is_recovered_not_resubmitted(farm: Farm, proxy: FaultProxy) -> None:
    request = _request(farm)
    proxy.drop_response(r"^/api/v3/jobs$", method="POST")
    with ManagerClient(proxy.url) as client:
        result = submission.run(client, request)
    assert _jobs_of(farm, request.submission_id) == [result.job.id]
    assert len(proxy.requests_to(r"^/api/v3/jobs$", "POST")) == 1


def test_late_answer_never_makes_a_second_job(farm: Farm, proxy: FaultProxy) -> None:
    """The Manager takes longer than the read timeout: when the client looks, the job is not
    there yet. Submitting again then made two jobs; now the submission stays uncertain and
    is looked up before the next one."""
    request = _request(farm)
    proxy.delay(r"^/api/v3/jobs$", 3.0, method="POST", times=1)
    with ManagerClient(proxy.url, read_timeout=1.0) as client:
        with pytest.raises(submission.SubmissionUncertain) as caught:
            submission.run(client, request)
        assert caught.value.submission_id == request.submission_id
        assert len(proxy.requests_to(r"^/api/v3/jobs$", "POST")) == 1  # no second submit
        created = wait_until(lambda: _jobs_of(farm, request.submission_id), 15, "the late job")

        again = submission.run(client, _request(farm, lookup_first=True, submission_id=request.submission_id))
    assert again.recovered and [again.job.id] == created
    assert _jobs_of(farm, request.submission_id) == created  # still exactly one
    assert len(proxy.requests_to(r"^/api/v3/jobs$", "POST")) == 1


def test_unreachable_manager_fails_without_a_job(farm: Farm, proxy: FaultProxy, tmp_path: Path) -> None:
    request = _request(farm)
    proxy.refuse_connections()
    try:
        with ManagerClient(proxy.url, max_retries=0) as client, pytest.raises(submission.SubmissionError) as caught:
            submission.run(client, request)
    finally:
        proxy.resume()
    assert "refused" in str(caught.value)
    assert _jobs_of(farm, request.submission_id) == []
