"""What a Manager can do, derived from its version.

Probing endpoints would cost requests and can't tell "missing" from "broken",
so the version decides. Builds without version ldflags ("set-during-build",
e.g. `go install …@commit`) are usually recent development builds: assume the
newest features rather than lock the user out.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnsupportedFeature
from .models import ManagerVersion

# feature name → (minimum version, wording for the error message)
FEATURES: dict[str, tuple[tuple[int, int, int], str]] = {
    "jobs_list": ((3, 6, 0), "listing all jobs"),
    "settag": ((3, 8, 0), "changing a job's worker tag"),
    "steps": ((3, 8, 0), "step-based progress"),
}


def _version_text(version: tuple[int, int, int]) -> str:
    major, minor, patch = version
    return f"{major}.{minor}" + (f".{patch}" if patch else "")


@dataclass(frozen=True)
class Features:
    jobs_list: bool
    settag: bool
    steps: bool
    version_known: bool
    manager_version: str = ""

    @classmethod
    def from_version(cls, version: ManagerVersion) -> Features:
        parsed = version.parsed
        flags = {
            name: parsed is None or parsed >= minimum for name, (minimum, _) in FEATURES.items()
        }
        return cls(
            jobs_list=flags["jobs_list"],
            settag=flags["settag"],
            steps=flags["steps"],
            version_known=parsed is not None,
            manager_version=version.version,
        )

    def require(self, feature_name: str) -> None:
        """Raise UnsupportedFeature unless the Manager has this feature."""
        if feature_name not in FEATURES:
            raise ValueError(f"unknown feature {feature_name!r}")
        if getattr(self, feature_name):
            return
        minimum, wording = FEATURES[feature_name]
        raise UnsupportedFeature(wording, _version_text(minimum), self.manager_version)
