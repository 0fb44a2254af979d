"""Shared storage that stops answering (a hung Samba/NFS share) never freezes Blender.

The farm's job folder (`<shared>/flamenco-desk`) is shadowed by a pass-through FUSE mount of
itself (tests/support/fuse_share.py) whose calls the test holds: the add-on in this Blender
reaches the files through the mount, the real Worker (its chroot sees the folder without the
mount) reads the same files. With the share frozen, the submit and results operators and the
timer ticks return at once (measured: the longest main-thread call), the panel says it waits for
shared storage; after the thaw the job is submitted exactly once and renders, and the artist's
.blend is untouched.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import bpy
import pytest

from local_farm import Farm
from support.blender_helpers import farm_jobs, save_shot, select_job_type, tick_until, unique_name
from support.fake_layout import FakeLayout
from support.fuse_share import FuseShare

SUBMISSION_KEY = "flamenco_desk.submission_id"
# The project's bound for any main-thread call (tests/blender/test_never_blocks.py).
RETURNS_AT_ONCE = 0.5
WAITING = "Waiting for shared storage…"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def share(farm: Farm) -> Iterator[FuseShare]:
    folder = farm.shared / "flamenco-desk"
    folder.mkdir(parents=True, exist_ok=True)
    with FuseShare(folder, folder) as mounted:
        yield mounted


class Holds:
    """The longest main-thread call seen (operators and timer ticks)."""

    def __init__(self, desk: ModuleType) -> None:
        self.desk = desk
        self.longest = 0.0

    def call(self, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = fn()
        self.longest = max(self.longest, time.perf_counter() - start)
        return result

    def tick_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.call(self.desk.runtime.timer.tick)
            time.sleep(0.01)

    def tick_until(self, condition: Callable[[], Any], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not reached in time"
            self.call(self.desk.runtime.timer.tick)
            time.sleep(0.01)


def open_files_under(folder: Path) -> list[str]:
    """This process's open file descriptors pointing into `folder`."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(folder) + "/"):
            found.append(target)
    return found


def status_text(desk: ModuleType) -> str:
    layout = FakeLayout()
    desk.panels.submit_ui.draw_status(layout, bpy.context, bpy.context.scene)
    return layout.text()


def test_submit_with_the_share_frozen_waits_off_the_main_thread_then_submits_once_and_renders(
        connected: ModuleType, farm: Farm, share: FuseShare) -> None:
    desk = connected
    shared = Path(share.mountpoint)
    name = unique_name("frozen")
    shot = save_shot(shared / name / "shot.blend", 1, 1)  # the artist works on the share
    before = digest(shot)
    grp = select_job_type(desk, "simple-blender-render")
    grp.render_output_root = str(shared / name / "renders")
    holds = Holds(desk)

    share.freeze()
    assert holds.call(lambda: bpy.ops.flamenco_desk.submit_job(mode="ASYNC")) == {"FINISHED"}
    assert share.wait_for_waiting(1, timeout=10) >= 1, "the submission never reached the share"
    holds.tick_until(lambda: desk.submitting.waiting_line() is not None, timeout=10)
    holds.tick_for(1.0)
    assert WAITING in status_text(desk)
    assert bpy.data.filepath == str(shot)
    assert desk.submitting.last_outcome is None
    assert holds.longest < RETURNS_AT_ONCE, f"main thread held {holds.longest:.3f} s"
    frozen_hold = holds.longest

    share.thaw()
    holds.tick_until(lambda: desk.submitting.last_outcome is not None, timeout=60)
    outcome = desk.submitting.last_outcome
    assert outcome.ok, outcome.message
    assert WAITING not in status_text(desk)
    job = farm.job(outcome.job_id)
    made = farm_jobs(farm, **{SUBMISSION_KEY: job["metadata"][SUBMISSION_KEY]})
    assert [j["id"] for j in made] == [job["id"]], "exactly one job"
    blendfile = Path(job["settings"]["blendfile"])
    # Copied beside the artist's file by the background thread, under a name of its own.
    assert blendfile.parent == shot.parent and blendfile.name.startswith("shot.flamenco-"), blendfile
    assert digest(shot) == before, "the artist's file must not change"
    assert bpy.data.filepath == str(shot)
    assert not list((desk.state.cache_dir() / "staging").glob("*/shot.blend")), "the local staging copy is removed"
    # Nothing traced stays open on the share (a handle kept open pins the mount and goes stale).
    assert not open_files_under(shared), open_files_under(shared)
    farm.wait_for_job(job["id"], timeout=120)

    # Results with the share frozen: the operators answer later, through the queue.
    share.freeze()
    assert holds.call(lambda: bpy.ops.flamenco_desk.open_output_folder(job_id=job["id"], mode="ASYNC")) == {"FINISHED"}
    assert holds.call(lambda: bpy.ops.flamenco_desk.load_frames(job_id=job["id"], mode="ASYNC")) == {"FINISHED"}
    holds.tick_until(lambda: len(desk.runtime.share.waiting) == 2, timeout=10)
    assert share.calls_waiting() >= 1
    assert any(line.startswith("Waiting for shared storage (listing the rendered frames)")
               for line in desk.runtime.share.lines())
    assert holds.longest < RETURNS_AT_ONCE, f"main thread held {holds.longest:.3f} s"
    share.thaw()
    holds.tick_until(lambda: not desk.runtime.share.waiting and not desk.runtime.share.busy(f"frames:{job['id']}"),
                     timeout=20)
    assert any(img.filepath.endswith("0001.png") for img in bpy.data.images), [i.filepath for i in bpy.data.images]
    print(f"\nlongest main-thread call: {frozen_hold * 1000:.1f} ms while the submission waited, "
          f"{holds.longest * 1000:.1f} ms over the whole test")


