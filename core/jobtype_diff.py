"""Say in words how a job type changed, for the message after a 412 (outdated settings)."""

from __future__ import annotations

from typing import Optional

from ..api.models import JobType


def describe_change(old: Optional[JobType], new: Optional[JobType]) -> str:
    if new is None:
        return "the job type no longer exists on the Manager"
    if old is None:
        return "the job type is new to this computer"
    old_settings = {s.key: s.raw for s in old.settings}
    new_settings = {s.key: s.raw for s in new.settings}
    added = sorted(new_settings.keys() - old_settings.keys())
    removed = sorted(old_settings.keys() - new_settings.keys())
    changed = sorted(k for k in old_settings.keys() & new_settings.keys() if old_settings[k] != new_settings[k])
    parts = []
    if added:
        parts.append("new settings: " + ", ".join(added))
    if removed:
        parts.append("removed settings: " + ", ".join(removed))
    if changed:
        parts.append("changed settings: " + ", ".join(changed))
    if not parts:
        return "its label or description changed"
    return "; ".join(parts)
