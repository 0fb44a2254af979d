"""Where a job's frames are, from its stored settings, as seen from this computer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Optional

from ..api.models import Job

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".exr", ".tif", ".tiff", ".webp", ".bmp", ".tga", ".hdr", ".dpx", ".cin", ".jp2"}
_VAR = re.compile(r"\{([A-Za-z0-9_]+)\}")
# Settings that name the output, in the order job types commonly use them.
OUTPUT_KEYS = ("render_output_path", "render_output", "output_path", "render_output_root")


def expand(path: str, variables: Mapping[str, str]) -> str:
    """Replace `{var}` as the Manager stores them (two-way variables) with our values."""
    return _VAR.sub(lambda m: variables.get(m.group(1), m.group(0)), path)


def output_dir(job: Job, variables: Mapping[str, str]) -> Optional[Path]:
    for key in OUTPUT_KEYS:
        value = job.settings.get(key)
        if isinstance(value, str) and value:
            path = Path(expand(value, variables))
            # A frame pattern like .../shot_######.png or .../###### names files, not a folder.
            if "#" in path.name or path.suffix.lower() in IMAGE_SUFFIXES or key == "render_output_path":
                path = path.parent
            return path
    return None


def frame_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def web_url(base_url: str, job_id: str) -> str:
    return f"{base_url.rstrip('/')}/app/jobs/{job_id}"
