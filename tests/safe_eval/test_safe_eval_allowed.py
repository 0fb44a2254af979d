"""Expressions Flamenco job types really use must evaluate like Python would."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from conftest import World

from safe_eval import check, evaluate

# (expression, expected value) — the first block is from Flamenco's built-in job types.
FLAMENCO_EXAMPLES: list[tuple[str, object]] = [
    ('f"{C.scene.frame_start}-{C.scene.frame_end}"', "1-250"),
    ("bpy.data.filepath", "/projects/shot_010/shot_010_lighting.blend"),
    ("C.scene.render.fps / C.scene.render.fps_base", 24 / 1.001),
    ("C.scene.render.image_settings.file_format", "PNG"),
    ("C.scene.render.file_extension", ".png"),
    ("C.scene.render.image_settings.use_preview", False),
    ("C.scene.name", "Scene"),
    (
        "str(Path(abspath(settings.render_output_root), last_n_dir_parts(settings.add_path_components),"
        " jobname, '{timestamp}', '######'))",
        "/projects/shot_010/render/shot_010/My Job/{timestamp}/######",
    ),
    ('"cycles" if C.scene.render.engine == "CYCLES" else "eevee"', "cycles"),
    ("settings.frames.split(',')[0]", "1-10"),
    ("Path(bpy.data.filepath).stem", "shot_010_lighting"),
    ("Path(bpy.data.filepath).name.replace('.blend', '')", "shot_010_lighting"),
    ("str(Path(bpy.data.filepath).parent / 'render')", "/projects/shot_010/render"),
    ("max(1, C.scene.render.resolution_percentage // 2)", 50),
    ("round(C.scene.render.fps / C.scene.render.fps_base, 3)", 23.976),
    ('f"{jobname}_{C.scene.frame_current:04d}"', "My Job_0042"),
    ("len(settings.frames) > 0", True),
    ("C.scene.render.engine.lower()", "cycles"),
    ("-1 * 2 ** 3", -8),
    ("[1, 2][0]", 1),
    ("(C.scene.frame_end - C.scene.frame_start + 1)", 250),
]

MORE_ALLOWED: list[tuple[str, object]] = [
    # bpy.app stays readable; only calling things is restricted.
    ("bpy.app.version", (5, 0, 1)),
    ("bpy.app.version_string", "5.0.1"),
    ("bpy.app.version[0] >= 4", True),
    ("bpy.data.objects['Cube'].name", "Cube"),
    # `format` is refused on str only; Blender has real properties of that name.
    ("C.scene.render.ffmpeg.format", "MPEG4"),
    # Pure path methods and attributes.
    ("Path('/a/b.png').with_suffix('.exr').as_posix()", "/a/b.exr"),
    ("Path('/a/b.png').with_stem('c').name", "c.png"),
    ("Path('/a/b.png').with_name('d.txt').suffix", ".txt"),
    ("str(Path('/a').joinpath('b', 'c'))", "/a/b/c"),
    ("str(Path('/a/b/c').relative_to('/a'))", "b/c"),
    ("Path('/a/b').is_relative_to('/a')", True),
    ("Path('/a/b').is_absolute()", True),
    ("Path('/a/b.blend').match('*.blend')", True),
    ("Path('/a/b/c').parts", ("/", "a", "b", "c")),
    ("Path('/a/b/c').parent.parent.name", "a"),
    ("str(Path('/a/b/c').parents[1])", "/a"),
    ("Path('x.tar.gz').suffixes", [".tar", ".gz"]),
    ("last_n_dir_parts(1, path=bpy.data.filepath)", PurePosixPath("shot_010")),
    # str methods, including keyword arguments.
    ("'x'.zfill(4)", "000x"),
    ("', '.join(['a', 'b'])", "a, b"),
    ("'a,b,c'.rsplit(',', maxsplit=1)", ["a,b", "c"]),
    ("'  hi '.strip().upper().center(6, '*')", "**HI**"),
    ("'shot_010'.removeprefix('shot_')", "010"),
    ("'a.blend'.partition('.')", ("a", ".", "blend")),
    ("'abc'.find('c') + 'abc'.count('b')", 3),
    ("'12'.isdigit() and not 'ab'.isdigit()", True),
    # f-strings: conversions, format specs, nested specs.
    ('f"{3.14159:.2f}"', "3.14"),
    ("f\"{'x'!r}\"", "'x'"),
    ('f"{C.scene.name!s:>7}"', "  Scene"),
    ("f\"{1:{'>'}{5}}\"", "    1"),
    ('f"{C.scene.frame_current:,}"', "42"),
    ('f"{Path(bpy.data.filepath).stem}"', "shot_010_lighting"),
    # Operators, literals, builtins.
    ("{'a': 1, 'b': [2, 3]}['b'][-1]", 3),
    ("'abc'[::-1]", "cba"),
    ("(1, 2) + (3,)", (1, 2, 3)),
    ("'x' in {'x', 'y'}", True),
    ("1 if None else 2", 2),
    ("0 or 'x'", "x"),
    ("1 and 0", 0),
    ("1 < 2 < 3", True),
    ("1 < 3 < 2", False),
    ("None is None and 1 is not None", True),
    ("2 ** 10 + (1 << 10) + (7 % 4) + (7 >> 1) + (6 & 3) + (6 | 1) + (6 ^ 1) + ~0", 1024 + 1024 + 3 + 3 + 2 + 7 + 7 - 1),
    ("2 ** 4095 > 0", True),
    ("2 ** -1", 0.5),
    ("abs(-3) + int('42') + int(2.9) + float('1.5')", 3 + 42 + 2 + 1.5),
    ("bool('') or str(C.scene.frame_end)", "250"),
    ("min([3, 1, 2]), max([], default=0)", (1, 0)),
    ("round(2.5, ndigits=0)", 2.0),
    ("'ab' * 3", "ababab"),
    ("[0] * 3", [0, 0, 0]),
    ("len([[0] * 300] * 300)", 300),
]


def _run(world: World, expression: str) -> Any:
    return evaluate(expression, world.names)


@pytest.mark.parametrize(("expression", "expected"), FLAMENCO_EXAMPLES + MORE_ALLOWED)
def test_allowed_expression_matches_python(world: World, expression: str, expected: object) -> None:
    result = _run(world, expression)
    assert result == expected
    assert type(result) is type(expected) or isinstance(result, type(expected))
    # Whatever evaluates must also pass the load-time static check.
    check(expression)
    world.assert_untouched()


@pytest.mark.parametrize(("expression", "expected"), FLAMENCO_EXAMPLES)
def test_flamenco_examples_agree_with_plain_eval(world: World, expression: str, expected: object) -> None:
    # The reference behaviour is the official add-on's bare eval().
    assert _run(world, expression) == eval(expression, {"__builtins__": __builtins__}, dict(world.names))


def test_path_result_is_a_real_path(world: World) -> None:
    result = _run(world, "Path(bpy.data.filepath).parent / 'render'")
    assert isinstance(result, Path)
    assert result == Path("/projects/shot_010/render")


def test_str_subclass_methods_use_the_real_str_implementation(world: World) -> None:
    # The override would record a call and return "hijacked".
    assert _run(world, "tricky.lower()") == "abc"
    world.assert_untouched()


def test_caller_supplied_path_is_allowed_by_identity(world: World) -> None:
    calls: list[str] = []

    def fake_path(text: str) -> str:
        calls.append(text)
        return "made:" + text

    world.names["Path"] = fake_path
    assert _run(world, "Path('x')") == "made:x"
    assert calls == ["x"]


def test_check_needs_no_names() -> None:
    for expression, _ in FLAMENCO_EXAMPLES:
        assert check(expression) is None
