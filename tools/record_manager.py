"""Record what a real Manager answers, for the few tests that need Manager data without a
running Manager (model parsing, the evaluator against real expressions).

    python tools/record_manager.py [RELEASE ...]     (default: every tested release)

Writes tests/recorded/<release>/job-types.json: `GET /api/v3/jobs/types` of that release's
Manager with the project's example scripts (manager_scripts/) installed, exactly as served.
tests/api/test_recorded.py checks that the recordings still match the live Manager.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import local_farm  # noqa: E402

RECORDED = local_farm.ROOT / "tests" / "recorded"


def recording_path(release: str) -> Path:
    return RECORDED / release / "job-types.json"


def record(release: str) -> Path:
    with tempfile.TemporaryDirectory(prefix="record-manager-") as tmp:
        with local_farm.Farm(Path(tmp), release, worker=False) as farm:
            answer = farm.get_json("/api/v3/jobs/types")
    path = recording_path(release)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(answer, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    for release in sys.argv[1:] or local_farm.TESTED_RELEASES:
        print(record(release))
