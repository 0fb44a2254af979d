"""A real Flamenco farm in one folder: the Manager and one Worker from the release cache.

Used by the tests' fixtures, the demo and the benchmarks (stdlib only, no bpy):

    with Farm(tmp / "farm", release="3.8.5") as farm:
        print(farm.url, farm.shared)

Several Workers, each with its own name, task types, tags, sleep and `blender`:

    specs = [WorkerSpec("render-01"), WorkerSpec("render-02", blender="stand-in-that-fails"),
             WorkerSpec("gpu-01", tags=("gpu",), asleep=True)]
    with Farm(tmp / "farm", worker=False, workers=specs) as farm:
        farm.kick_workers("render-01")

Layout of the folder:
    manager/   flamenco-manager (hard link or copy: the Manager finds `scripts/` next to its
               executable), scripts/ (the project's example job types), flamenco-manager.yaml,
               its database and local storage, manager.log
    shared/    shared storage (with Shaman: shared/jobs is the job storage, shared/file-store)
    worker/    flamenco-worker, flamenco-worker.yaml, home/ (FLAMENCO_HOME), worker.log
    bin/       the `blender` the Worker runs (see WORKER_BLENDERS)
    workers/<name>/  each further Worker (`workers=[WorkerSpec(…)]`): the same files, and bin/ with
               its own `blender`. The Manager's `blender` variable is one value for every Worker, so
               on such a farm it is plain `blender`, and each Worker process finds its own first on
               its PATH (the Worker looks a bare executable name up on its PATH).

The Worker runs a real Blender: Debian's, in a chroot that sees the farm's folder at its own path
(tools/worker_blender.py). A Blender opens files of its own version and older, so the farm's
Blender follows the Blender that saves the files it renders: `trixie` (Blender 4.3.2) for files
from Blender 4.x, `sid` (Blender 5.2) for files from Blender 5.0.

The binaries come from `tools/install_flamenco.sh` (see `release_dir`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RELEASE = "3.8.5"
# Releases the project tests against: the newest, and the oldest it supports.
TESTED_RELEASES = ("3.8.5", "3.6")
MANAGER = "flamenco-manager"
WORKER = "flamenco-worker"
TASK_TYPES = ("blender", "ffmpeg", "file-management", "misc")
# The `blender` a Worker can run: Debian suites of a real Blender (tools/gui/chroot.py), or a
# stand-in that fails every task on purpose (tools/blender_stand_in_that_fails.py) for tests of
# a Worker whose Blender is broken.
WORKER_BLENDERS = ("trixie", "sid", "stand-in-that-fails")
DEFAULT_WORKER_BLENDER = "trixie"


class FlamencoMissing(RuntimeError):
    """The release is not in the cache; the message says how to put it there."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flamenco-desk" / "flamenco"


def release_dir(release: str) -> Path:
    """Where tools/install_flamenco.sh keeps a release: outside the clone, so every clone
    on the machine (CI's fresh ones too) shares one copy."""
    return cache_root() / release


def require_release(release: str) -> Path:
    folder = release_dir(release)
    missing = [name for name in (MANAGER, WORKER) if not os.access(folder / name, os.X_OK)]
    if missing:
        raise FlamencoMissing(
            f"Flamenco {release} is not installed ({', '.join(missing)} missing in {folder}). "
            f"Run: FLAMENCO_SRC=<Flamenco {release} release archive, or a folder with its "
            f"flamenco-manager and flamenco-worker> bash tools/install_flamenco.sh {release}"
        )
    return folder


