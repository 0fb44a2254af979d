"""Shared-storage mode (Shaman off): the shot and everything it needs, packed into a fresh
job folder on shared storage with paths rewritten; checked by opening the pack in Blender."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import shots

from flamenco_desk_src.core import packing
from flamenco_desk_src.core.packing import ProblemKind


def packed_layout(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_relative_texture_and_library_are_packed_with_their_layout(tmp_path: Path, untouched: list[Path]) -> None:
    proj = tmp_path / "artist" / "proj"
    shot = shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png", library=proj / "lib" / "props.blend")
    untouched.extend(shot.artist_files())
    job = tmp_path / "shared" / "flamenco-desk" / "job-1"

    result = packing.pack_to_folder(shot.blend, job)

    assert result.blend_path == str(job / "shot.blend")
    assert packed_layout(job) == {"shot.blend", "textures/red.png", "lib/props.blend", "lib/green.png", "pack-info.txt"}
    assert result.survey.problems == []
    paths = shots.resolved_paths(job / "shot.blend")
    assert paths["red.png"] == job / "textures" / "red.png"
    assert paths["props.blend"] == job / "lib" / "props.blend"
    assert paths["props.blend/green.png"] == job / "lib" / "green.png"  # found through the library's material


def test_paths_climbing_above_the_project_go_outside_project_and_are_rewritten(
        tmp_path: Path, untouched: list[Path]) -> None:
    artist = tmp_path / "artist"
    (artist / "proj" / ".blender_project").mkdir(parents=True)
    shot = shots.make_shot(artist / "proj" / "shots" / "shot.blend", artist / "common" / "red.png")
    untouched.extend(shot.artist_files())
    job = tmp_path / "shared" / "job"

    result = packing.pack_to_folder(shot.blend, job)

    assert result.survey.project_root == str(artist / "proj")  # the marker decides
    outside = job / "_outside_project" / str(artist / "common" / "red.png").lstrip("/")
    assert outside.is_file()
    assert result.blend_path == str(job / "shots" / "shot.blend")
    assert shots.resolved_paths(job / "shots" / "shot.blend")["red.png"] == outside
    assert result.survey.problems == []  # relative: nothing to warn about


def test_absolute_paths_are_packed_and_outside_ones_reported(tmp_path: Path, untouched: list[Path]) -> None:
    artist = tmp_path / "artist"
    shot = shots.make_shot(artist / "proj" / "shot.blend", artist / "proj" / "tex" / "red.png", texture_mode="absolute")
    untouched.extend(shot.artist_files())
    job = tmp_path / "shared" / "job"

    inside = packing.pack_to_folder(shot.blend, job)
    assert "tex/red.png" in packed_layout(job)  # inside the project: keeps its place
    assert shots.resolved_paths(job / "shot.blend")["red.png"] == job / "tex" / "red.png"
    assert inside.survey.problems == []

    far = shots.make_shot(artist / "proj2" / "shot.blend", tmp_path / "elsewhere" / "red.png", texture_mode="absolute")
    untouched.extend(far.artist_files())
    outside = packing.pack_to_folder(far.blend, tmp_path / "shared" / "job2")
    (problem,) = outside.survey.problems
    assert problem.kind is ProblemKind.ABSOLUTE_OUTSIDE and problem.path == str(far.texture)
    assert problem.written_as == str(far.texture) and problem.used_by == str(far.blend)
    packed = shots.resolved_paths(tmp_path / "shared" / "job2" / "shot.blend")["red.png"]
    assert packed.is_file() and (tmp_path / "shared" / "job2") in packed.parents


def test_spaces_and_non_ascii_in_every_path(tmp_path: Path, untouched: list[Path]) -> None:
    proj = tmp_path / "Mon Projet" / "Séquence 01"
    shot = shots.make_shot(proj / "plan 010 – étalonné.blend", proj / "textures" / "rouge vif ü 🎨.png",
                           library=proj / "bibliothèque" / "accessoires ñ.blend",
                           library_texture=proj / "bibliothèque" / "vert é.png")
    untouched.extend(shot.artist_files())
    job = tmp_path / "shared storage" / "job ü"

    result = packing.pack_to_folder(shot.blend, job)

    paths = shots.resolved_paths(Path(result.blend_path))
    assert paths["rouge vif ü 🎨.png"] == job / "textures" / "rouge vif ü 🎨.png"
    assert paths["accessoires ñ.blend/vert é.png"] == job / "bibliothèque" / "vert é.png"
    assert all(p.is_file() for p in paths.values())


def test_files_on_shared_storage_are_referenced_in_place(tmp_path: Path, untouched: list[Path]) -> None:
    shared = tmp_path / "shared"
    shot = shots.make_shot(tmp_path / "artist" / "shot.blend", shared / "library" / "textures" / "red.png",
                           texture_mode="absolute")
    untouched.extend(shot.artist_files())
    job = shared / "flamenco-desk" / "job"

    result = packing.pack_to_folder(shot.blend, job, shared_root=shared)

    assert packed_layout(job) == {"shot.blend", "pack-info.txt"}
    assert [d.path for d in result.survey.in_place] == [str(shot.texture)]
    assert result.survey.problems == []  # shared storage is a known root
    assert shots.resolved_paths(job / "shot.blend")["red.png"] == shot.texture
    # Relative to the pack, so workers that mount shared storage elsewhere find it too.
    bpy_path = _stored_path(job / "shot.blend", "red.png")
    assert bpy_path.startswith("//../../library/"), bpy_path


def _stored_path(blend: Path, image: str) -> str:
    import bpy

    bpy.ops.wm.open_mainfile(filepath=str(blend), load_ui=False)
    return str(bpy.data.images[image].filepath)


def test_a_copy_of_unsaved_changes_is_packed_as_the_artists_file(tmp_path: Path, untouched: list[Path]) -> None:
    """The add-on packs a copy saved elsewhere (unsaved changes); the pack must look as if
    the artist's own file had been packed."""
    import bpy

    proj = tmp_path / "artist" / "proj"
    shot = shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png", library=proj / "lib" / "props.blend")
    untouched.extend(shot.artist_files())
    bpy.ops.wm.open_mainfile(filepath=str(shot.blend))
    staged = tmp_path / "staging" / "a1b2" / "shot.blend"
    staged.parent.mkdir(parents=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(staged), copy=True)  # what the add-on does

    job = tmp_path / "shared" / "job"
    result = packing.pack_to_folder(staged, job, pack_as=shot.blend)

    assert packed_layout(job) == {"shot.blend", "textures/red.png", "lib/props.blend", "lib/green.png", "pack-info.txt"}
    paths = shots.resolved_paths(Path(result.blend_path))
    assert paths["red.png"] == job / "textures" / "red.png"
    assert paths["props.blend"] == job / "lib" / "props.blend"


