"""Where each dependency goes: BAT's Packer with the placement rules of this add-on.

BAT traces the .blend (it reads files itself, no bpy), rewrites paths in *copies* of the
.blend files it has to change (in its own temporary folder) and hands every file to a
transfer object: `copier.StagedCopier` for shared storage, `shaman.ShamanUploader` for the
Manager's file store. The artist's files are only ever opened for reading.

Placement, compared with BAT's own:
- files inside the project root keep their place relative to the .blend, also when the
  .blend refers to them by an absolute path (BAT would move those to `_outside_project/`);
- files outside the project root go to `_outside_project/<their absolute path>`, as in BAT
  and Flamenco's add-on, and the .blend is rewritten to find them there;
- files already on shared storage (shared-storage mode) are not copied: the packed .blend
  refers to them where they are, by a path relative to the pack, which survives the
  platform-specific mount points of workers. A .blend on shared storage that would need its
  own paths rewritten cannot stay in place (it is never written) and is copied instead;
- the .blend may be a copy saved elsewhere (unsaved changes): `pack_as` says where the
  artist's file is, so the pack is laid out as if packing that one, and every path the copy
  holds is rewritten.
"""

from __future__ import annotations

import collections
import os
from pathlib import Path, PurePath
from typing import Any, Callable, Iterable, Sequence

from .bat import bat_pack, bat_progress, bpathlib, file_sequence, trace
from .progress import CancelFlag, Progress
from .survey import Dependency, Problem, ProblemKind, Survey

Transferer = Any  # a blender_asset_tracer.pack.transfer.FileTransferer


def absolute(path: PurePath) -> Path:
    """Absolute, `..` resolved, symlinks kept (as BAT compares paths)."""
    return Path(bpathlib.make_absolute(PurePath(path)))


def _forms(path: Path) -> set[Path]:
    """A path as written and with symlinks resolved (when it can be)."""
    forms = {absolute(path)}
    try:
        forms.add(path.resolve())
    except OSError:
        pass
    return forms


def is_within(path: Path, roots: Iterable[Path]) -> bool:
    """Whether `path` lies in one of `roots`, compared as written and with symlinks resolved."""
    candidates = _forms(path)
    return any(p == r or r in p.parents for root in roots for r in _forms(root) for p in candidates)


