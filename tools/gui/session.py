"""A real Blender window for tests: Debian trixie's Blender 4.3 in the GUI chroot, on an Xvfb
display, driven step by step from inside (tools/gui/driver.py) and looked at and clicked from
outside (screenshots, xdotool).

    with GuiSession(work_dir, artifacts_dir, binds=[zip.parent]) as gui:
        gui.install_extension(zip)
        gui.step("properties_context", context="OUTPUT")
        gui.redraw()
        png = gui.screenshot("output", gui.region_rect("PROPERTIES"))
        gui.click(*gui.find_button("PROPERTIES", "FLAMENCO_DESK_OT_refresh_manager"))
        assert not gui.python_errors()

Everything started is stopped on exit, even after failures: Blender (asked to quit, then
terminated, then killed), the mount namespace with its bind mounts (see chroot_run.py), Xvfb.
Runs as root (chroot, mounts), like the rest of the project's tooling on its machines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Optional, Sequence

from . import chroot
from .xscreen import Rect, Screen, Xvfb, die_with_parent

HERE = Path(__file__).resolve().parent
TRACEBACK = "Traceback (most recent call last):"


class StepError(RuntimeError):
    """A step failed inside Blender; the message holds Blender's traceback."""


class GuiSession:
    def __init__(
        self,
        work: Path,
        artifacts: Path,
        binds: Iterable[Path] = (),
        size: tuple[int, int] = (1600, 900),
        blender_args: Sequence[str] = (),
        start_timeout: float = 120.0,
    ) -> None:
        self.work = work.resolve()
        self.artifacts = artifacts.resolve()
        self.binds = [Path(b).resolve() for b in binds]
        self.size = size
        self.blender_args = list(blender_args)
        self.start_timeout = start_timeout
        self.control = self.work / "control"
        self.log_path = self.work / "blender.log"
        self.root: Optional[Path] = None
        self.xvfb: Optional[Xvfb] = None
        self.screen: Optional[Screen] = None
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.ready: dict[str, Any] = {}
        self._log: Optional[IO[bytes]] = None
        self._next = 1
        self._shots = 0

    # --- life cycle -----------------------------------------------------------------------------

    def __enter__(self) -> "GuiSession":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self.root = chroot.ensure()
        for d in (self.work, self.control, self.artifacts):
            d.mkdir(parents=True, exist_ok=True)
        for stale in self.control.glob("*.json"):
            stale.unlink()
        shutil.copy2(HERE / "driver.py", self.control / "driver.py")

        self.xvfb = Xvfb(*self.size, log=self.work / "xvfb.log")
        display = self.xvfb.start()
        self.screen = Screen(display)

        home = self.work / "home"
        home.mkdir(exist_ok=True)
        # Blender's temporary files (quit.blend, blender.crash.txt) go here, not into the chroot.
        self.tmp = self.work / "tmp"
        self.tmp.mkdir(exist_ok=True)
        w, h = self.size
        blender = [
            # Line-buffered C stdio: the log is complete up to the moment anything goes wrong.
            "stdbuf", "-oL", "-eL",
            "blender", "--factory-startup", "--window-geometry", "0", "0", str(w), str(h),
            *self.blender_args,
            "--python", str(self.control / "driver.py"), "--", str(self.control),
        ]  # fmt: skip
        env = {
            "DISPLAY": display,
            "HOME": str(home),
            "BLENDER_USER_RESOURCES": str(self.work / "blender-user"),
            "XDG_RUNTIME_DIR": str(home),
            "TMPDIR": str(self.tmp),
            "PYTHONUNBUFFERED": "1",
        }
        cmd = [sys.executable, str(HERE / "chroot_run.py"), str(self.root), "--bind", str(self.work)]
        for b in self.binds:
            cmd += ["--bind", str(b)]
        for k, v in env.items():
            cmd += ["--env", f"{k}={v}"]
        cmd += ["--cwd", str(self.work), "--", *blender]
        self._log = open(self.log_path, "wb")
        # Own process group: close() can end the launcher, unshare and Blender together. If this
        # process is killed outright, unshare gets SIGKILL, which kills the launcher, which kills
        # Blender; with the namespace's last process its mounts are gone too.
        self.proc = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent
        )
        self.ready = self._wait_json(self.control / "ready.json", self.start_timeout, "Blender's window")

    def use_artifacts(self, folder: Path) -> None:
        """Keep the next screenshots (numbered from 01) and the log in another folder: one
        session shared by several tests keeps each test's pictures apart."""
        self.artifacts = folder.resolve()
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self._shots = 0

    def save_log(self) -> Path:
        """Copy Blender's output so far into the artifacts folder."""
        target = self.artifacts / self.log_path.name
        target.write_text(self.log_text())
        return target

    def close(self) -> None:
        """Stop everything this session started; safe to call more than once."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                try:
                    self._send({"op": "quit"})
                    self.proc.wait(10)
                except Exception:
                    pass
                self._signal_group(signal.SIGTERM, 5)
                self._signal_group(signal.SIGKILL, 5)
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None
            if self.xvfb is not None:
                self.xvfb.stop()
            if self.artifacts.exists():
                for kept in (self.log_path, self.work / "tmp" / "blender.crash.txt"):
                    if kept.exists():
                        shutil.copy2(kept, self.artifacts / kept.name)
        leftovers = self.leftover_mounts()
        if leftovers:
            raise RuntimeError(f"bind mounts left behind: {leftovers}")

    def _signal_group(self, sig: int, wait: float) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            pass

    def leftover_mounts(self) -> list[str]:
        """Mounts under the chroot that the host can see (there should never be any: they live in
        the session's own mount namespace)."""
        return chroot.mounts_under(self.root) if self.root is not None else []

    # --- steps inside Blender ------------------------------------------------------------------

    def _wait_json(self, path: Path, timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            if path.exists():
                data: dict[str, Any] = json.loads(path.read_text())
                return data
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"Blender exited with {self.proc.returncode} while waiting for {what}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer from {what} within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.005)

    def _send(self, cmd: dict[str, Any]) -> int:
        number = self._next
        self._next += 1
        tmp = self.control / f".cmd-{number:06d}.tmp"
        tmp.write_text(json.dumps(cmd))
        os.replace(tmp, self.control / f"cmd-{number:06d}.json")
        return number

    def step(self, op: str, timeout: float = 60.0, **args: Any) -> Any:
        """Run one step of tools/gui/driver.py (`op_<op>`) in Blender and return its value."""
        number = self._send({"op": op, **args})
        answer = self._wait_json(self.control / f"res-{number:06d}.json", timeout, f"step {op}")
        if not answer["ok"]:
            raise StepError(f"step {op} failed in Blender:\n{answer['error']}")
        return answer["value"]

    def steps(self, steps: Iterable[dict[str, Any]]) -> list[Any]:
        """Run a list of steps, e.g. [{"op": "open_file", "path": ...}, {"op": "redraw"}]."""
        return [self.step(**dict(s)) for s in steps]

    def exec(self, code: str, timeout: float = 60.0) -> Any:
        """Run Python in Blender's main thread; returns the value the code leaves in `result`."""
        return self.step("exec", timeout=timeout, code=code)

    def install_extension(self, zip_path: Path) -> dict[str, Any]:
        value: dict[str, Any] = self.step("install_extension", zip=str(zip_path.resolve()))
        return value

    def redraw(self, settle: float = 0.2) -> None:
        """Let Blender draw what the last steps changed, then give the X server a moment."""
        self.step("redraw")
        time.sleep(settle)

    def wait_until(self, code: str, timeout: float = 30.0, interval: float = 0.2) -> Any:
        """Poll Python in Blender until it leaves a truthy `result`; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.exec(code)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout:.0f} s: {code}")
            time.sleep(interval)

    # --- the window from outside ---------------------------------------------------------------

    def geometry(self) -> dict[str, Any]:
        value: dict[str, Any] = self.step("geometry")
        return value

    def region_rect(self, area_type: str, region_type: str = "WINDOW", index: int = 0) -> Rect:
        """Screen rectangle of a region (e.g. PROPERTIES/WINDOW, VIEW_3D/UI for the sidebar).
        Blender's window coordinates start bottom left; the screen's top left."""
        assert self.screen is not None
        geo = self.geometry()
        window = geo["windows"][0]
        origin = self.screen.window_rect()
        areas = [a for a in window["areas"] if a["type"] == area_type]
        if len(areas) <= index:
            raise LookupError(f"no {area_type} area #{index} in the window")
        for r in areas[index]["regions"]:
            if r["type"] == region_type and r["width"] > 1 and r["height"] > 1:
                top = window["height"] - (r["y"] + r["height"])
                return Rect(origin.x + r["x"], origin.y + top, r["width"], r["height"])
        raise LookupError(f"no visible {region_type} region in the {area_type} area")

    def screenshot(self, name: str, rect: Optional[Rect] = None) -> Path:
        """Save a screenshot (or a part of the screen) as `<artifacts>/NN-name.png`."""
        assert self.screen is not None
        self._shots += 1
        return self.screen.screenshot(self.artifacts / f"{self._shots:02d}-{name}.png", rect)

    def move(self, x: int, y: int) -> None:
        assert self.screen is not None
        self.screen.move(x, y)

    def click(self, x: int, y: int, button: int = 1) -> None:
        assert self.screen is not None
        self.screen.click(x, y, button)

    def show_sidebar_tab(self, tab: str, tries: int = 20) -> None:
        """Show the 3D Viewport's sidebar on a tab (bl_category), switching tabs as a user can:
        Ctrl+wheel over the sidebar."""
        assert self.screen is not None
        current = self.step("sidebar", show=True)
        self.redraw()
        for _ in range(tries):
            if current == tab:
                return
            # Over the tab strip at the sidebar's right edge: there Ctrl+wheel switches tabs and
            # cannot change a value under the pointer.
            rect = self.region_rect("VIEW_3D", "UI")
            self.screen.ctrl_wheel(rect.x + rect.width - 8, rect.y + rect.height // 2, down=True)
            self.redraw(0)
            current = self.step("sidebar_tab")
        raise LookupError(f"no sidebar tab {tab!r} (last: {current!r})")

    def button_under_mouse(self, area_type: str, region_type: str = "WINDOW") -> Optional[dict[str, Any]]:
        value: Optional[dict[str, Any]] = self.step("button_under_mouse", area_type=area_type, region_type=region_type)
        return value

    def scan_buttons(
        self,
        area_type: str,
        region_type: str = "WINDOW",
        columns: Sequence[float] = (0.5,),
        step: int = 10,
        stop: Optional[Callable[[dict[str, Any]], bool]] = None,
        bottom_up: bool = False,
        row_done: Optional[Callable[[dict[str, Any]], bool]] = None,
    ) -> list[tuple[int, int, dict[str, Any]]]:
        """Move the pointer down (or up) a region in columns (fractions of its width) and note
        every button Blender highlights: [(x, y, what button_under_mouse says)] in scan order.
        Stops at the first hit for which `stop(hit)` is true; the rest of a row's columns are
        skipped after a hit for which `row_done(hit)` is true. About 40 ms per point."""
        rect = self.region_rect(area_type, region_type)
        found: list[tuple[int, int, dict[str, Any]]] = []
        ys = list(range(rect.y + step // 2, rect.y + rect.height, step))
        for y in reversed(ys) if bottom_up else ys:
            for fraction in columns:
                x = rect.x + min(rect.width - 1, max(0, int(rect.width * fraction)))
                self.move(x, y)
                hit = self.button_under_mouse(area_type, region_type)
                if hit:
                    found.append((x, y, hit))
                    if stop is not None and stop(hit):
                        return found
                    if row_done is not None and row_done(hit):
                        break
        return found

    def find_button(
        self,
        area_type: str,
        operator: str,
        region_type: str = "WINDOW",
        xs: Optional[Sequence[int]] = None,
        step: int = 8,
        bottom_up: bool = False,
        command: Optional[str] = None,
    ) -> tuple[int, int]:
        """Screen point of the button that runs `operator` (as in Python: e.g.
        "flamenco_desk.refresh_manager"), found the way a user finds it: the pointer is moved
        over the region and Blender says which button it highlights. `xs` are the columns to try
        (screen x; default: the middle and near the right edge, where rows end in icon buttons).
        `command` also matches the button's arguments (e.g. plain Submit, not a batch button
        of the same operator)."""
        rect = self.region_rect(area_type, region_type)
        if xs is None:
            right = rect.x + rect.width
            xs = [rect.center[0], right - 24, right - 44]
        ys = list(range(rect.y + step // 2, rect.y + rect.height, step))
        if bottom_up:
            ys.reverse()
        for y in ys:
            for x in xs:
                self.move(x, y)
                hit = self.button_under_mouse(area_type, region_type)
                if hit and hit.get("operator") == operator and command in (None, hit.get("command")):
                    return x, y
        raise LookupError(f"no button for {operator} in {area_type}/{region_type} at columns {list(xs)}")

    # --- Blender's output ------------------------------------------------------------------------

    def log_text(self) -> str:
        if self._log is not None:
            self._log.flush()
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def python_errors(self) -> list[str]:
        """Python tracebacks (and Blender's one-line Python errors) printed by Blender so far."""
        return python_errors(self.log_text())


def blender_headless(
    args: Sequence[str], work: Path, binds: Iterable[Path] = (), timeout: float = 300.0
) -> subprocess.CompletedProcess[str]:
    """Run the chroot's `blender` without a window (`-b` is added), e.g. the README's headless
    submit command: `blender_headless(["--online-mode", blend, "--python-expr", code], work)`.
    `work` (its user folders, temporary files) and `binds` are bind-mounted at the same paths."""
    root = chroot.ensure()
    work = work.resolve()
    for d in ("home", "tmp"):
        (work / d).mkdir(parents=True, exist_ok=True)
    env = {
        "HOME": str(work / "home"),
        "BLENDER_USER_RESOURCES": str(work / "blender-user"),
        "TMPDIR": str(work / "tmp"),
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, str(HERE / "chroot_run.py"), str(root), "--bind", str(work)]
    for b in binds:
        cmd += ["--bind", str(Path(b).resolve())]
    for k, v in env.items():
        cmd += ["--env", f"{k}={v}"]
    cmd += ["--cwd", str(work), "--", "blender", "-b", *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, start_new_session=True, preexec_fn=die_with_parent
    )


def python_errors(log: str) -> list[str]:
    found = []
    lines = log.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if TRACEBACK in line:
            block = [line]
            i += 1
            # The frames are indented; the first unindented line is the exception itself.
            while i < len(lines) and (lines[i].startswith(" ") or not block[-1].strip() or lines[i].startswith("\t")):
                block.append(lines[i])
                i += 1
            if i < len(lines):
                block.append(lines[i])
            found.append("\n".join(block))
        elif re.match(r"^(Error: )?Python: ", line) or line.startswith("Error: Python"):
            found.append(line)
        i += 1
    return found
