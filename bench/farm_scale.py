"""What watching one job costs as the farm's history grows: 100, 1,000, 5,000 and 20,000
jobs on a real Flamenco Manager (created through the API), one Blender (bpy, the add-on
installed from its zip) watching one job.

For each size and each way of watching, over a window of WINDOW seconds (scaled to one
minute in the table):
- bytes between Blender and the Manager, both ways (a loopback relay counts them);
- Manager CPU, from /proc/<pid>/stat of the Manager process (user + system);
- the longest main-thread stall: the main thread does 1 ms sleeps and calls the add-on's
  timer callback when Blender would; a stall is the longest a sleep overran (Python's lock
  held by a background thread, a garbage collection, or the machine busy elsewhere) or a
  timer call took; also its 99th percentile and the longest garbage collection of the process
  in the window (gc.callbacks; it stalls the main thread whichever thread runs it);
- latency: a background thread flips the watched job between queued and paused on the
  Manager every FLIP_PERIOD seconds; the time until the monitor in Blender shows the new
  status (a change not shown before the next one counts as missed).

Ways of watching:
- idle: the add-on watches nothing (the noise floor of the stall on this machine).
- before: today's monitor on main (until this branch): GET /jobs every 2 s, decoded whole
  (requests' json + a Job object per job), the dict swapped on the main thread. Emulated
  with the same client call and the add-on's bridge, not the old add-on code.
- polling: this branch without the event stream (the relay refuses websocket upgrades):
  the watched job read with GET /jobs/{id} (2 s while queued, 10 s while paused).
- stream: this branch with the event stream.
- polling+all / stream+all: the same with the "All Jobs" list on screen (the whole list
  read once after connecting, or every 30 s without the stream).
A second table times one full list read while the main thread waits: before
(`ManagerClient.jobs()`) and now (`ManagerClient.job_rows()`, parsed as it streams in).

Run: .venv/bpy-5.0.1/bin/python bench/farm_scale.py [--window 60] [--sizes 100,1000,5000,20000] [--release 3.8.5]
Takes about (6 × window + 30 s) per size, plus creating the jobs (about 300 jobs/s). With a
window shorter than 60 s the figures are scaled up to a minute (a 30 s list refresh may then
fall outside the window).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import _setup

desk = _setup.installed_addon()
desk.watching._print_progress = lambda: None  # bpy runs as `blender -b`: no progress lines here
import bpy  # noqa: E402
import requests  # noqa: E402

from local_farm import Farm  # noqa: E402
from support.tcp_relay import TcpRelay  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
FLIP_PERIOD = 12.0  # seconds between status changes of the watched job
MODES = ("idle", "before", "polling", "stream", "polling+all", "stream+all")


def manager_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


# -- creating jobs --------------------------------------------------------------------------------


def create_jobs(farm: Farm, etag: str, start: int, stop: int, threads: int = 6) -> None:
    """Paused echo-sleep-test jobs with the metadata the add-on sends (so a job in the list
    is about as large as a real one)."""
    counter = iter(range(start, stop))
    lock = threading.Lock()

    def work() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                body = {
                    "name": f"sq{n // 100:03d}_sh{n % 100:03d} lighting v{n % 7 + 1}", "type": "echo-sleep-test",
                    "priority": 50, "submitter_platform": "linux", "type_etag": etag, "initial_status": "paused",
                    "settings": {"message": f"shot {n}", "sleep_duration_seconds": 1, "sleep_repeats": 1},
                    "metadata": {
                        "desk.submission": f"{n:016x}", "user.name": "artist", "host": "ws-042",
                        "blendfile": f"/shared/projects/feature/sq{n // 100:03d}/sh{n % 100:03d}/lighting.blend",
                        "scene": "Scene", "blender": "5.0.1", "desk.version": "0.1.0",
                    },
                }
                response = session.post(farm.url + "/api/v3/jobs", json=body, timeout=60)
                response.raise_for_status()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


# -- the old monitor, for the "before" row ---------------------------------------------------------


class OldMonitor:
    """What main's monitor did every 2 s: GET /jobs, every job decoded into a Job, applied
    by swapping the dict on the main thread."""

    def __init__(self, url: str) -> None:
        self.client = desk.api.ManagerClient(url, max_retries=0)
        self.client.version()
        self.jobs: dict[str, Any] = {}
        self.busy = False
        self.next_at = 0.0

    def tick(self) -> None:
        if self.busy or time.monotonic() < self.next_at:
            return
        self.busy = True
        desk.runtime.timer.run(lambda: {job.id: job for job in self.client.jobs()}, self._apply, self._failed)

    def _apply(self, jobs: Any) -> None:
        self.jobs = jobs  # the old dict is freed here, on the main thread, as it was
        self.busy, self.next_at = False, time.monotonic() + 2.0

    def _failed(self, ex: BaseException) -> None:
        self.busy, self.next_at = False, time.monotonic() + 2.0

    def status(self, job_id: str) -> Optional[str]:
        job = self.jobs.get(job_id)
        return None if job is None else str(job.status)


# -- measuring --------------------------------------------------------------------------------------


@dataclass
class Window:
    seconds: float
    bytes: int = 0
    cpu: float = 0.0
    sleep_late: float = 0.0
    tick_max: float = 0.0
    gc_max: float = 0.0
    gc_full: int = 0
    missed: int = 0
    lates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    @property
    def p99(self) -> float:
        ordered = sorted(self.lates)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0

    def per_minute(self, value: float) -> float:
        return value * 60.0 / self.seconds

    @property
    def stall(self) -> float:
        return max(self.sleep_late, self.tick_max)


class Flipper(threading.Thread):
    """Flips the watched job's status on the Manager every FLIP_PERIOD seconds (background
    thread). The same rate of changes in every row (so their cost compares), slower than
    the slowest poll (10 s for a paused job), so a change is shown before the next one."""

    def __init__(self, farm: Farm, job_id: str) -> None:
        super().__init__(daemon=True)
        self.farm, self.job_id = farm, job_id
        self.expect: Optional[tuple[str, float]] = None
        self.seen = threading.Event()
        self.stop = threading.Event()
        self.status = "paused"
        self.missed = 0

    def run(self) -> None:
        if self.stop.wait(FLIP_PERIOD / 2):  # the first change half a period in
            return
        while True:
            new = "queued" if self.status == "paused" else "paused"
            self.seen.clear()
            self.expect = (new, time.perf_counter())
            self.farm.post_json(f"/api/v3/jobs/{self.job_id}/setstatus", {"status": new, "reason": "benchmark"})
            self.status = new
            if self.stop.wait(FLIP_PERIOD):
                return  # the window ended: this last change is neither counted nor missed
            if not self.seen.is_set():
                self.missed += 1
                self.expect = None


class GcPauses:
    """The longest garbage collection while installed (any thread), and how many full ones."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.full = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._started)
            self.full += info.get("generation") == 2


