"""Run a test suite inside the real Blender binary (the GUI chroot's Blender 4.3, headless) with
blender-addon-tester 0.12.0, the test runner the design card names, without the internet.

    python3 tools/gui/addon_tester.py [--zip EXTENSION_ZIP] [--tests DIR] [--work DIR] [-- PYTEST ARGS]

Default suite: tools/gui/addon_tester_suite/. Default zip: built with tools/build_extension.py.
Exits with the suite's result (0 passed, 1 failed), as blender-addon-tester reports it.

blender-addon-tester cannot do this unchanged (details: tools/gui/README.md,
"blender-addon-tester"). What this script does about it, and nothing more:
1. One function of the package is replaced: `run_blender.get_blender_from_suffix`, which always
   downloads Blender's release index from ftp.nluug.nl (and then the release) before it looks at
   its cache; there is no option to skip it or to hand it a local Blender. The replacement
   returns a folder whose `blender` is a wrapper that runs the chroot's `blender`.
2. Its own load script is swapped for tools/gui/addon_tester_load.py through its documented
   config key `blender_load_tests_script`: the built-in one installs with the legacy
   `addon_install`, which cannot install an extension zip.
3. pytest is provided to Blender's Python (a pinned `--target` folder the load script puts on
   sys.path): Debian's Blender runs the system Python 3.13, which has no pytest, and the
   package's own pip install into Blender's bundled Python needs the internet and a bundled
   Python, which a distribution's Blender does not have.
The venv (tools/gui/addon_tester_requirements.txt, pinned, from PyPI) and pytest for Blender
(tools/gui/addon_tester_blender_requirements.txt) are cached under .cache/addon-tester/.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from tools.gui import chroot  # noqa: E402

CACHE = ROOT / ".cache" / "addon-tester"
REQUIREMENTS = HERE / "addon_tester_requirements.txt"
BLENDER_REQUIREMENTS = HERE / "addon_tester_blender_requirements.txt"
LOAD_SCRIPT = HERE / "addon_tester_load.py"
SUITE = HERE / "addon_tester_suite"
BLENDER_REVISION = "4.3"  # what the chroot's Debian trixie ships
# Environment blender-addon-tester sets for its load script, passed on into the chroot.
FORWARDED = (
    "BLENDER_ADDON_TO_TEST",
    "BLENDER_ADDON_TESTS_PATH",
    "BLENDER_PYTEST_ARGS",
    "BLENDER_ADDON_COVERAGE_REPORTING",
    "LOCAL_PYTHONPATH",
)


def _key(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _pip(python: Path, *args: str) -> None:
    # The root warning is silenced through the environment: as a global option pip 23.2
    # (Python 3.11's ensurepip) refuses --root-user-action.
    env = {**os.environ, "PIP_ROOT_USER_ACTION": "ignore"}
    subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True, env=env)


def ensure_venv() -> Path:
    """The throw-away venv with blender-addon-tester; rebuilt when the pins change."""
    folder = CACHE / f"venv-{_key(REQUIREMENTS)}"
    python = folder / "bin" / "python"
    if not (folder / ".complete").exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(folder)
        _pip(python, "install", "--no-deps", "-r", str(REQUIREMENTS))
        (folder / ".complete").touch()
    return python


def ensure_blender_site() -> Path:
    """pytest (pure-Python wheels) for the Python inside the chroot's Blender."""
    folder = CACHE / f"blender-site-{_key(BLENDER_REQUIREMENTS)}"
    if not (folder / ".complete").exists():
        _pip(Path(sys.executable), "install", "--no-deps", "--only-binary=:all:", "--python-version", "3.13",
             "--upgrade", "--target", str(folder), "-r", str(BLENDER_REQUIREMENTS))  # fmt: skip
        (folder / ".complete").touch()
    return folder


def write_blender(folder: Path, work: Path, binds: list[Path], site: Path) -> Path:
    """`folder/blender`: runs the chroot's blender with the given folders bind-mounted at the same
    paths, its user folders in `work`, and blender-addon-tester's environment passed on."""
    root = chroot.ensure()
    folder.mkdir(parents=True, exist_ok=True)
    for d in ("home", "tmp"):
        (work / d).mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / "chroot_run.py"), str(root)]
    for b in [work, *binds]:
        cmd += ["--bind", str(b)]
    env = {
        "HOME": str(work / "home"),
        "BLENDER_USER_RESOURCES": str(work / "blender-user"),
        "TMPDIR": str(work / "tmp"),
        "PYTHONUNBUFFERED": "1",
        "FLAMENCO_DESK_BLENDER_SITE": str(site),
    }
    for k, v in env.items():
        cmd += ["--env", f"{k}={v}"]
    forwarded = " ".join(f'--env "{name}=${{{name}:-}}"' for name in FORWARDED)
    script = folder / "blender"
    script.write_text(
        "#!/bin/sh\n"
        "# Blender for blender-addon-tester: the GUI chroot's blender (tools/gui/addon_tester.py).\n"
        f'exec {shlex.join(cmd)} {forwarded} --cwd "$PWD" -- blender "$@"\n'
    )
    script.chmod(0o755)
    return folder


RUN = """
import sys
import blender_addon_tester
from blender_addon_tester import run_blender

# The one replacement (see tools/gui/addon_tester.py): no release index download, this Blender.
run_blender.get_blender_from_suffix = lambda revision: {blender_dir!r}

sys.exit(blender_addon_tester.test_blender_addon(
    addon_path={zip!r},
    blender_revision={revision!r},
    config={{"blender_load_tests_script": {load!r}, "tests": {tests!r}, "pytest_args": {pytest_args!r}}},
))
"""


def run(zip_path: Path, tests: Path, work: Path, pytest_args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the suite; the answer holds blender-addon-tester's and Blender's output."""
    python = ensure_venv()
    site = ensure_blender_site()
    work = work.resolve()
    zip_path = zip_path.resolve()
    tests = tests.resolve()
    blender_dir = write_blender(work / "blender", work, [ROOT, zip_path.parent, tests], site)
    # The suite's own folder is pytest's root: otherwise a checkout whose top folder is the
    # add-on (it has an __init__.py) above the suite would be imported as a test package.
    pytest_args = [f"--rootdir={tests}", "-p", "no:cacheprovider", *pytest_args]
    code = RUN.format(
        blender_dir=str(blender_dir), zip=str(zip_path), revision=BLENDER_REVISION, load=str(LOAD_SCRIPT),
        tests=str(tests), pytest_args=shlex.join(pytest_args),
    )  # fmt: skip
    return subprocess.run([str(python), "-c", code], cwd=work, capture_output=True, text=True, timeout=600)


def build_zip(dist: Path) -> Path:
    bpy_python = ROOT / ".venv" / "bpy-5.0.1" / "bin" / "python"
    out = subprocess.run([str(bpy_python), str(ROOT / "tools" / "build_extension.py"), str(dist)],
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    return Path(out.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zip", type=Path, help="the extension zip (default: build it)")
    parser.add_argument("--tests", type=Path, default=SUITE)
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="addon-tester-") as tmp:
        work = args.work or Path(tmp)
        zip_path = args.zip or build_zip(work / "dist")
        done = run(zip_path, args.tests, work, args.pytest_args)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
