"""Allowed expressions that raise become EvalFailed, never a bare exception."""

from __future__ import annotations

import pytest
from conftest import World

from safe_eval import EvalFailed, check, evaluate


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("1 / 0", "ZeroDivisionError"),
        ("C.scene.nonexistent", "AttributeError"),
        ("None.foo", "AttributeError"),
        ("int('x')", "ValueError"),
        ("'a' + 1", "TypeError"),
        ("[1][5]", "IndexError"),
        ("{'a': 1}['b']", "KeyError"),
        ("settings.frames.split(',')[99]", "IndexError"),
        ("Path(1)", "TypeError"),
        ("abspath(None)", "AttributeError"),
        ("max([])", "ValueError"),
        ("'abc'.index('z')", "ValueError"),
        ("C.scene.name.zfill('x')", "TypeError"),
        ("10.0 ** 400", "OverflowError"),
        ("1 >> -1", "ValueError"),
        ("{[]: 1}", "TypeError"),
        ("1 < 'a'", "TypeError"),
    ],
)
def test_runtime_errors_become_eval_failed(world: World, expression: str, error: str) -> None:
    check(expression)
    with pytest.raises(EvalFailed) as info:
        evaluate(expression, world.names)
    reason = info.value.reason
    assert reason.startswith(error)
    assert "\n" not in reason and len(reason) <= 200
    assert isinstance(info.value.__cause__, Exception)
    assert type(info.value.__cause__).__name__ == error
    world.assert_untouched()


def test_failure_message_is_truncated(world: World) -> None:
    world.names["big"] = {}
    with pytest.raises(EvalFailed) as info:
        evaluate("big['k' * 5000]", world.names)
    assert info.value.reason.startswith("KeyError: ")
    assert len(info.value.reason) <= 200


def test_failure_in_condition_is_wrapped(world: World) -> None:
    class Unbool:
        def __bool__(self) -> bool:
            raise RuntimeError("no truth")

    world.names["u"] = Unbool()
    with pytest.raises(EvalFailed, match="RuntimeError: no truth"):
        evaluate("1 if u else 2", world.names)
