"""Packing and Shaman upload throughput, against the plain tools doing the same bytes.

A generated shot of 300 files / 500 MB (a .blend referencing 299 files of mixed sizes):
- shared storage: `core.packing.pack_to_folder` (trace, copy into `<job>.partial`, rename)
  vs `cp -r` of the same project folder on the same disk;
- shared storage over 1 GbE: the same two onto a FUSE share (tests/support/fuse_share.py)
  throttled to 110 MB/s, where an artist's wait is decided by the link, not the page cache;
- Shaman: `core.packing.pack_to_shaman` to a loopback real Manager (trace, hash, upload,
  checkout) vs `curl` POSTing the same files to the same endpoint (checksums given), each
  against a fresh Manager so both really send every byte; then the second submission of
  the unchanged shot: bytes sent and seconds.

Run: .venv/bpy-5.0.1/bin/python bench/packing.py [--files 300] [--megabytes 500] [--fuse-only]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="flamenco-desk-bench-"))
sys.path[:0] = [str(ROOT / "tools")]
import build_extension  # noqa: E402
import local_farm  # noqa: E402

sys.path[:0] = [str(w) for w in build_extension.fetch_wheels()]
_pkg = types.ModuleType("flamenco_desk_src")
_pkg.__path__ = [str(ROOT)]
sys.modules["flamenco_desk_src"] = _pkg
from flamenco_desk_src.api.client import ManagerClient  # noqa: E402
from flamenco_desk_src.core import packing  # noqa: E402

MB = 1_000_000


def make_shot(project: Path, files: int, total_bytes: int) -> Path:
    """`files` - 1 dependency files of mixed sizes (a few large, many small) plus the .blend."""
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    deps = files - 1
    large = max(1, deps // 30)  # ~3% of the files hold half of the bytes, like plates and caches
    sizes = [total_bytes // 2 // large] * large + [total_bytes // 2 // (deps - large)] * (deps - large)
    (project / "tex").mkdir(parents=True)
    for i, size in enumerate(sizes):
        path = project / "tex" / f"file_{i:03d}.exr"
        with path.open("wb") as f:
            left = size
            while left:
                block = os.urandom(min(left, 8 * 1024 * 1024))
                f.write(block)
                left -= len(block)
        img = bpy.data.images.new(f"file_{i:03d}", 4, 4)
        img.source = "FILE"
        img.filepath = f"//tex/{path.name}"
        img.use_fake_user = True
    blend = project / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), relative_remap=False)
    return blend


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def warm(folder: Path) -> None:
    """Read everything once, so both contenders read from the page cache."""
    for p in folder.rglob("*"):
        if p.is_file():
            with p.open("rb") as f:
                while f.read(8 * 1024 * 1024):
                    pass


def bench_shared(blend: Path, work: Path, rounds: int) -> None:
    project = blend.parent
    size = tree_bytes(project)
    ours, theirs = [], []
    for i in range(rounds):
        warm(project)
        target = work / "shared" / f"pack-{i}"
        start = time.perf_counter()
        result = packing.pack_to_folder(blend, target)
        ours.append(time.perf_counter() - start)
        assert result.files_sent >= len(list(project.rglob("*.exr")))
        shutil.rmtree(target)
        os.sync()

        warm(project)
        target = work / "shared" / f"cp-{i}"
        start = time.perf_counter()
        subprocess.run(["cp", "-r", str(project), str(target)], check=True)
        theirs.append(time.perf_counter() - start)
        shutil.rmtree(target)
        os.sync()
    best_ours, best_cp = min(ours), min(theirs)
    count = sum(1 for p in project.rglob('*') if p.is_file())
    print(f"shared storage, {size / MB:.0f} MB in {count} files (best of {rounds}):")
    print(f"  pack_to_folder  {best_ours:6.2f} s  {size / MB / best_ours:7.0f} MB/s   (trace + copy + rename)")
    print(f"  cp -r           {best_cp:6.2f} s  {size / MB / best_cp:7.0f} MB/s")
    print(f"  ratio pack/cp   {best_cp / best_ours:6.2f} of cp's throughput")


GBE = 110 * MB  # what a 1 Gbit/s link carries of file data


def bench_fuse_share(blend: Path, work: Path, rounds: int, rate: int = GBE) -> None:
    """pack_to_folder vs `cp -r` onto a pass-through FUSE share throttled to `rate` bytes/s."""
    sys.path.insert(0, str(ROOT / "tests"))
    from support.fuse_share import FuseShare

    project = blend.parent
    size = tree_bytes(project)
    ours, theirs = [], []
    backing, mount = work / "fuse-backing", work / "fuse-share"
    with FuseShare(backing, mount) as share:
        share.throttle(rate)
        for i in range(rounds):
            warm(project)
            start = time.perf_counter()
            packing.pack_to_folder(blend, mount / f"pack-{i}")
            ours.append(time.perf_counter() - start)
            shutil.rmtree(backing / f"pack-{i}")

            warm(project)
            start = time.perf_counter()
            subprocess.run(["cp", "-r", str(project), str(mount / f"cp-{i}")], check=True)
            theirs.append(time.perf_counter() - start)
            shutil.rmtree(backing / f"cp-{i}")
    best_ours, best_cp = min(ours), min(theirs)
    print(f"\nFUSE share throttled to {rate / MB:.0f} MB/s (1 GbE), {size / MB:.0f} MB (best of {rounds}):")
    print(f"  pack_to_folder  {best_ours:6.2f} s  {size / MB / best_ours:7.0f} MB/s")
    print(f"  cp -r           {best_cp:6.2f} s  {size / MB / best_cp:7.0f} MB/s")
    print(f"  ratio pack/cp   {best_cp / best_ours:6.2f} of cp's throughput (target >= 0.9)")


class Stages(packing.Progress):
    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    def stage(self, text: str) -> None:
        self.times[text] = time.perf_counter()


def curl_upload(url: str, files: list[Path]) -> float:
    """One curl process, one connection, every file POSTed to its Shaman URL."""
    config = []
    for i, path in enumerate(files):
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if i:
            config.append("next")
        config += [f'url = "{url}/api/v3/shaman/files/{sha}/{len(data)}"', f'data-binary = "@{path}"',
                   'header = "Content-Type: application/octet-stream"', 'output = "/dev/null"', "silent",
                   'write-out = "%{http_code}\\n"']
    cfg = Path(tempfile.mkstemp(suffix=".curl")[1])
    cfg.write_text("\n".join(config) + "\n")
    start = time.perf_counter()
    proc = subprocess.run(["curl", "-K", str(cfg)], capture_output=True, text=True, check=True)
    took = time.perf_counter() - start
    codes = proc.stdout.split()
    assert sum(c in ("200", "204") for c in codes) == len(files), codes[:5]
    return took


def bench_shaman(blend: Path, work: Path, rounds: int) -> None:
    project = blend.parent
    files = sorted(p for p in project.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in files)
    curl_runs, upload_runs, total_runs = [], [], []
    for i in range(rounds):  # fresh Managers every round: both contenders send every byte
        with local_farm.Farm(work / f"farm-curl-{i}", shaman=True, worker=False) as farm:
            warm(project)
            curl_runs.append(curl_upload(farm.url, files))

        with local_farm.Farm(work / f"farm-ours-{i}", shaman=True, worker=False) as farm:
            warm(project)
            stages = Stages()
            cache = packing.HashCache(work / f"hash-cache-{i}.json")
            start = time.perf_counter()
            with ManagerClient(farm.url, read_timeout=60) as client:
                first = packing.pack_to_shaman(blend, client, "bench/first", progress=stages, hash_cache=cache)
            total_runs.append(time.perf_counter() - start)
            upload_runs.append(stages.times["Creating the job folder on the farm"] - stages.times["Uploading"])
            hash_s = stages.times["Uploading"] - stages.times["Hashing"]

            start = time.perf_counter()
            with ManagerClient(farm.url, read_timeout=60) as client:
                second = packing.pack_to_shaman(blend, client, "bench/second", hash_cache=cache)
            again = time.perf_counter() - start
        shutil.rmtree(work / f"farm-curl-{i}", ignore_errors=True)
        shutil.rmtree(work / f"farm-ours-{i}", ignore_errors=True)

    total, upload_s, curl_s = min(total_runs), min(upload_runs), min(curl_runs)
    print(f"\nShaman upload to a loopback Manager, {size / MB:.0f} MB in {len(files)} files (best of {rounds}):")
    print(f"  pack_to_shaman  {total:6.2f} s end to end (trace + hash {hash_s:.2f} s + upload + checkout)")
    print(f"  upload only     {upload_s:6.2f} s  {first.bytes_sent / MB / upload_s:7.0f} MB/s  ({first.files_sent} files sent)")
    print(f"  curl            {curl_s:6.2f} s  {size / MB / curl_s:7.0f} MB/s  (same files, one connection, checksums precomputed)")
    print(f"  ratio upload/curl {curl_s / upload_s:4.2f} of curl's throughput; end to end {curl_s / total:4.2f}")
    print(f"  second submission (unchanged shot, hash cache warm): {second.bytes_sent} bytes in "
          f"{second.files_sent} files sent, {again:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--megabytes", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fuse-only", action="store_true", help="only the throttled FUSE share row")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flamenco-desk-bench-pack-"))
    try:
        blend = make_shot(work / "artist" / "project", args.files, args.megabytes * MB)
        if not args.fuse_only:
            bench_shared(blend, work, args.rounds)
        bench_fuse_share(blend, work, args.rounds)
        if not args.fuse_only:
            bench_shaman(blend, work, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
