"""Flamenco Manager REST client (bpy-free; stdlib + requests only).

What is imported here is what `api` offers, each name listed once (no `__all__` repeating
them: mypy re-exports these imports implicitly). The modules import `models` as a module.
"""

from __future__ import annotations

from .client import ManagerClient, normalise_base_url
from .errors import (
    EtagMismatch,
    FlamencoError,
    InvalidResponse,
    ManagerHTTPError,
    ManagerTimeout,
    ManagerUnreachable,
    NotFound,
    ResponseLost,
    UnsupportedFeature,
)
from .features import Features
from .models import (
    Command,
    EvalInfo,
    FarmStatus,
    Job,
    JobSetting,
    JobStatus,
    JobStorage,
    JobType,
    LastRendered,
    ManagerVariable,
    ManagerVersion,
    SharedStorage,
    ShamanFileSpec,
    ShamanFileStatus,
    ShamanUpload,
    SubmittedJob,
    Task,
    TaskStatus,
    TaskSummary,
    TaskWorker,
    WorkerTag,
    parse_version,
)
