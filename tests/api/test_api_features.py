"""Feature detection from the Manager version, and the real Manager of the release under
test (run the suite with --flamenco-release=3.6 for the oldest supported one)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from api import Features, ManagerClient, ManagerVersion, SubmittedJob, UnsupportedFeature
from local_farm import Farm
from support.fault_proxy import FaultProxy

MakeJob = Callable[..., SubmittedJob]


def _version(text: str) -> ManagerVersion:
    short = text.partition(" (")[0]
    return ManagerVersion(text, short, "m", "")


@pytest.mark.parametrize(
    ("version", "jobs_list", "settag", "steps", "known"),
    [
        ("3.5", False, False, False, True),
        ("3.6", True, False, False, True),
        ("3.7", True, False, False, True),
        ("3.8", True, True, True, True),
        ("3.8.5", True, True, True, True),
        ("3.9-beta1", True, True, True, True),
        ("3.8 (v3.7-12-gabcdef)", True, True, True, True),
        ("set-during-build", True, True, True, False),
        ("", True, True, True, False),
    ],
)
def test_features_from_version(version: str, jobs_list: bool, settag: bool, steps: bool, known: bool) -> None:
    features = Features.from_version(_version(version))
    assert (features.jobs_list, features.settag, features.steps, features.version_known) == (
        jobs_list, settag, steps, known,
    )


def test_require_names_feature_and_version() -> None:
    features = Features.from_version(_version("3.5.1"))
    with pytest.raises(UnsupportedFeature) as caught:
        features.require("jobs_list")
    assert str(caught.value) == (
        "This Flamenco Manager (version 3.5.1) does not support listing all jobs; "
        "it needs Flamenco 3.6 or newer."
    )
    assert caught.value.feature == "listing all jobs" and caught.value.required_version == "3.6"
    with pytest.raises(ValueError):
        features.require("teleportation")
    Features.from_version(_version("3.8")).require("settag")


def test_client_against_the_real_manager(
    client: ManagerClient, proxy: FaultProxy, farm: Farm, make_job: MakeJob, worker_tags: dict[str, str]
) -> None:
    """The release under test (3.8.5, or 3.6 with --flamenco-release=3.6): what the version
    promises is what the Manager does, and missing endpoints are never called."""
    features = client.features()
    steps = farm.release != "3.6"
    assert (features.version_known, features.jobs_list, features.settag, features.steps) == (True, True, steps, steps)
    job = client.submit_job(make_job())
    tasks = client.job_tasks(job.id)
    # 3.6 sends no steps (job or task): parsed as 0; index_in_job exists since 3.6.
    assert ("steps_total" in job.raw) == features.steps and ("steps_total" in tasks[0].raw) == features.steps
    assert job.steps_total == 0 and [t.index_in_job for t in tasks] == [1, 2, 3, 4, 5]

    assert job.id in {j.id for j in client.jobs()}
    if features.settag:
        client.set_job_tag(job.id, tag_name="GPU")
        assert client.job(job.id).worker_tag == worker_tags["GPU"]
    else:
        with pytest.raises(UnsupportedFeature, match="3.8"):
            client.set_job_tag(job.id, tag_name="GPU")
    # Only the feature check stopped us: nothing was sent to a missing endpoint.
    assert bool(proxy.requests_to(r"/settag$")) == features.settag
    assert bool(proxy.requests_to(r"/api/v3/jobs$", "GET")) == features.jobs_list


def test_older_features_are_never_requested(client: ManagerClient, proxy: FaultProxy) -> None:
    """Features learnt from a 3.5 Manager (no binary of it is installed): the client refuses
    locally and sends nothing."""
    client.use_features(Features.from_version(_version("3.5")))
    with pytest.raises(UnsupportedFeature, match="3.6"):
        client.jobs()
    assert proxy.requests_log == []


def test_old_manager_really_lacks_the_endpoints(proxy: FaultProxy, farm: Farm, make_job: MakeJob) -> None:
    """What the gate protects from: 3.6 has no settag endpoint at all (Echo's 404)."""
    job_id = farm.post_json("/api/v3/jobs", make_job().to_json())["id"]
    response = requests.post(f"{proxy.url}/api/v3/jobs/{job_id}/settag", json={}, timeout=10)
    if farm.release == "3.6":
        assert response.status_code == 404 and response.json() == {"message": "Not Found"}
        assert any("not in the API spec" in v for v in proxy.contract_violations)
        proxy.contract_violations.clear()  # asked on purpose
    else:
        assert response.status_code == 204
