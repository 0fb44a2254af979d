"""Exceptions raised by the restricted evaluator."""

from __future__ import annotations


class EvalError(Exception):
    """Base class: the expression could not be turned into a value.

    `reason` is a one-line, human readable message; callers prefix it with
    the job type and setting name.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EvalRefused(EvalError):
    """The expression was rejected by policy (statically or at runtime).

    Nothing the expression asked for beyond the refused step has run; a
    refusal means the Manager sent something we do not trust.
    """


class EvalFailed(EvalError):
    """An allowed expression raised while evaluating (e.g. AttributeError).

    This usually means the job type does not match the scene or Blender
    version, not that anything hostile happened.
    """
