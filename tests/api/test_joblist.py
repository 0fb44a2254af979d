"""The streamed job-list parser: same rows as a whole-body parse whatever the chunking, and
clear errors for broken bodies. Against the real Manager: tests/api/test_event_stream.py."""

from __future__ import annotations

import json
import uuid

import pytest

from api import InvalidResponse
from api.joblist import ID, NAME, STATUS, JobListParser, job_from_row, row_from_json


def job(n: int, **extra: object) -> dict[str, object]:
    return {
        "id": str(uuid.UUID(int=n)), "name": f"shot {n} – ünïcode ✓", "type": "echo-sleep-test", "priority": 50,
        "status": "queued", "activity": "", "created": "2026-12-01T14:09:11.779009783Z",
        "updated": "2026-12-01T14:09:12Z", "steps_completed": n % 3, "steps_total": 3,
        "settings": {"message": "a, b ] } [ {", "nested": [1, {"x": "]"}]}, "metadata": {"k": "v"},
        "submitter_platform": "", **extra,
    }


def parse(body: bytes, chunk: int) -> list[tuple[object, ...]]:
    parser = JobListParser()
    rows = []
    for i in range(0, len(body), chunk):
        rows += parser.feed(body[i : i + chunk])
    return rows + parser.close()


@pytest.mark.parametrize("chunk", [1, 7, 100, 4096, 1 << 20])
def test_any_chunking_gives_the_rows_of_a_whole_parse(chunk: int) -> None:
    jobs = [job(n) for n in range(40)] + [job(99, worker_tag=str(uuid.UUID(int=7)), delete_requested_at="2026-12-02T00:00:00Z")]
    body = json.dumps({"jobs": jobs}, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    rows = parse(body, chunk)
    assert rows == [row_from_json(j) for j in jobs]
    assert rows[0][NAME] == "shot 0 – ünïcode ✓"
    last = job_from_row(rows[-1])
    assert last.worker_tag == str(uuid.UUID(int=7)) and last.delete_requested_at is not None
    assert (last.id, last.status, last.steps_total) == (str(uuid.UUID(int=99)), "queued", 3)


def test_other_layouts_fall_back_to_a_whole_parse() -> None:
    spaced = json.dumps({"jobs": [job(1), job(2)]}, indent=2).encode()
    assert [r[ID] for r in parse(spaced, 5)] == [str(uuid.UUID(int=1)), str(uuid.UUID(int=2))]
    reordered = json.dumps({"other": 1, "jobs": [job(3)]}).encode()
    assert [r[ID] for r in parse(reordered, 3)] == [str(uuid.UUID(int=3))]
    assert parse(b'{"jobs":[]}', 1) == []


@pytest.mark.parametrize(
    "body, problem",
    [
        (b'{"jobs":[{"id":"a"', "ended early"),
        (b'{"jobs":[1,2]}', "other than job objects"),
        (b'{"jobs":[{"id":"a"}]}', "field 'created'"),
        (b'{"jobs":[]} trailing', "unexpected data"),
        (b"<html>proxy error</html>", "not valid JSON"),
        (b'{"nojobs":[]}', "no list 'jobs'"),
        (b'{"jobs":[{"id":"\xff"}]}', "UTF-8"),
    ],
)
def test_broken_bodies_are_reported(body: bytes, problem: str) -> None:
    with pytest.raises(InvalidResponse, match=problem):
        parse(body, 4)


def test_statuses_of_newer_managers_are_kept() -> None:
    rows = parse(json.dumps({"jobs": [job(1, status="active"), job(2, status="some-new-status")]}).encode(), 64)
    assert [r[STATUS] for r in rows] == ["active", "some-new-status"]
