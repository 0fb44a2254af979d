"""Hostile expressions are refused, and refusing them has no effect at all."""

from __future__ import annotations

import time

import pytest
from conftest import World

from safe_eval import EvalError, EvalFailed, EvalRefused, Limits, check, evaluate

# Refused before anything runs: check() rejects them without names.
STATIC_REFUSALS = [
    # dunder escapes
    "().__class__.__bases__[0].__subclasses__()",
    "C.__class__",
    "settings.__dict__",
    "C.scene.render.__class__.__mro__",
    "str.__dict__",
    "''.join.__self__",
    'f"{C.__class__}"',
    "abspath.__globals__",
    "abspath.__globals__['os'].system('x')",
    "__import__('os').system('x')",
    "__builtins__",
    "C.scene.frame_set.__self__",
    "C.\uff3f\uff3fclass\uff3f\uff3f",  # fullwidth "_" is NFKC-normalised to "_"
    "ns['__builtins__']['eval']",
    # frame/code internals without underscores
    "ns['gen'].gi_frame.f_globals",
    "ns['frame'].f_locals",
    "x.tb_frame",
    "x.co_code",
    # Blender operators and friends
    "bpy.ops.wm.quit_blender()",
    "bpy.ops.wm.save_mainfile()",
    "bpy.ops",
    "max(1, 2, key=bpy.ops.wm.quit_blender)",
    "bpy.utils.register_class(C)",
    "bpy.app.driver_namespace",
    "bpy.app.driver_namespace['__builtins__']['eval']('1')",
    "C.window_manager.clipboard",
    "C.scene.frame_set(1)",
    "helper()",
    # builtins that are not allow-listed
    "open('/etc/passwd').read()",
    "exec('1')",
    "eval('1')",
    "getattr(C, 'scene')",
    "setattr(C, 'x', 1)",
    "type(C)",
    "vars(C)",
    "dir(C)",
    "globals()",
    "compile('1', 'f', 'eval')",
    "print(1)",
    "input()",
    "breakpoint()",
    "object()",
    "os.system('x')",
    # syntax that is never allowed
    "(lambda: 1)()",
    "[x for x in (1, 2)]",
    "{x for x in (1, 2)}",
    "{x: 1 for x in (1, 2)}",
    "max(x for x in (1, 2))",
    "(x := 1)",
    "[*(1, 2)]",
    "max(*[1, 2])",
    "max(**{'default': 1})",
    "{**{'a': 1}}",
    "import os",
    "x = 1",
    "await x",
    "(yield)",
    "b'x'",
    "1j",
    "...",
    "ns['ok']()",
    "max(1, 2)(3)",
    # format / format_map read attributes of their arguments
    '"{0.__class__}".format(C)',
    "'{.__class__}'.format_map",
    "C.scene.name.format(C)",
    "settings.frames.encode()",
    # file system through pathlib
    "Path(VICTIM).write_text('x')",
    "Path(NEWFILE).write_text('x')",
    "Path(VICTIM).unlink()",
    "Path(NEWFILE).touch()",
    "Path(NEWDIR).mkdir()",
    "Path(VICTIM).read_text()",
    "Path(VICTIM).exists()",
    "Path(VICTIM).open('w')",
    "Path(VICTIM).rename(NEWFILE)",
    "Path(TMP).iterdir()",
    "Path(TMP).glob('*')",
    "Path('.').resolve()",
    "Path.home()",
    "Path.cwd()",
    "Path.unlink(Path(VICTIM))",
    "Path(VICTIM).with_name('x').unlink()",
    # resource limits known from the source text
    "1 + " * 700 + "1",
    "-" * 60 + "1",
    "[" + "1, " * 600 + "]",
    "(" * 300 + ")" * 300,
    "-" * 1999 + "1",
]

# Only refused once values are known: they pass check(), evaluate() stops them.
RUNTIME_REFUSALS = [
    # modules other than the ones handed over
    "bpy.utils.register_class",
    "bpy.path.os",
    "bpy.types",
    "ns['os']",
    # computed private keys, dangerous values reached through data
    "ns['_' + '_builtins__']",
    "ns['evil']",
    "ns['gen']",
    "ns['frame']",
    "[ns['evil']][0]",
    "os",
    "unknown_name",
    # unbound methods, functions passed to callees that call them
    "str.join(',', ['a'])",
    "Path.joinpath(Path(VICTIM), 'x')",
    "max([Path(VICTIM)], key=Path.unlink)",
    "min(Path(VICTIM), Path(VICTIM), key=Path.unlink)",
    "max([1], key=len)",
    "str(Path)",
    "C.scene.name.format",
    # printf-style formatting and format-spec bombs
    "'%s' % C",
    "'%0999999999d' % 1",
    "f\"{'':{'>'*10**8}}\"",
    "f\"{'':>999999999}\"",
    'f"{1.0:.999999999f}"',
    "f\"{'x':{'9' * 5000}}\"",
    'f"{C.scene:>10}"',
    # memory / CPU bombs
    "'a' * 10**9",
    "10**9 * 'a'",
    "[0] * 10**9",
    "(0,) * 10**9",
    "9**9**9",
    "2**100000",
    "3 ** 10**400",
    "(-2) ** (2**2000)",
    "10**4000",
    "1 << 100000",
    "2 << 10**9",
    "10**1000 * 10**1000 * 10**1000 * 10**1000 * 10**1000",
    "'a' * 60000 + 'b' * 60000",
    "[[[0] * 100] * 100] * 100",
    "str([[0] * 1000] * 1000)",
    "['a' * 50000, 'b' * 50000, 'c' * 50000]",
    "{'a' * 50000: 'b' * 50000, 'c': 'd' * 50000}",
    "f\"{'a' * 60000}{'b' * 60000}\"",
    "'x'.center(10**9)",
    "'x'.zfill(10**9)",
    "'x'.ljust(10**9, '-')",
    "'x'.rjust(10**9)",
    "('a' * 1000).replace('a', 'b' * 1000)",
    "('a' * 1000).replace('', 'b' * 1000)",
    "('a' * 1000).join(['b'] * 1000)",
    "int('9' * 5000)",
    "round(1, -10**9)",
    "('\u00df' * 60000).upper()",  # each ß becomes SS
]


