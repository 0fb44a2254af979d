"""A batch on a Manager with Shaman: the shot is uploaded once for all its jobs."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import bpy
import pytest

from batch_support import camera_marker_shot, select_render, submit
from local_farm import Farm
from support.blender_helpers import cancel_unfinished, refresh


@pytest.fixture
def on_shaman(clean_desk: ModuleType, shaman_farm: Farm, prefs: Any) -> Iterator[ModuleType]:
    prefs.manager_url = shaman_farm.url
    prefs.connect_timeout, prefs.read_timeout = 1.0, 5.0
    refresh(clean_desk)
    assert clean_desk.state.info().storage.shaman_enabled
    yield clean_desk
    cancel_unfinished(shaman_farm)


def test_three_camera_jobs_share_one_shaman_upload(on_shaman: ModuleType, shaman_farm: Farm, tmp_path: Path,
                                                   monkeypatch: Any) -> None:
    desk = on_shaman
    bpy.context.scene["take"] = uuid.uuid4().hex  # contents the Manager cannot have yet
    camera_marker_shot(tmp_path / "artist" / "sq031_sh010.blend")
    select_render(desk, shaman_farm.shared / "renders" / "batch")
    bpy.context.scene.flamenco_desk.submit_paused = True  # the upload is what is tested

    client_class = desk.api.client.ManagerClient
    uploads: list[tuple[str, int]] = []
    checkouts: list[str] = []
    real_upload, real_checkout = client_class.shaman_upload, client_class.shaman_checkout

    def counting_upload(self: Any, sha: str, size: int, body: Any, **kwargs: Any) -> Any:
        uploads.append((sha, size))
        return real_upload(self, sha, size, body, **kwargs)

    def counting_checkout(self: Any, files: Any, checkout_path: str) -> Any:
        checkouts.append(checkout_path)
        return real_checkout(self, files, checkout_path)

    monkeypatch.setattr(client_class, "shaman_upload", counting_upload)
    monkeypatch.setattr(client_class, "shaman_checkout", counting_checkout)

    started = time.monotonic()
    outcome = submit(desk, batch="CAMERA_MARKERS")
    seconds = time.monotonic() - started
    assert outcome.ok, outcome.message
    jobs = [shaman_farm.job(i) for i in outcome.job_id.split(",")]
    assert len(jobs) == 3
    # One checkout for the batch, each file sent once (the .blend and BAT's pack info).
    assert len(checkouts) == 1, checkouts
    assert uploads and len({sha for sha, _ in uploads}) == len(uploads), uploads
    sent = sum(size for _, size in uploads)
    assert sent < 2 * (tmp_path / "artist" / "sq031_sh010.blend").stat().st_size, uploads
    blendfiles = {j["settings"]["blendfile"] for j in jobs}
    assert blendfiles == {f"{{jobs}}/{checkouts[0]}/sq031_sh010.blend"}
    assert (shaman_farm.jobs_root / checkouts[0] / "sq031_sh010.blend").is_file()
    # Deleting one job must not take the others' checkout with it: none claims it.
    assert all(not (j.get("storage") or {}).get("shaman_checkout_id") for j in jobs)
    print(f"\nBATCH on Shaman: click-to-3-queued-jobs {seconds:.2f} s, one upload: {len(uploads)} files, {sent} bytes")
