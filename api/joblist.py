"""The whole job list (`GET /api/v3/jobs`) without stalling the thread that waits for it.

On a farm with 20,000 jobs the list is about 12 MB. `json.loads` of it holds Python's
global lock for 60-75 ms, and turning it into 20,000 `Job` objects (a dozen tracked
objects each) sets off a full garbage collection of the process, another 30+ ms, whichever
thread triggers it: Blender's UI would stall for that long even though the request runs on
a background thread (measured, see bench/farm_scale.py and the README).

So the list is parsed as it streams in, one job object at a time (`raw_decode` of a few
hundred bytes: microseconds per call, and the lock can change hands between calls), and
each job is kept as a plain tuple of strings, numbers and datetimes (`JobRow`): CPython
stops tracking such tuples at the first collection, so 20,000 of them never trigger a full
one. Only the fields a job list shows are kept; the open and watched jobs are fetched whole
with `GET /jobs/{id}`.
"""

from __future__ import annotations

import codecs
import json
import re
from datetime import datetime
from typing import Final, Optional

from .errors import InvalidResponse
from .models import UUID_RE, Job, JobStatus, _known, parse_timestamp

# (id, name, type, status, priority, created, updated, steps_completed, steps_total,
#  worker_tag, delete_requested_at)
JobRow = tuple[str, str, str, str, int, datetime, datetime, int, int, Optional[str], Optional[datetime]]
# Final: mypy then knows each field's type when a row is indexed with these.
ID: Final = 0
NAME: Final = 1
TYPE: Final = 2
STATUS: Final = 3
PRIORITY: Final = 4
CREATED: Final = 5
UPDATED: Final = 6
STEPS_COMPLETED: Final = 7
STEPS_TOTAL: Final = 8
WORKER_TAG: Final = 9
DELETE_REQUESTED: Final = 10

ENDPOINT = "GET /api/v3/jobs"
# One job of the list is a few hundred bytes; a "job" this large means the body is broken.
MAX_ITEM_CHARS = 1 << 20
_HEAD = re.compile(r'\s*\{\s*"jobs"\s*:\s*\[')
_WS = " \t\r\n"


def _text(obj: dict[str, object], key: str, required: bool = True) -> Optional[str]:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidResponse(f"a job's field '{key}' should be a string", ENDPOINT)
    return value


def _int(obj: dict[str, object], key: str, default: Optional[int] = None) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise InvalidResponse(f"a job's field '{key}' should be an integer", ENDPOINT)
    return int(value)


def _time(obj: dict[str, object], key: str, required: bool = True) -> Optional[datetime]:
    text = _text(obj, key, required)
    if not text:
        if required:
            raise InvalidResponse(f"a job's field '{key}' should be a timestamp", ENDPOINT)
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        raise InvalidResponse(f"a job's field '{key}' is not a valid timestamp: {text!r}", ENDPOINT) from None


def row_from_json(obj: object) -> JobRow:
    if not isinstance(obj, dict):
        raise InvalidResponse("a job should be an object", ENDPOINT)
    created = _time(obj, "created")
    updated = _time(obj, "updated")
    assert created is not None and updated is not None
    job_id = str(_text(obj, "id"))
    if not UUID_RE.match(job_id):  # ids go into URLs and console lines
        raise InvalidResponse(f"a job's field 'id' is not a UUID: {job_id[:60]!r}", ENDPOINT)
    return (
        job_id,
        str(_text(obj, "name")),
        str(_text(obj, "type")),
        str(_known(str(_text(obj, "status")), JobStatus)),
        _int(obj, "priority"),
        created,
        updated,
        _int(obj, "steps_completed", 0),
        _int(obj, "steps_total", 0),
        _text(obj, "worker_tag", required=False) or None,
        _time(obj, "delete_requested_at", required=False),
    )


