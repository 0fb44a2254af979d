"""What a finished pack or upload hands to the submission."""

from __future__ import annotations

from dataclasses import dataclass

from .survey import Survey


@dataclass(frozen=True)
class PackResult:
    # The .blend as the farm reads it: an absolute path on shared storage (as seen from this
    # computer) or, with Shaman, "{jobs}/<checkout path>/<file>.blend".
    blend_path: str
    survey: Survey
    folder: str = ""  # shared storage: the job folder this pack created
    checkout_path: str = ""  # Shaman: the checkout path the Manager returned
    files_sent: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0


class PackError(Exception):
    """Packing or uploading failed; the message is for the artist. Nothing that looks
    complete was left behind."""


class ProblemsFound(Exception):
    """Tracing found problems and the caller chose to stop before sending anything."""

    def __init__(self, survey: Survey) -> None:
        super().__init__("; ".join(p.describe() for p in survey.problems) or "problems found")
        self.survey = survey
