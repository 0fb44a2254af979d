"""blender-addon-tester's "load tests" script for Flamenco Desk, run inside Blender
(`blender -b --python addon_tester_load.py`, started by blender-addon-tester; given to it with
its documented config key `blender_load_tests_script`).

Replaces the package's own load script, whose `addon_install` (legacy add-ons) cannot install
an extension zip: this one installs the zip the way a user does
(`extensions.package_install_files` into the user repository), then runs pytest on the suite
blender-addon-tester names in BLENDER_ADDON_TESTS_PATH. Exits with pytest's exit code.
"""

import os
import shlex
import sys

# pytest for Blender's Python (Debian's Blender uses the system Python, which has none).
sys.path.insert(0, os.environ["FLAMENCO_DESK_BLENDER_SITE"])

import bpy  # noqa: E402
import pytest  # noqa: E402


def main() -> int:
    zip_path = os.environ["BLENDER_ADDON_TO_TEST"]
    result = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
    if result != {"FINISHED"}:
        print(f"could not install {zip_path}: {result}", file=sys.stderr)
        return 1
    args = [os.environ["BLENDER_ADDON_TESTS_PATH"], "-v", "-p", "no:cacheprovider"]
    args += shlex.split(os.environ.get("BLENDER_PYTEST_ARGS", ""))
    return int(pytest.main(args))


sys.exit(main())