def _readable(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            f.read(1)
        return True
    except OSError:
        return False


class _TraceEvents(bat_progress.Callback):  # type: ignore[misc]
    """BAT's callback, forwarded to ours: which .blend is being read."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.blendfiles = 0

    def trace_blendfile(self, filename: Path) -> None:
        self.blendfiles += 1
        self.progress.file_started(str(filename), 0, self.blendfiles, 0)


class DeskPacker(bat_pack.Packer):  # type: ignore[misc]
    def __init__(
        self,
        blendfile: Path,
        project: Path,
        target: Path,
        *,
        make_transferer: Callable[[], Transferer],
        cancel: CancelFlag,
        progress: Progress,
        pack_as: Path | None = None,
        in_place_roots: Sequence[Path] = (),
        known_roots: Sequence[Path] = (),
    ) -> None:
        # Read by _make_target_path(), which BAT's constructor calls.
        self._fixed_target = target
        super().__init__(blendfile, project, str(target), compress=False, relative_only=False)
        self.blendfile_abs = absolute(blendfile)
        self.pack_as = absolute(pack_as) if pack_as is not None else self.blendfile_abs
        self.project_abs = absolute(project)
        if self.project_abs != self.pack_as and self.project_abs not in self.pack_as.parents:
            raise ValueError(f"the .blend {self.pack_as} is not inside the project folder {self.project_abs}")
        self.in_place_roots = [absolute(r) for r in in_place_roots]
        self.known_roots = [self.project_abs, *self.in_place_roots, *(absolute(r) for r in known_roots)]
        self.cancel = cancel
        self.progress = progress
        self._make_transferer = make_transferer
        self.progress_cb = _TraceEvents(progress)
        self._in_place: set[Path] = set()
        self._not_in_place: set[Path] = set()
        self._absolute_in_place: set[str] = set()
        self._problems: dict[tuple[ProblemKind, str], Problem] = {}

    # -- BAT hooks ------------------------------------------------------------------------

    def _make_target_path(self, target: str) -> Path:
        return self._fixed_target

    def _create_file_transferer(self) -> Transferer:
        return self._make_transferer()

    def _check_aborted(self) -> None:
        if self.cancel.is_set() and not self._aborted.is_set():
            self.abort("Cancelled")
        super()._check_aborted()

    def strategise(self) -> None:
        """Trace and place every dependency. Repeated while a .blend on shared storage turns
        out to need rewriting (then it is copied, which changes its referrers' paths)."""
        while True:
            self._strategise_once()
            must_copy = {p for p in self._in_place if self._actions[p].rewrites}
            if not must_copy:
                return
            self._not_in_place |= must_copy

    def _strategise_once(self) -> None:
        self._actions: collections.defaultdict[Path, Any] = collections.defaultdict(bat_pack.AssetAction)
        self.missing_files: set[Path] = set()
        self._new_location_paths: set[Path] = set()
        self._in_place = set()
        self._absolute_in_place = set()
        self._problems = {}

        packed_blend = Path(self._target_path, self.pack_as.relative_to(self.project_abs))
        self._output_path = packed_blend
        self._progress_cb.pack_start()
        action = self._actions[self.blendfile_abs]
        action.path_action = bat_pack.PathAction.KEEP_PATH
        action.new_path = packed_blend

        self._check_aborted()
        for usage in trace.deps(self.blendfile, self._progress_cb):
            self._check_aborted()
            if usage.is_sequence:
                self._visit_sequence(usage.abspath, usage)
            else:
                self._visit_asset(usage.abspath, usage)
        for path in self.missing_files:  # sequences with no file at all
            self._problems.setdefault((ProblemKind.MISSING, str(path)), Problem(ProblemKind.MISSING, str(path)))
        self._find_new_paths()
        self._group_rewrites()

    def _visit_asset(self, asset_path: Path, usage: Any) -> None:
        if not usage.is_sequence and not asset_path.exists():
            self.missing_files.add(asset_path)
            self._problem(ProblemKind.MISSING, asset_path, usage)
            return
        first = next(iter(file_sequence.expand_sequence(asset_path)), asset_path) if usage.is_sequence else asset_path
        if first.is_file() and not _readable(first):
            self._problem(ProblemKind.UNREADABLE, asset_path, usage)
            return
        self._progress_cb.trace_asset(asset_path)

        action = self._actions[asset_path]
        action.usages.append(usage)
        absolute_path = not usage.asset_path.is_blendfile_relative()
        if self._stays_in_place(asset_path, first):
            # Rewritten (when needed) to a path relative to the pack, pointing where it is.
            action.path_action = bat_pack.PathAction.FIND_NEW_LOCATION
            action.new_path = absolute(asset_path)
            self._in_place.add(asset_path)
            if absolute_path:  # reaches a Worker as written when the .blend stays in place
                self._absolute_in_place.add(str(usage.asset_path))
            return

        in_project = self._path_in_project(first)
        if absolute_path and not is_within(first, self.known_roots):
            self._problem(ProblemKind.ABSOLUTE_OUTSIDE, asset_path, usage)
        referrer = absolute(usage.block.bfile.filepath)
        relocated_referrer = referrer == self.blendfile_abs and self.pack_as != self.blendfile_abs
        if in_project:
            action.new_path = Path(self._target_path, absolute(asset_path).relative_to(self.project_abs))
            if absolute_path or relocated_referrer:
                action.path_action = bat_pack.PathAction.FIND_NEW_LOCATION
        else:
            action.path_action = bat_pack.PathAction.FIND_NEW_LOCATION
            self._new_location_paths.add(asset_path)

    def _stays_in_place(self, asset_path: Path, first: Path) -> bool:
        if not self.in_place_roots or asset_path in self._not_in_place:
            return False
        return is_within(first, self.in_place_roots)

    def _copy_asset_and_deps(self, asset_path: Path, action: Any) -> None:
        if asset_path in self._in_place:
            return
        super()._copy_asset_and_deps(asset_path, action)

    # -- report ---------------------------------------------------------------------------

    def _problem(self, kind: ProblemKind, path: Path, usage: Any) -> None:
        key = (kind, str(path))
        if key not in self._problems:
            used_by = absolute(usage.block.bfile.filepath)
            if used_by == self.blendfile_abs:
                used_by = self.pack_as  # the artist's file, not our copy of its unsaved changes
            self._problems[key] = Problem(kind, str(path), str(usage.asset_path), str(used_by))
            if kind is not ProblemKind.ABSOLUTE_OUTSIDE:
                self._progress_cb.missing_file(path)

    def survey(self) -> Survey:
        """What strategise() decided, as plain data."""
        files: list[Dependency] = []
        for asset_path, action in self._actions.items():
            in_place = asset_path in self._in_place
            sequence = next((u for u in action.usages if u.is_sequence), None)
            paths = list(sequence.files()) if sequence is not None else [asset_path]
            for path in paths:
                if path.is_dir():
                    continue
                packed_as = ""
                if not in_place and sequence is None and action.new_path is not None:
                    packed_as = PurePath(action.new_path).relative_to(self._target_path).as_posix()
                files.append(Dependency(str(path), _size(path), in_place, packed_as))
        problems = sorted(self._problems.values(), key=lambda p: (p.kind != ProblemKind.MISSING, p.kind, p.path))
        return Survey(str(self.pack_as), str(self.project_abs), files, problems,
                      absolute_in_place=sorted(self._absolute_in_place))

    @property
    def packed_blend(self) -> PurePath:
        return PurePath(self.output_path)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0