def measure(seconds: float, shown: Callable[[], Optional[str]], flipper: Optional[Flipper], relay: TcpRelay, pid: int,
            tick: Callable[[], float]) -> Window:
    window = Window(seconds)
    bytes0, cpu0 = relay.bytes_total, manager_cpu_seconds(pid)
    end = time.perf_counter() + seconds
    next_tick = 0.0
    gc_pauses = GcPauses()
    gc.callbacks.append(gc_pauses)
    if flipper is not None:
        flipper.start()
    while (now := time.perf_counter()) < end:
        t0 = time.perf_counter()
        time.sleep(0.001)
        late = time.perf_counter() - t0 - 0.001
        window.lates.append(late)
        window.sleep_late = max(window.sleep_late, late)
        if now >= next_tick:
            t0 = time.perf_counter()
            interval = tick()
            took = time.perf_counter() - t0
            window.tick_max = max(window.tick_max, took)
            next_tick = time.perf_counter() + interval
        expect = flipper.expect if flipper is not None else None
        if flipper is not None and expect is not None and shown() == expect[0]:
            window.latencies.append(time.perf_counter() - expect[1])
            flipper.expect = None
            flipper.seen.set()
    gc.callbacks.remove(gc_pauses)
    window.gc_max, window.gc_full = gc_pauses.longest, gc_pauses.full
    window.bytes = relay.bytes_total - bytes0
    window.cpu = manager_cpu_seconds(pid) - cpu0
    if flipper is not None:
        flipper.stop.set()
        flipper.join()
        window.missed = flipper.missed
    return window


