"""A shared-storage folder the tests can freeze, throttle and fill: a pass-through FUSE mount.

    with FuseShare(backing, mountpoint) as share:
        share.freeze()            # every filesystem call on the mount blocks …
        share.calls_waiting()     # … (how many are blocked right now)
        share.thaw()              # … until here
        share.throttle(110_000_000)   # read+write bandwidth limit (bytes/s); None = unlimited
        share.fill(10_000_000)    # writes fail with ENOSPC once the backing folder holds this

The filesystem runs in its own process (this file run as a script, fusepy over libfuse2), never in
the test's Blender: a frozen call blocks only the thread that made it. The test controls it over
the process's stdin/stdout (one command per line, one answer per line), not with signals.
Leaving the context thaws the share first, then unmounts (``umount``, else ``umount -l``), then
ends the process, so a test that fails while frozen does not leave a hanging mount behind.
`backing` may be `mountpoint` itself (the mount then shadows the folder with itself: processes
that see the folder without the mount, like the Worker's chroot, see the same files).
Needs root (mounting without fusermount) and /dev/fuse.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Optional

START_TIMEOUT = 15.0
COMMAND_TIMEOUT = 10.0
BURST = 0.05  # seconds of credit a throttled share may send ahead


class FuseShareError(RuntimeError):
    pass


class FuseShare:
    def __init__(self, backing: Path, mountpoint: Path, python: Optional[str] = None) -> None:
        self.backing = Path(backing).resolve()
        self.mountpoint = Path(mountpoint)
        self.python = python or sys.executable
        self._process: Optional[subprocess.Popen[str]] = None
        self._lock = threading.Lock()

    # --- lifetime -----------------------------------------------------------------------------

    def __enter__(self) -> "FuseShare":
        self.start()
        return self

    def __exit__(self, kind: Optional[type[BaseException]], value: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.stop()

    def start(self) -> None:
        self.backing.mkdir(parents=True, exist_ok=True)
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [self.python, __file__, str(self.backing), str(self.mountpoint)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        try:
            answer = self._read_line(START_TIMEOUT)
        except FuseShareError:
            self.stop()
            raise
        if answer != "mounted":
            self.stop()
            raise FuseShareError(f"the FUSE share did not mount: {answer!r}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.poll() is None:
                self._send(process, "thaw")
                self._send(process, "throttle -")
        except (FuseShareError, OSError):
            pass
        lazy = False
        if _is_mounted(self.mountpoint):
            done = subprocess.run(["umount", str(self.mountpoint)], capture_output=True, timeout=30)
            if done.returncode != 0:
                # Something still has a file open on the share: detach it now; the filesystem
                # process would wait for that file to be closed, so it is ended below.
                lazy = True
                print(f"FuseShare: {done.stderr.decode(errors='replace').strip()}; unmounting lazily", file=sys.stderr)
                subprocess.run(["umount", "-l", str(self.mountpoint)], capture_output=True, timeout=30)
        try:
            if process.stdin:
                process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout=2 if lazy else 10)
        except subprocess.TimeoutExpired:
            process.kill()  # our own child, by its handle
            process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()

    # --- control ------------------------------------------------------------------------------

    def freeze(self) -> None:
        self._command("freeze")

    def thaw(self) -> None:
        self._command("thaw")

    def throttle(self, bytes_per_second: Optional[int]) -> None:
        self._command(f"throttle {'-' if bytes_per_second is None else int(bytes_per_second)}")

    def fill(self, limit_bytes: Optional[int]) -> None:
        self._command(f"fill {'-' if limit_bytes is None else int(limit_bytes)}")

    def calls_waiting(self) -> int:
        return int(self._command("waiting"))

    def wait_for_waiting(self, count: int = 1, timeout: float = 10.0) -> int:
        """Until at least `count` calls are held by a freeze (a test's proof that the frozen
        share was really reached); returns how many."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = self.calls_waiting()
            if waiting >= count or time.monotonic() > deadline:
                return waiting
            time.sleep(0.02)

    def _command(self, line: str) -> str:
        process = self._process
        if process is None or process.poll() is not None:
            raise FuseShareError("the FUSE share is not running")
        with self._lock:
            self._send(process, line)
            answer = self._read_line(COMMAND_TIMEOUT)
        if answer.startswith("error"):
            raise FuseShareError(answer)
        return answer.removeprefix("ok").strip()

    @staticmethod
    def _send(process: subprocess.Popen[str], line: str) -> None:
        assert process.stdin is not None
        process.stdin.write(line + "\n")
        process.stdin.flush()

    def _read_line(self, timeout: float) -> str:
        process = self._process
        assert process is not None and process.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not result:
            raise FuseShareError(f"the FUSE share did not answer within {timeout:.0f} s")
        if not result[0]:
            raise FuseShareError(f"the FUSE share process ended (exit {process.poll()})")
        return result[0].strip()


