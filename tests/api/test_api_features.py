"""Feature detection from the Manager version, against stubs of each version."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import Features, ManagerClient, ManagerVersion, SubmittedJob, UnsupportedFeature
from tests.support.stub_manager import StubManager


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


@pytest.mark.parametrize("version", ["3.5.0", "3.6.0", "3.7", "3.8.5", "set-during-build"])
def test_client_against_each_manager_version(tmp_path: Path, version: str) -> None:
    with StubManager(tmp_path, version=version) as stub, ManagerClient(stub.url) as client:
        features = client.features()
        assert features.version_known == (version != "set-during-build")
        settings = {"frames": "1-10", "chunk_size": 3}
        job = client.submit_job(SubmittedJob("j", "simple-blender-render", 50, "linux", None, settings))
        tasks = client.job_tasks(job.id)
        # Older Managers omit steps (3.8) and index_in_job (3.6): parsed as 0.
        assert "steps_total" in job.raw or not features.steps
        assert job.steps_total == 0 and len(tasks) == 4
        stub.advance(job.id, 2)
        assert client.job(job.id).steps_completed == (2 if features.steps else 0)

        if features.jobs_list:
            assert [j.id for j in client.jobs()] == [job.id]
        else:
            with pytest.raises(UnsupportedFeature, match="3.6"):
                client.jobs()
        if features.settag:
            client.set_job_tag(job.id, tag_name="GPU")
        else:
            with pytest.raises(UnsupportedFeature, match="3.8"):
                client.set_job_tag(job.id, tag_name="GPU")
        # Only the feature check stopped us: nothing was sent to the missing endpoints.
        assert bool(stub.requests_to(r"/settag$")) == features.settag
        assert bool(stub.requests_to(r"/api/v3/jobs$", "GET")) == features.jobs_list
        stub.assert_contract_clean()


def test_old_manager_really_lacks_the_endpoints(tmp_path: Path) -> None:
    """The stub answers like an old Manager (Echo 404) if asked anyway."""
    import requests

    with StubManager(tmp_path, version="3.5") as stub:
        response = requests.get(stub.url + "/api/v3/jobs", timeout=5)
        assert response.status_code == 404 and response.json() == {"message": "Not Found"}
        stub.assert_contract_clean()
