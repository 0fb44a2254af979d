"""A `blender` for a Flamenco Worker, built on the bpy module from PyPI.

Accepts the arguments Flamenco's `blender-render` command passes:
    blender_for_worker.py [-b] [-y] FILE.blend [--scene S] [--python-expr E]...
        [--render-output PATTERN] [--render-format FMT] [--render-frame a..b[,c..d]]
renders those frames with Cycles on the CPU at a tiny size and 1 sample, and prints the
`Time:` and `Saved: '<path>'` lines the Worker reads for progress and last-rendered images.

Run it with a Python that has bpy (e.g. .venv/bpy-5.0.1/bin/python).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

TINY = (64, 36)


def frames_of(spec: str) -> list[int]:
    frames: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(-?\d+)(?:\s*(?:\.\.|-)\s*(-?\d+))?", part)
        if not match:
            raise SystemExit(f"blender: bad --render-frame {spec!r}")
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else start
        frames.extend(range(start, end + 1))
    return frames


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="blender", add_help=False)
    parser.add_argument("-b", "--background", action="store_true")
    parser.add_argument("-y", "--enable-autoexec", action="store_true")
    parser.add_argument("--factory-startup", action="store_true")
    parser.add_argument("--scene", "-S")
    parser.add_argument("--python-expr", action="append", default=[])
    parser.add_argument("--python-exit-code", type=int)
    parser.add_argument("--render-output", "-o")
    parser.add_argument("--render-format", "-F")
    parser.add_argument("--render-frame", "-f")
    parser.add_argument("blendfile")
    args, _unknown = parser.parse_known_args(argv)
    return args


def render(args: argparse.Namespace) -> list[Path]:
    import bpy

    bpy.ops.wm.open_mainfile(filepath=args.blendfile)
    scene = bpy.data.scenes[args.scene] if args.scene else bpy.context.scene
    if bpy.context.window is not None:
        bpy.context.window.scene = scene
    for expr in args.python_expr:
        exec(compile(expr, "<python-expr>", "exec"), {"bpy": bpy})  # the job's own script, as Blender does
    render_settings = scene.render
    render_settings.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 1
    render_settings.resolution_x, render_settings.resolution_y = TINY
    render_settings.resolution_percentage = 100
    if args.render_format:
        render_settings.image_settings.file_format = args.render_format
    if args.render_output:
        render_settings.filepath = args.render_output
    saved: list[Path] = []
    for frame in frames_of(args.render_frame or str(scene.frame_current)):
        start = time.monotonic()
        scene.frame_set(frame)
        out = Path(bpy.path.abspath(render_settings.frame_path(frame=frame)))
        out.parent.mkdir(parents=True, exist_ok=True)
        render_settings.filepath = args.render_output or render_settings.filepath
        bpy.ops.render.render(write_still=False)
        bpy.data.images["Render Result"].save_render(filepath=str(out), scene=scene)
        took = time.monotonic() - start
        print(f"Fra:{frame} Mem:1M | Time:{int(took // 60):02d}:{took % 60:05.2f} | Rendered", flush=True)
        print(f"Saved: '{out}'", flush=True)
        print(f"Time: {int(took // 60):02d}:{took % 60:05.2f} (Saving: 00:00.01)", flush=True)
        saved.append(out)
    return saved


def main(argv: list[str]) -> int:
    args = parse(argv)
    try:
        render(args)
    except Exception as ex:  # noqa: BLE001 - a worker reads the exit code
        print(f"Error: {ex}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
