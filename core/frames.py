"""Local check of Flamenco's frame-range syntax, so typos are caught before a round trip.

The Manager accepts comma-separated items `N`, `A-B` or `A..B` (spaces allowed); no
negative frames, no steps and no reversed ranges (api-notes §7).
"""

from __future__ import annotations

import re

_ITEM = re.compile(r"^(\d+)(?:\s*(?:-|\.\.)\s*(\d+))?$")


class FrameRangeError(ValueError):
    pass


def parse_frames(text: str) -> list[int]:
    """The sorted, de-duplicated frames of `text`; raises FrameRangeError with a reason."""
    frames: set[int] = set()
    if not text.strip():
        raise FrameRangeError("the frame range is empty")
    for raw in text.split(","):
        item = raw.strip()
        match = _ITEM.match(item)
        if not match:
            raise FrameRangeError(
                f'"{item}" is not a frame or range; use e.g. "1-250", "1..10" or "1,5,9"'
            )
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) is not None else start
        if end < start:
            raise FrameRangeError(f'"{item}" runs backwards; write it as {end}-{start}')
        if end - start > 1_000_000:
            raise FrameRangeError(f'"{item}" has more than a million frames')
        frames.update(range(start, end + 1))
    return sorted(frames)


def format_frames(frames: "list[int] | set[int] | tuple[int, ...]") -> str:
    """The shortest frame list the Manager accepts for these frames: runs become `A-B`
    (two frames stay `A,B`), e.g. [3, 7, 12, 13, 14] → "3,7,12-14"."""
    ordered = sorted(set(frames))
    items: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            items.append(f"{ordered[i]}-{ordered[j]}")
        else:
            items.extend(str(f) for f in ordered[i:j + 1])
        i = j + 1
    return ",".join(items)
