"""Sending a pack to the Manager's Shaman file store and creating the job's checkout.

The Manager stores files by content (SHA-256 and size) and builds a job's folder from
symlinks into that store ("checkout"), so a file it already has is never sent again, by
anyone. The steps, all on packing threads:

1. hash every file BAT queues (while BAT is still tracing the rest);
2. `checkout/requirements`: which of them does the Manager lack?
3. upload those, streamed from disk; "uploading" ones (someone else is sending them) last,
   allowing the Manager to defer them (425) while other work remains;
4. ask again until nothing is missing (uploads that broke are retried, files that arrived
   meanwhile are skipped), then `checkout/create` with a path unique to this submission,
   and use the path the Manager returns (it may add a suffix).

A retry after a failure or a cancel starts over at step 1 and therefore resumes: what the
Manager received before is not sent again.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from ...api import errors
from ...api.client import ManagerClient
from ...api.models import ShamanFileSpec, ShamanFileStatus, ShamanUpload
from .transfer import PromptTransferer
from .hashing import HashCache
from .progress import CancelFlag, Cancelled, Progress

log = logging.getLogger(__name__)

# Read size for uploads, whatever block size the HTTP library asks for: fewer system calls.
UPLOAD_BLOCK = 4 * 1024 * 1024
MAX_ROUNDS = 8  # requirements → uploads rounds before giving up
DEFER_WAIT = 0.5  # seconds to wait before asking again when files were deferred


class _UploadBody:
    """A file as an HTTP request body: read in blocks, never whole; stops on cancel."""

    def __init__(self, f: BinaryIO, size: int, uploader: ShamanUploader) -> None:
        self._f = f
        self._size = size
        self._uploader = uploader

    def __len__(self) -> int:
        return self._size

    def read(self, size: int = -1, /) -> bytes:
        if self._uploader.stop_requested():
            raise Cancelled("Cancelled")
        block = self._f.read(UPLOAD_BLOCK)
        if block:
            self._uploader.count_sent(len(block))
        return block


@dataclass
class _File:
    local: Path
    spec: ShamanFileSpec


class ShamanUploader(PromptTransferer):
    """BAT transfer object for the Shaman; `root` is the fake target BAT packs against."""

    def __init__(self, client: ManagerClient, checkout_path: str, root: PurePath, cancel: CancelFlag,
                 progress: Progress, hash_cache: HashCache, expected_bytes: int = 0) -> None:
        super().__init__()
        self.daemon = True
        self.client = client
        self.requested_checkout_path = checkout_path
        self.checkout_path = ""  # the Manager's answer, once the checkout exists
        self.root = root
        self.cancel = cancel
        self.progress = progress
        self.hash_cache = hash_cache
        self.expected_bytes = expected_bytes
        self.files: dict[str, _File] = {}  # by path in the checkout
        self.files_sent = 0
        self.bytes_sent = 0  # bytes read from disk into upload bodies: what went to the wire
        self._hashed = 0
        self._upload_total = 0

    # -- plumbing ---------------------------------------------------------------------------

    def stop_requested(self) -> bool:
        return bool(self._abort.is_set() or self.has_error or self.cancel.is_set())

    def count_sent(self, n: int) -> None:
        self.bytes_sent += n
        self.progress.bytes_done(self.bytes_sent, max(self._upload_total, self.bytes_sent))

    def _count_hashed(self, n: int) -> None:
        self._hashed += n
        self.progress.bytes_done(self._hashed, max(self.expected_bytes, self.total_queued_bytes, self._hashed))

    def run(self) -> None:
        try:
            self._hash_queued()
            if self.stop_requested():
                return
            self._upload_missing()
            if self.stop_requested():
                return
            self._checkout()
        except Cancelled:
            return
        except errors.FlamencoError as ex:
            self.error_set(f"Uploading to the Manager's Shaman failed: {ex}")
        except OSError as ex:
            self.error_set(f"Reading a file to upload failed: {ex}")
        except Exception as ex:  # noqa: BLE001 - a transfer thread must report, not die silently
            log.exception("Shaman upload failed")
            self.error_set(f"Uploading to the Manager's Shaman failed: {ex}")
        finally:
            self.hash_cache.save()

    # -- 1. hashing ---------------------------------------------------------------------------

    def _hash_queued(self) -> None:
        self.progress.stage("Hashing")
        item: Any = None
        for item in self.iter_queue():
            src, dst, _action = item
            rel = PurePath(dst).relative_to(self.root).as_posix()
            if rel in self.files:  # BAT may queue one file twice
                continue
            try:
                self.progress.file_started(str(src), src.stat().st_size, len(self.files) + 1, 0)
                sha, size = self.hash_cache.sha256(src, self.stop_requested, self._count_hashed)
            except Cancelled:
                self.queue.put(item)
                raise
            self.files[rel] = _File(src, ShamanFileSpec(sha, size, rel))

    @property
    def specs(self) -> list[ShamanFileSpec]:
        return [f.spec for f in self.files.values()]

    # -- 2. and 3. requirements and uploads -----------------------------------------------------

    def _upload_missing(self) -> None:
        self.progress.stage("Uploading")
        failures = 0
        for _round in range(MAX_ROUNDS):
            needed = self.client.shaman_requirements(self.specs)
            if not needed:
                self.progress.bytes_done(self.bytes_sent, max(self._upload_total, self.bytes_sent))
                return
            by_path = {f.spec.path: f for f in self.files.values()}
            unknown = [by_path[s.path] for s in needed if s.path in by_path and s.status != ShamanFileStatus.UPLOADING]
            busy = [by_path[s.path] for s in needed if s.path in by_path and s.status == ShamanFileStatus.UPLOADING]
            if len(unknown) + len(busy) != len(needed):
                raise errors.InvalidResponse("the Manager asked for a file that is not part of this pack",
                                             "POST /api/v3/shaman/checkout/requirements")
            self._upload_total = self.bytes_sent + sum(f.spec.size for f in unknown + busy)
            todo = deque(unknown + busy)
            deferred = False
            number = 0
            while todo:
                file = todo.popleft()
                number += 1
                self.progress.file_started(str(file.local), file.spec.size, number, number + len(todo))
                try:
                    outcome = self._upload(file, can_defer=bool(todo))
                except (errors.ManagerTimeout, errors.ManagerUnreachable) as ex:
                    # Broken off (the Manager may drop a connection when someone else
                    # finished the same file): ask again in the next round.
                    failures += 1
                    log.warning("upload of %s broke off: %s", file.spec.path, ex)
                    if failures > 3 * MAX_ROUNDS:
                        raise
                    continue
                if outcome is ShamanUpload.DEFERRED:
                    deferred = True
                    continue  # someone else is sending it; the next round asks again
                self.files_sent += outcome is ShamanUpload.STORED
            if deferred:
                self._wait(DEFER_WAIT)
        raise errors.FlamencoError(
            f"The Manager still lacked files after {MAX_ROUNDS} rounds of uploads; try submitting again"
        )

    def _upload(self, file: _File, can_defer: bool) -> ShamanUpload:
        spec = file.spec
        with file.local.open("rb") as f:
            try:
                return self.client.shaman_upload(
                    spec.sha, spec.size, _UploadBody(f, spec.size, self),
                    can_defer=can_defer, original_filename=spec.path,
                )
            except errors.ManagerHTTPError as ex:
                if ex.status == 417:
                    raise errors.FlamencoError(
                        f"{file.local} changed while it was being sent (its size or checksum no longer "
                        "matches); submit again"
                    ) from ex
                raise

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.stop_requested():
                raise Cancelled("Cancelled")
            time.sleep(0.05)

    # -- 4. checkout --------------------------------------------------------------------------

    def _checkout(self) -> None:
        self.progress.stage("Creating the job folder on the farm")
        try:
            self.checkout_path = self.client.shaman_checkout(self.specs, self.requested_checkout_path)
        except errors.ManagerHTTPError:
            # A file vanished from the store between the last round and now (the Manager's
            # garbage collection): one more round, then try once more.
            if self.stop_requested():
                raise
            self._upload_missing()
            self.checkout_path = self.client.shaman_checkout(self.specs, self.requested_checkout_path)
