"""The fault table: a fault injected at a moment, against the real Manager and Worker, with
the add-on running in real Blender (the bpy module), and what came of it.

Moments: refresh (job types), POST /jobs/check, POST /jobs (before / after the Manager stored
the job), packing into shared storage, the Shaman upload, monitoring an active job, a job
action. Faults: the Manager frozen (SIGSTOP) for longer than the read timeout, then resumed;
killed and restarted on the same port and database; replaced by the other release on the
same port; the fault proxy (tests/support/fault_proxy.py) dropping the answer, answering
slowly (2 s, then 10 KB/s), cutting the body in half, answering 502 with an HTML page; the
Worker killed mid-task; shared storage full (a small tmpfs, needs root); the artist opening
another file or quitting Blender (the add-on unregistered) while a submission runs.

Columns: what the artist saw (verbatim), the longest main-thread hold (every operator call
and timer tick, timed), the row's jobs on the Manager afterwards, whether the artist's .blend
is byte-identical, leftovers on shared storage, and whether and how the add-on recovered.
Each row's invariants (≤ 1 job, file unchanged, hold within the project's bound, recovered
without restarting Blender) are checked by `Row.problems()`; tests/faults/test_fault_table.py
runs one row of each fault kind.

Run: .venv/bpy-5.0.1/bin/python bench/faults.py [--rows ID,ID…] [--out docs/faults.md]
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "tools", ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import local_farm  # noqa: E402
from local_farm import Farm  # noqa: E402
from support.fault_proxy import FaultProxy  # noqa: E402

# The project's bound for anything on Blender's main thread (bench/main_thread_hold.py,
# tests/blender/test_never_blocks.py).
BOUND = 0.5
CONNECT_TIMEOUT, READ_TIMEOUT = 1.0, 3.0
FREEZE = READ_TIMEOUT + 2.0  # "longer than the read timeout"
OTHER = {"3.8.5": "3.6", "3.6": "3.8.5"}
MODULE = "bl_ext.user_default.flamenco_desk"


@dataclasses.dataclass
class Row:
    id: str
    moment: str
    fault: str
    key: str = ""  # moment:fault, stable across runs (the test picks rows by it)
    saw: str = ""
    hold: float = 0.0
    jobs: int = 0
    unchanged: bool = True
    leftovers: list[str] = dataclasses.field(default_factory=list)
    recovered: str = ""
    recovered_ok: bool = False
    recovery_s: Optional[float] = None
    exception: str = ""  # an explained exception to "recovered without restarting Blender"
    error: str = ""  # the bench itself failed on this row

    def problems(self) -> list[str]:
        out = []
        if self.error:
            out.append(f"bench error: {self.error}")
        if self.jobs > 1:
            out.append(f"{self.jobs} jobs on the Manager")
        if not self.unchanged:
            out.append("the artist's .blend changed")
        if self.hold > BOUND:
            out.append(f"main thread held {self.hold * 1000:.0f} ms (bound {BOUND * 1000:.0f} ms)")
        if not self.recovered_ok and not self.exception:
            out.append("did not recover")
        if self.leftovers:
            out.append(f"leftovers: {self.leftovers}")
        return out

    def markdown(self) -> str:
        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", " ")

        rec = self.recovered + (f" ({self.recovery_s:.1f} s)" if self.recovery_s is not None else "")
        if self.exception:
            rec += f" — {self.exception}"
        left = ", ".join(self.leftovers) if self.leftovers else "none"
        flag = "" if not self.problems() else " **✗ " + "; ".join(self.problems()) + "**"
        return (f"| {self.id} | {self.moment} | {self.fault} | {cell(self.saw) or '(nothing)'} | "
                f"{self.hold * 1000:.0f} ms | {self.jobs} | {'yes' if self.unchanged else '**no**'} | "
                f"{cell(left)} | {cell(rec)}{flag} |")


HEADER = ("| # | moment | fault | what the artist saw | longest main-thread hold | jobs | .blend unchanged | "
          "leftovers on shared storage | recovered |\n|---|---|---|---|---:|---:|---|---|---|")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"


class Hold:
    """Times every call made on Blender's main thread (operators, timer ticks)."""

    def __init__(self) -> None:
        self.worst = 0.0

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.worst = max(self.worst, time.perf_counter() - start)


