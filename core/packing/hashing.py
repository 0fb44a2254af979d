"""SHA-256 of the files to upload, on the packing thread, remembered between submissions.

Shaman identifies a file by its SHA-256 and size. Hashing 500 MB takes about a second per
500 MB on one core; the cache (keyed by path, size, modification time and inode) makes a
second submission of the same shot skip it for every unchanged file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Callable

from .progress import Cancelled

CHUNK = 4 * 1024 * 1024
MAX_ENTRIES = 50_000  # a few MB of JSON at most


def _key(path: Path, st: os.stat_result) -> str:
    return f"{os.path.abspath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"


def sha256_of(path: Path, stop: Callable[[], bool], advance: Callable[[int], None]) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while True:
            if stop():
                raise Cancelled("Cancelled")
            block = f.read(CHUNK)
            if not block:
                return digest.hexdigest()
            digest.update(block)
            advance(len(block))


class HashCache:
    """Remembered checksums; `file` None keeps them in memory only."""

    def __init__(self, file: Path | None = None) -> None:
        self.file = file
        self._lock = threading.Lock()
        self._entries: dict[str, str] = {}
        if file is not None:
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    self._entries = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
            except (OSError, ValueError):
                pass  # a missing or broken cache only costs time

    def sha256(self, path: Path, stop: Callable[[], bool], advance: Callable[[int], None]) -> tuple[str, int]:
        """(checksum, size) of `path`; `advance` gets the bytes read (all at once on a hit)."""
        st = path.stat()
        key = _key(path, st)
        with self._lock:
            known = self._entries.get(key)
        if known is not None:
            advance(st.st_size)
            return known, st.st_size
        checksum = sha256_of(path, stop, advance)
        if path.stat().st_mtime_ns == st.st_mtime_ns:  # not changed while we read it
            with self._lock:
                self._entries[key] = checksum
        return checksum, st.st_size

    def save(self) -> None:
        if self.file is None:
            return
        with self._lock:
            entries = dict(list(self._entries.items())[-MAX_ENTRIES:])
        tmp = self.file.with_name(f"{self.file.name}.{os.getpid()}.tmp")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(entries), encoding="utf-8")
            os.replace(tmp, self.file)
        except OSError:
            tmp.unlink(missing_ok=True)