def test_missing_texture_is_listed_and_submit_anyway_still_packs(tmp_path: Path, untouched: list[Path]) -> None:
    proj = tmp_path / "artist" / "proj"
    shot = shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png", missing=proj / "textures" / "gone.png")
    untouched.extend(shot.artist_files())

    report = packing.survey(shot.blend)
    (problem,) = report.problems
    assert problem.kind is ProblemKind.MISSING and problem.path == str(proj / "textures" / "gone.png")
    assert problem.written_as == "//textures/gone.png" and problem.used_by == str(shot.blend)
    assert "Missing: " in report.lines()[1]

    seen: list[packing.Survey] = []
    stopped = tmp_path / "shared" / "stopped"
    with pytest.raises(packing.ProblemsFound) as stop:
        packing.pack_to_folder(shot.blend, stopped, accept=lambda s: seen.append(s) or False)
    assert stop.value.survey.problems == seen[0].problems
    assert not stopped.exists() and not Path(f"{stopped}.partial").exists()  # nothing written

    anyway = packing.pack_to_folder(shot.blend, tmp_path / "shared" / "anyway", accept=lambda s: True)
    assert [p.kind for p in anyway.survey.problems] == [ProblemKind.MISSING]
    assert (tmp_path / "shared" / "anyway" / "textures" / "red.png").is_file()


