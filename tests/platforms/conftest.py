"""A farm whose storage is seen at a different path per platform: two-way variable `storage`
(linux: the farm's own folder, as the Manager and its Linux Worker see it; windows: S:\\Flamenco;
darwin: a /Volumes/… path). The Worker runs in a mount namespace of its own where /Volumes is an
empty tmpfs: the macOS artist's path does not exist for it. Fake Windows and macOS Workers
(the real Manager's Worker API, no process) show what the Manager hands those platforms."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

import local_farm
from platform_support import WINDOWS_STORAGE, FakeWorker
from support import farm_fixtures

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@pytest.fixture(scope="session")
def mac_volume() -> str:
    return f"/Volumes/FlamencoDesk-{os.getpid()}"


def _mixed(request: pytest.FixtureRequest, root: Path, volume: str, **kwargs: Any) -> Iterator[local_farm.Farm]:
    variables = {"storage": {"linux": str(root / "shared"), "windows": WINDOWS_STORAGE, "darwin": volume}}
    try:
        farm = local_farm.Farm(root, str(request.config.getoption("--flamenco-release")),
                               worker_blender=farm_fixtures.worker_blender(),
                               scripts=[*sorted((ROOT / "manager_scripts").glob("*.js")), HERE / "path_probe.js"],
                               two_way_variables=variables, worker_hides=("/Volumes",), **kwargs)
    except local_farm.FlamencoMissing as ex:
        pytest.fail(str(ex), pytrace=False)
    farm.start()
    try:
        yield farm
    finally:
        farm.stop()


@pytest.fixture(scope="session")
def mixed_farm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               mac_volume: str) -> Iterator[local_farm.Farm]:
    yield from _mixed(request, tmp_path_factory.mktemp("mixed-farm"), mac_volume, name="Flamenco Desk Mixed Farm")


@pytest.fixture(scope="session")
def mixed_shaman_farm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                      mac_volume: str) -> Iterator[local_farm.Farm]:
    """The same with Shaman on (its job storage, {jobs}, is shared/jobs)."""
    yield from _mixed(request, tmp_path_factory.mktemp("mixed-shaman-farm"), mac_volume + "-shaman",
                      name="Flamenco Desk Mixed Shaman Farm", shaman=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    for name in ("mixed_farm", "mixed_shaman_farm"):
        farm = getattr(item, "funcargs", {}).get(name)
        if report.failed and farm is not None:
            for which in ("manager", "worker"):
                report.sections.append((f"{name} {which} log", farm.log_tail(which, 80)))


def _mount(source: Path, volume: str) -> Iterator[Path]:
    """The farm's storage where a Mac mounts it: a bind mount at /Volumes/… for this (the
    artist's) process, removed afterwards. The Worker's namespace never sees it."""
    target = Path(volume)
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "--bind", str(source), str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "--lazy", str(target)], check=False)
        target.rmdir()


@pytest.fixture(scope="session")
def mac_mount(mixed_farm: local_farm.Farm, mac_volume: str) -> Iterator[Path]:
    yield from _mount(mixed_farm.shared, mac_volume)


@pytest.fixture(scope="session")
def mac_shaman_mount(mixed_shaman_farm: local_farm.Farm, mac_volume: str) -> Iterator[Path]:
    yield from _mount(mixed_shaman_farm.shared, mac_volume + "-shaman")


@pytest.fixture(scope="session")
def fake_workers(mixed_farm: local_farm.Farm) -> Iterator[dict[str, FakeWorker]]:
    workers = {p: FakeWorker(mixed_farm, p).register() for p in ("linux", "windows", "darwin")}
    yield workers
    for worker in workers.values():
        worker.sign_off()