def _fill(world: World, expression: str) -> str:
    for token, path in (
        ("VICTIM", world.victim),
        ("NEWFILE", world.tmp / "new.txt"),
        ("NEWDIR", world.tmp / "newdir"),
        ("TMP", world.tmp),
    ):
        expression = expression.replace(token, repr(str(path)))
    return expression


@pytest.mark.parametrize("expression", STATIC_REFUSALS)
def test_statically_refused(world: World, expression: str) -> None:
    expression = _fill(world, expression)
    with pytest.raises(EvalRefused):
        check(expression)
    with pytest.raises(EvalRefused):
        evaluate(expression, world.names)
    world.assert_untouched()


@pytest.mark.parametrize("expression", RUNTIME_REFUSALS)
def test_refused_at_runtime(world: World, expression: str) -> None:
    expression = _fill(world, expression)
    check(expression)  # the static policy alone does not catch these ...
    with pytest.raises(EvalRefused) as info:  # ... the runtime checks do
        evaluate(expression, world.names)
    assert "\n" not in info.value.reason
    world.assert_untouched()


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("C.__class__", "attributes starting with '_' are not allowed: '__class__'"),
        ("bpy.ops.wm.quit_blender()", "attribute 'ops' is not allowed"),
        ("exec('1')", "calling 'exec' is not allowed"),
        ("(lambda: 1)()", "lambda expressions are not allowed"),
        ("[x for x in ()]", "comprehensions are not allowed"),
        ("Path('/x').unlink()", "calling method 'unlink' is not allowed"),
        ("os", "unknown name 'os'"),
        ("bpy.utils", "access to module 'bpy.utils' is not allowed"),
        ("'a' * 10**9", "value would be too large (more than 100000 characters/elements)"),
        ("9**9**9", "integer result would be too large (more than 4096 bits)"),
        ("str.join(',', ['a'])", "calling method 'join' on type is not allowed"),
    ],
)
def test_refusal_messages_are_clear(world: World, expression: str, message: str) -> None:
    with pytest.raises(EvalRefused) as info:
        evaluate(expression, world.names)
    assert info.value.reason == message
    assert str(info.value) == message


def test_names_only_grant_what_the_caller_passed(world: World) -> None:
    # `str` shadowed by a recorder: the name text is not what makes a call legal.
    world.names["str"] = world.names["helper"]
    with pytest.raises(EvalRefused):
        evaluate("str(1)", world.names)
    # Without `Path` in names, Path is just an unknown name.
    del world.names["Path"]
    with pytest.raises(EvalRefused, match="unknown name 'Path'"):
        evaluate("Path('x')", world.names)
    world.assert_untouched()


def test_non_string_expression_is_refused(world: World) -> None:
    with pytest.raises(EvalRefused, match="must be a str"):
        evaluate(b"1", world.names)  # type: ignore[arg-type]


def test_adversarial_work_stays_bounded(world: World) -> None:
    # Each term is allowed on its own; together they exceed the work budget.
    expression = " + ".join(["len([0] * 99999)"] * 40)
    start = time.monotonic()
    with pytest.raises(EvalRefused, match="too expensive"):
        evaluate(expression, world.names)
    assert time.monotonic() - start < 5


def test_custom_limits(world: World) -> None:
    small = Limits(max_size=10, max_expression_chars=30)
    assert evaluate("'a' * 10", world.names, limits=small) == "a" * 10
    with pytest.raises(EvalRefused):
        evaluate("'a' * 11", world.names, limits=small)
    with pytest.raises(EvalRefused, match="too long"):
        check("1 + " * 10 + "1", limits=small)


def test_error_hierarchy() -> None:
    assert issubclass(EvalRefused, EvalError)
    assert issubclass(EvalFailed, EvalError)
    assert not issubclass(EvalRefused, EvalFailed)
