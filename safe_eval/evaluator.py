"""Restricted evaluator for Flamenco job-setting `eval` expressions.

The expression is never compiled or handed to `eval()`: we walk its AST
and perform each allowed operation ourselves, so every attribute read,
call and operator goes through a policy check first. See `policy.py` for
the allow/deny lists and `guards.py` for the size limits.
"""

from __future__ import annotations

import ast
import operator
import types
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any, Final

from .allowlist import AllowList, Reads
from .errors import EvalError, EvalFailed, EvalRefused
from .guards import Sizer
from .limits import Limits
from .policy import (
    CALLABLE_NAMES_FROM_CALLER,
    DENIED_BUILTIN_IDS,
    DENIED_STR_ATTRIBUTES,
    DENIED_VALUE_TYPES,
    PATH_METHODS,
    SAFE_BUILTINS,
    STR_METHODS,
)
from .static import check_attribute_name, check_key, parse

_BINOPS: Final[dict[type[ast.operator], Callable[[Any, Any], Any]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.MatMult: operator.matmul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.BitAnd: operator.and_,
}

_UNARYOPS: Final[dict[type[ast.unaryop], Callable[[Any], Any]]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
    ast.Not: operator.not_,
    ast.Invert: operator.invert,
}

_CMPOPS: Final[dict[type[ast.cmpop], Callable[[Any, Any], Any]]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda item, container: item in container,
    ast.NotIn: lambda item, container: item not in container,
}

_CONVERSIONS: Final[dict[int, Callable[[object], str]]] = {115: str, 114: repr, 97: ascii}

# Exception messages can embed user data (e.g. a KeyError's key).
_MAX_MESSAGE: Final = 200


def check(expression: str, *, limits: Limits | None = None) -> None:
    """Static validation only (syntax + policy); needs no names.

    Raises EvalRefused for anything `evaluate` would refuse before running.
    Suitable for validating all `eval` strings of a job type at load time.
    """
    parse(expression, limits or Limits())


def evaluate(expression: str, names: Mapping[str, object], *, limits: Limits | None = None,
             allow: AllowList | None = None) -> object:
    """Evaluate `expression` with only `names` (plus a few pure builtins) in scope.

    `allow`: what may be read from Blender's data (see `allowlist.py`); every attribute
    read and subscript is checked against it. Without it only the generic sandbox rules
    apply (for callers whose names hold no private data).

    Raises EvalRefused when policy rejects the expression, EvalFailed when an
    allowed expression raises (e.g. AttributeError, ZeroDivisionError).
    """
    limits = limits or Limits()
    tree = parse(expression, limits)
    return _Interpreter(names, limits, allow).eval(tree.body)


class _Interpreter:
    def __init__(self, names: Mapping[str, object], limits: Limits, allow: AllowList | None = None) -> None:
        self._names = dict(names)
        self._sizer = Sizer(limits)
        # Calls are allowed by identity with these objects; the caller's
        # Path/abspath/last_n_dir_parts are whatever it passed in `names`.
        self._callables: tuple[object, ...] = tuple(SAFE_BUILTINS.values()) + tuple(
            self._names[name] for name in CALLABLE_NAMES_FROM_CALLER if name in self._names
        )
        # Modules the caller handed over (bpy) may be used; any other module
        # reached through them (bpy.utils, bpy.path.os, ...) is refused.
        self._given_modules = {id(value) for value in self._names.values() if isinstance(value, types.ModuleType)}
        self._reads = None if allow is None else Reads(allow, self._names, self._callables)

    def eval(self, node: ast.expr) -> object:
        try:
            value = self._dispatch(node)
            self._check_value(value)
        except EvalError:
            raise
        except Exception as exc:  # anything an allowed operation raised
            raise EvalFailed(_describe(exc)) from exc
        return value

    def _check_value(self, value: object) -> None:
        if isinstance(value, types.ModuleType) and id(value) not in self._given_modules:
            raise EvalRefused(f"access to module {getattr(value, '__name__', '?')!r} is not allowed")
        if isinstance(value, DENIED_VALUE_TYPES):
            raise EvalRefused(f"access to {type(value).__name__} objects is not allowed")
        if id(value) in DENIED_BUILTIN_IDS:
            raise EvalRefused(f"access to builtin {getattr(value, '__name__', '?')!r} is not allowed")
        self._sizer.check(value)

    def _dispatch(self, node: ast.expr) -> object:
        # Each node is evaluated at most once (no loops), so evaluation is
        # linear in the expression size, with each step bounded by Limits.
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, ast.Slice):
            return self._slice(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.BinOp):
            return self._binop(node)
        if isinstance(node, ast.UnaryOp):
            return _UNARYOPS[type(node.op)](self.eval(node.operand))
        if isinstance(node, ast.BoolOp):
            return self._boolop(node)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return self._sequence(node)
        if isinstance(node, ast.Dict):
            return self._dict(node)
        if isinstance(node, ast.JoinedStr):
            return self._joined_str(node)
        if isinstance(node, ast.FormattedValue):
            return self._formatted_value(node)
        # Unreachable after the static check; kept as a fail-safe.
        raise EvalRefused(f"{type(node).__name__} syntax is not allowed")

    def _name(self, node: ast.Name) -> object:
        if node.id in self._names:
            return self._names[node.id]
        if node.id in SAFE_BUILTINS:
            return SAFE_BUILTINS[node.id]
        raise EvalRefused(f"unknown name {node.id!r}")

    def _attribute(self, node: ast.Attribute) -> object:
        obj = self.eval(node.value)
        check_attribute_name(node.attr)  # repeated: cheap, and keeps this method safe on its own
        if isinstance(obj, str) and node.attr in DENIED_STR_ATTRIBUTES:
            raise EvalRefused(f"attribute {node.attr!r} of str is not allowed")
        if self._reads is None:
            return getattr(obj, node.attr)
        where = _source(node)
        self._reads.attribute(obj, node.attr, where)
        value = getattr(obj, node.attr)
        self._reads.value(value, where)
        return value

    def _subscript(self, node: ast.Subscript) -> object:
        obj = self.eval(node.value)
        key = self.eval(node.slice)
        if isinstance(key, str):
            check_key(key)
        if self._reads is None:
            return obj[key]  # type: ignore[index]
        where = _source(node)
        self._reads.subscript(obj, where)
        value = obj[key]  # type: ignore[index]
        self._reads.value(value, where)
        return value

    def _slice(self, node: ast.Slice) -> slice:
        def part(sub: ast.expr | None) -> object:
            return None if sub is None else self.eval(sub)

        return slice(part(node.lower), part(node.upper), part(node.step))

    def _call(self, node: ast.Call) -> object:
        func = node.func
        if isinstance(func, ast.Name):
            callee = self.eval(func)
            if not any(callee is allowed for allowed in self._callables):
                raise EvalRefused(f"calling {func.id!r} is not allowed")
            args, kwargs = self._arguments(node)
            self._sizer.check_builtin_call(callee, args, kwargs)
            return callee(*args, **kwargs)  # type: ignore[operator]
        if isinstance(func, ast.Attribute):
            obj = self.eval(func.value)
            args, kwargs = self._arguments(node)
            # The method is looked up on str/PurePath themselves, never on
            # the object: a subclass or Path cannot substitute its own code.
            if isinstance(obj, str) and func.attr in STR_METHODS:
                args = list(self._sizer.check_str_method(obj, func.attr, args))
                return getattr(str, func.attr)(obj, *args, **kwargs)
            if isinstance(obj, PurePath) and func.attr in PATH_METHODS:
                return getattr(PurePath, func.attr)(obj, *args, **kwargs)
            raise EvalRefused(f"calling method {func.attr!r} on {type(obj).__name__} is not allowed")
        raise EvalRefused("only named functions and str/path methods may be called")

    def _arguments(self, node: ast.Call) -> tuple[list[object], dict[str, object]]:
        args = [self.eval(arg) for arg in node.args]
        kwargs = {kw.arg: self.eval(kw.value) for kw in node.keywords if kw.arg is not None}
        for value in [*args, *kwargs.values()]:
            # An allowed callee may call what it is given (max(key=...)),
            # e.g. max([p], key=Path.unlink) would delete a file.
            if callable(value):
                raise EvalRefused("passing functions or classes as arguments is not allowed")
        return args, kwargs

    def _binop(self, node: ast.BinOp) -> object:
        left = self.eval(node.left)
        right = self.eval(node.right)
        self._sizer.check_binop(node.op, left, right)
        return _BINOPS[type(node.op)](left, right)

    def _boolop(self, node: ast.BoolOp) -> object:
        is_and = isinstance(node.op, ast.And)
        value: object = None
        for sub in node.values:
            value = self.eval(sub)
            if bool(value) != is_and:  # short-circuit like Python
                return value
        return value

    def _compare(self, node: ast.Compare) -> object:
        left = self.eval(node.left)
        result: object = True
        for op, sub in zip(node.ops, node.comparators):
            right = self.eval(sub)
            result = _CMPOPS[type(op)](left, right)
            if not result:
                return result
            left = right
        return result

    def _sequence(self, node: ast.Tuple | ast.List | ast.Set) -> object:
        items = self._bounded_values(node.elts)
        if isinstance(node, ast.Tuple):
            return tuple(items)
        if isinstance(node, ast.List):
            return items
        return set(items)

    def _dict(self, node: ast.Dict) -> dict[object, object]:
        parts: list[ast.expr] = []
        for key, value in zip(node.keys, node.values):
            assert key is not None  # `**x` is refused statically
            parts += (key, value)
        flat = self._bounded_values(parts)
        return dict(zip(flat[::2], flat[1::2]))

    def _bounded_values(self, nodes: list[ast.expr]) -> list[object]:
        # Each element is bounded already; the running total caps how much
        # can be alive at once before the literal itself is checked.
        values: list[object] = []
        total = 0
        for sub in nodes:
            value = self.eval(sub)
            total += max(1, self._sizer.size(value))
            self._sizer.check_total(total)
            values.append(value)
        return values

    def _joined_str(self, node: ast.JoinedStr) -> str:
        parts: list[str] = []
        total = 0
        for value in node.values:
            part = self.eval(value)
            assert isinstance(part, str)  # Constant str or FormattedValue
            total += len(part)
            self._sizer.check_total(total)
            parts.append(part)
        return "".join(parts)

    def _formatted_value(self, node: ast.FormattedValue) -> str:
        value = self.eval(node.value)
        if node.conversion in _CONVERSIONS:
            value = _CONVERSIONS[node.conversion](value)
            self._sizer.check(value)
        spec = "" if node.format_spec is None else self.eval(node.format_spec)
        assert isinstance(spec, str)
        self._sizer.check_format_spec(value, spec)
        return format(value, spec)


def _source(node: ast.expr) -> str:
    """The expression text of a read, for messages (the AST is small: bounded by Limits)."""
    try:
        return ast.unparse(node)
    except Exception:  # an AST unparse cannot render; the message still says why
        return type(node).__name__


def _describe(exc: Exception) -> str:
    try:
        message = str(exc)
    except Exception:
        message = ""
    message = " ".join(message.split())  # keep it one line
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return reason if len(reason) <= _MAX_MESSAGE else reason[: _MAX_MESSAGE - 3] + "..."
