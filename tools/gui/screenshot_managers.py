"""The README's screenshots of several Managers, from a real Blender window and two real farms.

    .venv/bpy-5.0.1/bin/python tools/gui/screenshot_managers.py [--out docs/screenshots] [--keep DIR]

Starts two real farms, "Studio" (Flamenco 3.8.5) and "Second" (3.6), each with its Manager and
Worker, and Debian's Blender 4.3 in the GUI chroot (as tools/gui/screenshots.py); sets up two
Manager profiles, submits a job to each through the submit panel's Manager menu, pauses the one
on Second, and saves:

    managers-preferences.png  the add-on's preferences with the two profiles
    managers-submit.png       the sidebar's Submit panel: its Manager menu
    managers-job-list.png     the sidebar's job list: each job with its Manager

Runs as root, like the GUI tests (chroot, bind mounts).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (ROOT, ROOT / "tools"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import build_extension  # noqa: E402
from local_farm import Farm, wait_until  # noqa: E402
from tools.gui import desk  # noqa: E402
from tools.gui.screenshots import SCREEN, cli, log, no_python_errors, save, submit  # noqa: E402
from tools.gui.session import GuiSession  # noqa: E402
from tools.gui.xscreen import Rect  # noqa: E402

SUBMIT_TOP_ROWS = 120  # pixels
PREFS = "C.preferences.addons[desk.__name__].preferences"


def profiles(gui: GuiSession, studio: Farm, second: Farm) -> None:
    """The old single URL (Studio) becomes the first profile on the timer's next tick; then a
    second profile, as the preferences' Add Manager button makes."""
    desk.connect(gui, studio.url)
    gui.wait_until(desk.DESK + f"result = len({PREFS}.managers) == 1")
    gui.exec(desk.DESK + f"""
p = {PREFS}
p.managers[0].name = "Studio"
bpy.ops.flamenco_desk.add_manager()
p.managers[1].name, p.managers[1].url = "Second", {second.url!r}
p.managers[1].default_job_type = "echo-sleep-test"
""")


def pick(gui: GuiSession, index: int, url: str) -> None:
    """What the submit panel's Manager menu does; waits for that Manager's job types."""
    gui.exec(desk.DESK + f"{PREFS}.active_manager_ui = {str(index)!r}")
    gui.wait_until(desk.DESK + f"info = desk.state.info()\nresult = info is not None and info.url == {url!r}",
                   timeout=60)


def echo(gui: GuiSession, name: str) -> str:
    desk.select_job_type(gui, "echo-sleep-test", message="two managers", sleep_duration_seconds=5, sleep_repeats=30)
    return submit(gui, name, (1, 4))


def preferences(gui: GuiSession, out: Path) -> None:
    gui.exec(desk.DESK + """
area = next(a for a in C.window.screen.areas if a.type == "VIEW_3D")
area.ui_type = "PREFERENCES"
C.preferences.active_section = "ADDONS"
C.window_manager.addon_search = "Flamenco"
bpy.ops.preferences.addon_expand(module=desk.__name__)
""")
    desk.park_pointer(gui)
    gui.redraw()
    save(gui.screenshot("managers-preferences", gui.region_rect("PREFERENCES")), out / "managers-preferences.png",
         trim=True)
    gui.exec("next(a for a in C.window.screen.areas if a.type == 'PREFERENCES').ui_type = 'VIEW_3D'")
    gui.redraw()


def submit_panel(gui: GuiSession, out: Path) -> None:
    """The Submit panel's first rows: the Manager menu, then the connection line."""
    desk.show_sidebar(gui)
    desk.park_pointer(gui)
    gui.redraw()
    sidebar = gui.region_rect("VIEW_3D", "UI")
    # The header, the Manager menu and the connection line (rows of Blender's default UI scale).
    save(gui.screenshot("managers-submit", Rect(sidebar.x, sidebar.y, sidebar.width, SUBMIT_TOP_ROWS)),
         out / "managers-submit.png")


def job_list(gui: GuiSession, out: Path) -> None:
    desk.show_sidebar(gui)
    desk.click_sidebar_panel_header(gui)  # the Submit panel closed: room for the job list
    desk.park_pointer(gui)
    gui.redraw()
    sidebar = gui.region_rect("VIEW_3D", "UI")
    rows = [
        y for _x, y, hit in gui.scan_buttons("VIEW_3D", "UI", columns=(0.25,), step=8,
                                             stop=desk.is_operator("flamenco_desk.job_action"))
        if hit.get("operator") == "flamenco_desk.open_job"
    ]  # fmt: skip
    desk.park_pointer(gui)
    gui.redraw()
    bottom = min(sidebar.y + sidebar.height, max(rows) + 70)  # the progress bar and the Manager's line
    save(gui.screenshot("managers-job-list", Rect(sidebar.x, sidebar.y, sidebar.width, bottom - sidebar.y)),
         out / "managers-job-list.png")


def run(out: Path, work: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    zip_path = build_extension.build(work / "dist")
    with Farm(work / "studio", "3.8.5", name="Studio Farm") as studio, \
            Farm(work / "second", "3.6", name="Second Farm") as second:
        binds = [zip_path.parent, studio.root, second.root]
        with GuiSession(work / "gui", work / "raw", binds=binds, size=SCREEN) as gui:
            installed = gui.install_extension(zip_path)
            assert installed["result"] == ["FINISHED"], installed
            profiles(gui, studio, second)
            desk.save_shot(gui, gui.work / "sq010" / "sq010_sh0040_lighting.blend")
            pick(gui, 1, second.url)
            on_second = echo(gui, "sq010_sh0040_second")
            pick(gui, 0, studio.url)
            echo(gui, "sq010_sh0040_studio")
            gui.exec(f"bpy.ops.flamenco_desk.job_action(job_id={on_second!r}, action='pause')")
            wait_until(lambda: second.job(on_second)["status"] == "paused", timeout=60, what="the job on Second paused")
            gui.wait_until(desk.DESK + f"""
w = desk.manager_watches.watches.get({second.url!r})
result = w is not None and {on_second!r} in w.monitor.jobs and w.monitor.jobs[{on_second!r}].status == 'paused'
""", timeout=60)
            log("a job on each Manager; the one on Second paused")
            preferences(gui, out)
            submit_panel(gui, out)
            job_list(gui, out)
            no_python_errors(gui)


def main(argv: list[str]) -> int:
    return cli(run, argv, __doc__ or "")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