def row_from_job(job: Job) -> JobRow:
    return (job.id, job.name, job.type, str(job.status), job.priority, job.created, job.updated,
            job.steps_completed, job.steps_total, job.worker_tag, job.delete_requested_at)


def job_from_row(row: JobRow) -> Job:
    """A `Job` for drawing a list row (settings, metadata and activity are not kept)."""
    return Job(
        id=row[ID], name=row[NAME], type=row[TYPE], priority=row[PRIORITY], status=row[STATUS], activity="",
        created=row[CREATED], updated=row[UPDATED], steps_completed=row[STEPS_COMPLETED],
        steps_total=row[STEPS_TOTAL], settings={}, metadata={}, worker_tag=row[WORKER_TAG],
        delete_requested_at=row[DELETE_REQUESTED],
    )


class JobListParser:
    """Feed the body of `GET /jobs` as it arrives; get the rows of every complete job.

    The Manager sends `{"jobs":[{…},{…}]}`; anything else shaped differently (but valid)
    falls back to one `json.loads` at the end, so the result never depends on layout."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._decoder = json.JSONDecoder()
        self._text = ""
        self._state = "head"  # head → items → done, or "whole" (fallback)
        self._whole: list[str] = []
        self.count = 0

    def feed(self, data: bytes) -> list[JobRow]:
        try:
            chunk = self._utf8.decode(data)
        except UnicodeDecodeError:
            raise InvalidResponse("the job list is not valid UTF-8", ENDPOINT) from None
        return self._parse(chunk)

    def close(self) -> list[JobRow]:
        """After the last chunk: the remaining rows; InvalidResponse if the list was cut
        short or is not a job list."""
        rows = self._parse(self._utf8.decode(b"", final=True), final=True)
        if self._state == "whole":
            return rows + self._parse_whole()
        if self._state != "done":
            raise InvalidResponse("the job list ended early or is not valid JSON", ENDPOINT)
        if self._text.strip() not in ("}", ""):
            raise InvalidResponse("unexpected data after the job list", ENDPOINT)
        return rows

    def _parse(self, chunk: str, final: bool = False) -> list[JobRow]:
        if self._state == "whole":
            self._whole.append(chunk)
            return []
        text = self._text + chunk
        pos = 0
        if self._state == "head":
            match = _HEAD.match(text)
            if match is None:
                if len(text) < 64 and not final:
                    self._text = text  # the head itself may still be arriving
                    return []
                self._state, self._whole, self._text = "whole", [text], ""
                return []
            self._state, pos = "items", match.end()
        rows: list[JobRow] = []
        decode = self._decoder.raw_decode
        length = len(text)
        while self._state == "items":
            while pos < length and text[pos] in _WS:
                pos += 1
            if pos >= length:
                break
            char = text[pos]
            if char == "]":
                self._state, pos = "done", pos + 1
                break
            if char == "," and self.count:
                pos += 1
                continue
            if char != "{":
                raise InvalidResponse("the job list holds something other than job objects", ENDPOINT)
            try:
                obj, end = decode(text, pos)
            except RecursionError:  # a job nested thousands deep: Python's parser gives up
                raise InvalidResponse("a job in the list is nested too deeply", ENDPOINT) from None
            except json.JSONDecodeError:
                if length - pos > MAX_ITEM_CHARS:
                    raise InvalidResponse("a job in the list is not valid JSON", ENDPOINT) from None
                break  # the rest of this job is still on its way
            rows.append(row_from_json(obj))
            self.count += 1
            pos = end
        self._text = text[pos:]
        return rows

    def _parse_whole(self) -> list[JobRow]:
        try:
            data = json.loads("".join(self._whole))
        except RecursionError:
            raise InvalidResponse("the job list is nested too deeply", ENDPOINT) from None
        except ValueError:
            raise InvalidResponse("the job list is not valid JSON", ENDPOINT) from None
        if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
            raise InvalidResponse("the body has no list 'jobs'", ENDPOINT)
        return [row_from_json(item) for item in data["jobs"]]
