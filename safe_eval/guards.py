"""Size guards: refuse operations *before* they would build huge values.

Every intermediate value is also measured after it is produced (see
`Sizer.check`), but that alone would let `'a' * 10**9` allocate a gigabyte
first. So operations whose output can be much larger than their inputs
(repetition, `**`, `<<`, padding, replace, join, format widths, int()
parsing, round()) are bounded from their inputs here.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Iterable, Mapping, Sequence, Sized
from pathlib import PurePath
from typing import Final, TypeGuard

from .errors import EvalRefused
from .limits import Limits

_CONTAINERS: Final[tuple[type, ...]] = (list, tuple, set, frozenset, dict)
_TEXT: Final[tuple[type, ...]] = (str, bytes, bytearray)
# Values from `names` may nest arbitrarily (or be cyclic); cap recursion.
_MAX_VALUE_NESTING: Final = 100
# round(int, -n) computes 10**n internally.
_MAX_ROUND_DIGITS: Final = 1000
_DIGIT_RUN: Final = re.compile(r"\d+")


class Sizer:
    """Measures "logical size" of values, charging a per-evaluation work budget.

    Logical size: strings/paths count their length, containers the sum of
    their elements' sizes (at least 1 per element), recursively. Shared
    references count every time they appear (`[[0]*300]*300` is 90_000),
    because that is what str(), == or repr() will walk.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._work_left = limits.max_work

    def size(self, value: object) -> int:
        """Logical size, or any number > max_size once it is known to be too big."""
        return self._size(value, {}, 0)

    def check(self, value: object) -> None:
        """Refuse a produced value that exceeds the size limits."""
        if isinstance(value, int) and value.bit_length() > self.limits.max_int_bits:
            raise EvalRefused(f"integer is too large (more than {self.limits.max_int_bits} bits)")
        if self.size(value) > self.limits.max_size:
            raise EvalRefused(f"value is too large (more than {self.limits.max_size} characters/elements)")

    def _size(self, value: object, memo: dict[int, int], depth: int) -> int:
        if isinstance(value, (str, bytes, bytearray)):
            return len(value)
        if isinstance(value, PurePath):
            return len(str(value))
        items: Iterable[object]
        if isinstance(value, dict):
            items = (part for pair in value.items() for part in pair)
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = value
        else:
            return 1
        key = id(value)
        if key in memo:
            return memo[key]
        if depth > _MAX_VALUE_NESTING:
            raise EvalRefused("value is nested too deeply")
        memo[key] = 1  # placeholder: a cyclic reference counts as 1
        total = 0
        for item in items:
            self._spend()
            total += max(1, self._size(item, memo, depth + 1))
            if total > self.limits.max_size:
                break  # early exit keeps each measurement O(max_size)
        memo[key] = total
        return total

    def _spend(self) -> None:
        self._work_left -= 1
        if self._work_left < 0:
            raise EvalRefused("expression is too expensive to evaluate")

    # -- operators ------------------------------------------------------

    def check_binop(self, op: ast.operator, left: object, right: object) -> None:
        bits = self.limits.max_int_bits
        if isinstance(op, ast.Mult):
            if _is_int(left) and _is_int(right):
                if left.bit_length() + right.bit_length() > bits + 1:
                    raise EvalRefused(f"integer result would be too large (more than {bits} bits)")
            elif _is_int(right):
                self._check_repeat(left, right)
            elif _is_int(left):
                self._check_repeat(right, left)
        elif isinstance(op, ast.Pow):
            if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
                # |left| >= 2, so the result has at least `right` bits; that
                # test first also keeps the float estimate from overflowing.
                # log2 keeps the estimate exact enough that 2**4095 passes.
                if right > bits or right * math.log2(abs(left)) > bits:
                    raise EvalRefused(f"integer result would be too large (more than {bits} bits)")
        elif isinstance(op, ast.LShift):
            if _is_int(left) and _is_int(right) and left != 0 and right > 0:
                if left.bit_length() + right > bits:
                    raise EvalRefused(f"integer result would be too large (more than {bits} bits)")
        elif isinstance(op, ast.Mod):
            # printf-style formatting: widths like '%999999999d' allocate
            # before any check could run; f-strings are the allowed way.
            if isinstance(left, _TEXT):
                raise EvalRefused("'%' string formatting is not allowed (use an f-string)")
        elif isinstance(op, ast.Add):
            if isinstance(left, _TEXT + _CONTAINERS) and isinstance(right, _TEXT + _CONTAINERS):
                self.check_total(self.size(left) + self.size(right))

    def _check_repeat(self, seq: object, count: int) -> None:
        if count <= 0 or isinstance(seq, (int, float, complex)):
            return
        if isinstance(seq, _TEXT + _CONTAINERS):
            unit = self.size(seq)
        elif isinstance(seq, Sized):
            # Unknown sized objects from `names` (e.g. mathutils vectors):
            # bound by element count in case `*` means repetition.
            unit = len(seq)
        else:
            return
        self.check_total(unit * count)

    def check_total(self, size: int) -> None:
        if size > self.limits.max_size:
            raise EvalRefused(f"value would be too large (more than {self.limits.max_size} characters/elements)")

    # -- calls ----------------------------------------------------------

    def check_builtin_call(self, func: object, args: Sequence[object], kwargs: Mapping[str, object]) -> None:
        if func is int and args and isinstance(args[0], (str, bytes, bytearray)):
            # Base-2 text is the longest spelling of an allowed int.
            if len(args[0]) > self.limits.max_int_bits + 64:
                raise EvalRefused("string is too long to convert to int")
        elif func is round:
            ndigits = args[1] if len(args) > 1 else kwargs.get("ndigits")
            if _is_int(ndigits) and abs(ndigits) > _MAX_ROUND_DIGITS:
                raise EvalRefused(f"round() ndigits must be within ±{_MAX_ROUND_DIGITS}")

    def check_str_method(self, text: str, method: str, args: Sequence[object]) -> Sequence[object]:
        """Bound the output of str methods that can grow; returns args to use."""
        if method in ("zfill", "center", "ljust", "rjust") and args:
            try:
                width = operator.index(args[0])  # type: ignore[arg-type]
            except TypeError:
                return args  # the real call reports the type error
            self.check_total(width)
        elif method == "replace" and len(args) >= 2:
            old, new = args[0], args[1]
            if isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
                hits = text.count(old) if old else len(text) + 1
                if len(args) > 2 and _is_int(args[2]) and args[2] >= 0:
                    hits = min(hits, args[2])
                self.check_total(len(text) + hits * (len(new) - len(old)))
        elif method == "join" and len(args) == 1 and isinstance(args[0], Iterable):
            # Materialise once so the size is known and the real call sees
            # the same items.
            items: list[object] = []
            for item in args[0]:
                self._spend()
                items.append(item)
                self.check_total(len(items))
            text_len = sum(len(item) for item in items if isinstance(item, str))
            self.check_total(text_len + len(text) * max(len(items) - 1, 0))
            return [items]
        return args

    def check_format_spec(self, value: object, spec: str) -> None:
        """Refuse f-string format specs that could build huge strings."""
        if not spec:
            return
        if not isinstance(value, (str, int, float)):
            # Other types interpret specs in their own ways (strftime, ...).
            raise EvalRefused(f"format specs are only allowed for str, int and float values, not {type(value).__name__}")
        limit = self.limits.max_size
        for run in _DIGIT_RUN.findall(spec):
            # Checking the run length first avoids parsing a huge number.
            if len(run) > len(str(limit)) or int(run) > limit:
                raise EvalRefused(f"format width/precision is too large (more than {limit})")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int)
