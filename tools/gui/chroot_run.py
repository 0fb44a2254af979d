"""Run one command inside the GUI chroot, with host folders bind-mounted at the same paths.

Usage: chroot_run.py ROOT [--bind DIR]... [--env NAME=VALUE]... [--cwd DIR] -- COMMAND...

Mounts live in a private mount namespace of their own (the script re-runs itself under
`unshare --mount --propagation private`): the host never sees them, and they vanish with the last
process of the namespace even if everything is killed. Inside, they are still unmounted in reverse
order when the command ends.

The chroot's /tmp is a fresh tmpfs in each run, as on a new machine. Mount points for host folders
under /tmp are made in it and vanish with it. Mount points elsewhere are made in the chroot itself
and left there (empty folders): several runs share one chroot at once (the GUI's Blender and
Workers' Blenders), and removing a folder that another run's namespace mounts on would unmount it
there.

Exits with the command's exit code. SIGTERM/SIGINT are passed on to the command.
Standard library only, Python 3.9+.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Optional

NS_MARKER = "FLAMENCO_DESK_GUI_OUTER_MOUNT_NS"
# Bound when they exist: what any program expects of a system, and the X server's sockets
# (/tmp/.X11-unix exists only once an X server has run on this machine: a headless Blender,
# such as the Worker's, needs none).
SYSTEM_BINDS = ("/proc", "/dev", "/dev/shm", "/tmp/.X11-unix")
PR_SET_PDEATHSIG = 1


def parse(argv: list[str]) -> tuple[Path, list[str], dict[str, str], Optional[str], list[str]]:
    if "--" not in argv or not argv:
        raise SystemExit(__doc__)
    sep = argv.index("--")
    head, command = argv[:sep], argv[sep + 1 :]
    root = Path(head[0])
    binds: list[str] = []
    env: dict[str, str] = {}
    cwd: Optional[str] = None
    it = iter(head[1:])
    for arg in it:
        if arg == "--bind":
            binds.append(os.path.abspath(next(it)))
        elif arg == "--env":
            name, _, value = next(it).partition("=")
            env[name] = value
        elif arg == "--cwd":
            cwd = next(it)
        else:
            raise SystemExit(f"chroot_run: unknown argument {arg!r}\n{__doc__}")
    if not command:
        raise SystemExit(__doc__)
    return root, binds, env, cwd, command


def in_private_namespace() -> bool:
    """True once re-run by unshare: the marker holds the mount namespace we were started in."""
    outer = os.environ.get(NS_MARKER)
    return bool(outer) and outer != os.readlink("/proc/self/ns/mnt")


class Mounts:
    """Bind mounts made by this process, undone in reverse order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.mounted: list[Path] = []

    def bind(self, source: str) -> None:
        target = self.root / source.lstrip("/")
        self._makedirs(target)
        subprocess.run(["mount", "--bind", source, str(target)], check=True)
        self.mounted.append(target)

    def tmpfs(self, path: str) -> None:
        target = self.root / path.lstrip("/")
        target.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", str(target)], check=True)
        self.mounted.append(target)

    def _makedirs(self, target: Path) -> None:
        missing = []
        p = target
        while not p.exists():
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            d.mkdir(exist_ok=True)  # another run may make it at the same moment

    def undo(self) -> list[str]:
        problems = []
        for target in reversed(self.mounted):
            if subprocess.run(["umount", str(target)]).returncode != 0:
                # Something still holds it open: detach it (it goes when the holder ends).
                if subprocess.run(["umount", "--lazy", str(target)]).returncode != 0:
                    problems.append(str(target))
        self.mounted.clear()
        return problems


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def main(argv: list[str]) -> int:
    root, binds, env, cwd, command = parse(argv)
    if not in_private_namespace():
        os.environ[NS_MARKER] = os.readlink("/proc/self/ns/mnt")
        unshare = ["unshare", "--mount", "--propagation", "private", "--fork", "--kill-child"]
        os.execvp("unshare", [*unshare, sys.executable, os.path.abspath(__file__), *argv])
    if not (root / "usr" / "bin").is_dir():
        raise SystemExit(f"chroot_run: {root} is not a chroot")
    mounts = Mounts(root)
    code = 1
    try:
        mounts.tmpfs("/tmp")
        for source in [*SYSTEM_BINDS, *binds]:
            if source == "/dev/shm" and not os.path.ismount(source):
                continue
            if source in SYSTEM_BINDS and not os.path.isdir(source):
                continue
            mounts.bind(source)
        full_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", **env}
        prefix = ["env", "-C", cwd] if cwd else []
        child = subprocess.Popen(["/usr/sbin/chroot", str(root), *prefix, *command], env=full_env, preexec_fn=_die_with_parent)

        def forward(signum: int, _frame: object) -> None:
            child.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        code = child.wait()
    finally:
        problems = mounts.undo()
        if problems:
            print(f"chroot_run: could not unmount {problems}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
