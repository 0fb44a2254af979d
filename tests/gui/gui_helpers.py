"""Shared by the GUI tests (a module name of its own: every test folder has a conftest)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Screenshots and logs of each run, per test; ignored by git (.cache/).
ARTIFACTS = ROOT / ".cache" / "gui-artifacts"
MODULE = "bl_ext.user_default.flamenco_desk"

# `tools.gui` is imported from the repository root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
