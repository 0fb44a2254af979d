"""Copying a pack into a job folder on shared storage, so that no folder ever looks complete
before it is.

Files are written into `<folder>.partial`, a sibling of the final folder; only when every
file is there is it renamed to `<folder>` (one rename on one filesystem: atomic). A cancel
or an error removes `<folder>.partial`. A crash can leave a `.partial` folder, never a
complete-looking one.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path, PurePath
from typing import Any, Callable

from .transfer import PromptTransferer
from .progress import CancelFlag, Cancelled, Progress

# Large enough that the per-chunk cancel check and progress call cost nothing measurable,
# small enough that Cancel answers within a fraction of a second on a slow share.
CHUNK = 8 * 1024 * 1024
_FALLBACK_ERRNOS = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM, errno.EBADF}


def staging_folder(folder: Path) -> Path:
    return folder.with_name(folder.name + ".partial")


def copy_file(src: Path, dst: Path, stop: Callable[[], bool], advance: Callable[[int], None]) -> None:
    """Copy `src` to a new file `dst` in chunks, checking `stop()` before each one.

    Uses the kernel's copy (copy_file_range: no round trip through Python, reflinks where
    the filesystem has them) and falls back to plain reads and writes where it is missing.
    Never overwrites: `dst` must not exist."""
    with src.open("rb") as fin, dst.open("xb") as fout:
        kernel_copy = hasattr(os, "copy_file_range")
        while True:
            if stop():
                raise Cancelled("Cancelled")
            if kernel_copy:
                try:
                    n = os.copy_file_range(fin.fileno(), fout.fileno(), CHUNK)
                except OSError as ex:
                    if ex.errno not in _FALLBACK_ERRNOS:
                        raise
                    kernel_copy = False
                    continue
            else:
                block = fin.read(CHUNK)
                fout.write(block)
                n = len(block)
            if n == 0:
                break
            advance(n)


class StagedCopier(PromptTransferer):
    """BAT transfer object: copies each queued file below `staging` at the place it has
    below `final` (BAT computes every path as if writing to `final`)."""

    def __init__(self, final: Path, cancel: CancelFlag, progress: Progress, expected_files: int,
                 expected_bytes: int) -> None:
        super().__init__()
        self.daemon = True  # quitting Blender must not wait for a copy to a slow share
        self.final = final
        self.staging = staging_folder(final)
        self.cancel = cancel
        self.progress = progress
        self.expected_files = expected_files
        self.expected_bytes = expected_bytes
        self.files_sent = 0
        self.bytes_sent = 0
        self._written: set[Path] = set()

    def _should_stop(self) -> bool:
        return bool(self._abort.is_set() or self.has_error or self.cancel.is_set())

    def _advance(self, n: int) -> None:
        self.bytes_sent += n
        self.progress.bytes_done(self.bytes_sent, max(self.expected_bytes, self.total_queued_bytes))

    def run(self) -> None:
        item: Any = None
        for item in self.iter_queue():
            src, dst, _action = item
            target = self.staging / PurePath(dst).relative_to(self.final)
            if target in self._written:  # BAT may queue one file twice (e.g. UDIM tiles)
                continue
            try:
                if self._should_stop():
                    raise Cancelled("Cancelled")
                size = src.stat().st_size
                self.progress.file_started(str(src), size, self.files_sent + 1,
                                           max(self.expected_files, self.files_sent + 1))
                target.parent.mkdir(parents=True, exist_ok=True)
                copy_file(src, target, self._should_stop, self._advance)
            except Cancelled:
                self.queue.put(item)  # tells BAT it was not transferred
                return
            except OSError as ex:
                self.error_set(f"Could not copy {src} to shared storage: {ex.strerror or ex}")
                self.queue.put(item)
                return
            self._written.add(target)
            self.files_sent += 1

    # -- the folder ------------------------------------------------------------------------

    def create(self) -> None:
        if self.final.exists() or self.staging.exists():
            raise FileExistsError(f"{self.final} already exists; refusing to write into it")
        self.staging.mkdir(parents=True)

    def commit(self) -> None:
        """Make the folder look complete: one rename."""
        os.rename(self.staging, self.final)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