def served_spec_path(release: str) -> Path:
    """The OpenAPI document that release's Manager serves (GET /api/v3/openapi3.json),
    saved beside its binaries by the install script or the first farm that ran it."""
    return release_dir(release) / "openapi3.json"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float = 60.0, what: str = "condition",
               interval: float = 0.2) -> Any:
    """Poll a host-side condition until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(interval)


def _place_binary(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        return
    try:
        os.link(source, target)  # cheap, and still a real file next to `scripts/`
    except OSError:
        shutil.copy2(source, target)


def _yaml_value(value: Any) -> str:
    return json.dumps(value)  # JSON scalars and lists are valid YAML


def two_way_yaml(variables: Mapping[str, Mapping[str, str]]) -> str:
    """`variables:` entries (under the block the config already opened) for two-way variables."""
    text = ""
    for name, values in variables.items():
        text += f"  {name}:\n    is_twoway: true\n    values:\n"
        for plat, value in values.items():
            text += f"      - platform: {plat}\n        value: {_yaml_value(value)}\n"
    return text


def worker_blender_for(blender_version: tuple[int, ...]) -> str:
    """The Worker's Blender that opens files saved by this Blender version."""
    return "trixie" if tuple(blender_version[:2]) <= (4, 3) else "sid"


def file_python(worker_blender: str) -> str:
    """A Python with bpy (the project's venvs) whose saved files that Worker's Blender opens."""
    version = "5.0.1" if worker_blender == "sid" else "4.2.23"
    return str(ROOT / ".venv" / f"bpy-{version}" / "bin" / "python")


def ensure_worker_blender(worker_blender: str) -> None:
    """Builds the Worker Blender's chroot when it is missing (minutes, once per machine)."""
    if worker_blender not in WORKER_BLENDERS:
        raise ValueError(f"unknown worker blender {worker_blender!r}; one of {WORKER_BLENDERS}")
    if worker_blender in _chroot().SUITES:
        _chroot().ensure(suite=worker_blender)


def _chroot() -> Any:
    if str(ROOT / "tools") not in sys.path:
        sys.path.insert(0, str(ROOT / "tools"))
    from gui import chroot

    return chroot


def write_blender(target: Path, worker_blender: str, binds: Sequence[Path]) -> None:
    """The `blender` a Worker runs: a shell script that starts the real Blender of a Debian
    suite in its chroot (seeing `binds`), or the stand-in that fails."""
    if worker_blender == "stand-in-that-fails":
        command = f'"{sys.executable}" "{ROOT / "tools" / "blender_stand_in_that_fails.py"}"'
        what = "a stand-in that fails every task on purpose (tools/blender_stand_in_that_fails.py)"
    else:
        bind_args = " ".join(f'--bind "{b}"' for b in binds)
        command = (f'"{sys.executable}" "{ROOT / "tools" / "worker_blender.py"}" '
                   f'--suite {worker_blender} {bind_args} --')
        what = f"Debian {worker_blender}'s real Blender, in a chroot (tools/worker_blender.py)"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f'#!/bin/sh\n# The Worker\'s blender: {what}.\nexec {command} "$@"\n')
    target.chmod(0o755)


@dataclass(frozen=True)
class WorkerSpec:
    """One Worker of a farm with several: its name, the `blender` on its PATH (one of
    WORKER_BLENDERS), the task types it offers, its worker tags (created on the Manager when
    missing), whether it is sent to sleep once registered, and extra environment (e.g.
    STAND_IN_ERROR for the stand-in's error line)."""

    name: str
    blender: str = DEFAULT_WORKER_BLENDER
    task_types: tuple[str, ...] = TASK_TYPES
    tags: tuple[str, ...] = ()
    asleep: bool = False
    env: Mapping[str, str] = field(default_factory=dict)


