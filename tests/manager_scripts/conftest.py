"""Fixtures for the example job types in manager_scripts/ (run through tools/jobtype_shim.js).

test_examples.py needs no Blender and no Manager, only Node.js (`node`; skipped when it is
missing); test_on_manager.py holds the scripts and the shim against the real Manager.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

SHIM = REPO_ROOT / "tools" / "jobtype_shim.js"
JOB_TYPES_DIR = REPO_ROOT / "manager_scripts"
EXAMPLES = sorted(JOB_TYPES_DIR.glob("*.js"))
NODE = shutil.which("node")
NODE_MISSING_REASON = (
    "Node.js (`node`) is not on PATH: the job-type scripts are run by tools/jobtype_shim.js under Node"
)


@dataclass
class CompileResult:
    returncode: int
    body: dict[str, Any]
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def tasks(self) -> list[dict[str, Any]]:
        assert self.ok, f"compile failed: {self.body} {self.stderr}"
        return self.body["tasks"]

    @property
    def settings(self) -> dict[str, Any]:
        assert self.ok, f"compile failed: {self.body} {self.stderr}"
        return self.body["job"]["settings"]

    @property
    def error(self) -> str:
        assert not self.ok, f"compile unexpectedly succeeded: {self.body}"
        return self.body["message"]

    @property
    def thrown(self) -> str:
        assert not self.ok, f"compile unexpectedly succeeded: {self.body}"
        return self.body.get("thrown", self.body["message"])


class Shim:
    """Runs `node tools/jobtype_shim.js` (with TZ=UTC, so timestamps are predictable)."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.env = dict(os.environ, TZ="UTC")
        self._counter = 0

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert NODE is not None
        return subprocess.run(
            [NODE, str(SHIM), *args], capture_output=True, text=True, env=self.env, timeout=60
        )

    def export_raw(self, script: Path) -> str:
        proc = self.run("export", str(script))
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def export(self, script: Path) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.export_raw(script))
        return result

    def compile(self, script: Path, job: dict[str, Any]) -> CompileResult:
        self._counter += 1
        job_file = self.tmp_dir / f"job-{self._counter}.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        proc = self.run("compile", str(script), str(job_file))
        try:
            body = json.loads(proc.stdout)
        except json.JSONDecodeError:
            body = {"message": proc.stdout}
        return CompileResult(proc.returncode, body, proc.stderr)

    def node_eval(self, code: str) -> Any:
        """Run JS with `shim` = the shim module; the code must print one JSON document."""
        assert NODE is not None
        prelude = f"const shim = require({json.dumps(str(SHIM))});\n"
        proc = subprocess.run(
            [NODE, "-e", prelude + code], capture_output=True, text=True, env=self.env, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Shim:
    if NODE is None:
        pytest.skip(NODE_MISSING_REASON)
    return Shim(tmp_path_factory.mktemp("jobtype-shim"))
