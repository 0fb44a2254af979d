"""Test support: the real farm's fixtures and jobs, the fault proxy in front of the real Manager,
OpenAPI contract checks, and small helpers (no Blender needed)."""

from __future__ import annotations


class SleepRecorder:
    """Stands in for time.sleep so retry waits are recorded, not slept."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