class FarmWorker:
    """One Worker process of a farm with several, in `<farm>/workers/<name>/`."""

    def __init__(self, farm: Farm, spec: WorkerSpec) -> None:
        self.farm = farm
        self.spec = spec
        self.name = spec.name
        self.dir = farm.root / "workers" / spec.name
        self.blender = self.dir / "bin" / "blender"
        self._proc: Optional[subprocess.Popen[bytes]] = None
        self._log_mark = 0

    @property
    def log_path(self) -> Path:
        return self.dir / "worker.log"

    def write_files(self) -> None:
        _place_binary(self.farm.binaries / WORKER, self.dir / WORKER)
        (self.dir / "home").mkdir(parents=True, exist_ok=True)
        (self.dir / "flamenco-worker.yaml").write_text(
            f"manager_url: {_yaml_value(self.farm.url + '/')}\n"
            f"task_types: {_yaml_value(list(self.spec.task_types))}\n"
            f"worker_name: {_yaml_value(self.name)}\n"
        )
        write_blender(self.blender, self.spec.blender, (self.farm.root.resolve(), *self.farm.blender_binds))

    def start(self, timeout: float = 60.0) -> None:
        env = {
            "FLAMENCO_HOME": str(self.dir / "home"),
            "FLAMENCO_WORKER_NAME": self.name,
            "NO_COLOR": "1",
            "PATH": f"{self.blender.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **self.spec.env,
        }
        log = open(self.log_path, "ab")
        self.farm._logs.append(log)
        self._log_mark = log.tell()
        log.write(f"\n===== worker {self.name} started {time.strftime('%H:%M:%S')} =====\n".encode())
        log.flush()
        # -debug: the Worker logs "no task available" only at debug level (see kick_and_wait_idle).
        self._proc = subprocess.Popen(
            [str(self.dir / WORKER), "-debug"], cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **env}, start_new_session=True,
        )
        # A Worker the Manager remembers asleep signs on asleep.
        self.wait_for(("awake", "asleep"), timeout)

    def stop(self) -> None:
        Farm._stop(self._proc)
        self._proc = None

    def kick(self) -> None:
        """Make the Worker ask for work now (only when idle: a running task is requeued)."""
        self.stop()
        self.start()

    def kick_and_wait_idle(self, timeout: float = 60.0) -> None:
        """Restart the Worker and wait until it has asked for work and got none: it asks again
        only about 20 s (±10 %) later, so a job submitted now waits that long for it. (A fixed
        sleep after the restart raced the first ask on a loaded machine.)"""
        self.kick()
        deadline = time.monotonic() + timeout
        while "no task available" not in self._log_since_start():
            if time.monotonic() > deadline:
                raise TimeoutError(f"Worker {self.name} did not ask for work within {timeout:.0f} s")
            time.sleep(0.1)

    def _log_since_start(self) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(self._log_mark)
            return log.read().decode("utf-8", "replace")

    def info(self) -> Optional[dict[str, Any]]:
        for worker in self.farm.get_json("/api/v3/worker-mgt/workers").get("workers", []):
            if worker.get("name") == self.name:
                return dict(worker)
        return None

    @property
    def id(self) -> str:
        info = self.info()
        if info is None:
            raise RuntimeError(f"Worker {self.name} is not registered")
        return str(info["id"])

    def status(self) -> Optional[str]:
        info = self.info()
        return None if info is None else str(info.get("status"))

    def wait_for(self, statuses: tuple[str, ...], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.status() not in statuses:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"Worker {self.name} exited with {self._proc.returncode}:\n"
                                   f"{self.farm.log_tail(self.name)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Worker {self.name} did not become {' or '.join(statuses)} within "
                                   f"{timeout:.0f} s (it is {self.status()}):\n{self.farm.log_tail(self.name)}")
            time.sleep(0.1)

    def set_status(self, status: str, wait: bool = True, timeout: float = 60.0) -> None:
        """Ask the Manager to send the Worker to `status` (awake/asleep), at once. An idle awake
        Worker hears of it only when it next asks for work, so it is restarted (it signs on in
        the status asked for); an asleep one checks every 3 s."""
        self.farm.post_json(f"/api/v3/worker-mgt/workers/{self.id}/setstatus", {"status": status, "is_lazy": False})
        if wait:
            if self.status() == "awake" and status != "awake":
                self.kick()
            self.wait_for((status,), timeout)

    def set_tags(self, tag_names: Sequence[str]) -> None:
        ids = [self.farm.ensure_tag(name) for name in tag_names]
        self.farm.post_json(f"/api/v3/worker-mgt/workers/{self.id}/settags", {"tag_ids": ids})


