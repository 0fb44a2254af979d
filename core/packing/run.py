"""The two ways a shot reaches the farm, each one call on a background thread:

- `pack_to_folder`: a fresh job folder on shared storage (Shaman off);
- `pack_to_shaman`: the Manager's Shaman file store and a checkout (Shaman on).

Both trace first and hand the problem report to `accept` (the caller shows it and decides:
go on, or stop with `ProblemsFound` before anything is written or sent). `cancel` stops
either at the next chunk; `progress` hears about every step.
"""

from __future__ import annotations

import os
import time
from pathlib import Path, PurePath
from typing import Callable, Optional, Sequence

from ...api.client import ManagerClient
from .bat import bat_pack, blendfile
from .copier import StagedCopier
from .hashing import HashCache
from .packer import DeskPacker
from .progress import CancelFlag, Cancelled, Progress
from .project import find_project_root
from .result import PackError, PackResult, ProblemsFound
from .shaman import ShamanUploader
from .survey import Survey

Accept = Callable[[Survey], bool]
SHAMAN_ROOT = Path(os.path.abspath(os.sep))  # any absolute root: BAT packs against it


def _always(_survey: Survey) -> bool:
    return True


def _trace(packer: DeskPacker, progress: Progress, accept: Accept) -> Survey:
    progress.stage("Tracing dependencies")
    try:
        packer.strategise()
    except bat_pack.Aborted:
        raise
    except (OSError, blendfile.exceptions.BlendFileError) as ex:
        raise PackError(f"Could not read the .blend files: {ex}") from ex
    survey = packer.survey()
    progress.traced(survey)
    if not accept(survey):
        raise ProblemsFound(survey)
    return survey


def _forget_traced_files() -> None:
    """Close BAT's process-wide cache of opened .blend files after every trace. Kept, it holds
    each traced file open for the whole Blender session (a handle on shared storage pins the
    mount and goes stale when the share hangs or remounts), and the next trace of the same path
    reads the cached old content: a dependency added since the last submission was neither
    packed nor reported. (One trace runs at a time: one submission at a time.)"""
    try:
        blendfile.close_all_cached()
    except OSError:  # a handle on a share that went away: it is dropped all the same
        blendfile._cached_bfiles.clear()


def _failed(ex: BaseException, cancel: CancelFlag, progress: Progress) -> BaseException:
    if cancel.is_set() or isinstance(ex, Cancelled):
        progress.aborted("Cancelled")
        return Cancelled("Cancelled; nothing was submitted")
    if isinstance(ex, ProblemsFound):
        progress.aborted("Stopped: the shot has problems")
        return ex
    reason = str(ex) or type(ex).__name__
    progress.aborted(reason)
    return PackError(reason) if not isinstance(ex, PackError) else ex


def survey(
    blend: Path, *, project_root: Optional[Path] = None, pack_as: Optional[Path] = None,
    in_place_roots: Sequence[Path] = (), known_roots: Sequence[Path] = (),
    cancel: Optional[CancelFlag] = None, progress: Optional[Progress] = None,
) -> Survey:
    """Trace only: the report the panel shows before anything is sent."""
    progress = progress or Progress()
    root = project_root or find_project_root(pack_as or blend)
    packer = DeskPacker(blend, root, SHAMAN_ROOT, make_transferer=lambda: None, cancel=cancel or CancelFlag(),
                        progress=progress, pack_as=pack_as, in_place_roots=in_place_roots, known_roots=known_roots)
    try:
        with packer:
            return _trace(packer, progress, _always)
    finally:
        _forget_traced_files()


def pack_to_folder(
    blend: Path, folder: Path, *, project_root: Optional[Path] = None, pack_as: Optional[Path] = None,
    shared_root: Optional[Path] = None, cancel: Optional[CancelFlag] = None, progress: Optional[Progress] = None,
    accept: Accept = _always,
) -> PackResult:
    """Pack `blend` and its dependencies into the new folder `folder` (which must not exist),
    written as `<folder>.partial` and renamed when complete. Files under `shared_root` stay
    where they are. Returns the packed .blend's path."""
    cancel = cancel or CancelFlag()
    progress = progress or Progress()
    started = time.monotonic()
    root = project_root or find_project_root(pack_as or blend)
    copier: list[StagedCopier] = []
    expected = [0, 0]

    def make_copier() -> StagedCopier:
        copier.append(StagedCopier(folder, cancel, progress, expected[0], expected[1]))
        copier[-1].create()
        return copier[-1]

    packer = DeskPacker(blend, root, folder, make_transferer=make_copier, cancel=cancel, progress=progress,
                        pack_as=pack_as, in_place_roots=[shared_root] if shared_root else [],
                        known_roots=[shared_root] if shared_root else [])
    try:
        with packer:
            report = _trace(packer, progress, accept)
            expected[:] = [len(report.to_send) + 1, report.bytes_to_send]  # + BAT's pack-info.txt
            progress.stage("Copying to shared storage")
            packer.execute()
            if cancel.is_set():
                raise Cancelled("Cancelled")
            copier[-1].commit()
    except BaseException as ex:
        if copier:
            copier[-1].discard()
        raise _failed(ex, cancel, progress) from ex
    finally:
        _forget_traced_files()
    result = PackResult(
        blend_path=str(Path(packer.packed_blend)), survey=report, folder=str(folder),
        files_sent=copier[-1].files_sent, bytes_sent=copier[-1].bytes_sent, seconds=time.monotonic() - started,
    )
    progress.done(result)
    return result


def pack_to_shaman(
    blend: Path, client: ManagerClient, checkout_path: str, *, project_root: Optional[Path] = None,
    pack_as: Optional[Path] = None, known_roots: Sequence[Path] = (), hash_cache: Optional[HashCache] = None,
    cancel: Optional[CancelFlag] = None, progress: Optional[Progress] = None, accept: Accept = _always,
) -> PackResult:
    """Send `blend` and its dependencies to the Manager's Shaman and create a checkout at
    (about) `checkout_path`. The result's blend_path is `{jobs}/<checkout>/<file>.blend`.

    `client` is used from the upload thread only: give it a client of its own."""
    cancel = cancel or CancelFlag()
    progress = progress or Progress()
    started = time.monotonic()
    root = project_root or find_project_root(pack_as or blend)
    uploader: list[ShamanUploader] = []
    expected = [0]

    def make_uploader() -> ShamanUploader:
        uploader.append(ShamanUploader(client, checkout_path, SHAMAN_ROOT, cancel, progress,
                                       hash_cache or HashCache(), expected[0]))
        return uploader[-1]

    packer = DeskPacker(blend, root, SHAMAN_ROOT, make_transferer=make_uploader, cancel=cancel, progress=progress,
                        pack_as=pack_as, known_roots=known_roots)
    try:
        with packer:
            report = _trace(packer, progress, accept)
            expected[0] = report.bytes_to_send
            packer.execute()
            if cancel.is_set():
                raise Cancelled("Cancelled")
    except BaseException as ex:
        raise _failed(ex, cancel, progress) from ex
    finally:
        _forget_traced_files()
    sent = uploader[-1]
    if not sent.checkout_path:
        raise _failed(PackError("The Manager did not create the job's checkout"), cancel, progress)
    in_checkout = PurePath(packer.packed_blend).relative_to(SHAMAN_ROOT).as_posix()
    result = PackResult(
        blend_path=f"{{jobs}}/{sent.checkout_path}/{in_checkout}", survey=report,
        checkout_path=sent.checkout_path, files_sent=sent.files_sent, bytes_sent=sent.bytes_sent,
        seconds=time.monotonic() - started,
    )
    progress.done(result)
    return result
