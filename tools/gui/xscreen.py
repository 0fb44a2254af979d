"""The host's side of the window: an Xvfb server, screenshots with ImageMagick, input with xdotool.

Screenshots are taken from the X server (`import -window root`): Blender's own screenshot
operator gives black images under Xvfb. Coordinates are screen pixels, origin top left.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Optional

# Absolute paths: a `convert` earlier on PATH may not be ImageMagick's.
IMPORT = "/usr/bin/import"
CONVERT = "/usr/bin/convert"
XDOTOOL = "/usr/bin/xdotool"
XVFB = "/usr/bin/Xvfb"


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For Popen(preexec_fn=...): the child gets SIGKILL when the process that started it dies,
    even by SIGKILL, so no X server or Blender outlives a killed test run."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2

    def geometry(self) -> str:
        """ImageMagick's WxH+X+Y."""
        return f"{self.width}x{self.height}+{self.x}+{self.y}"

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


class Xvfb:
    """A virtual X server on a free display (Xvfb picks it: -displayfd), for one session."""

    def __init__(self, width: int, height: int, log: Path) -> None:
        self.size = f"{width}x{height}x24"
        self.log_path = log
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.display = ""
        self._log: Optional[IO[bytes]] = None

    def start(self, timeout: float = 20.0) -> str:
        read_fd, write_fd = os.pipe()
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [XVFB, "-displayfd", str(write_fd), "-screen", "0", self.size, "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_fd,),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        os.close(write_fd)
        number = b""
        deadline = time.monotonic() + timeout
        try:
            while not number.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError(f"Xvfb did not start (see {self.log_path})")
                ready, _, _ = select.select([read_fd], [], [], left)
                if ready:
                    chunk = os.read(read_fd, 16)
                    if not chunk:
                        raise RuntimeError(f"Xvfb did not start (see {self.log_path})")
                    number += chunk
        finally:
            os.close(read_fd)
        self.display = ":" + number.decode().strip()
        return self.display

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


class Screen:
    """Screenshots and input on one X display."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.env = dict(os.environ, DISPLAY=display)

    def _run(self, *cmd: str) -> str:
        return subprocess.run(cmd, env=self.env, check=True, capture_output=True, text=True, timeout=30).stdout

    def screenshot(self, path: Path, rect: Optional[Rect] = None) -> Path:
        """The whole screen, or the part of it in `rect`, as a PNG."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if rect is None:
            self._run(IMPORT, "-window", "root", str(path))
        else:
            self._run(IMPORT, "-window", "root", "-crop", rect.geometry(), "+repage", str(path))
        return path

    def window_rect(self, name: str = "Blender") -> Rect:
        """Where the (first visible) window whose title contains `name` is on the screen."""
        wid = self._run(XDOTOOL, "search", "--onlyvisible", "--name", name).split()[0]
        values = dict(
            line.split("=", 1) for line in self._run(XDOTOOL, "getwindowgeometry", "--shell", wid).splitlines() if "=" in line
        )
        return Rect(int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"]))

    def move(self, x: int, y: int) -> None:
        # No --sync: it waits for a motion that never comes when the pointer is already there.
        # The X server queues the motion for Blender before xdotool returns.
        self._run(XDOTOOL, "mousemove", str(x), str(y))

    def click(self, x: int, y: int, button: int = 1) -> None:
        """Real input: the X server sends Blender motion, press and release events."""
        self._run(XDOTOOL, "mousemove", str(x), str(y), "click", str(button))

    def ctrl_wheel(self, x: int, y: int, down: bool = True) -> None:
        """Ctrl + one wheel step (X buttons 4 up, 5 down): e.g. the next sidebar tab."""
        self._run(XDOTOOL, "mousemove", str(x), str(y), "keydown", "ctrl", "click", "5" if down else "4", "keyup", "ctrl")

    def key(self, *keys: str) -> None:
        self._run(XDOTOOL, "key", *keys)

    def type_text(self, text: str) -> None:
        self._run(XDOTOOL, "type", "--delay", "20", text)


def crop(src: Path, rect: Rect, dst: Path) -> Path:
    subprocess.run([CONVERT, str(src), "-crop", rect.geometry(), "+repage", str(dst)], check=True)
    return dst


def pixel_digest(png: Path, rect: Optional[Rect] = None) -> str:
    """A digest of an image's pixels (PNG files of equal pixels differ in their time stamps)."""
    args = [CONVERT, str(png)]
    if rect is not None:
        args += ["-crop", rect.geometry(), "+repage"]
    data = subprocess.run([*args, "-depth", "8", "rgb:-"], check=True, capture_output=True).stdout
    return hashlib.sha1(data).hexdigest()


def rgb_pixels(png: Path, rect: Optional[Rect] = None) -> tuple[int, int, bytes]:
    """Width, height and 8-bit RGB bytes of a PNG (or a part of it)."""
    args = [CONVERT, str(png)]
    if rect is not None:
        args += ["-crop", rect.geometry(), "+repage"]
    size = subprocess.run([*args, "-format", "%w %h", "info:"], check=True, capture_output=True, text=True).stdout.split()
    data = subprocess.run([*args, "-depth", "8", "rgb:-"], check=True, capture_output=True).stdout
    return int(size[0]), int(size[1]), data


@dataclass(frozen=True)
class PixelStats:
    mean: float  # of all channels, 0..255
    stddev: float
    colors: int  # distinct RGB colours


def pixel_stats(png: Path, rect: Optional[Rect] = None) -> PixelStats:
    """How much is drawn in an image: a blank region has stddev ~0 and one or two colours."""
    _w, _h, data = rgb_pixels(png, rect)
    n = len(data)
    if n == 0:
        return PixelStats(0.0, 0.0, 0)
    total = sum(data)
    mean = total / n
    var = sum(v * v for v in data) / n - mean * mean
    colors = len({data[i : i + 3] for i in range(0, n - 2, 3)})
    return PixelStats(mean, max(var, 0.0) ** 0.5, colors)
