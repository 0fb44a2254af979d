"""Packing a shot for the farm: the .blend and everything it needs (textures, caches,
linked libraries), traced and rewritten by Blender Asset Tracer, then copied into a job
folder on shared storage or uploaded to the Manager's Shaman file store.

bpy-free: it reads files, not Blender's memory, so it runs on background threads and in
plain Python (tests, tools). The artist's files are only read.
"""

from __future__ import annotations

from .hashing import HashCache
from .progress import CancelFlag, Cancelled, Progress
from .project import find_project_root
from .result import PackError, PackResult, ProblemsFound
from .run import pack_to_folder, pack_to_shaman, survey
from .survey import Dependency, Problem, ProblemKind, Survey

__all__ = [
    "CancelFlag", "Cancelled", "Dependency", "HashCache", "PackError", "PackResult", "Problem", "ProblemKind",
    "ProblemsFound", "Progress", "Survey", "find_project_root", "pack_to_folder", "pack_to_shaman", "survey",
]