def settle(tick: Callable[[], float], condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"did not settle; {desk.watching.monitor.status_line()!r} {desk.watching.monitor.error!r}")
        tick()
        time.sleep(0.01)


def run_mode(mode: str, farm: Farm, relay: TcpRelay, job_id: str, seconds: float) -> Window:
    farm.post_json(f"/api/v3/jobs/{job_id}/setstatus", {"status": "paused", "reason": "benchmark"})
    prefs = bpy.context.preferences.addons[desk.state.ADDON_ID].preferences
    ui = bpy.context.window_manager.flamenco_desk_ui
    watching = desk.watching
    timer_tick = desk.runtime.timer.tick
    pid = farm._manager.pid  # type: ignore[union-attr]
    flipper = Flipper(farm, job_id)

    if mode == "idle":
        watching._manager_changed()
        return measure(seconds, lambda: None, None, relay, pid, timer_tick)
    if mode == "before":
        watching._manager_changed()  # the add-on's own monitor watches nothing
        old = OldMonitor(relay.url)

        def tick() -> float:
            old.tick()
            return timer_tick()

        settle(tick, lambda: old.status(job_id) == "paused")
        return measure(seconds, lambda: old.status(job_id), flipper, relay, pid, tick)

    relay.block_websockets = mode.startswith("polling")
    all_jobs = mode.endswith("+all")
    ui.list_scope = "ALL" if all_jobs else "FILE"
    watching._manager_changed()
    prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = relay.url, 3.0, 30.0
    assert bpy.ops.flamenco_desk.refresh_manager() == {"FINISHED"}
    settle(timer_tick, lambda: desk.state.info() is not None and not desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY))
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    mon = watching.monitor

    def tick() -> float:
        if all_jobs:
            watching.panel_drawn()  # the job list is on screen
        return timer_tick()

    def ready() -> bool:
        connected = mon.live if mode.startswith("stream") else (mon.stream is not None and mon.stream.refused)
        listed = not all_jobs or mon.index.fresh
        return bool(connected and listed and mon.open_job is not None and mon.open_job.status == "paused"
                    and not desk.runtime.timer.bridge.pending())

    settle(tick, ready)
    if all_jobs:
        # Without the stream the list is read every 30 s from the read that settled it:
        # start half way so a 60 s window holds two reads, not one or three by phase.
        end = time.monotonic() + 15.0
        while time.monotonic() < end:
            tick()
            time.sleep(0.01)
    window = measure(seconds, lambda: mon.open_job.status if mon.open_job else None, flipper, relay, pid, tick)
    watching.stop_live()
    return window


