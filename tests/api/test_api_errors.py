"""The exception tree: both error body shapes and readable one-line messages."""

from __future__ import annotations

import pytest

from api import (
    EtagMismatch,
    FlamencoError,
    InvalidResponse,
    ManagerHTTPError,
    ManagerTimeout,
    ManagerUnreachable,
    NotFound,
    ResponseLost,
    UnsupportedFeature,
)


def test_validator_shape() -> None:
    error = ManagerHTTPError.from_response(400, '{"message":"request body has an error: doesn\'t match schema"}')
    assert type(error) is ManagerHTTPError
    assert (error.status, error.code, error.message) == (400, None, "request body has an error: doesn't match schema")
    assert str(error) == "The Flamenco Manager refused the request (HTTP 400): request body has an error: doesn't match schema."


def test_handler_shape_and_subclasses() -> None:
    error = ManagerHTTPError.from_response(404, '{"code": 404, "message": "no such job"}')
    assert isinstance(error, NotFound) and error.code == 404 and error.message == "no such job"
    etag = ManagerHTTPError.from_response(412, '{"code":412,"message":"rejecting job because its settings are outdated, refresh the job type"}')
    assert isinstance(etag, EtagMismatch) and etag.code == 412
    assert "refresh the job types and submit again" in str(etag)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  upstream\n timed   out \n", "upstream timed out"),
        ("", "Bad Gateway"),
        ('["a list"]', '["a list"]'),
        ('{"code": "x", "message": "odd code"}', "odd code"),
        ("x" * 1000, "x" * 299 + "…"),
    ],
)
def test_non_standard_bodies(body: str, message: str) -> None:
    error = ManagerHTTPError.from_response(502, body, "Bad Gateway")
    assert error.message == message and error.code is None and error.body == body
    assert str(error).startswith("The Flamenco Manager had a problem (HTTP 502)")
    assert "\n" not in str(error)


def test_messages_are_one_sentence() -> None:
    errors: list[FlamencoError] = [
        ManagerUnreachable("http://farm:8080", "the connection was refused"),
        ManagerTimeout("http://farm:8080", "connect", 3.05),
        ManagerTimeout("http://farm:8080", "read", 10.0),
        ResponseLost("http://farm:8080"),
        InvalidResponse("the body is not valid JSON", "GET /api/v3/version"),
        UnsupportedFeature("changing a job's worker tag", "3.8", "3.7"),
        NotFound(404, "", 404, ""),
    ]
    for error in errors:
        text = str(error)
        assert text.endswith(".") and "\n" not in text and text[0].isupper(), text
    assert str(errors[1]) == "The Flamenco Manager at http://farm:8080 did not accept the connection within 3.05 seconds."
    assert str(errors[4]) == (
        "The Flamenco Manager sent an unexpected answer to GET /api/v3/version: the body is not valid JSON."
    )


def test_timeout_phase_is_checked() -> None:
    with pytest.raises(ValueError):
        ManagerTimeout("http://x", "write", 1.0)
    assert ResponseLost("http://x").phase == "read"
