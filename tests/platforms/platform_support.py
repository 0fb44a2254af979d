"""What the platform tests share besides fixtures (a module of its own: several test folders have
a conftest.py, so `from conftest import` would find another folder's)."""

from __future__ import annotations

import base64
import json
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

import local_farm

WINDOWS_STORAGE = "S:\\Flamenco"
PROBE_TAG = "platform-probe"


@dataclass
class FakeWorker:
    """A Worker of another platform, through the real Manager's Worker API: it asks for a task
    and keeps what the Manager hands it (no process, nothing run)."""

    farm: local_farm.Farm
    platform: str
    id: str = ""
    secret: str = ""

    def _post(self, path: str, body: Any) -> tuple[int, Any]:
        req = urllib.request.Request(self.farm.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        if self.id:
            token = base64.b64encode(f"{self.id}:{self.secret}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=10) as resp:
            data = resp.read()
            return resp.status, (json.loads(data) if data else None)

    def register(self) -> FakeWorker:
        name, self.secret = f"fake-{self.platform}-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
        task_types = list(local_farm.TASK_TYPES)
        _, reg = self._post("/api/v3/worker/register-worker", {
            "secret": self.secret, "platform": self.platform, "supported_task_types": task_types, "name": name})
        self.id = reg["uuid"]
        self._post("/api/v3/worker/sign-on", {"name": name, "supported_task_types": task_types,
                                              "software_version": "fake"})
        self._post("/api/v3/worker/state-changed", {"status": "awake"})
        tag = self.farm.ensure_tag(PROBE_TAG)
        self.farm.post_json(f"/api/v3/worker-mgt/workers/{self.id}/settags", {"tag_ids": [tag]})
        return self

    def take_task(self) -> dict[str, Any]:
        status, task = self._post("/api/v3/worker/task", {})
        assert status == 200, f"the Manager had no task for the fake {self.platform} Worker ({status})"
        return dict(task)

    def sign_off(self) -> None:
        self._post("/api/v3/worker/sign-off", {})
