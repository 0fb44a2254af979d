"""A `blender` for a Flamenco Worker that fails every task on purpose: NOT Blender.

For tests of a Worker whose Blender is broken (it fails, gets blocklisted, another Worker takes
over). Every other test renders with the real Blender (tools/worker_blender.py).

    blender_stand_in_that_fails.py [ANY BLENDER ARGUMENTS]

prints a banner that says what it is, then `STAND_IN_ERROR` (default below) as Blender prints its
errors, and exits 1. With STAND_IN_HANG=1 it never ends instead (until the Worker kills it).
Standard library only.
"""

from __future__ import annotations

import os
import sys
import time

DEFAULT_ERROR = "Error: stand-in Blender fails on purpose (tools/blender_stand_in_that_fails.py)"


def main(argv: list[str]) -> int:
    print("Blender stand-in that fails on purpose (Flamenco Desk tests)", flush=True)
    print(f"Arguments: {' '.join(argv)}", flush=True)
    if os.environ.get("STAND_IN_HANG") == "1":
        while True:
            time.sleep(3600)
    print(os.environ.get("STAND_IN_ERROR", DEFAULT_ERROR), flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
