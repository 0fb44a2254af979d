"""Text from the Manager as it may be shown or printed: one line, no terminal escapes, bounded.

Job names, task logs and the like come from the network. Printed unchecked in `blender -b`
output they could move the cursor, retitle the terminal, or start a line of their own that a
pipeline script reads as ours (``FLAMENCO_DESK_JOB_ID=…``)."""

from __future__ import annotations

import re

MAX_LINE = 300  # characters shown; a log line can be megabytes long

# Escape sequences first (CSI "ESC [ … letter", OSC "ESC ] … BEL or ESC \\", two-byte ESC x):
# the control-character class alone would take their ESC and leave the rest as text.
_ESCAPE = re.compile(r"\x1b\[[0-9;?<=>!]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-9;?]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def without_escapes(text: str) -> str:
    """`text` with terminal escape sequences removed (line breaks kept)."""
    return _ESCAPE.sub("", text)


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """`text` without escapes; line breaks and other control characters become spaces, lone
    surrogates U+FFFD."""
    if len(text) > 4 * limit + 64:  # never scan megabytes for what is cut off anyway
        text = text[: 4 * limit + 64]
    text = _CONTROL.sub(" ", _ESCAPE.sub("", text)).strip()
    # A lone surrogate (JSON allows "\ud800") cannot be printed: print() would raise.
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text if len(text) <= limit else text[: limit - 1] + "…"
