"""The packed shot on a real farm: the Worker renders what was packed (shared storage) or
uploaded (Shaman), and Shaman sends each file's bytes only once."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import shots
from farm_jobs import submit_render
from test_pack_folder import CancelAfter, big_shot

from flamenco_desk_src.api.client import ManagerClient
from flamenco_desk_src.core import packing


def artist_shot(tmp_path: Path) -> shots.Shot:
    """A shot outside shared storage: relative red texture, linked library with its texture."""
    proj = tmp_path / "artist" / "proj"
    return shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png", library=proj / "lib" / "props.blend")


def rendered_frame(farm: object, job_id: str, out: Path) -> list[tuple[float, float, float]]:
    job = farm.wait_for_job(job_id, statuses=("completed", "failed"))  # type: ignore[attr-defined]
    assert job["status"] == "completed", farm.log_tail("worker")  # type: ignore[attr-defined]
    return shots.pixels(out / "000001.png")


def test_shared_storage_pack_renders_the_red_texture_and_the_library(
        shared_farm: object, tmp_path: Path, untouched: list[Path]) -> None:
    shot = artist_shot(tmp_path)
    untouched.extend(shot.artist_files())
    shared = Path(shared_farm.shared)  # type: ignore[attr-defined]
    job_folder = shared / "flamenco-desk" / f"shot-{uuid.uuid4().hex[:8]}"

    result = packing.pack_to_folder(shot.blend, job_folder, shared_root=shared)
    out = shared / "renders" / job_folder.name
    left, right = rendered_frame(shared_farm, submit_render(shared_farm.url, result.blend_path, out, "pack"), out)  # type: ignore[attr-defined]

    assert shots.is_red(left), left  # the shot's own texture reached the farm (magenta if not)
    assert shots.is_green(right), right  # and the linked library with its texture


def blobs(farm: object) -> set[str]:
    store = Path(farm.shared) / "file-store" / "stored"  # type: ignore[attr-defined]
    return {str(p.relative_to(store)) for p in store.rglob("*.blob")}


def shaman_pack(farm: object, shot: shots.Shot, **kwargs: object) -> packing.PackResult:
    with ManagerClient(farm.url) as client:  # type: ignore[attr-defined]
        return packing.pack_to_shaman(shot.blend, client, f"flamenco-desk/test-{uuid.uuid4().hex[:8]}", **kwargs)  # type: ignore[arg-type]


def test_shaman_checkout_renders_the_red_texture_and_the_library(
        shaman_farm: object, tmp_path: Path, untouched: list[Path]) -> None:
    shot = artist_shot(tmp_path)
    untouched.extend(shot.artist_files())

    result = shaman_pack(shaman_farm, shot)

    assert result.blend_path == f"{{jobs}}/{result.checkout_path}/shot.blend"
    checkout = Path(shaman_farm.jobs_root) / result.checkout_path  # type: ignore[attr-defined]
    assert (checkout / "textures" / "red.png").resolve().read_bytes() == shot.texture.read_bytes()
    out = Path(shaman_farm.shared) / "renders" / Path(result.checkout_path).name  # type: ignore[attr-defined]
    job_id = submit_render(shaman_farm.url, result.blend_path, out, "shaman", checkout=result.checkout_path)  # type: ignore[attr-defined]
    left, right = rendered_frame(shaman_farm, job_id, out)
    assert shots.is_red(left), left
    assert shots.is_green(right), right


def test_second_shaman_submission_sends_zero_bytes_and_a_changed_texture_only_itself(
        shaman_farm: object, tmp_path: Path, untouched: list[Path]) -> None:
    shot = artist_shot(tmp_path)
    first = shaman_pack(shaman_farm, shot)
    # (Files other tests already sent, like the identical library texture, are skipped.)
    assert 0 < first.bytes_sent <= sum(f.size for f in first.survey.to_send) + _pack_info_size(shaman_farm, first)
    stored = blobs(shaman_farm)

    second = shaman_pack(shaman_farm, shot)
    assert (second.files_sent, second.bytes_sent) == (0, 0)
    assert blobs(shaman_farm) == stored  # the Manager received nothing new
    assert second.checkout_path != first.checkout_path  # a checkout of its own all the same

    shots.write_png(shot.texture, (0.9, 0.0, 0.0, 1.0), size=8)  # the artist repaints one texture
    untouched.extend(shot.artist_files())
    third = shaman_pack(shaman_farm, shot)
    assert (third.files_sent, third.bytes_sent) == (1, shot.texture.stat().st_size)
    assert len(blobs(shaman_farm) - stored) == 1


def _pack_info_size(farm: object, result: packing.PackResult) -> int:
    return (Path(farm.jobs_root) / result.checkout_path / "pack-info.txt").stat().st_size  # type: ignore[attr-defined]


def test_cancel_during_upload_leaves_no_checkout_and_a_retry_resumes(
        shaman_farm: object, tmp_path: Path, untouched: list[Path]) -> None:
    shot = big_shot(tmp_path, megabytes=64)
    untouched.extend(shot.artist_files())
    jobs_before = set(os.listdir(Path(shaman_farm.jobs_root) / "flamenco-desk")) if (Path(shaman_farm.jobs_root) / "flamenco-desk").exists() else set()  # type: ignore[attr-defined]
    cancel = packing.CancelFlag()
    progress = CancelAfter(cancel, "Uploading", 16 * 1024 * 1024)

    with pytest.raises(packing.Cancelled):
        shaman_pack(shaman_farm, shot, cancel=cancel, progress=progress)
    assert progress.events[-1] == "aborted Cancelled"
    jobs_after = set(os.listdir(Path(shaman_farm.jobs_root) / "flamenco-desk")) if (Path(shaman_farm.jobs_root) / "flamenco-desk").exists() else set()  # type: ignore[attr-defined]
    assert jobs_after == jobs_before  # no checkout: nothing a job could point at

    retry = shaman_pack(shaman_farm, shot)
    total = sum(f.size for f in retry.survey.to_send)
    big = shot.extra[0].stat().st_size
    assert big <= retry.bytes_sent < total  # what had arrived before the cancel is not sent again


def test_shaman_checkout_keeps_spaces_and_non_ascii_names(
        shaman_farm: object, tmp_path: Path, untouched: list[Path]) -> None:
    proj = tmp_path / "Mon Projet" / "Séquence 01"
    shot = shots.make_shot(proj / "plan 010 – étalonné.blend", proj / "textures" / "rouge vif ü 🎨.png",
                           library=proj / "bibliothèque" / "accessoires ñ.blend",
                           library_texture=proj / "bibliothèque" / "vert é.png")
    untouched.extend(shot.artist_files())

    result = shaman_pack(shaman_farm, shot)

    checkout = Path(shaman_farm.jobs_root) / result.checkout_path  # type: ignore[attr-defined]
    assert result.blend_path.endswith("/plan 010 – étalonné.blend")
    paths = shots.resolved_paths(checkout / "plan 010 – étalonné.blend")
    assert paths["rouge vif ü 🎨.png"] == checkout / "textures" / "rouge vif ü 🎨.png"
    assert paths["accessoires ñ.blend/vert é.png"] == checkout / "bibliothèque" / "vert é.png"
    assert all(p.resolve().is_file() for p in paths.values())
