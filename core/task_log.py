"""What a task's log says that the artist needs to know: why it failed, and whether a GPU job
rendered on the CPU.

A task log as the Manager keeps it mixes three voices:
    pid=24096 > Error: Failed to denoise, build has no OpenImageDenoise support   (Blender, via the Worker)
    pid=24096 > 00:01.031  render           | Saved: '/x/0001.png'             (Blender 5's log format)
    Failed: command exited abnormally with code 1                                 (the Worker)
    2026-12-04T13:12:37Z task changed status active -> failed                    (the Manager)
The Worker's and Manager's lines say *that* it failed; Blender's say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from .plain_text import MAX_LINE, one_line, without_escapes

_PROCESS = re.compile(r"^pid=\d+ > ?")
# Blender 5: "00:00.935  render           | message"
_BLENDER5 = re.compile(r"^\d\d:\d\d[.:]\d+\s+[\w.]+\s+\|\s?")
_MANAGER = re.compile(r"^\d{4}-\d\d-\d\dT\S+ ")
_ERROR = re.compile(r"^(Error:|ERROR\b|Flamenco ERROR\b|Fatal\b|FATAL\b|Segmentation fault)")
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")
# Blender's words for a failure without "Error:" ("Couldn't open libGL.so.1 …").
_FAILURE_WORDS = re.compile(r"\b(couldn'?t|could not|cannot|can'?t|failed|unable to|aborted)\b", re.IGNORECASE)
_PROGRESS = re.compile(r"^Fra:")  # Blender's status lines repeat messages mid-render
_WORKER_FAILED = re.compile(r"^Failed: ")
# A GPU job type's warning that it went to the CPU ("… rendering on the CPU instead"), or a
# fallback said in other words. Not "renders on the CPU": a job that asked for the CPU says that.
_CPU_FALLBACK = re.compile(r"WARNING\b.*\bon the CPU instead|falling back to (the )?CPU", re.IGNORECASE)


# Failures an artist can fix from Blender, with what to do; Blender's own line says only what.
HINTS = (
    (re.compile(r"newer version of Blender"),
     "The Workers run an older Blender than the one that saved this file: save it with the "
     "farm's Blender version, or update Blender on the Workers."),
    (re.compile(r"no OpenImageDenoise support|Failed to denoise"),
     "The Workers' Blender cannot denoise: turn Denoise off under Render Properties > Sampling, "
     "or install a Blender with OpenImageDenoise on the Workers."),
)


@dataclass(frozen=True)
class LogLine:
    """One line of a task's log worth showing, with the task it came from."""

    task_name: str
    text: str

    def failure_message(self) -> str:
        hint = next((h for pattern, h in HINTS if pattern.search(self.text)), "")
        return f'Task "{self.task_name}" failed: {self.text}' + (f" {hint}" if hint else "")

    def cpu_fallback_message(self) -> str:
        return f'GPU job rendered on the CPU (task "{self.task_name}"): {self.text}'


def shown(text: str) -> str:
    """A line as it may be shown: no terminal escapes or control characters, bounded."""
    return one_line(text, MAX_LINE)


def blender_lines(log: str) -> Iterable[str]:
    """The lines the task's processes printed, without the Worker's and Blender 5's prefixes."""
    for raw in without_escapes(log).splitlines():  # a coloured "Error:" is still one
        if not _PROCESS.match(raw):
            continue
        yield _BLENDER5.sub("", _PROCESS.sub("", raw), count=1).strip()


def failure_line(log: str) -> Optional[str]:
    """Why the task failed: Blender's last explicit error line ("Error: …", a job type's
    "ERROR"), else its last words of failure (an exception, "Couldn't open …"; the last, because
    a Blender that carries on after an add-on's traceback at start-up did not fail of that),
    else the Worker's own `Failed: …`; None when the log says nothing of it."""
    error = other = None
    for line in blender_lines(log):
        if _PROGRESS.match(line):
            continue
        if _ERROR.match(line):
            error = line
        elif _EXCEPTION.match(line) or _FAILURE_WORDS.search(line):
            other = line
    if error or other:
        return shown(str(error or other))
    worker = [line for line in log.splitlines() if _WORKER_FAILED.match(line)]
    return shown(worker[-1]) if worker else None


def cpu_fallback_line(log: str) -> Optional[str]:
    """The line where a render meant for a GPU went to the CPU, if the log has one."""
    for line in blender_lines(log):
        if _CPU_FALLBACK.search(line) and not _MANAGER.match(line):
            return shown(line)
    return None
