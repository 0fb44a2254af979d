"""The `blender` a farm's Worker runs: Debian's real Blender, in a chroot (tools/gui/chroot.py),
with the farm's folders bind-mounted at the paths they have on the host.

Usage: worker_blender.py --suite trixie|sid [--bind DIR]... -- BLENDER_ARGUMENTS...

The farm (tools/local_farm.py) writes a `blender` script that calls this, and names that script
in the Manager's `blender` variable, so the Worker starts it exactly as it starts a studio's
Blender: `blender -b -y FILE --python-expr ... --render-output ... --render-frame ...`. Nothing
here changes what Blender does: resolution, samples, engine and device come from the .blend and
the job, as on a real farm. Blender's own log lines reach the Worker unchanged, and its exit code
is this script's.

Each run gets a fresh HOME in the chroot's private /tmp (a Worker with no user preferences).
Standard library only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gui import chroot  # noqa: E402


def parse(argv: list[str]) -> tuple[str, list[str], list[str]]:
    if "--" not in argv:
        raise SystemExit(__doc__)
    sep = argv.index("--")
    head, blender_args = argv[:sep], argv[sep + 1:]
    suite, binds = chroot.DEFAULT_SUITE, []
    it = iter(head)
    for arg in it:
        if arg == "--suite":
            suite = next(it, "")
        elif arg == "--bind":
            binds.append(os.path.abspath(next(it, "")))
        else:
            raise SystemExit(f"worker_blender: unknown argument {arg!r}\n{__doc__}")
    if suite not in chroot.SUITES:
        raise SystemExit(f"worker_blender: unknown suite {suite!r}")
    return suite, binds, blender_args


def inside(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def command(suite: str, binds: list[str], blender_args: list[str], cwd: str) -> list[str]:
    root = chroot.chroot_dir(suite)
    if not chroot.is_ready(root, suite):
        # Never built from here: a build takes minutes and would look like a hung task.
        raise SystemExit(
            f"worker_blender: the {suite} Blender chroot is not built; run: python3 "
            f"{HERE / 'gui' / 'chroot.py'} --suite {suite}"
        )
    cmd = [sys.executable, str(HERE / "gui" / "chroot_run.py"), str(root)]
    for folder in binds:
        cmd += ["--bind", folder]
    cmd += ["--env", "HOME=/tmp/worker-home"]
    # The Worker's working folder, when Blender can see it (relative paths in arguments).
    cmd += ["--cwd", cwd if inside(cwd, binds) else "/tmp"]
    return [*cmd, "--", "/usr/bin/blender", *blender_args]


def main(argv: list[str]) -> int:
    suite, binds, blender_args = parse(argv)
    cmd = command(suite, binds, blender_args, os.getcwd())
    os.execv(cmd[0], cmd)  # the Worker signals and waits for this process: no wrapper in between
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
