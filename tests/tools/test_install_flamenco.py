"""tools/install_flamenco.sh: from an official-style release archive or a folder into an empty
cache, and a clear message naming FLAMENCO_SRC when nothing is available."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

import local_farm

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "install_flamenco.sh"


def run(cache: Path, release: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "XDG_CACHE_HOME": str(cache), **env}
    return subprocess.run(["bash", str(SCRIPT), release], capture_output=True, text=True, timeout=120, env=environment)


@pytest.fixture
def release(farm: local_farm.Farm) -> str:
    return farm.release  # the release under test is installed in the real cache


def release_archive(tmp_path: Path, release: str) -> Path:
    """A tarball shaped like Flamenco's official release archive."""
    top = tmp_path / f"flamenco-{release}-linux-amd64"
    (top / "tools").mkdir(parents=True)
    for name in ("flamenco-manager", "flamenco-worker"):
        shutil.copy2(local_farm.release_dir(release) / name, top / name)
    (top / "README.md").write_text("Flamenco\n")
    archive = tmp_path / f"flamenco-{release}-linux-amd64.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(top, arcname=top.name)
    return archive


def test_installs_from_a_release_archive_into_an_empty_cache(tmp_path: Path, release: str) -> None:
    cache = tmp_path / "cache"
    proc = run(cache, release, FLAMENCO_SRC=str(release_archive(tmp_path, release)))
    assert proc.returncode == 0, proc.stderr
    installed = cache / "flamenco-desk" / "flamenco" / release
    assert proc.stdout.strip() == str(installed)
    assert os.access(installed / "flamenco-manager", os.X_OK) and os.access(installed / "flamenco-worker", os.X_OK)
    spec = json.loads((installed / "openapi3.json").read_text())
    assert "/api/v3/jobs" in spec["paths"]  # the document that Manager serves
    again = run(cache, release, FLAMENCO_SRC="/nonexistent")  # cached: the source is not needed
    assert again.returncode == 0 and again.stdout.strip() == str(installed)


def test_installs_from_a_folder_and_refuses_the_wrong_release(tmp_path: Path, release: str) -> None:
    folder = tmp_path / "my-build"
    folder.mkdir()
    for name in ("flamenco-manager", "flamenco-worker"):
        shutil.copy2(local_farm.release_dir(release) / name, folder / name)
    ok = run(tmp_path / "c1", release, FLAMENCO_SRC=str(folder))
    assert ok.returncode == 0, ok.stderr
    wrong = "3.8.5" if release != "3.8.5" else "3.6"
    refused = run(tmp_path / "c2", wrong, FLAMENCO_SRC=str(folder))
    assert refused.returncode != 0
    assert f"not {wrong}" in refused.stderr
    assert not (tmp_path / "c2" / "flamenco-desk" / "flamenco" / wrong).exists(), "nothing half-installed"


def test_says_what_to_set_when_nothing_is_available(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{local_farm.free_port()}"  # the official download is unreachable
    proc = run(tmp_path / "cache", "3.8.5", FLAMENCO_DOWNLOADS=closed)
    assert proc.returncode == 2
    assert "FLAMENCO_SRC" in proc.stderr and "flamenco-3.8.5-linux-amd64.tar.gz" in proc.stderr
    assert not (tmp_path / "cache" / "flamenco-desk" / "flamenco" / "3.8.5").exists()


def test_a_source_tree_is_refused_with_an_explanation(tmp_path: Path) -> None:
    source = tmp_path / "flamenco-source"
    (source / "cmd" / "flamenco-manager").mkdir(parents=True)
    (source / "go.mod").write_text("module projects.blender.org/studio/flamenco\n")
    proc = run(tmp_path / "cache", "3.8.5", FLAMENCO_SRC=str(source))
    assert proc.returncode == 2
    assert "does not build Flamenco" in proc.stderr and "FLAMENCO_SRC" in proc.stderr
