"""The api client's Shaman calls against the real Manager (Shaman on)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time

import pytest

from flamenco_desk_src.api import errors
from flamenco_desk_src.api.client import ManagerClient, original_filename_header
from flamenco_desk_src.api.models import ShamanFileSpec, ShamanUpload


def content(size: int = 4096) -> tuple[bytes, str]:
    data = os.urandom(size)
    return data, hashlib.sha256(data).hexdigest()


def test_requirements_upload_and_already_known(shaman_farm: object) -> None:
    data, sha = content()
    spec = ShamanFileSpec(sha, len(data), "textures/ü nique.bin")
    with ManagerClient(shaman_farm.url) as client:  # type: ignore[attr-defined]
        (needed,) = client.shaman_requirements([spec])
        assert (needed.sha, needed.size, needed.path, needed.status) == (sha, len(data), spec.path, "unknown")
        assert client.shaman_file_status(sha, len(data)) == "unknown"
        assert client.shaman_upload(sha, len(data), io.BytesIO(data), original_filename=spec.path) is ShamanUpload.STORED
        assert client.shaman_file_status(sha, len(data)) == "stored"
        assert client.shaman_requirements([spec]) == []
        again = client.shaman_upload(sha, len(data), io.BytesIO(data))
        assert again is ShamanUpload.ALREADY_KNOWN  # 208


def test_bytes_that_do_not_match_are_refused(shaman_farm: object) -> None:
    data, sha = content()
    with ManagerClient(shaman_farm.url) as client:  # type: ignore[attr-defined]
        with pytest.raises(errors.ManagerHTTPError) as refused:
            client.shaman_upload(sha, len(data), io.BytesIO(data[:-1] + b"x"))
        assert refused.value.status == 417
        assert client.shaman_file_status(sha, len(data)) == "unknown"


class HeldBody:
    """An upload body that sends its first half, then waits until released."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0
        self.half_sent = threading.Event()
        self.release = threading.Event()

    def __len__(self) -> int:
        return len(self.data)

    def read(self, size: int = -1, /) -> bytes:
        if self.pos >= len(self.data) // 2:
            self.half_sent.set()
            self.release.wait(30)
        block = self.data[self.pos:self.pos + 1024]
        self.pos += len(block)
        return block


def test_a_file_someone_else_is_uploading_is_deferred(shaman_farm: object) -> None:
    data, sha = content(256 * 1024)
    held = HeldBody(data)
    outcome: list[object] = []
    with ManagerClient(shaman_farm.url) as other:  # type: ignore[attr-defined]
        thread = threading.Thread(target=lambda: outcome.append(other.shaman_upload(sha, len(data), held)))
        thread.start()
        try:
            assert held.half_sent.wait(10)
            with ManagerClient(shaman_farm.url) as client:  # type: ignore[attr-defined]
                deadline = time.monotonic() + 10  # the Manager notes the upload once its handler runs
                while client.shaman_file_status(sha, len(data)) != "uploading" and time.monotonic() < deadline:
                    time.sleep(0.02)
                (needed,) = client.shaman_requirements([ShamanFileSpec(sha, len(data), "a.bin")])
                assert needed.status == "uploading"
                assert client.shaman_upload(sha, len(data), io.BytesIO(data), can_defer=True) is ShamanUpload.DEFERRED
        finally:
            held.release.set()
            thread.join(30)
    assert outcome == [ShamanUpload.STORED]


def test_checkout_path_is_made_unique_by_the_manager(shaman_farm: object) -> None:
    data, sha = content()
    spec = ShamanFileSpec(sha, len(data), "shot.blend")
    with ManagerClient(shaman_farm.url) as client:  # type: ignore[attr-defined]
        client.shaman_upload(sha, len(data), io.BytesIO(data))
        first = client.shaman_checkout([spec], "flamenco-desk/api-test")
        second = client.shaman_checkout([spec], "flamenco-desk/api-test")
        assert first == "flamenco-desk/api-test"
        assert second.startswith("flamenco-desk/api-test-") and second != first
        with pytest.raises(ValueError):
            client.shaman_checkout([spec], "../escape")


def test_original_filename_header_is_ascii_or_one_encoded_word() -> None:
    assert original_filename_header("textures/red.png") == "textures/red.png"
    encoded = original_filename_header("textures/rouge ü 🎨.png")
    assert encoded.isascii() and encoded.startswith("=?utf-8?b?") and "\n" not in encoded