class Farm:
    """One Manager and (optionally) one Worker, started as real processes in `root`."""

    def __init__(
        self,
        root: Path,
        release: str = DEFAULT_RELEASE,
        *,
        shaman: bool = False,
        worker: bool = True,
        scripts: Optional[list[Path]] = None,
        worker_blender: str = DEFAULT_WORKER_BLENDER,
        blender_binds: tuple[Path, ...] = (),
        name: str = "Flamenco Desk Test Farm",
        port: Optional[int] = None,
        extra_config: str = "",
        workers: Sequence[WorkerSpec] = (),
        two_way_variables: Mapping[str, Mapping[str, str]] = {},
        worker_hides: Sequence[str] = (),
    ) -> None:
        self.root = Path(root)
        self.release = release
        self.binaries = require_release(release)
        self.shaman = shaman
        self.with_worker = worker
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.manager_dir = self.root / "manager"
        self.worker_dir = self.root / "worker"
        self.shared = self.root / "shared"
        self.scripts = scripts if scripts is not None else sorted((ROOT / "manager_scripts").glob("*.js"))
        if worker:
            ensure_worker_blender(worker_blender)
        for spec in workers:
            ensure_worker_blender(spec.blender)
        self.worker_blender = worker_blender
        # Folders outside the farm's that the Worker's Blender must see (the farm's own always).
        self.blender_binds = tuple(Path(b).resolve() for b in blender_binds)
        self.blender_python = file_python(worker_blender)
        self.extra_config = extra_config
        # name -> {platform: value}: two-way variables (mixed-platform farms, tests/platforms/).
        self.two_way_variables = two_way_variables
        # Folders the (one) Worker must not see: it runs in a mount namespace of its own with
        # an empty tmpfs over each, so an artist's path (e.g. /Volumes) does not exist there.
        self.worker_hides = tuple(worker_hides)
        self._manager: Optional[subprocess.Popen[bytes]] = None
        self._worker: Optional[subprocess.Popen[bytes]] = None
        self._logs: list[Any] = []
        self.worker_name = f"desk-worker-{self.port}"
        self.workers = {spec.name: FarmWorker(self, spec) for spec in workers}

    # -- paths ---------------------------------------------------------------------------

    @property
    def jobs_root(self) -> Path:
        """The Manager's job storage (`{jobs}`): shared storage, or its jobs/ with Shaman."""
        return self.shared / "jobs" if self.shaman else self.shared

    @property
    def blender(self) -> Path:
        return self.root / "bin" / "blender"

    def log_path(self, which: str) -> Path:
        """"manager", "worker" (the one Worker), or the name of one of `workers`."""
        if which in self.workers and which not in ("manager", "worker"):
            return self.workers[which].log_path
        return (self.manager_dir if which == "manager" else self.worker_dir) / f"{which}.log"

    # -- set-up ----------------------------------------------------------------------------

    def _write_files(self) -> None:
        _place_binary(self.binaries / MANAGER, self.manager_dir / MANAGER)
        scripts_dir = self.manager_dir / "scripts"
        scripts_dir.mkdir(parents=True, exist_ok=True)  # must exist when the Manager starts
        for script in self.scripts:
            shutil.copy2(script, scripts_dir / script.name)
        self.shared.mkdir(parents=True, exist_ok=True)
        (self.manager_dir / "storage").mkdir(exist_ok=True)

        self._write_blender()

        config = f"""\
_meta:
  version: 3
manager_name: {_yaml_value(self.name)}
listen: {_yaml_value(f"127.0.0.1:{self.port}")}
database: {_yaml_value(str(self.manager_dir / "flamenco-manager.sqlite"))}
autodiscoverable: false
local_manager_storage_path: {_yaml_value(str(self.manager_dir / "storage"))}
shared_storage_path: {_yaml_value(str(self.shared))}
shaman:
  enabled: {"true" if self.shaman else "false"}
task_timeout: 10m
worker_timeout: 1m
blocklist_threshold: 3
task_fail_after_softfail_count: 3
variables:
  blender:
    values:
      - platform: linux
        value: {_yaml_value("blender" if self.workers else str(self.blender))}
  blenderArgs:
    values:
      - platform: all
        value: "-b -y"
{two_way_yaml(self.two_way_variables)}{self.extra_config}"""
        (self.manager_dir / "flamenco-manager.yaml").write_text(config)

        if self.with_worker:
            _place_binary(self.binaries / WORKER, self.worker_dir / WORKER)
            (self.worker_dir / "home").mkdir(parents=True, exist_ok=True)
            (self.worker_dir / "flamenco-worker.yaml").write_text(
                f"manager_url: {_yaml_value(self.url + '/')}\n"
                f"task_types: {_yaml_value(list(TASK_TYPES))}\n"
                f"worker_name: {_yaml_value(self.worker_name)}\n"
            )
        for farm_worker in self.workers.values():
            farm_worker.write_files()

    def _write_blender(self) -> None:
        write_blender(self.blender, self.worker_blender, (self.root.resolve(), *self.blender_binds))

    def _spawn(self, which: str, argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.log_path(which), "ab")
        self._logs.append(log)
        log.write(f"\n===== {which} started {time.strftime('%H:%M:%S')} =====\n".encode())
        log.flush()
        return subprocess.Popen(
            argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **env}, start_new_session=True,
        )

    # -- processes ------------------------------------------------------------------------

    def start(self) -> Farm:
        self._write_files()
        self.start_manager()
        if self.with_worker:
            self.start_worker()
        for farm_worker in self.workers.values():
            farm_worker.start()
        for farm_worker in self.workers.values():
            if farm_worker.spec.tags:
                farm_worker.set_tags(farm_worker.spec.tags)
            if farm_worker.spec.asleep:
                farm_worker.set_status("asleep")
        return self

    def start_manager(self, timeout: float = 60.0) -> None:
        # NO_COLOR: plain logs, readable when a failing test prints them.
        self._manager = self._spawn(
            "manager", [str(self.manager_dir / MANAGER)], self.manager_dir, {"NO_COLOR": "1"}
        )
        deadline = time.monotonic() + timeout
        while True:
            if self._manager.poll() is not None:
                raise RuntimeError(f"the Manager exited with {self._manager.returncode}:\n{self.log_tail('manager')}")
            try:
                version = self.get_json("/api/v3/version", timeout=1.0)
                if version.get("shortversion"):
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Manager did not answer within {timeout:.0f} s:\n{self.log_tail('manager')}")
            time.sleep(0.05)
        self._save_served_spec()

    def _save_served_spec(self) -> None:
        target = served_spec_path(self.release)
        if target.exists():
            return
        with urllib.request.urlopen(self.url + "/api/v3/openapi3.json", timeout=10) as response:
            data = response.read()
        json.loads(data)  # only a whole, valid document goes into the cache
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def start_worker(self, timeout: float = 60.0) -> None:
        env = {
            "FLAMENCO_HOME": str(self.worker_dir / "home"),
            "FLAMENCO_WORKER_NAME": self.worker_name,
            "NO_COLOR": "1",
        }
        if self.workers:  # the Manager's `blender` is a bare name: found on the Worker's PATH
            env["PATH"] = f"{self.blender.parent}{os.pathsep}{os.environ.get('PATH', '')}"
        argv = [str(self.worker_dir / WORKER)]
        if self.worker_hides:  # a mount namespace of its own (root), the hidden folders empty in it
            hide = "".join(f'mkdir -p "{p}" && mount -t tmpfs -o ro,size=4k flamenco-desk-hidden "{p}" && '
                           for p in self.worker_hides)
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", f'{hide}exec "$0"', argv[0]]
        self._worker = self._spawn("worker", argv, self.worker_dir, env)
        self.wait_for_worker("awake", timeout)

    def worker_status(self) -> Optional[str]:
        workers = self.get_json("/api/v3/worker-mgt/workers").get("workers", [])
        for worker in workers:
            if worker.get("name") == self.worker_name:
                return str(worker.get("status"))
        return None

    def wait_for_worker(self, status: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.worker_status() != status:
            if self._worker is not None and self._worker.poll() is not None:
                raise RuntimeError(f"the Worker exited with {self._worker.returncode}:\n{self.log_tail('worker')}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Worker did not become {status} within {timeout:.0f} s:\n{self.log_tail('worker')}"
                )
            time.sleep(0.1)

    def kick_worker(self) -> None:
        """Make the Worker ask for work now. An idle Worker asks only every 20 s; a freshly
        started one asks after about 3 s. Only for an idle Worker: a running task would be
        requeued."""
        self.stop_worker()
        self.start_worker()

    @staticmethod
    def _stop(proc: Optional[subprocess.Popen[bytes]], timeout: float = 15.0) -> None:
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)  # both shut down cleanly on SIGINT (the Worker signs off)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop_worker(self) -> None:
        self._stop(self._worker)
        self._worker = None

    def stop_manager(self) -> None:
        self._stop(self._manager)
        self._manager = None

    def restart_manager(self, down_seconds: float = 0.0) -> None:
        """Stop the Manager and start it again on the same port and database."""
        self.stop_manager()
        time.sleep(down_seconds)
        self.start_manager()

    def kick_workers(self, *names: str) -> None:
        """Make these of `workers` (default: every awake one) ask for work now."""
        for farm_worker in self.workers.values():
            if (farm_worker.name in names) if names else farm_worker.status() == "awake":
                farm_worker.kick()

    def ensure_tag(self, name: str) -> str:
        """The ID of the worker tag called `name`, created when missing."""
        for tag in self.get_json("/api/v3/worker-mgt/tags").get("tags", []):
            if tag.get("name") == name:
                return str(tag["id"])
        return str(self.post_json("/api/v3/worker-mgt/tags", {"name": name})["id"])

    def stop(self) -> None:
        for farm_worker in self.workers.values():
            farm_worker.stop()
        self.stop_worker()
        self.stop_manager()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def __enter__(self) -> Farm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- talking to it (for fixtures and tools; the add-on has its own client) -------------------

    def get_raw(self, path: str, timeout: float = 10.0) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return bytes(response.read())

    def get_json(self, path: str, timeout: float = 10.0) -> Any:
        body = self.get_raw(path, timeout)
        return json.loads(body) if body else None

    def post_json(self, path: str, body: Any, timeout: float = 30.0) -> Any:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read()
        return json.loads(data) if data else None

    def job(self, job_id: str) -> Any:
        return self.get_json(f"/api/v3/jobs/{job_id}")

    def wait_for_job(self, job_id: str, statuses: tuple[str, ...] = ("completed",), timeout: float = 180.0,
                     kick: bool = True) -> Any:
        """Wait until the job has one of `statuses`; `kick` makes an idle Worker look for it now."""
        if kick and self.with_worker:
            self.kick_worker()
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] in statuses:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"job {job_id} is {job['status']!r}, not {statuses} after {timeout:.0f} s\n"
                    f"{self.log_tail('worker')}"
                )
            time.sleep(0.25)

    def task_log(self, task_id: str) -> str:
        """A task's whole log as the Manager keeps it (every run of the task, Blender's own lines)."""
        info = self.get_json(f"/api/v3/tasks/{task_id}/log")
        return self.get_raw(info["url"]).decode(errors="replace") if info else ""

    def worker_blender_version(self) -> Optional[str]:
        """The version of the real Blender the Worker runs, as its chroot's stamp records it
        (e.g. "4.3.2"); None for the stand-in."""
        if self.worker_blender not in _chroot().SUITES:
            return None
        stamp = _chroot().read_stamp(_chroot().chroot_dir(self.worker_blender)) or {}
        debian = str(stamp.get("chroot_versions", {}).get("blender", ""))  # e.g. 4.3.2+dfsg-2
        return debian.split(":")[-1].split("+")[0].split("-")[0] or None

    def log_tail(self, which: str, lines: int = 60) -> str:
        path = self.log_path(which)
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return f"({which} log missing)"
        return f"--- {path} (last {lines} lines) ---\n" + "\n".join(text.splitlines()[-lines:])


def main(argv: list[str]) -> int:
    """`python tools/local_farm.py [RELEASE] [FOLDER]`: run a farm until Ctrl-C (for poking at)."""
    release = argv[1] if len(argv) > 1 else DEFAULT_RELEASE
    folder = Path(argv[2]) if len(argv) > 2 else ROOT / ".cache" / "farm"
    try:
        farm = Farm(folder, release).start()
    except FlamencoMissing as ex:
        print(ex, file=sys.stderr)
        return 2
    print(f"Flamenco {release} at {farm.url}; shared storage {farm.shared}; Ctrl-C stops it", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        farm.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
