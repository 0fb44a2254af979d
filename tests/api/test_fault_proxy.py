"""The fault proxy in front of the real Manager does what the tests rely on: real answers pass
through unchanged, faults happen exactly where and as often as asked, and a dropped response
is one the Manager did act on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import requests

from api import ManagerClient, SubmittedJob
from local_farm import Farm
from support.fault_proxy import FaultProxy
from support.farm_jobs import unique, wait_until

MakeJob = Callable[..., SubmittedJob]


def _jobs_named(farm: Farm, name: str) -> list[str]:
    return [job["id"] for job in farm.get_json("/api/v3/jobs")["jobs"] if job["name"] == name]


def test_real_answers_pass_through_unchanged(proxy: FaultProxy, farm: Farm) -> None:
    through = requests.get(proxy.url + "/api/v3/jobs/types", timeout=10)
    assert through.status_code == 200 and through.headers["Content-Type"].startswith("application/json")
    assert through.json() == farm.get_json("/api/v3/jobs/types")
    assert through.headers["Date"].count(",") == 1  # one Date ("Tue, 01 Dec …"), not the Manager's and ours
    assert proxy.contract_violations == []


def test_canned_responses_are_counted(proxy: FaultProxy) -> None:
    proxy.respond(r"/status$", 500, {"code": 500, "message": "x"}, times=2)
    codes = [requests.get(proxy.url + "/api/v3/status", timeout=10).status_code for _ in range(3)]
    assert codes == [500, 500, 200]  # then the real Manager again
    assert [r.path for r in proxy.requests_to(r"/status$")] == ["/api/v3/status"] * 3
    proxy.respond(r"/status$", 503, times=None)
    assert requests.get(proxy.url + "/api/v3/status", timeout=10).status_code == 503
    assert requests.get(proxy.url + "/api/v3/status", timeout=10).status_code == 503
    proxy.clear_faults()
    assert requests.get(proxy.url + "/api/v3/status", timeout=10).status_code == 200


def test_hold_and_release(proxy: FaultProxy) -> None:
    proxy.hold(r"/version$")
    results: list[int] = []
    thread = threading.Thread(
        target=lambda: results.append(requests.get(proxy.url + "/api/v3/version", timeout=10).status_code)
    )
    thread.start()
    assert proxy.wait_until_held(1)
    time.sleep(0.1)
    assert results == []  # still hanging
    assert requests.get(proxy.url + "/api/v3/status", timeout=10).status_code == 200  # others unaffected
    proxy.release()
    thread.join(timeout=10)
    assert results == [200]


def test_held_submission_reaches_the_manager_only_when_released(proxy: FaultProxy, farm: Farm, make_job: MakeJob) -> None:
    name = unique("held")
    proxy.hold(r"/api/v3/jobs$", method="POST")
    answers: list[int] = []
    thread = threading.Thread(target=lambda: answers.append(
        requests.post(proxy.url + "/api/v3/jobs", json=make_job(name=name).to_json(), timeout=30).status_code
    ))
    thread.start()
    assert proxy.wait_until_held(1)
    time.sleep(0.3)
    assert _jobs_named(farm, name) == []  # held in the proxy, not in the Manager
    proxy.release()
    thread.join(timeout=30)
    assert answers == [200] and len(_jobs_named(farm, name)) == 1


def test_dropped_response_after_the_manager_acted(proxy: FaultProxy, farm: Farm, make_job: MakeJob) -> None:
    name = unique("dropped")
    proxy.drop_response(r"/api/v3/jobs$", method="POST")
    with pytest.raises(requests.ConnectionError):
        requests.post(proxy.url + "/api/v3/jobs", json=make_job(name=name).to_json(), timeout=30)
    assert len(_jobs_named(farm, name)) == 1  # the Manager created it; only the answer was lost
    # Once only: the next submission is answered.
    again = requests.post(proxy.url + "/api/v3/jobs", json=make_job(name=name).to_json(), timeout=30)
    assert again.status_code == 200 and len(_jobs_named(farm, name)) == 2


def test_delay_is_added_to_the_real_answer(proxy: FaultProxy, farm: Farm) -> None:
    proxy.delay(r"/version$", 0.5, times=1)
    started = time.monotonic()
    answer = requests.get(proxy.url + "/api/v3/version", timeout=10)
    assert time.monotonic() - started >= 0.5
    assert answer.json()["name"] == farm.name
    started = time.monotonic()
    requests.get(proxy.url + "/api/v3/version", timeout=10)
    assert time.monotonic() - started < 0.5  # only once


def test_refused_while_down_then_the_same_port_again(proxy: FaultProxy) -> None:
    port = proxy.port
    proxy.refuse_connections()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/api/v3/version", timeout=5)
    proxy.resume()
    assert proxy.port == port
    assert requests.get(proxy.url + "/api/v3/version", timeout=10).status_code == 200


def test_manager_down_behind_the_proxy_is_a_closed_connection(proxy: FaultProxy, farm: Farm) -> None:
    farm.stop_manager()
    try:
        with pytest.raises(requests.ConnectionError):
            requests.get(proxy.url + "/api/v3/version", timeout=10)
    finally:
        farm.start_manager()
    wait_until(lambda: requests.get(proxy.url + "/api/v3/version", timeout=10).ok, 10, "the Manager back")


def test_request_log_records_details(client: ManagerClient, proxy: FaultProxy, make_job: MakeJob) -> None:
    started = time.time()
    client.check_job(make_job())
    entry = proxy.requests_log[-1]
    assert (entry.method, entry.path, entry.body["type"]) == ("POST", "/api/v3/jobs/check", "simple-blender-render")
    assert entry.headers["Content-Type"] == "application/json" and started <= entry.time <= time.time()
