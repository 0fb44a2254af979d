"""Restricted evaluation of Flamenco job-setting `eval` expressions.

Job types come from the Flamenco Manager over the network, so their
`eval` strings are untrusted; see `evaluator.py` for the approach.
This package is bpy-free and uses only relative imports, so it works both
as top-level `safe_eval` (tests) and inside the Blender extension.
"""

from __future__ import annotations

from .allowlist import AllowList
from .errors import EvalError, EvalFailed, EvalRefused
from .evaluator import check, evaluate
from .limits import Limits

__all__ = ["AllowList", "EvalError", "EvalFailed", "EvalRefused", "Limits", "check", "evaluate"]
