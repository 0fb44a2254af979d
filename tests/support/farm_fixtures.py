"""Pytest fixtures around the real Flamenco farm (tools/local_farm.py), loaded as a plugin by
tests/conftest.py.

- ``farm``: one Manager + Worker of the release under test for the whole session
  (``--flamenco-release``, default 3.8.5; tools/test.sh runs the end-to-end tests once per
  release). Job types: the built-ins plus the project's example scripts (manager_scripts/).
  The Worker runs a real Blender that opens the files this Blender saves (local_farm.py):
  Blender 4.3.2 for the 4.2 LTS tests, Debian sid's Blender 5 for the 5.0 tests.
- ``shaman_farm``: the same with Shaman on (started only by tests that ask for it).
- ``proxy``: a FaultProxy in front of ``farm`` for one test; its traffic must match the
  served API document.
- ``job_type_script``: drop a job-type script into the Manager's scripts/ for one test
  (the Manager reloads scripts on every request since 3.7; an older one is restarted).
- ``doctor_farm``: a Manager with three Workers of their own names, task types, tags and
  `blender` (each Worker's PATH picks its own), for the farm doctor's tests (one module).
When a test that used a farm fails, the tails of the Manager's and Worker's logs are attached
to its report.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import local_farm  # noqa: E402
from local_farm import Farm, WorkerSpec  # noqa: E402

from .fault_proxy import FaultProxy  # noqa: E402

_FARMS_KEY = pytest.StashKey[list[Farm]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--flamenco-release",
        default=local_farm.DEFAULT_RELEASE,
        help="Flamenco release the farm fixtures run (installed by tools/install_flamenco.sh)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"Flamenco release under test: {config.getoption('--flamenco-release')}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    # Just above pytest's summary line: which real Flamenco these results are about.
    farms = config.stash.get(_FARMS_KEY, [])
    if farms:
        terminalreporter.write_line(f"Real Flamenco Manager and Worker under test: {_release(config)}")


def _release(config: pytest.Config) -> str:
    return str(config.getoption("--flamenco-release"))


def worker_blender() -> str:
    """The Worker's Blender for files saved in this process (its bpy's version)."""
    try:
        import bpy
    except ImportError:
        return local_farm.DEFAULT_WORKER_BLENDER
    return local_farm.worker_blender_for(tuple(bpy.app.version))


def _start(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, folder: str,
           **kwargs: object) -> Iterator[Farm]:
    release = _release(request.config)
    kwargs.setdefault("worker_blender", worker_blender())
    try:
        farm = Farm(tmp_path_factory.mktemp(folder), release, **kwargs)  # type: ignore[arg-type]
    except local_farm.FlamencoMissing as ex:
        pytest.fail(str(ex), pytrace=False)  # the real Flamenco is required, never skipped
    request.config.stash.setdefault(_FARMS_KEY, []).append(farm)
    farm.start()
    try:
        yield farm
    finally:
        farm.stop()


@pytest.fixture(scope="session")
def release(request: pytest.FixtureRequest) -> str:
    return _release(request.config)


@pytest.fixture(scope="session")
def farm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    yield from _start(request, tmp_path_factory, "farm")


@pytest.fixture(scope="session")
def shaman_farm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    yield from _start(request, tmp_path_factory, "shaman-farm", shaman=True, name="Flamenco Desk Shaman Farm")


# The doctor farm's Workers. None offers ffmpeg; the broken one and the tagged one start asleep,
# so the one awake Worker takes what tests leave runnable.
DOCTOR_RENDER = "doctor-render"
DOCTOR_BROKEN = "doctor-broken"
DOCTOR_GPU = "doctor-gpu"
DOCTOR_GPU_TAG = "gpu"
# What the broken Worker's stand-in Blender says (tools/blender_stand_in_that_fails.py).
DOCTOR_BROKEN_ERROR = "Error: CUDA error: out of memory in cuMemAlloc (stand-in Blender)"


def doctor_workers() -> list[WorkerSpec]:
    real = worker_blender()
    return [
        WorkerSpec(DOCTOR_RENDER, blender=real, task_types=("blender", "file-management", "misc")),
        WorkerSpec(DOCTOR_BROKEN, blender="stand-in-that-fails", task_types=("blender", "file-management", "misc"),
                   asleep=True, env={"STAND_IN_ERROR": DOCTOR_BROKEN_ERROR}),
        WorkerSpec(DOCTOR_GPU, blender=real, task_types=("blender", "misc"), tags=(DOCTOR_GPU_TAG,), asleep=True),
    ]


@pytest.fixture(scope="module")
def doctor_farm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    """A Manager and three Workers (see doctor_workers): doctor-render (the real Blender, awake),
    doctor-broken (the stand-in Blender that fails every task, asleep) and doctor-gpu (the real
    Blender, tag "gpu", no file-management tasks, asleep)."""
    yield from _start(request, tmp_path_factory, "doctor-farm", worker=False, workers=doctor_workers(),
                      name="Flamenco Desk Doctor Farm")


@pytest.fixture
def proxy(farm: Farm) -> Iterator[FaultProxy]:
    with FaultProxy(farm.url, farm.release) as fault_proxy:
        yield fault_proxy
    fault_proxy.assert_contract_clean()


def reloads_scripts(release: str) -> bool:
    """Managers since 3.7 re-read scripts/ on every job-type request and compile; older
    ones read it once, at start-up."""
    parts = [int(p) for p in release.split(".")[:2] if p.isdigit()]
    return tuple(parts) >= (3, 7)


@pytest.fixture
def job_type_script(farm: Farm) -> Iterator[Callable[[str, str], Path]]:
    """`job_type_script(file_name, source)` writes a script the Manager serves as a job type
    (name = file stem with `_` → `-`); removed after the test. A Manager older than 3.7 is
    restarted after each change (about a second), as its admin would have to."""
    written: list[Path] = []

    def write(file_name: str, source: str) -> Path:
        path = farm.manager_dir / "scripts" / file_name
        path.write_text(source, encoding="utf-8")
        written.append(path)
        if not reloads_scripts(farm.release):
            farm.restart_manager()
        return path

    yield write
    for path in written:
        path.unlink(missing_ok=True)
    if written and not reloads_scripts(farm.release):
        farm.restart_manager()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and {"farm", "shaman_farm", "doctor_farm"} & set(getattr(item, "fixturenames", ())):
        for farm in item.config.stash.get(_FARMS_KEY, []):
            for which in ("manager", *(["worker"] if farm.with_worker else []), *farm.workers):
                report.sections.append((f"{farm.root.name} {which} log", farm.log_tail(which, 80)))
