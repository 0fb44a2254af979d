"""Static policy: parse an expression and reject disallowed syntax.

Runs before anything is evaluated, so an expression refused here has no
effect at all. Runtime checks in `evaluator.py` cover what depends on
values (which object a name is bound to, how big a string gets, ...).
"""

from __future__ import annotations

import ast
from typing import Final

from .errors import EvalRefused
from .limits import Limits
from .policy import (
    CALLABLE_NAMES,
    DENIED_ATTRIBUTES,
    DENIED_STR_ATTRIBUTES,
    FSTRING_CONVERSIONS,
    PATH_METHODS,
    STR_METHODS,
    is_private,
)

_LITERAL_TYPES: Final[tuple[type, ...]] = (str, int, float, bool, type(None))

# Node types that never need a check of their own: they carry no
# semantics beyond what their parent node already validates.
_SKIPPED: Final[tuple[type, ...]] = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)

# Friendly names for common refused syntax, so messages say what was wrong.
_REFUSED_SYNTAX: Final[dict[type, str]] = {
    ast.Lambda: "lambda expressions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "star-unpacking (*x) is not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}

_ALLOWED: Final[tuple[type, ...]] = (
    ast.Constant, ast.Name, ast.Attribute, ast.Subscript, ast.Slice,
    ast.Tuple, ast.List, ast.Set, ast.Dict, ast.JoinedStr, ast.FormattedValue,
    ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call,
    ast.keyword,
)  # fmt: skip


def parse(expression: object, limits: Limits) -> ast.Expression:
    """Parse and statically check `expression`; raise EvalRefused if not allowed."""
    if not isinstance(expression, str):
        raise EvalRefused(f"expression must be a str, not {type(expression).__name__}")
    if len(expression) > limits.max_expression_chars:
        raise EvalRefused(f"expression is too long ({len(expression)} > {limits.max_expression_chars} characters)")
    try:
        # mode="eval" accepts a single expression: statements (import,
        # assignments, def, ...) are syntax errors here.
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise EvalRefused(f"invalid expression syntax: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        # ValueError: NUL bytes, overlong int literals; the others: parser
        # stack exhaustion on pathological nesting.
        raise EvalRefused(f"invalid expression: {type(exc).__name__}") from None
    _Checker(limits).visit(tree.body, 1)
    return tree


class _Checker:
    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._nodes = 0

    def visit(self, node: ast.AST, depth: int) -> None:
        # Checked before recursing, so recursion depth is bounded here too.
        if depth > self._limits.max_depth:
            raise EvalRefused(f"expression is nested too deeply (more than {self._limits.max_depth} levels)")
        self._nodes += 1
        if self._nodes > self._limits.max_nodes:
            raise EvalRefused(f"expression is too complex (more than {self._limits.max_nodes} syntax nodes)")
        refused = _REFUSED_SYNTAX.get(type(node))
        if refused is not None:
            raise EvalRefused(refused)
        if not isinstance(node, _ALLOWED):
            raise EvalRefused(f"{type(node).__name__} syntax is not allowed")
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _SKIPPED):
                self.visit(child, depth + 1)
        # Children first, so the innermost problem is reported: for
        # `bpy.ops.wm.quit_blender()` that is `ops`, not the call.
        self._check_node(node)

    def _check_node(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            if type(node.value) not in _LITERAL_TYPES:
                raise EvalRefused(f"{type(node.value).__name__} literals are not allowed")
        elif isinstance(node, ast.Name):
            if is_private(node.id):
                raise EvalRefused(f"names starting with '_' are not allowed: {node.id!r}")
        elif isinstance(node, ast.Attribute):
            check_attribute_name(node.attr)
            if isinstance(node.value, (ast.Constant, ast.JoinedStr)) and node.attr in DENIED_STR_ATTRIBUTES:
                raise EvalRefused(f"attribute {node.attr!r} of str is not allowed")
        elif isinstance(node, ast.Subscript):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                check_key(key.value)
        elif isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise EvalRefused("dict unpacking (**x) is not allowed")
        elif isinstance(node, ast.Call):
            _check_call(node)
        elif isinstance(node, ast.FormattedValue):
            if node.conversion not in FSTRING_CONVERSIONS:
                raise EvalRefused("unknown f-string conversion")


def check_attribute_name(attr: str) -> None:
    if is_private(attr):
        raise EvalRefused(f"attributes starting with '_' are not allowed: {attr!r}")
    if attr in DENIED_ATTRIBUTES:
        raise EvalRefused(f"attribute {attr!r} is not allowed")


def check_key(key: str) -> None:
    # dict keys like "__builtins__" lead to the same places as dunder attributes.
    if is_private(key):
        raise EvalRefused(f"subscript keys starting with '_' are not allowed: {key!r}")


def _check_call(node: ast.Call) -> None:
    func = node.func
    if isinstance(func, ast.Name):
        if func.id not in CALLABLE_NAMES:
            raise EvalRefused(f"calling {func.id!r} is not allowed")
    elif isinstance(func, ast.Attribute):
        if func.attr not in STR_METHODS and func.attr not in PATH_METHODS:
            raise EvalRefused(f"calling method {func.attr!r} is not allowed")
    else:
        # e.g. x[0](), f()(): the callee would be an arbitrary value.
        raise EvalRefused("only named functions and str/path methods may be called")
    if any(kw.arg is None for kw in node.keywords):
        raise EvalRefused("keyword unpacking (**x) is not allowed")
