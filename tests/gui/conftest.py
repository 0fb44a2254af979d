"""Fixtures for tests in a real Blender window: Debian's Blender 4.3 in the GUI chroot
(tools/gui/chroot.py, built on first use and cached outside the clone), on an Xvfb display.

Each test's screenshots and Blender's log are kept in `.cache/gui-artifacts/<test>/`; the
folders of a run are listed at its end.
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
from tools.gui.session import GuiSession  # noqa: E402

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
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _kept.append(folder)
    return folder


@pytest.fixture
def gui(tmp_path: Path, artifacts: Path, extension_zip: Path) -> Iterator[GuiSession]:
    """A Blender window with the extension installed from its zip and enabled."""
    with GuiSession(tmp_path / "gui", artifacts, binds=[extension_zip.parent]) as session:
        installed = session.install_extension(extension_zip)
        assert installed["result"] == ["FINISHED"], installed
        assert MODULE in installed["addons"], installed
        yield session


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for folder in _kept:
        terminalreporter.write_line(f"GUI screenshots and Blender log: {folder}")
