"""Where the farm reads the .blend from: in place when already on shared storage,
otherwise a copy in a fresh folder there (never overwriting anything)."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path, PurePath

# Characters the Manager and its path handling dislike (api-notes §7, job name gotchas).
_UNSAFE = re.compile(r'[\\/?*:;{}<>|"\x00-\x1f]+')

SUBMISSIONS_DIR = "flamenco-desk"


def safe_name(text: str, fallback: str = "job") -> str:
    cleaned = _UNSAFE.sub("_", text).strip(" ._")
    cleaned = cleaned.replace("..", "_")
    return cleaned[:80] or fallback


def _norm(path: PurePath) -> str:
    text = os.path.normpath(str(path))
    # Shared storage is matched the way the Manager does: case and separators ignored.
    return text.replace("\\", "/").rstrip("/").casefold()


def is_under(path: Path, root: str, *, resolve: bool = True) -> bool:
    """Whether `path` lies in `root`. `resolve=False` compares the paths as written, without
    touching the filesystem: for the main thread, where a dead network share must not hang
    Blender (the background thread checks again with symlinks resolved)."""
    if not root:
        return False
    try:
        if resolve:
            p, r = _norm(path.resolve()), _norm(Path(root).resolve())
        else:
            p, r = _norm(Path(os.path.abspath(path))), _norm(Path(os.path.abspath(root)))
    except OSError:
        return False
    return p == r or p.startswith(r + "/")


def _submission_folder_name(label: str, submission_id: str) -> str:
    """`<time>-<label>-<id>`: unique per submission, readable, safe on every platform."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(label)}-{submission_id[:8]}"


def job_folder(storage_root: str, label: str, submission_id: str) -> Path:
    """`<storage>/flamenco-desk/<time>-<label>-<id>/`: where a pack goes. Not created here:
    the packer writes `<folder>.partial` and renames it when complete."""
    root = Path(storage_root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"the Manager's shared storage {storage_root} is not reachable from this computer"
        )
    return root / SUBMISSIONS_DIR / _submission_folder_name(label, submission_id)


def shaman_checkout_path(label: str, submission_id: str) -> str:
    """The checkout path asked of the Shaman: unique per submission, so that the Manager
    never has to add a suffix (3.8.5 erases the *requested* path when a checkout fails,
    which would be another job's folder if it had added one)."""
    return f"{SUBMISSIONS_DIR}/{_submission_folder_name(label, submission_id)}"


def earlier_packs(storage_root: str, submission_id: str) -> list[Path]:
    """Packs an earlier attempt of this submission left on shared storage (whole or
    `.partial`): kept while the Manager might have made the job, found again by the id."""
    suffix = f"-{submission_id[:8]}"
    try:
        return [p for p in (Path(storage_root) / SUBMISSIONS_DIR).iterdir()
                if p.name.endswith(suffix) or p.name.endswith(suffix + ".partial")]
    except OSError:
        return []


def remove_job_folder(folder: Path) -> None:
    """Remove a pack this add-on made (only a folder of its own) after a failed submission."""
    if folder.parent.name == SUBMISSIONS_DIR:
        shutil.rmtree(folder, ignore_errors=True)



# Settings that name where a job renders to (as core/results.py reads them back).
_OUTPUT_KEYS = ("render_output_root", "render_output_path", "render_output", "output_path")


def output_outside_storage(settings: dict[str, object], storage_location: str) -> str | None:
    """A warning when the job renders to an absolute path outside the Manager's shared
    storage: Workers on other computers write there only if they see the same path, and
    this add-on cannot check that. Compared as written (no disk access: main thread)."""
    if not storage_location:
        return None
    for key in _OUTPUT_KEYS:
        value = settings.get(key)
        if not isinstance(value, str) or not value or not os.path.isabs(value):
            continue  # empty, relative or a Manager variable ("{render}/…")
        if not is_under(Path(value), storage_location, resolve=False):
            return (f"The render output {value} is outside the farm's shared storage ({storage_location}): "
                    "the frames land there only if every Worker sees that path")
    return None