def test_packing_onto_a_frozen_share_can_be_cancelled_and_leaves_nothing(
        connected: ModuleType, farm: Farm, share: FuseShare, tmp_path: Path) -> None:
    desk = connected
    name = unique_name("frozen-pack")
    artist = tmp_path / "artist"
    (artist / "tex").mkdir(parents=True)
    (artist / "tex" / "plate.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 200_000)
    img = bpy.data.images.new("plate", 4, 4)
    img.source, img.filepath, img.use_fake_user = "FILE", "//tex/plate.png", True
    shot = save_shot(artist / f"{name}.blend", 1, 1)  # local: packed into the frozen share
    before = digest(shot)
    select_job_type(desk, "simple-blender-render").render_output_root = str(farm.shared / "renders" / name)
    holds = Holds(desk)
    existing = set(p.name for p in Path(share.mountpoint).iterdir())
    jobs_before = len(farm.get_json("/api/v3/jobs")["jobs"])

    share.freeze()
    assert holds.call(lambda: bpy.ops.flamenco_desk.submit_job(mode="ASYNC")) == {"FINISHED"}
    assert share.wait_for_waiting(1, timeout=20) >= 1, "packing never reached the share"
    holds.tick_until(lambda: desk.submitting.waiting_line() is not None, timeout=10)
    assert WAITING in status_text(desk)
    assert bpy.ops.flamenco_desk.cancel_submission() == {"FINISHED"}
    holds.tick_for(0.5)
    assert "Cancelled; nothing will be submitted" in status_text(desk)
    assert holds.longest < RETURNS_AT_ONCE, f"main thread held {holds.longest:.3f} s"

    share.thaw()
    holds.tick_until(lambda: desk.submitting.last_outcome is not None, timeout=60)
    outcome = desk.submitting.last_outcome
    assert not outcome.ok and "Cancelled" in outcome.message, outcome.message
    assert len(farm.get_json("/api/v3/jobs")["jobs"]) == jobs_before, "no job"
    left = set(p.name for p in Path(share.mountpoint).iterdir()) - existing
    assert not left, f"left on shared storage: {left}"
    assert digest(shot) == before


def test_a_traced_blend_on_the_share_is_not_kept_open_and_is_read_afresh(tmp_path: Path) -> None:
    """BAT caches every .blend it opens for the whole process: an uncompressed file on the share
    stayed open (pinning the mount, going stale when the share hangs) and the next trace of the
    same path read the old content, so a dependency added since the last submission was missed."""
    from flamenco_desk_src.core import packing

    with FuseShare(tmp_path / "backing", tmp_path / "share") as mounted:
        shot = Path(mounted.mountpoint) / "shot.blend"
        bpy.ops.wm.read_homefile(use_empty=True)
        bpy.ops.wm.save_as_mainfile(filepath=str(shot), compress=False)  # read in place, not via a temp copy
        first = packing.survey(shot, in_place_roots=[shot.parent])
        assert [Path(d.path) for d in first.to_send + first.in_place] == [shot]
        assert not open_files_under(shot.parent), open_files_under(shot.parent)

        (shot.parent / "plate.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
        img = bpy.data.images.new("plate", 4, 4)
        img.source, img.filepath, img.use_fake_user = "FILE", "//plate.png", True
        bpy.ops.wm.save_as_mainfile(filepath=str(shot), compress=False)
        second = packing.survey(shot, in_place_roots=[shot.parent])
        assert sorted(Path(d.path).name for d in second.to_send + second.in_place) == ["plate.png", "shot.blend"]
        bpy.ops.wm.read_homefile(use_empty=True)  # leave the share