def test_unreadable_texture_is_listed_not_packed(tmp_path: Path, untouched: list[Path]) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file; permissions cannot make one unreadable")
    proj = tmp_path / "artist" / "proj"
    shot = shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png")
    shot.texture.chmod(0)
    try:
        report = packing.survey(shot.blend)
    finally:
        shot.texture.chmod(0o644)
    assert [p.kind for p in report.problems] == [ProblemKind.UNREADABLE]


class CancelAfter(packing.Progress):
    """Presses Cancel once `stage` has moved `after` bytes."""

    def __init__(self, cancel: packing.CancelFlag, stage: str, after: int) -> None:
        self.cancel, self.stage_name, self.after = cancel, stage, after
        self.current = ""
        self.events: list[str] = []
        self.lock = threading.Lock()

    def stage(self, text: str) -> None:
        self.current = text
        self.events.append(f"stage {text}")

    def bytes_done(self, done: int, total: int) -> None:
        if self.stage_name in self.current and done >= self.after:
            self.cancel.set()

    def aborted(self, reason: str) -> None:
        self.events.append(f"aborted {reason}")


def big_shot(tmp_path: Path, megabytes: int = 48) -> shots.Shot:
    """A shot with a large dependency, so that a cancel lands in the middle of it."""
    proj = tmp_path / "artist" / "proj"
    shot = shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png", library=proj / "lib" / "props.blend")
    big = proj / "textures" / "huge.exr"
    big.write_bytes(os.urandom(megabytes * 1024 * 1024))
    import bpy

    bpy.ops.wm.open_mainfile(filepath=str(shot.blend))
    img = bpy.data.images.load(str(big))
    img.filepath = "//textures/huge.exr"
    img.use_fake_user = True
    bpy.ops.wm.save_mainfile()
    shot.extra.append(big)
    return shot


def test_cancel_while_copying_leaves_no_folder_that_looks_complete(tmp_path: Path, untouched: list[Path]) -> None:
    shot = big_shot(tmp_path)
    untouched.extend(shot.artist_files())
    job = tmp_path / "shared" / "flamenco-desk" / "job"
    cancel = packing.CancelFlag()
    progress = CancelAfter(cancel, "Copying", 8 * 1024 * 1024)

    with pytest.raises(packing.Cancelled):
        packing.pack_to_folder(shot.blend, job, cancel=cancel, progress=progress)

    assert progress.events[-1] == "aborted Cancelled"
    assert not job.exists()
    assert list(job.parent.iterdir()) == []  # the .partial folder is gone too


def test_cancel_while_tracing_writes_nothing(tmp_path: Path, untouched: list[Path]) -> None:
    proj = tmp_path / "artist" / "proj"
    shot = shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png", library=proj / "lib" / "props.blend")
    untouched.extend(shot.artist_files())
    cancel = packing.CancelFlag()

    class CancelOnFirstFile(packing.Progress):
        def file_started(self, path: str, size: int, number: int, count: int) -> None:
            cancel.set()

    job = tmp_path / "shared" / "job"
    with pytest.raises(packing.Cancelled):
        packing.pack_to_folder(shot.blend, job, cancel=cancel, progress=CancelOnFirstFile())
    assert not (tmp_path / "shared").exists() or list((tmp_path / "shared").iterdir()) == []


def test_an_existing_folder_is_never_written_into(tmp_path: Path, untouched: list[Path]) -> None:
    proj = tmp_path / "artist" / "proj"
    shot = shots.make_shot(proj / "shot.blend", proj / "textures" / "red.png")
    untouched.extend(shot.artist_files())
    job = tmp_path / "shared" / "job"
    job.mkdir(parents=True)
    (job / "someone-elses.txt").write_text("keep")
    with pytest.raises(packing.PackError, match="already exists"):
        packing.pack_to_folder(shot.blend, job)
    assert [p.name for p in job.iterdir()] == ["someone-elses.txt"]
