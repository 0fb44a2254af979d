"""What the evaluator allows: the allow-lists and deny-lists in one place."""

from __future__ import annotations

import builtins
import types
from typing import Final

# Builtins an expression may call. All are pure; their arguments are
# size-checked in `guards.py` where they could allocate a lot (int, round).
SAFE_BUILTINS: Final[dict[str, object]] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "round": round,
    "min": min,
    "max": max,
    "len": len,
    "abs": abs,
}

# Names whose *values* (as passed by the caller in `names`) may be called.
# The call is allowed only if the resolved object is identical to the one
# passed under that name; the name text alone grants nothing.
CALLABLE_NAMES_FROM_CALLER: Final[tuple[str, ...]] = ("Path", "abspath", "last_n_dir_parts")

CALLABLE_NAMES: Final[frozenset[str]] = frozenset(SAFE_BUILTINS) | frozenset(CALLABLE_NAMES_FROM_CALLER)

# Pure `str` methods. Deliberately absent: format / format_map (they read
# attributes through "{0.__class__}"), encode (bytes), expandtabs (size
# bomb via tabsize), translate/maketrans (not needed).
STR_METHODS: Final[frozenset[str]] = frozenset(
    {
        "lower", "upper", "strip", "lstrip", "rstrip", "replace", "split",
        "rsplit", "join", "startswith", "endswith", "title", "capitalize",
        "zfill", "removeprefix", "removesuffix", "partition", "rpartition",
        "find", "rfind", "index", "rindex", "count", "isdigit", "isalpha",
        "isalnum", "isdecimal", "isnumeric", "isspace", "islower", "isupper",
        "splitlines", "casefold", "swapcase", "center", "ljust", "rjust",
    }
)  # fmt: skip

# Pure pathlib.PurePath methods: none of these touch the file system.
# Path-only methods (exists, resolve, read_text, unlink, home, cwd, ...)
# are never reachable because we call the PurePath implementation.
PATH_METHODS: Final[frozenset[str]] = frozenset(
    {
        "with_name", "with_suffix", "with_stem", "joinpath", "as_posix",
        "relative_to", "is_absolute", "is_relative_to", "match",
    }
)  # fmt: skip

# Attribute names refused anywhere, even though they do not start with "_":
# - interpreter internals of frames/code/generators/tracebacks, which lead
#   to globals and builtins;
# - `ops`: bpy.ops runs operators (quit, save, script execution, ...);
# - `driver_namespace`: bpy.app's dict holding __builtins__ and modules;
# - `clipboard`, `access_token`: readable secrets a spoofed Manager could
#   exfiltrate, since evaluated values are sent back to it.
DENIED_ATTRIBUTES: Final[frozenset[str]] = frozenset(
    {
        "gi_frame", "gi_code", "gi_yieldfrom", "gi_running", "gi_suspended",
        "cr_frame", "cr_code", "cr_await", "cr_origin", "cr_running",
        "ag_frame", "ag_code", "ag_await", "ag_running",
        "f_back", "f_builtins", "f_code", "f_globals", "f_locals", "f_trace",
        "f_lasti", "f_lineno",
        "tb_frame", "tb_next", "tb_lasti", "tb_lineno",
        "co_code", "co_consts", "co_names", "co_varnames", "co_filename",
        "func_globals", "func_code", "func_closure", "im_func", "im_self",
        "ops", "driver_namespace", "clipboard", "access_token",
    }
)  # fmt: skip

# Attributes refused on str instances only: `C.scene.render.ffmpeg.format`
# is a legitimate Blender property, but "...".format reads arbitrary
# attributes of its arguments.
DENIED_STR_ATTRIBUTES: Final[frozenset[str]] = frozenset({"format", "format_map"})

# Values that must never appear as an intermediate result: they are how
# sandbox escapes continue once something leaks.
DENIED_VALUE_TYPES: Final[tuple[type, ...]] = (
    types.FrameType,
    types.CodeType,
    types.TracebackType,
    types.GeneratorType,
    types.CoroutineType,
    types.AsyncGeneratorType,
)

# Every callable builtin except the safe ones (eval, exec, open, getattr,
# __import__, type, object, ...). Refused as values so that even reaching
# one through some container is stopped, not just calling it.
DENIED_BUILTIN_IDS: Final[frozenset[int]] = frozenset(
    id(value)
    for value in vars(builtins).values()
    if callable(value) and not any(value is safe for safe in SAFE_BUILTINS.values())
)

# f-string conversions: -1 none, 115 !s, 114 !r, 97 !a.
FSTRING_CONVERSIONS: Final[frozenset[int]] = frozenset({-1, 115, 114, 97})


def is_private(name: str) -> bool:
    """Names/attributes/keys starting with "_" are how dunder escapes begin."""
    return name.startswith("_")