def _is_mounted(mountpoint: Path) -> bool:
    # /proc/mounts rather than os.path.ismount: a stat of a frozen mount would hang.
    target = str(Path(os.path.abspath(mountpoint)))
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            return any(line.split()[1] == target for line in mounts if len(line.split()) > 1)
    except OSError:
        return False


# ----------------------------------------------------------------------------------------------
# The filesystem process (run as a script).

def _serve(backing: str, mountpoint: str) -> None:
    from fuse import FUSE, FuseOSError, Operations  # fusepy: only in the filesystem process

    class Gate:
        """Freeze, bandwidth and space, shared by all FUSE threads and the control thread."""

        def __init__(self) -> None:
            self.cond = threading.Condition()
            self.frozen = False
            self.waiting = 0
            self.rate: Optional[int] = None
            self.next_free = 0.0
            self.limit: Optional[int] = None
            self.used = 0

        def enter(self) -> None:
            with self.cond:
                if not self.frozen:
                    return
                self.waiting += 1
                try:
                    while self.frozen:
                        self.cond.wait()
                finally:
                    self.waiting -= 1

        def pace(self, size: int) -> None:
            # Each transfer reserves its slot on one timeline: the sum over all threads keeps to the
            # rate. The timeline may lag `now` by BURST (a link's buffers): time this process spends
            # between calls is then not added on top of the link's time.
            with self.cond:
                rate = self.rate
                if not rate:
                    return
                now = time.monotonic()
                start = max(now - BURST, self.next_free)
                self.next_free = start + size / rate
                delay = self.next_free - now
            if delay > 0:
                time.sleep(delay)

        def reserve(self, size: int) -> None:
            with self.cond:
                if self.limit is not None and self.used + size > self.limit:
                    raise FuseOSError(errno.ENOSPC)
                self.used += size

    gate = Gate()
    # Every call goes through a descriptor of the backing folder opened before mounting, so the
    # backing folder may be the mountpoint itself: the mount then shadows a folder with itself, and
    # a process that sees the folder without the mount (the Worker's chroot, whose bind mount does
    # not take submounts) reads the very same files.
    root_fd = os.open(os.path.realpath(backing), os.O_RDONLY | os.O_DIRECTORY)

    def usage() -> int:
        total = 0
        for _folder, _dirs, files, dir_fd in os.fwalk(dir_fd=root_fd):
            for name in files:
                try:
                    total += os.lstat(name, dir_fd=dir_fd).st_size
                except OSError:
                    pass
        return total

    def rel(path: str) -> str:
        return path.lstrip("/") or "."

    class Passthrough(Operations):  # type: ignore[misc]
        def __call__(self, op: str, path: str, *args: Any) -> Any:
            if op not in ("init", "destroy"):
                gate.enter()
            return super().__call__(op, path, *args)

        def access(self, path: str, mode: int) -> None:
            if not os.access(rel(path), mode, dir_fd=root_fd):
                raise FuseOSError(errno.EACCES)

        def chmod(self, path: str, mode: int) -> None:
            os.chmod(rel(path), mode, dir_fd=root_fd)

        def chown(self, path: str, uid: int, gid: int) -> None:
            os.chown(rel(path), uid, gid, dir_fd=root_fd, follow_symlinks=False)

        def create(self, path: str, mode: int, fi: Any = None) -> int:
            return os.open(rel(path), os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode, dir_fd=root_fd)

        def flush(self, path: str, fh: int) -> None:
            pass

        def fsync(self, path: str, datasync: int, fh: int) -> None:
            if datasync:
                os.fdatasync(fh)
            else:
                os.fsync(fh)

        def getattr(self, path: str, fh: Optional[int] = None) -> dict[str, Any]:
            st = os.lstat(rel(path), dir_fd=root_fd)
            return {key: getattr(st, key) for key in (
                "st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size", "st_uid")}

        def link(self, target: str, source: str) -> None:
            os.link(rel(source), rel(target), src_dir_fd=root_fd, dst_dir_fd=root_fd)

        def mkdir(self, path: str, mode: int) -> None:
            os.mkdir(rel(path), mode, dir_fd=root_fd)

        def mknod(self, path: str, mode: int, dev: int) -> None:
            os.mknod(rel(path), mode, dev, dir_fd=root_fd)

        def open(self, path: str, flags: int) -> int:
            return os.open(rel(path), flags, dir_fd=root_fd)

        def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
            data = os.pread(fh, size, offset)
            gate.pace(len(data))
            return data

        def readdir(self, path: str, fh: int) -> list[str]:
            fd = os.open(rel(path), os.O_RDONLY | os.O_DIRECTORY, dir_fd=root_fd)
            try:
                return [".", ".."] + os.listdir(fd)
            finally:
                os.close(fd)

        def readlink(self, path: str) -> str:
            return os.readlink(rel(path), dir_fd=root_fd)

        def release(self, path: str, fh: int) -> None:
            os.close(fh)

        def rename(self, old: str, new: str) -> None:
            os.rename(rel(old), rel(new), src_dir_fd=root_fd, dst_dir_fd=root_fd)

        def rmdir(self, path: str) -> None:
            os.rmdir(rel(path), dir_fd=root_fd)

        def statfs(self, path: str) -> dict[str, Any]:
            sv = os.statvfs(root_fd)
            stats = {key: getattr(sv, key) for key in (
                "f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files",
                "f_flag", "f_frsize", "f_namemax")}
            if gate.limit is not None:  # a full share says so to whoever asks first
                free = max(gate.limit - gate.used, 0) // max(sv.f_frsize, 1)
                stats["f_bavail"] = stats["f_bfree"] = min(free, sv.f_bavail)
            return stats

        def symlink(self, target: str, source: str) -> None:
            os.symlink(source, rel(target), dir_fd=root_fd)

        def truncate(self, path: str, length: int, fh: Optional[int] = None) -> None:
            if fh is not None:
                os.ftruncate(fh, length)
                return
            fd = os.open(rel(path), os.O_WRONLY, dir_fd=root_fd)
            try:
                os.ftruncate(fd, length)
            finally:
                os.close(fd)

        def unlink(self, path: str) -> None:
            size = os.lstat(rel(path), dir_fd=root_fd).st_size
            os.unlink(rel(path), dir_fd=root_fd)
            with gate.cond:
                gate.used = max(gate.used - size, 0)

        def utimens(self, path: str, times: Optional[tuple[float, float]] = None) -> None:
            os.utime(rel(path), times, dir_fd=root_fd, follow_symlinks=False)

        def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
            gate.reserve(len(data))
            gate.pace(len(data))
            return os.pwrite(fh, data, offset)

    def control() -> None:
        # Waits for the kernel to answer on the new mount before telling the test it may use it.
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.ismount(mountpoint):
            if time.monotonic() > deadline:
                print("error: not mounted", flush=True)
                return
            time.sleep(0.02)
        print("mounted", flush=True)
        for raw in sys.stdin:
            words = raw.split()
            if not words:
                continue
            command, arg = words[0], (words[1] if len(words) > 1 else "-")
            with gate.cond:
                if command == "freeze":
                    gate.frozen = True
                    answer = "ok"
                elif command == "thaw":
                    gate.frozen = False
                    gate.cond.notify_all()
                    answer = "ok"
                elif command == "throttle":
                    gate.rate = None if arg == "-" else int(arg)
                    gate.next_free = 0.0
                    answer = "ok"
                elif command == "fill":
                    gate.limit = None if arg == "-" else int(arg)
                    answer = "ok"
                elif command == "waiting":
                    answer = f"ok {gate.waiting}"
                else:
                    answer = f"error: unknown command {command}"
            if command == "fill" and arg != "-":
                used = usage()  # outside the lock: the walk goes through the descriptor, not the mount
                with gate.cond:
                    gate.used = used
            print(answer, flush=True)
        # stdin closed: the test is gone; thaw so the unmount can finish.
        with gate.cond:
            gate.frozen = False
            gate.rate = None
            gate.cond.notify_all()

    threading.Thread(target=control, daemon=True).start()
    # big_writes/max_write: 128 KiB per write call instead of 4 KiB (libfuse2), so a throttled share
    # measures bandwidth, not this process's per-call cost.
    FUSE(Passthrough(), mountpoint, foreground=True, nothreads=False, big_writes=True,
         max_write=131072, max_read=131072, default_permissions=True, allow_other=True,
         nonempty=True)  # libfuse2 refuses a folder with files unless told (a shadowed folder has them)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
