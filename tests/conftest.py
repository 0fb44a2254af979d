"""Test-wide setup.

Blender reads its user folders when `bpy` is first imported, so they are pointed at a
throw-away folder here, before any test module can import bpy: the extension is
installed into that folder the way a user installs it, never into ~/.config.
"""

from __future__ import annotations

import os
import sys
import tempfile
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if "BLENDER_USER_RESOURCES" not in os.environ:
    os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="flamenco-desk-blender-user-")

# bpy-free packages are importable as top-level names (`api`, `safe_eval`), test support as
# `support` (one name only: importing it twice would make two sets of fixtures' state) ...
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
# ... and bpy-free modules that import their siblings relatively (`core`) through a bare
# package that does not run the add-on's __init__ (which needs bpy).
if "flamenco_desk_src" not in sys.modules:
    _pkg = types.ModuleType("flamenco_desk_src")
    _pkg.__path__ = [str(ROOT)]
    sys.modules["flamenco_desk_src"] = _pkg

# bpy-free code that packs (core.packing) imports Blender Asset Tracer as the installed
# extension does: from the pinned wheel the build bundles (a pure-Python wheel imports from
# its zip), fetched hash-checked into wheels/ if missing.
sys.path.insert(0, str(ROOT / "tools"))
import build_extension  # noqa: E402

for _wheel in build_extension.fetch_wheels():
    if str(_wheel) not in sys.path:
        sys.path.insert(0, str(_wheel))

# The real Flamenco farm: fixtures `farm`, `shaman_farm`, `proxy`, `job_type_script`; the
# add-on installed in real Blender: `extension_zip`, `desk`, `prefs`, `clean_desk`, `connected`.
pytest_plugins = ("support.farm_fixtures", "support.desk_fixtures")