class Bench:
    """Two real farms of the release under test, each behind a fault proxy: one with a Worker
    (submissions packed to shared storage, monitoring, job actions), one with Shaman and no
    Worker (uploads, and the release swap, which a Worker would not survive)."""

    def __init__(self, desk: ModuleType, work: Path, release: str = local_farm.DEFAULT_RELEASE,
                 worker_blender: str = local_farm.DEFAULT_WORKER_BLENDER) -> None:
        self.desk, self.work, self.release = desk, work, release
        self.farm = Farm(work / "farm", release, worker_blender=worker_blender, name="Flamenco Desk Fault Farm")
        self.shaman = Farm(work / "shaman", release, shaman=True, worker=False, name="Flamenco Desk Fault Shaman")
        self.proxy = FaultProxy(self.farm.url, release)
        self.sproxy = FaultProxy(self.shaman.url, release)
        self.other: Optional[Farm] = None  # the other release, on the Shaman farm's port while swapped
        self.swapped_jobs: list[dict[str, Any]] = []
        self.hold = Hold()
        self._long_job: Optional[str] = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> Bench:
        self.farm.start()
        self.shaman.start()
        self.proxy.start()
        self.sproxy.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for t in self._threads:
            t.join(30)
        self.proxy.stop()
        self.sproxy.stop()
        if self.other is not None:
            self.other.stop()
        self.farm.stop()
        self.shaman.stop()

    # -- main thread --------------------------------------------------------------------------

    def tick(self) -> None:
        self.hold.call(self.desk.runtime.timer.tick)

    def tick_until(self, cond: Callable[[], Any], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                return False
            self.tick()
            time.sleep(0.01)
        return True

    def tick_for(self, seconds: float) -> None:
        self.tick_until(lambda: False, seconds)

    def op(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        return self.hold.call(fn, **kwargs)

    def point(self, proxy: FaultProxy) -> None:
        import bpy

        prefs = bpy.context.preferences.addons[MODULE].preferences
        prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = proxy.url, CONNECT_TIMEOUT, READ_TIMEOUT

    def refresh(self) -> bool:
        import bpy

        state = self.desk.state
        self.op(bpy.ops.flamenco_desk.refresh_manager)
        self.tick_until(lambda: not self.desk.runtime.timer.bridge.busy(state.REFRESH_KEY), 30)
        line = state.connection_line()
        return line is not None and line.icon != "ERROR"

    # -- faults on the real processes ----------------------------------------------------------

    @staticmethod
    def manager_pid(farm: Farm) -> int:
        return farm._manager.pid  # type: ignore[union-attr]

    def freeze(self, farm: Farm, seconds: float = FREEZE) -> threading.Event:
        """SIGSTOP the Manager, SIGCONT it `seconds` later (from a thread); the event is set then."""
        pid, resumed = self.manager_pid(farm), threading.Event()
        os.kill(pid, signal.SIGSTOP)

        def thaw() -> None:
            time.sleep(seconds)
            os.kill(pid, signal.SIGCONT)
            resumed.set()

        self._spawn(thaw)
        return resumed

    def kill_restart(self, farm: Farm, down: float = 1.0) -> threading.Event:
        """SIGKILL the Manager (no clean shut-down), start it again on its port and database."""
        proc, up = farm._manager, threading.Event()
        assert proc is not None
        proc.kill()
        proc.wait(10)
        farm._manager = None

        def restart() -> None:
            time.sleep(down)
            farm.start_manager()
            up.set()

        self._spawn(restart)
        return up

    def swap_release(self) -> None:
        """The Shaman farm's Manager replaced by the other release on the same port (a Manager
        of its own, with its own database: what an admin installing the other release runs)."""
        self.shaman.stop_manager()
        if self.other is None:
            self.other = Farm(self.work / "other", OTHER[self.release], shaman=True, worker=False,
                              port=self.shaman.port, name="Flamenco Desk Other Release")
            self.other.shared = self.shaman.shared  # the studio's storage does not move
            self.other._write_files()
        self.other.start_manager()

    def swap_back(self) -> None:
        assert self.other is not None
        # What the other release holds is counted too (its database is its own).
        self.swapped_jobs.extend(self.other.get_json("/api/v3/jobs")["jobs"])
        self.other.stop_manager()
        self.shaman.start_manager()

    def _spawn(self, fn: Callable[[], None]) -> None:
        t = threading.Thread(target=fn, daemon=True)
        t.start()
        self._threads.append(t)

    # -- what is on the farm ---------------------------------------------------------------------

    def jobs_for(self, blend: Path, farms: tuple[Farm, ...]) -> list[dict[str, Any]]:
        found = []
        for farm in farms:
            local_farm.wait_until(lambda: _answers(farm), 60, "the Manager to answer")
            for job in farm.get_json("/api/v3/jobs")["jobs"]:
                if job.get("metadata", {}).get("blendfile") == str(blend):
                    found.append(job)
        if self.shaman in farms:
            found += [j for j in self.swapped_jobs if j.get("metadata", {}).get("blendfile") == str(blend)]
        return found

    @staticmethod
    def storage_tree(farm: Farm) -> set[str]:
        root = farm.shared
        return {str(p.relative_to(root)) for p in root.rglob("*")
                if "file-store" not in p.parts and "renders" not in p.parts}

    def leftovers(self, farm: Farm, before: set[str], jobs: list[dict[str, Any]]) -> list[str]:
        """New paths on shared storage that no job of this row uses (a pack or checkout folder
        belongs to the job whose .blend is in it)."""
        used = [str(Path(str(j.get("settings", {}).get("blendfile", "")).replace("{jobs}", str(farm.jobs_root))).parent)
                for j in jobs]
        new = self.storage_tree(farm) - before
        left = []
        for rel in sorted(new):
            full = str(farm.shared / rel)
            if any(full == u or full.startswith(u + "/") or u.startswith(full + "/") for u in used):
                continue
            if not any(rel.startswith(other + "/") for other in left):
                left.append(rel)
        return left

    def long_job(self) -> str:
        """An active job on the Worker (echo-sleep-test, 2 s × 60) for the monitoring rows."""
        from support import farm_jobs

        job = self._long_job
        if job is None or self.farm.job(job)["status"] not in ("active", "queued"):
            job = farm_jobs.echo_job(self.farm, f"fault-monitor-{uuid.uuid4().hex[:6]}", sleep=2, repeats=60,
                                     paused=False)
            self.farm.kick_worker()
            local_farm.wait_until(lambda: self.farm.job(job)["status"] == "active", 90, "the job to run")
            self._long_job = job
        return job


def _answers(farm: Farm) -> bool:
    try:
        farm.get_json("/api/v3/version", timeout=2)
        return True
    except (OSError, ValueError):
        return False


# -- the rows ---------------------------------------------------------------------------------------

FaultSpec = Callable[[Bench, FaultProxy, Farm], Callable[[], None]]  # arms; returns clear()


def _artist_shot(b: Bench, row_id: str, megabytes: int = 2, where: Optional[Path] = None) -> Path:
    """A new saved shot with one texture, outside shared storage unless `where` says."""
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    folder = (where or b.work / "artist") / row_id
    (folder / "tex").mkdir(parents=True, exist_ok=True)
    (folder / "tex" / "plate.exr").write_bytes(os.urandom(megabytes * 1_000_000))
    img = bpy.data.images.new("plate", 4, 4)
    img.source, img.filepath, img.use_fake_user = "FILE", "//tex/plate.exr", True
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 1, 2
    cam = bpy.data.objects.new("Cam", bpy.data.cameras.new("Cam"))
    scene.collection.objects.link(cam)
    scene.camera = cam
    blend = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    return blend


def _prepare_submission(b: Bench, farm: Farm) -> None:
    import bpy

    desk = b.desk
    scene = bpy.context.scene
    sp = desk.props.scene_props(scene)
    sp.job_type = "simple-blender-render"
    sp.submit_paused = True  # nothing renders: the rows are about the submission
    desk.jobtypes.registry.group(scene).render_output_root = str(farm.shared / "renders")


@dataclasses.dataclass
class Refused:
    """The submit operator itself refused (an ERROR report: a RuntimeError in the bpy module)."""

    message: str
    ok: bool = False


def _press_submit(b: Bench) -> Optional[Refused]:
    import bpy

    b.desk.submitting.last_outcome = None
    try:
        b.op(bpy.ops.flamenco_desk.submit_job, mode="ASYNC")
    except RuntimeError as ex:
        return Refused(str(ex).strip())
    return None


def _submit(b: Bench, timeout: float = 90.0) -> Any:
    refused = _press_submit(b)
    if refused is not None:
        return refused
    b.tick_until(lambda: b.desk.submitting.last_outcome is not None, timeout)
    return b.desk.submitting.last_outcome


def _saw_submission(b: Bench, outcome: Any) -> str:
    if outcome is None:
        return f"(no outcome after 90 s; panel: {b.desk.submitting.progress_line})"
    return str(outcome.message)


def submission_row(b: Bench, row: Row, arm: Callable[[], Callable[[], None]], *, shaman: bool = False,
                   during: Optional[Callable[[], None]] = None, where: Optional[Path] = None,
                   on_share: bool = False) -> None:
    """Submit a fresh shot with `arm()`ed fault (returns the fault's clear()); the artist's
    `during` action runs while it is under way. Recovery: after clear(), the artist's next
    Submit (in the same Blender) must give exactly one job."""
    import bpy

    desk = b.desk
    farm, proxy = (b.shaman, b.sproxy) if shaman else (b.farm, b.proxy)
    b.point(proxy)
    b.tick_until(lambda: not desk.runtime.timer.bridge.pending(), 30)
    blend = _artist_shot(b, row.id, where=where)
    before_hash, tree = sha(blend), b.storage_tree(farm)
    if not b.refresh():
        raise RuntimeError(f"refresh failed before the row: {desk.state.connection_line()}")
    _prepare_submission(b, farm)
    b.hold.worst = 0.0
    clear = arm()
    if during is None:
        outcome = _submit(b)
    else:
        outcome = _press_submit(b)
        if outcome is None:
            during()
            b.tick_until(lambda: desk.submitting.last_outcome is not None, 90)
            outcome = desk.submitting.last_outcome
    row.saw = _saw_submission(b, outcome)
    cleared = time.monotonic()
    clear()
    if row.exception:  # Blender was "quit": the next start registers the add-on again
        pass
    if outcome is not None and outcome.ok:
        row.recovered, row.recovered_ok, row.recovery_s = "not needed: the job was submitted", True, None
    else:
        if bpy.data.filepath != str(blend):
            b.op(bpy.ops.wm.open_mainfile, filepath=str(blend))
        local_farm.wait_until(lambda: _answers(farm), 60, "the Manager to answer")
        b.refresh()
        _prepare_submission(b, farm)
        again = _submit(b)
        row.recovery_s = time.monotonic() - cleared
        row.recovered_ok = again is not None and again.ok
        row.recovered = f"Submit again: {_saw_submission(b, again)}"
    b.tick_until(lambda: not desk.runtime.timer.bridge.pending(), 60)
    jobs = b.jobs_for(blend, (farm,))
    row.jobs, row.hold = len(jobs), b.hold.worst
    row.unchanged = sha(blend) == before_hash
    row.leftovers = b.leftovers(farm, tree, jobs)
    for job in jobs:  # leave the Worker free
        with contextlib.suppress(OSError):
            farm.post_json(f"/api/v3/jobs/{job['id']}/setstatus", {"status": "cancel-requested", "reason": "bench"})


def refresh_row(b: Bench, row: Row, arm: Callable[[], Callable[[], None]], *, shaman: bool = False) -> None:
    desk = b.desk
    farm, proxy = (b.shaman, b.sproxy) if shaman else (b.farm, b.proxy)
    b.point(proxy)
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    b.hold.worst = 0.0
    clear = arm()
    b.refresh()
    line = desk.state.connection_line()
    row.saw = line.text if line else ""
    cleared = time.monotonic()
    clear()
    local_farm.wait_until(lambda: _answers(farm), 60, "the Manager to answer")
    ok = b.refresh()
    row.recovery_s = time.monotonic() - cleared
    line = desk.state.connection_line()
    row.recovered_ok = ok and desk.state.info() is not None
    row.recovered = f"Refresh again: {line.text if line else ''}"
    row.hold, row.jobs = b.hold.worst, 0


def _monitor_saw(desk: ModuleType) -> str:
    mon = desk.watching.monitor
    bits = [mon.error or "", mon.status_line()]
    return " / ".join(b for b in bits if b)


def monitor_row(b: Bench, row: Row, arm: Callable[[], Callable[[], None]], *, job_id: Optional[str] = None,
                farm: Optional[Farm] = None, proxy: Optional[FaultProxy] = None, watch: float = 8.0,
                websockets: str = "pass", done: Optional[Callable[[Any], bool]] = None) -> None:
    """Watch an active job (the add-on's monitor, the timer ticking as in Blender), arm the
    fault for `watch` seconds, clear it; recovered = the monitor current again (no error, the
    job's status the Manager's) by ticking alone."""
    import bpy

    desk = b.desk
    farm, proxy = farm or b.farm, proxy or b.proxy
    job_id = job_id or b.long_job()
    b.point(proxy)
    proxy.websockets = websockets
    bpy.ops.wm.read_homefile(use_empty=True)
    b.refresh()
    mon = desk.watching.monitor
    b.op(bpy.ops.flamenco_desk.open_job, job_id=job_id)
    if not b.tick_until(lambda: mon.open_job is not None and mon.open_job.id == job_id, 30):
        raise RuntimeError("the monitor never showed the job")
    b.tick_for(1.0)
    b.hold.worst = 0.0
    seen: list[str] = []
    clear = arm()
    end = time.monotonic() + watch
    while time.monotonic() < end:
        b.tick()
        text = _monitor_saw(desk)
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        time.sleep(0.02)
    row.saw = " → ".join(seen[-3:])
    cleared = time.monotonic()
    clear()

    def current() -> bool:
        if mon.error is not None or mon.open_job is None:
            return False
        try:
            real = farm.job(job_id)
        except OSError:
            return False
        return (done or (lambda j: mon.open_job.status == real["status"]))(real)

    ok = b.tick_until(current, 90)
    row.recovery_s = time.monotonic() - cleared
    row.recovered_ok = ok
    row.recovered = ("by itself: " if ok else "NOT within 90 s: ") + (_monitor_saw(desk) or f"status {mon.open_job.status if mon.open_job else '?'}")
    row.hold, row.jobs = b.hold.worst, 1
    proxy.websockets = "pass"


def action_row(b: Bench, row: Row, arm: Callable[[], Callable[[], None]], action: str) -> None:
    """A job action on a job of the farm (cancel: a paused job; requeue: a canceled one;
    pause: a queued one), with the fault armed. Recovered = the monitor shows the status the
    action asked for, by itself or after pressing the button once more."""
    import bpy
    from support import farm_jobs

    desk = b.desk
    b.point(b.proxy)
    bpy.ops.wm.read_homefile(use_empty=True)
    b.refresh()
    job_id = farm_jobs.echo_job(b.farm, f"fault-action-{row.id}", sleep=1, repeats=1, paused=True)
    if action == "requeue":
        b.farm.post_json(f"/api/v3/jobs/{job_id}/setstatus", {"status": "cancel-requested", "reason": "bench"})
        local_farm.wait_until(lambda: b.farm.job(job_id)["status"] == "canceled", 30, "canceled")
    elif action == "pause":
        b.farm.post_json(f"/api/v3/jobs/{job_id}/setstatus", {"status": "queued", "reason": "bench"})
    want = {"cancel": ("canceled",), "requeue": ("queued", "active", "completed"),
            "pause": ("paused",)}[action]
    mon = desk.watching.monitor
    b.op(bpy.ops.flamenco_desk.open_job, job_id=job_id)
    b.tick_until(lambda: mon.open_job is not None and mon.open_job.id == job_id and mon.error is None, 30)
    from importlib import import_module

    feedback = import_module(desk.__name__ + ".operators.jobs").feedback
    feedback.text = ""
    b.hold.worst = 0.0
    clear = arm()
    b.op(bpy.ops.flamenco_desk.job_action, job_id=job_id, action=action)
    b.tick_until(lambda: feedback.text and not feedback.text.endswith("…"), 60)
    row.saw = feedback.text
    cleared = time.monotonic()
    clear()
    local_farm.wait_until(lambda: _answers(b.farm), 60, "the Manager to answer")
    ok = b.tick_until(lambda: mon.open_job is not None and mon.open_job.status in want and mon.error is None, 6)
    how = "by itself"
    if not ok:
        how = "pressed again"
        if mon.open_job is not None and desk.core.job_actions.allowed(action, mon.open_job.status, None):
            b.op(bpy.ops.flamenco_desk.job_action, job_id=job_id, action=action)
        ok = b.tick_until(lambda: mon.open_job is not None and mon.open_job.status in want and mon.error is None, 30)
    row.recovery_s = time.monotonic() - cleared
    row.recovered_ok = ok
    row.recovered = f"{how}: job {mon.open_job.status if mon.open_job else '?'}" + ("" if ok else f" (wanted {want[0]})")
    row.hold, row.jobs = b.hold.worst, 1
    farm_jobs.cancel_runnable(b.farm, [job_id])


# -- fault arms ------------------------------------------------------------------------------------


def manager_fault(b: Bench, farm: Farm, proxy: FaultProxy, kind: str, path: str, method: str,
                  when: str = "before") -> Callable[[], None]:
    """Freeze / kill the Manager when a matching request arrives ("after": once it acted)."""
    state: dict[str, threading.Event] = {}

    def fire() -> None:
        state["done"] = b.freeze(farm) if kind == "freeze" else b.kill_restart(farm)

    proxy.on_request(path, fire, when=when, method=method)

    def clear() -> None:
        proxy.clear_faults()
        if "done" in state:
            state["done"].wait(60)

    return clear


def proxy_fault(proxy: FaultProxy, kind: str, path: str, method: str) -> Callable[[], None]:
    if kind == "drop":
        proxy.drop_response(path, method=method, times=1)
    elif kind == "slow":
        proxy.slow(path, 2.0, 10_000, method=method, times=None)
    elif kind == "cut":
        proxy.cut_body(path, method=method, times=1)
    elif kind == "502":
        proxy.bad_gateway(path, method=method, times=None)
    return proxy.clear_faults


@contextlib.contextmanager
def tmpfs(mountpoint: Path, size: str) -> Iterator[Path]:
    mountpoint.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


FAULT_NAMES = {
    "freeze": f"Manager frozen (SIGSTOP {FREEZE:.0f} s > read timeout {READ_TIMEOUT:.0f} s), resumed",
    "kill": "Manager killed (SIGKILL), restarted on its port and database",
    "swap": "Manager replaced by {other} on the same port",
    "drop": "proxy: answer dropped (the Manager acted)",
    "slow": "proxy: slow answers (2 s, then 10 KB/s)",
    "cut": "proxy: body cut in half",
    "502": "proxy: 502 with an HTML page",
    "worker": "Worker killed (SIGKILL) mid-task, restarted",
    "full": "shared storage full (1 MB tmpfs)",
    "frozen": f"shared storage frozen (FUSE, every call held {FREEZE:.0f} s), thawed",
    "open": "artist opens another file",
    "quit": "artist quits Blender (add-on unregistered)",
}

MOMENT_KEYS = {
    "refresh (job types)": "refresh",
    "POST /jobs/check": "check",
    "POST /jobs, before the Manager stored the job": "post-before",
    "POST /jobs, after the Manager stored the job": "post-after",
    "packing into shared storage": "pack",
    "copying the unsaved .blend onto shared storage": "copy",
    "Shaman upload": "upload",
    "monitoring an active job": "monitor",
    "monitoring an active job (polling)": "monitor-poll",
    "job action: cancel": "cancel",
    "job action: requeue": "requeue",
    "job action: pause": "pause",
}

TYPES_PATH, CHECK_PATH, JOBS_PATH = r"^/api/v3/jobs/types$", r"^/api/v3/jobs/check$", r"^/api/v3/jobs$"
UPLOAD_PATH = r"^/api/v3/shaman/files/"


def build_rows(b: Bench) -> list[tuple[Row, Callable[[Row], None]]]:
    rows: list[tuple[Row, Callable[[Row], None]]] = []
    n = 0

    def add(moment: str, fault: str, run: Callable[[Row], None], note: str = "") -> None:
        nonlocal n
        n += 1
        name = FAULT_NAMES[fault].format(other=OTHER[b.release]) + note
        rows.append((Row(f"{n}", moment, name, key=f"{MOMENT_KEYS[moment]}:{fault}"), run))

    def mgr(kind: str, path: str, method: str, when: str = "before", shaman: bool = False) -> Callable[[], Callable[[], None]]:
        farm, proxy = (b.shaman, b.sproxy) if shaman else (b.farm, b.proxy)
        return lambda: manager_fault(b, farm, proxy, kind, path, method, when)

    def prx(kind: str, path: str, method: str, shaman: bool = False) -> Callable[[], Callable[[], None]]:
        proxy = b.sproxy if shaman else b.proxy
        return lambda: proxy_fault(proxy, kind, path, method)

    def swap_arm(path: str, method: str) -> Callable[[], Callable[[], None]]:
        def arm() -> Callable[[], None]:
            b.sproxy.on_request(path, b.swap_release, method=method)

            def clear() -> None:
                b.sproxy.clear_faults()
                if b.other is not None and b.other._manager is not None:
                    b.swap_back()
            return clear
        return arm

    # refresh
    for kind in ("freeze", "kill"):
        add("refresh (job types)", kind, lambda r, k=kind: refresh_row(b, r, mgr(k, TYPES_PATH, "GET")))
    add("refresh (job types)", "swap", lambda r: refresh_row(b, r, swap_arm(TYPES_PATH, "GET"), shaman=True))
    for kind in ("drop", "slow", "cut", "502"):
        add("refresh (job types)", kind, lambda r, k=kind: refresh_row(b, r, prx(k, TYPES_PATH, "GET")))
    # POST /jobs/check
    for kind in ("freeze", "kill"):
        add("POST /jobs/check", kind, lambda r, k=kind: submission_row(b, r, mgr(k, CHECK_PATH, "POST")))
    add("POST /jobs/check", "swap", lambda r: submission_row(b, r, swap_arm(CHECK_PATH, "POST"), shaman=True))
    for kind in ("drop", "slow", "cut", "502"):
        add("POST /jobs/check", kind, lambda r, k=kind: submission_row(b, r, prx(k, CHECK_PATH, "POST")))
    # POST /jobs
    for kind in ("freeze", "kill"):
        add("POST /jobs, before the Manager stored the job", kind,
            lambda r, k=kind: submission_row(b, r, mgr(k, JOBS_PATH, "POST")))
    add("POST /jobs, before the Manager stored the job", "502",
        lambda r: submission_row(b, r, prx("502", JOBS_PATH, "POST")))
    for kind in ("freeze", "kill"):
        add("POST /jobs, after the Manager stored the job", kind,
            lambda r, k=kind: submission_row(b, r, mgr(k, JOBS_PATH, "POST", when="after")))
    for kind in ("drop", "slow", "cut"):
        add("POST /jobs, after the Manager stored the job", kind,
            lambda r, k=kind: submission_row(b, r, prx(k, JOBS_PATH, "POST")))
    add("POST /jobs, after the Manager stored the job", "502",
        lambda r: submission_row(b, r, lambda: _gateway_after(b.proxy, JOBS_PATH)))
    # packing into shared storage
    add("packing into shared storage", "full", lambda r: full_row(b, r))
    add("copying the unsaved .blend onto shared storage", "full", lambda r: full_copy_row(b, r))
    add("packing into shared storage", "freeze",
        lambda r: submission_row(b, r, lambda: _at_packing(b, lambda: b.freeze(b.farm))))
    add("packing into shared storage", "frozen", lambda r: frozen_share_row(b, r))
    add("copying the unsaved .blend onto shared storage", "frozen", lambda r: frozen_copy_row(b, r))
    add("packing into shared storage", "open", lambda r: artist_row(b, r, "open", shaman=False))
    add("packing into shared storage", "quit", lambda r: artist_row(b, r, "quit", shaman=False))
    # Shaman upload
    for kind in ("freeze", "kill"):
        add("Shaman upload", kind, lambda r, k=kind: submission_row(b, r, mgr(k, UPLOAD_PATH, "POST", shaman=True),
                                                                     shaman=True))
    for kind in ("drop", "slow", "cut", "502"):
        add("Shaman upload", kind, lambda r, k=kind: submission_row(b, r, prx(k, UPLOAD_PATH, "POST", shaman=True),
                                                                     shaman=True))
    add("Shaman upload", "open", lambda r: artist_row(b, r, "open", shaman=True))
    add("Shaman upload", "quit", lambda r: artist_row(b, r, "quit", shaman=True))
    # monitoring an active job
    job_path = r"^/api/v3/jobs/[0-9a-f-]{36}$"
    add("monitoring an active job", "freeze", lambda r: monitor_row(b, r, lambda: _freeze_now(b)))
    add("monitoring an active job", "kill", lambda r: monitor_row(b, r, lambda: _kill_now(b)))
    add("monitoring an active job", "swap", lambda r: swap_monitor_row(b, r))
    for kind in ("drop", "slow", "cut", "502"):
        add("monitoring an active job (polling)", kind,
            lambda r, k=kind: monitor_row(b, r, lambda: _poll_fault(b.proxy, k, job_path), websockets="refuse"))
    add("monitoring an active job", "worker", lambda r: worker_row(b, r))
    # job actions
    add("job action: cancel", "freeze", lambda r: action_row(b, r, mgr("freeze", r"/setstatus$", "POST"), "cancel"))
    add("job action: requeue", "kill", lambda r: action_row(b, r, mgr("kill", r"/setstatus$", "POST"), "requeue"))
    add("job action: pause", "drop", lambda r: action_row(b, r, prx("drop", r"/setstatus$", "POST"), "pause"))
    add("job action: cancel", "slow", lambda r: action_row(b, r, prx("slow", r"/setstatus$", "POST"), "cancel"))
    add("job action: requeue", "502", lambda r: action_row(b, r, prx("502", r"/setstatus$", "POST"), "requeue"))
    add("job action: pause", "kill", lambda r: action_row(b, r, mgr("kill", r"/setstatus$", "POST", when="after"),
                                                          "pause"), note=", after it acted")
    return rows


def _gateway_after(proxy: FaultProxy, path: str) -> Callable[[], None]:
    proxy.bad_gateway(path, method="POST", after=True)
    return proxy.clear_faults


def _poll_fault(proxy: FaultProxy, kind: str, path: str) -> Callable[[], None]:
    """For the whole watch window (a cut body: every answer)."""
    if kind == "drop":
        proxy.drop_response(path, method="GET", times=None)
    elif kind == "cut":
        proxy.cut_body(path, method="GET", times=None)
    else:
        proxy_fault(proxy, kind, path, "GET")
    return proxy.clear_faults


def _freeze_now(b: Bench) -> Callable[[], None]:
    done = b.freeze(b.farm)
    return lambda: done.wait(60) and None


def _kill_now(b: Bench) -> Callable[[], None]:
    up = b.kill_restart(b.farm)
    return lambda: up.wait(60) and None


def _at_packing(b: Bench, fire: Callable[[], threading.Event]) -> Callable[[], None]:
    """Fire when the panel first shows the packing stage (polled from a thread)."""
    fired: dict[str, threading.Event] = {}

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = b.desk.submitting.pack_status
            if status is not None:  # the first packing stage (tracing) is on the panel
                fired["e"] = fire()
                return
            time.sleep(0.005)

    b._spawn(watch)

    def clear() -> None:
        deadline = time.monotonic() + 60
        while "e" not in fired and time.monotonic() < deadline:
            time.sleep(0.05)
        if "e" in fired:
            fired["e"].wait(60)

    return clear


def swap_monitor_row(b: Bench, row: Row) -> None:
    """A paused job on the Shaman farm (no Worker: a Worker would not survive the swap)."""
    from support import farm_jobs

    job_id = farm_jobs.echo_job(b.shaman, f"fault-swap-{row.id}", paused=True)

    def arm() -> Callable[[], None]:
        b.swap_release()

        def clear() -> None:
            b.swap_back()
        return clear

    monitor_row(b, row, arm, job_id=job_id, farm=b.shaman, proxy=b.sproxy, watch=12.0)


def worker_row(b: Bench, row: Row) -> None:
    """The Worker killed while it runs a task of the watched job, then started again: the
    Manager requeues its task; recovered = the monitor sees the job active again."""
    job_id = b.long_job()

    def arm() -> Callable[[], None]:
        proc = b.farm._worker
        assert proc is not None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        b.farm._worker = None
        return lambda: b.farm.start_worker()

    monitor_row(b, row, arm, job_id=job_id, watch=4.0,
                done=lambda real: real["status"] == "active" and b.desk.watching.monitor.open_job.status == "active"
                and _task_running(b, job_id))


def _task_running(b: Bench, job_id: str) -> bool:
    tasks = b.farm.get_json(f"/api/v3/jobs/{job_id}/tasks")["tasks"]
    return any(t["status"] == "active" for t in tasks)


def full_row(b: Bench, row: Row) -> None:
    """The pack folder on a 1 MB tmpfs; the shot's texture is 2 MB."""
    mount = b.farm.shared / "flamenco-desk"
    state: dict[str, Any] = {}

    def arm() -> Callable[[], None]:
        cm = tmpfs(mount, "1m")
        cm.__enter__()
        state["cm"] = cm
        return lambda: state["cm"].__exit__(None, None, None)

    submission_row(b, row, arm)


def frozen_share_row(b: Bench, row: Row) -> None:
    """The pack folder on a FUSE pass-through mount of itself (tests/support/fuse_share.py),
    frozen when packing starts, thawed FREEZE seconds later (a Samba/NFS share that stops
    answering for a while)."""
    from support.fuse_share import FuseShare

    folder = b.farm.shared / "flamenco-desk"
    folder.mkdir(parents=True, exist_ok=True)
    with FuseShare(folder, folder) as share:
        submission_row(b, row, lambda: _at_packing(b, _freezer(b, share)))


def _freezer(b: Bench, share: Any) -> Callable[[], threading.Event]:
    def freeze() -> threading.Event:
        share.freeze()
        thawed = threading.Event()

        def thaw() -> None:
            time.sleep(FREEZE)
            share.thaw()
            thawed.set()

        b._spawn(thaw)
        return thawed

    return freeze


def frozen_copy_row(b: Bench, row: Row) -> None:
    """The artist's file on shared storage (a FUSE mount of itself), frozen when Submit is
    pressed: the copy of the unsaved changes must not be written from the main thread."""
    from support.fuse_share import FuseShare

    folder = b.farm.shared / f"projects-{row.id}"
    folder.mkdir(parents=True, exist_ok=True)
    with FuseShare(folder, folder) as share:
        def arm() -> Callable[[], None]:
            thawed = _freezer(b, share)()
            return lambda: thawed.wait(60) and None

        submission_row(b, row, arm, where=folder, on_share=True)


def full_copy_row(b: Bench, row: Row) -> None:
    """The artist's file on shared storage (a 3 MB tmpfs, which the shot then fills): the
    unsaved changes' copy goes beside it."""
    mount = b.farm.shared / f"projects-{row.id}"
    with tmpfs(mount, "3m"):
        def arm() -> Callable[[], None]:
            filler = mount / "filler.bin"
            with contextlib.suppress(OSError), open(filler, "wb") as out:
                while True:
                    out.write(b"\0" * 65536)
            return lambda: filler.unlink(missing_ok=True)

        submission_row(b, row, arm, where=mount, on_share=True)


def artist_row(b: Bench, row: Row, what: str, *, shaman: bool) -> None:
    """The artist opens another file / quits Blender while packing or uploading runs (the
    Manager's side of it held, so the submission is surely under way)."""
    import bpy

    proxy = b.sproxy if shaman else b.proxy
    path = UPLOAD_PATH if shaman else CHECK_PATH

    def arm() -> Callable[[], None]:
        proxy.hold(path, method="POST")
        return proxy.release

    def during() -> None:
        proxy.wait_until_held(1, 60)
        if what == "open":
            b.op(bpy.ops.wm.read_homefile, use_empty=True)
            proxy.release()
        else:
            b.op(b.desk.unregister)
            proxy.release()
            time.sleep(2.0)  # what the background thread does after "quit"
            b.op(b.desk.register)
            b.point(proxy)

    if what == "quit":
        row.exception = ("quitting ends the session; the add-on is registered again as at the next start, "
                         "then the artist submits again")
    submission_row(b, row, arm, shaman=shaman, during=during)


def run_rows(b: Bench, wanted: Optional[set[str]] = None, echo: bool = True) -> list[Row]:
    done = []
    for row, run in build_rows(b):
        if wanted and row.id not in wanted and row.key not in wanted:
            continue
        started = time.monotonic()
        try:
            run(row)
        except Exception as ex:  # noqa: BLE001 - the table shows it
            import traceback

            traceback.print_exc()
            row.error = f"{type(ex).__name__}: {ex}"
            with contextlib.suppress(Exception):
                b.proxy.clear_faults()
                b.sproxy.clear_faults()
        if echo:
            print(f"[{time.monotonic() - started:5.1f} s] {row.markdown()}", flush=True)
        done.append(row)
    return done


def table(rows: list[Row], release: str, blender: str) -> str:
    fails = sum(1 for r in rows if r.problems())
    return (f"Blender {blender} (bpy), real Flamenco {release} Manager and Worker; read timeout "
            f"{READ_TIMEOUT:.0f} s, connect {CONNECT_TIMEOUT:.0f} s; bound for a main-thread hold "
            f"{BOUND * 1000:.0f} ms. {len(rows)} rows, {len(rows) - fails} meet every invariant.\n\n"
            + HEADER + "\n" + "\n".join(r.markdown() for r in rows) + "\n")


NOTES = """
## What the table found, and the fixes

- **A reverse proxy's 502 page reached the artist as raw HTML** (`<html> <head><title>502 Bad
  Gateway</title>…`, refresh, `/jobs/check`, upload, polls, job actions). Now its title:
  *502 Bad Gateway (an HTML page, not the Manager's answer: from a proxy in between?)*
  (`api/errors.py`).
- **A 502/503/504 to `POST /jobs` was taken as a refusal** (*The Manager refused the job: …*),
  yet a gateway may have passed the request on and the Manager stored the job: the artist's
  next Submit made a second one (the row *POST /jobs after the Manager stored the job / 502*
  gave 2 jobs). Now it is a lost answer: looked up by the submission id, and if not
  found yet, looked up again before the next submission (`core/submission.py`). A 5xx to
  `/jobs/check` says *Nothing was submitted: …* instead of *refused*.
- **An uncertain submission left its pack on shared storage** when the Manager turned out not to
  have the job (the Manager killed before storing it; the 502 above): the next Submit packed
  anew beside it. Now that Submit removes the earlier attempt's pack once the Manager has no such
  job (`core/storage.earlier_packs`).
- **A job the monitor was told was gone stayed gone**: with another release swapped in on the
  same port the open job 404s, and after swapping back the panel kept *The open job no longer
  exists on the Manager*. A (re)connect of the event stream now asks about it once more
  (`core/monitor.py`); it recovers by itself in about 3 s.
- **Saving the copy of unsaved changes onto a frozen share holds the main thread** (the row
  *copying the unsaved .blend onto shared storage / shared storage frozen*: 5 s, the whole
  freeze). Fixed on branch `h/share` (the copy is saved locally and moved onto the share by the
  submission's thread); on a branch without that fix the row fails, as it should.

Reading the table: a frozen Manager while the add-on watches live shows nothing for the freeze
(the stream is quiet; its ping is every 25 s), then goes on. Killed or frozen during a job
action, the action may have been carried out although the message says it failed (*may or may
not have been carried out*): the monitor shows the job's real status within a second or two. A
refresh survives a dropped, cut or frozen answer to `GET /jobs/types` by itself (GETs are retried
with backoff). *Quit* rows unregister the add-on (what quitting runs) and register it again: the
submission's daemon thread finishes or dies with Blender; nothing is half-made on the farm.
"""


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="flamenco-desk-faults-"))
    import build_extension

    zip_path = build_extension.build(Path(tempfile.mkdtemp(prefix="flamenco-desk-faults-dist-")))
    desk = build_extension.install(zip_path)
    import bpy

    release = os.environ.get("FLAMENCO_RELEASE", local_farm.DEFAULT_RELEASE)
    with tempfile.TemporaryDirectory(prefix="flamenco-desk-faults-") as work:
        with Bench(desk, Path(work), release, local_farm.worker_blender_for(tuple(bpy.app.version))) as b:
            rows = run_rows(b, set(filter(None, args.rows.split(","))) or None)
    text = table(rows, release, bpy.app.version_string)
    print("\n" + text)
    if args.out:
        Path(args.out).write_text("# Faults, measured\n\n`.venv/bpy-5.0.1/bin/python bench/faults.py "
                                  "--out docs/faults.md` (bench/faults.py says how each row is made).\n\n" + text
                                  + NOTES)


if __name__ == "__main__":
    main()
