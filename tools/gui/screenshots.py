"""Regenerate the README's screenshots from a real Blender window, a real farm and real jobs.

    .venv/bpy-5.0.1/bin/python tools/gui/screenshots.py [--out docs/screenshots] [--keep DIR]

Starts the real Flamenco Manager and Worker (tools/local_farm.py), Debian's Blender 4.3 in the GUI
chroot at its default layout (editors at their default widths, on a 1600x1350 screen), installs the extension from a freshly built zip, and
saves, each cropped to its editor and quantized to keep the files small:

    output-properties.png  Output Properties, the add-on's panel with a studio job type chosen
    preferences.png        the add-on's preferences after "Test Connection"
    sidebar-rendering.png  the sidebar's Jobs and Job panels while a job renders, last frame shown
    job-list.png           the sidebar's job list: a finished, a paused and a rendering job

Runs as root, like the GUI tests (chroot, bind mounts). Takes about two minutes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (ROOT, ROOT / "tools"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import build_extension  # noqa: E402
from local_farm import Farm, wait_until  # noqa: E402
from tools.gui import desk  # noqa: E402
from tools.gui.session import GuiSession  # noqa: E402
from tools.gui.xscreen import CONVERT, Rect  # noqa: E402

# The default layout on a taller screen: the editors keep their default widths, and Output
# Properties is tall enough for the whole panel of a studio job type.
SCREEN = (1600, 1350)
SHOT = "sq010_sh0040_lighting.blend"  # sequence and shot come from the name (studio layout)
JOB_TYPE = "talkingheads-studio-layout"
COLORS = 128  # enough for Blender's anti-aliased UI text


def log(message: str) -> None:
    print(f"screenshots: {message}", flush=True)


def save(raw: Path, out: Path, trim: bool = False) -> Path:
    """A small PNG: metadata stripped (no time stamps: unchanged pictures stay byte-equal),
    palette of COLORS colours. `trim` cuts away the editor's empty background around the content
    (after shaving off the editor's rounded border) and leaves a margin of that background."""
    args = [CONVERT, str(raw)]
    if trim:
        shaved = [*args, "-shave", "6x6"]
        background = subprocess.run([*shaved, "-format", "%[pixel:p{0,0}]", "info:"], check=True,
                                    capture_output=True, text=True).stdout.strip()  # fmt: skip
        args = [*shaved, "-fuzz", "2%", "-trim", "+repage", "-bordercolor", background, "-border", "10"]
    subprocess.run([*args, "-strip", "-dither", "None", "-colors", str(COLORS), f"PNG8:{out}"], check=True)
    log(f"{out} ({out.stat().st_size // 1024} KiB)")
    return out


def submit(gui: GuiSession, job_name: str, frames: tuple[int, int], paused: bool = False) -> str:
    """Submit the open file as the artist would with the button (the operator, asynchronously)."""
    gui.exec(
        desk.DESK
        + f"""
sp = desk.props.scene_props(C.scene)
sp.job_name, sp.submit_paused = {job_name!r}, {paused!r}
C.scene.frame_start, C.scene.frame_end = {frames[0]}, {frames[1]}
desk.submitting.last_outcome = None
bpy.ops.flamenco_desk.submit_job()
"""
    )
    outcome = gui.wait_until(
        desk.DESK + "o = desk.submitting.last_outcome\nresult = o and {'ok': o.ok, 'message': o.message, 'id': o.job_id}",
        timeout=60,
    )
    if not outcome["ok"]:
        raise RuntimeError(f"submitting {job_name} failed: {outcome['message']}")
    return str(outcome["id"])


def output_panel(gui: GuiSession, out: Path, raw: Path) -> None:
    desk.show_output_panel(gui)
    editor = gui.region_rect("PROPERTIES")
    nav = gui.region_rect("PROPERTIES", "NAVIGATION_BAR")
    # The panel's first row (connection, with its refresh button at the row's end), found with
    # the pointer; the panel's header is just above it.
    hits = gui.scan_buttons("PROPERTIES", columns=(1 - 29 / editor.width,), step=8, bottom_up=True,
                            stop=desk.is_operator("flamenco_desk.refresh_manager"))  # fmt: skip
    found = [y for _x, y, hit in hits if hit.get("operator") == "flamenco_desk.refresh_manager"]
    top = max(editor.y, found[0] - 60) if found else editor.y  # else: the panel is taller than the editor
    desk.park_pointer(gui)
    gui.redraw()
    shot = gui.screenshot("output-properties", Rect(nav.x, top, nav.width + editor.width, editor.y + editor.height - top))
    save(shot, out / "output-properties.png")


def preferences(gui: GuiSession, out: Path) -> None:
    """The add-on's preferences in a Preferences editor (the 3D Viewport's area, switched as a
    user can with the editor-type menu), Add-ons section, filtered and expanded."""
    gui.exec(
        desk.DESK
        + """
area = next(a for a in C.window.screen.areas if a.type == "VIEW_3D")
area.ui_type = "PREFERENCES"
C.preferences.active_section = "ADDONS"
C.window_manager.addon_search = "Flamenco"
bpy.ops.preferences.addon_expand(module=desk.__name__)
bpy.ops.flamenco_desk.test_connection()
"""
    )
    gui.wait_until(desk.DESK + "line = desk.state.connection_line()\nresult = line and line.text.startswith('Connected')")
    desk.park_pointer(gui)
    gui.redraw()
    shot = gui.screenshot("preferences", gui.region_rect("PREFERENCES"))
    save(shot, out / "preferences.png", trim=True)
    gui.exec("next(a for a in C.window.screen.areas if a.type == 'PREFERENCES').ui_type = 'VIEW_3D'")
    gui.redraw()


def job_state(gui: GuiSession) -> Optional[dict[str, Any]]:
    return desk.open_job_state(gui)


def sidebar_and_job_list(gui: GuiSession, farm: Farm, out: Path) -> None:
    # A finished job and a paused one first, so the list has more than the rendering job.
    done = submit(gui, "sq010_sh0030_anim", (1, 2))
    farm.wait_for_job(done)
    log("first job completed")
    submit(gui, "sq020_sh0010_fx", (1, 3), paused=True)
    rendering = submit(gui, "", (1, 8))  # the job name from the file name
    kick = threading.Thread(target=farm.kick_worker, daemon=True)
    kick.start()
    desk.show_sidebar(gui)
    gui.exec(f"bpy.ops.flamenco_desk.open_job(job_id={rendering!r})")
    # While it renders, after a few frames: progress, tasks and the last frame to show.
    wait_until(
        lambda: (s := job_state(gui)) and s["status"] == "active" and s["icon"] and s["progress"] >= 0.3,
        timeout=240, what="the job rendering, with a last-rendered frame",
    )  # fmt: skip
    kick.join(60)
    # Room for the Jobs and Job panels: the Submit panel closed with a click on its header.
    desk.click_sidebar_panel_header(gui)
    desk.park_pointer(gui)
    gui.redraw()
    sidebar = gui.region_rect("VIEW_3D", "UI")
    # Down to a few task rows below the thumbnail (its button found with the pointer).
    view = desk.find_in_sidebar(gui, desk.is_operator("flamenco_desk.view_last_rendered"), columns=(0.5,))
    desk.park_pointer(gui)
    gui.redraw()
    height = min(sidebar.height, view[1] + 240 - sidebar.y)
    shot = gui.screenshot("sidebar-rendering", Rect(sidebar.x, sidebar.y, sidebar.width, height))
    save(shot, out / "sidebar-rendering.png")

    # The job list: from the sidebar's top to below the last job's rows (its button found with
    # the pointer; a job's progress bar is on the row under its name).
    rows = [
        y for _x, y, hit in gui.scan_buttons("VIEW_3D", "UI", columns=(0.25,), step=8,
                                             stop=desk.is_operator("flamenco_desk.job_action"))
        if hit.get("operator") == "flamenco_desk.open_job"
    ]  # fmt: skip
    desk.park_pointer(gui)
    gui.redraw()
    bottom = max(rows) + 42
    shot = gui.screenshot("job-list", Rect(sidebar.x, sidebar.y, sidebar.width, bottom - sidebar.y))
    save(shot, out / "job-list.png")


def run(out: Path, work: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    zip_path = build_extension.build(work / "dist")
    log(f"extension {zip_path.name}; starting the farm")
    with Farm(work / "farm", name="Studio Farm") as farm:
        with GuiSession(work / "gui", work / "raw", binds=[zip_path.parent, farm.root], size=SCREEN) as gui:
            installed = gui.install_extension(zip_path)
            assert installed["result"] == ["FINISHED"], installed
            log(desk.connect(gui, farm.url))
            desk.save_shot(gui, gui.work / "sq010" / SHOT, frames=(1, 8))
            desk.select_job_type(gui, JOB_TYPE, user="ana")
            output_panel(gui, out, work / "raw")
            preferences(gui, out)
            sidebar_and_job_list(gui, farm, out)
            no_python_errors(gui)


def no_python_errors(gui: GuiSession) -> None:
    """A picture of a panel that raised is no picture of the add-on: fail instead."""
    errors = gui.python_errors()
    if errors:
        raise RuntimeError("Python errors in Blender's output:\n" + "\n".join(errors))


def cli(run: Callable[[Path, Path], None], argv: list[str], doc: str) -> int:
    """The screenshot scripts' command line: `run(out, work)` in a scratch folder, or in
    --keep's folder (emptied first) to look at the farm, Blender's log and the raw pictures."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--keep", type=Path, help="keep the farm, Blender's log and the raw screenshots here")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        run(args.out.resolve(), args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="flamenco-desk-screenshots-") as tmp:
            run(args.out.resolve(), Path(tmp))
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


def main(argv: list[str]) -> int:
    return cli(run, argv, __doc__ or "")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
