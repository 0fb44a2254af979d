"""Test doubles for the Flamenco Manager API (no Blender needed)."""

from __future__ import annotations


class SleepRecorder:
    """Stands in for time.sleep so retry waits are recorded, not slept."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