def one_list_read(url: str, streamed: bool) -> tuple[float, float, int]:
    """(wall seconds, longest main-thread sleep overrun, bytes) of one GET /jobs on a
    background thread while the main thread sleeps 1 ms at a time."""
    client = desk.api.ManagerClient(url, max_retries=0, read_timeout=60.0)
    client.version()
    done = threading.Event()
    out: dict[str, Any] = {}

    def work() -> None:
        t0 = time.perf_counter()
        out["n"] = len(client.job_rows() if streamed else client.jobs())
        out["t"] = time.perf_counter() - t0
        done.set()

    worst = 0.0
    thread = threading.Thread(target=work)
    thread.start()
    while not done.is_set():
        t0 = time.perf_counter()
        time.sleep(0.001)
        worst = max(worst, time.perf_counter() - t0 - 0.001)
    thread.join()
    out.pop("n")
    client.close()
    return float(out["t"]), worst, 0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def size_text(n: float) -> str:
    for unit, div in (("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{n:.0f} B"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--sizes", default="100,1000,5000,20000")
    parser.add_argument("--release", default="3.8.5")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--farm", default="", help="folder for the farm (default: a temporary one)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = args.modes.split(",")
    import tempfile

    root = Path(args.farm or tempfile.mkdtemp(prefix="flamenco-desk-farm-scale-"))
    print(f"Blender {bpy.app.version_string}, Flamenco {args.release}; window {args.window:g} s per row, "
          f"figures scaled to one minute; the watched job flips queued/paused every {FLIP_PERIOD:g} s\n", flush=True)
    rows: list[tuple[int, str, Window]] = []
    reads: list[tuple[int, str, float, float, float, int]] = []
    with Farm(root, args.release, worker=False) as farm, TcpRelay(farm.url) as relay:
        etag = {jt["name"]: jt for jt in farm.get_json("/api/v3/jobs/types")["job_types"]}["echo-sleep-test"]["etag"]
        have = 0
        for size in sizes:
            started = time.perf_counter()
            create_jobs(farm, etag, have, size)
            have = size
            print(f"{size} jobs on the Manager (created in {time.perf_counter() - started:.0f} s)", flush=True)
            job_id = farm.get_json("/api/v3/jobs")["jobs"][0]["id"]
            for streamed, name in ((False, "before: jobs()"), (True, "now: job_rows()")):
                b0 = relay.bytes_total
                samples = [one_list_read(relay.url, streamed) for _ in range(5)]
                reads.append((size, name, statistics.median(s[0] for s in samples), max(s[1] for s in samples),
                              statistics.median(s[1] for s in samples), (relay.bytes_total - b0) // 5))
            for mode in modes:
                window = run_mode(mode, farm, relay, job_id, args.window)
                rows.append((size, mode, window))
                lat = window.latencies
                print(f"  {mode:12s} bytes/min {size_text(window.per_minute(window.bytes)):>9s}  "
                      f"Manager CPU/min {window.per_minute(window.cpu):6.2f} s  stall {ms(window.stall):>7s} "
                      f"(sleep {ms(window.sleep_late)}, p99 {ms(window.p99)}, tick {ms(window.tick_max)}, "
                      f"gc {ms(window.gc_max)}, {window.gc_full} full)  "
                      f"latency median {ms(statistics.median(lat)) if lat else '-'} max {ms(max(lat)) if lat else '-'}"
                      f" (n={len(lat)}, missed {window.missed})", flush=True)

    print("\n| jobs | watching | bytes / min | Manager CPU / min | longest main-thread stall (p99) | "
          "longest GC (full GCs) | status change shown after (median / max) |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for size, mode, w in rows:
        lat = w.latencies
        latency = f"{ms(statistics.median(lat))} / {ms(max(lat))} (n={len(lat)})" if lat else "-"
        if w.missed:
            latency += f", {w.missed} missed"
        print(f"| {size:,} | {mode} | {size_text(w.per_minute(w.bytes))} | {w.per_minute(w.cpu):.2f} s | "
              f"{ms(w.stall)} ({ms(w.p99)}) | {ms(w.gc_max)} ({w.gc_full}) | {latency} |")
    print("\nOne full job list read (GET /jobs) on a background thread while the main thread sleeps 1 ms at a time "
          "(5 reads: median wall time; longest and median of each read's longest stall):\n")
    print("| jobs | decoding | bytes | wall time | longest main-thread stall (median) |")
    print("|---:|---|---:|---:|---:|")
    for size, name, wall, late, median_late, nbytes in reads:
        print(f"| {size:,} | {name} | {size_text(nbytes)} | {ms(wall)} | {ms(late)} ({ms(median_late)}) |")


if __name__ == "__main__":
    main()
