"""What the templates give the parts of a batch (bpy-free): each part fills them with its own
values (`batching.parts`); here the names are made distinct and two parts that would write
the same files are refused, before anything is submitted."""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Optional, Sequence

from .batch import safe_name_part
from .frames import FrameRangeError, parse_frames
from .results import OUTPUT_KEYS
from .templates import TemplateError


def distinct_names(names: Sequence[str], labels: Sequence[str]) -> list[str]:
    """The parts' names from the job-name template, as they are when they differ. A template
    that does not tell the parts apart (`{file}_{version}` in a batch per camera) is the
    base name: every part gets its label appended, as a batch without a template names its
    parts ("sq030_v004 CamRed"). Names still alike after that (one camera bound to two
    markers, a template without `{marker}`) are refused."""
    if len(set(names)) == len(names):
        return list(names)
    named = [f"{name} {safe_name_part(label)}" for name, label in zip(names, labels)]
    alike = [name for name, count in Counter(named).items() if count > 1]
    if alike:
        parts = [str(i + 1) for i, name in enumerate(named) if name == alike[0]]
        raise TemplateError(f'Job name: parts {" and ".join(parts)} of the batch would both be called "{alike[0]}"; '
                            "add a placeholder that tells them apart (e.g. {marker}) to the job-name template")
    return named


def output_of(settings: Mapping[str, Any]) -> str:
    """The path a job's frames go to, as sent (the first output setting it has)."""
    return next((value for key in OUTPUT_KEYS if isinstance(value := settings.get(key), str) and value), "")


def _frames(settings: Mapping[str, Any]) -> Optional[set[int]]:
    try:
        return set(parse_frames(str(settings["frames"])))
    except (KeyError, FrameRangeError):
        return None  # unknown: may be any frame


def output_clash(settings: Sequence[Mapping[str, Any]], labels: Sequence[str], hint: str) -> Optional[str]:
    """Why two parts would overwrite each other's frames (the same output path and frames in
    common: view layers of one range, scenes whose ranges overlap), or None. Parts of a batch
    per camera marker have frames of their own, so one path for all of them is one sequence."""
    seen: dict[str, list[int]] = {}
    for i, each in enumerate(settings):
        path = output_of(each)
        if not path:
            continue
        for j in seen.get(path, []):
            mine, theirs = _frames(each), _frames(settings[j])
            if mine is None or theirs is None or mine & theirs:
                return (f'Output template: {labels[j]} and {labels[i]} would write the same frames to "{path}"; '
                        f"add {hint} to the output template")
        seen.setdefault(path, []).append(i)
    return None
