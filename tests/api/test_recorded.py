"""The recordings some tests use instead of a running Manager still say what it says."""

from __future__ import annotations

import json

from local_farm import Farm
from record_manager import recording_path


def test_recorded_job_types_match_the_live_manager(farm: Farm) -> None:
    path = recording_path(farm.release)
    recorded = json.loads(path.read_text(encoding="utf-8"))
    live = farm.get_json("/api/v3/jobs/types")
    assert live == recorded, f"{path} is out of date: run python tools/record_manager.py {farm.release}"

