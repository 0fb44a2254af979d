"""Submitting a packed shot to the real Manager as a `simple-blender-render` job."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from flamenco_desk_src.api import models
from flamenco_desk_src.api.client import ManagerClient


def submit_render(url: str, blend_path: str, out_dir: Path, name: str, checkout: Optional[str] = None) -> str:
    """Submit frame 1 of `blend_path` (as the farm reads it), rendered to out_dir/000001.png."""
    with ManagerClient(url) as client:
        jt = client.job_type("simple-blender-render")
        settings = {
            "frames": "1",
            "chunk_size": 1,
            "render_output_root": str(out_dir),
            "add_path_components": 0,
            "render_output_path": str(out_dir / "######"),
            "blendfile": blend_path,
            "fps": 0.0,  # no preview video: only the frame matters here
            "format": "PNG",
            "image_file_extension": ".png",
            "has_previews": False,
            "scene": "Scene",
        }
        job = client.submit_job(models.SubmittedJob(
            name=name, type=jt.name, submitter_platform="linux", type_etag=jt.etag, settings=settings,
            storage=models.JobStorage(checkout) if checkout else None,
        ))
    return job.id
