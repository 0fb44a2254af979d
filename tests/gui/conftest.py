"""Fixtures for tests in a real Blender window: Debian's Blender 4.3 in the GUI chroot
(tools/gui/chroot.py, built on first use and cached outside the clone), on an Xvfb display.

Each test's screenshots and Blender's log are kept in `.cache/gui-artifacts/<test>/` (a
module's shared run in `.cache/gui-artifacts/<module>/`); the folders of a run are listed at
its end.

`desk_gui` is a window connected to the real farm (tests/support/farm_fixtures.py): the farm's
folder is bind-mounted into the chroot at the same path, so Blender and the Manager and Worker
see the same files (the .blend Blender saves is the one the Worker renders), and Blender reaches
the Manager on 127.0.0.1 (the chroot shares the host's network).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Iterator

import pytest

from gui_helpers import ARTIFACTS, MODULE, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import build_extension  # noqa: E402
from local_farm import Farm  # noqa: E402
from tools.gui import desk  # noqa: E402
from tools.gui.session import GuiSession  # noqa: E402
from support.blender_helpers import cancel_unfinished  # noqa: E402

_kept: list[Path] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # chroot, bind mounts and mount namespaces need root; the project's machines and CI run as root.
    if sys.platform != "linux" or os.geteuid() != 0:
        skip = pytest.mark.skip(reason="GUI tests need Linux and root (chroot, bind mounts)")
        for item in items:
            if "tests/gui/" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def extension_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built with Blender's own builder; its folder is bind-mounted into the chroot."""
    return build_extension.build(tmp_path_factory.mktemp("dist"))


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    return artifacts_folder(request.node.name)


@pytest.fixture
def gui(tmp_path: Path, artifacts: Path, extension_zip: Path) -> Iterator[GuiSession]:
    """A Blender window with the extension installed from its zip and enabled."""
    with GuiSession(tmp_path / "gui", artifacts, binds=[extension_zip.parent]) as session:
        installed = session.install_extension(extension_zip)
        assert installed["result"] == ["FINISHED"], installed
        assert MODULE in installed["addons"], installed
        yield session


def artifacts_folder(name: str) -> Path:
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _kept.append(folder)
    return folder


@pytest.fixture(scope="module")
def module_artifacts(request: pytest.FixtureRequest) -> Path:
    return artifacts_folder(request.module.__name__.rpartition(".")[2])


@pytest.fixture(scope="module")
def desk_gui(
    tmp_path_factory: pytest.TempPathFactory, module_artifacts: Path, extension_zip: Path, farm: Farm
) -> Iterator[GuiSession]:
    """One Blender window per test module: the extension installed from its zip, connected to
    the real farm. The artist's files belong in `session.work / "artist"` (bind-mounted)."""
    work = tmp_path_factory.mktemp("gui")
    with GuiSession(work, module_artifacts, binds=[extension_zip.parent, farm.root]) as session:
        installed = session.install_extension(extension_zip)
        assert installed["result"] == ["FINISHED"], installed
        line = desk.connect(session, farm.url)
        assert line.startswith("Connected"), line
        try:
            yield session
        finally:
            session.save_log()
            cancel_unfinished(farm)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for folder in _kept:
        terminalreporter.write_line(f"GUI screenshots and Blender log: {folder}")
