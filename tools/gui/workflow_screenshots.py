"""The README's picture of batches and scout frames, from a real Blender window, a real farm and
real jobs (its own script: tools/gui/screenshots.py makes the others).

    .venv/bpy-5.0.1/bin/python tools/gui/workflow_screenshots.py [--out docs/screenshots] [--keep DIR]

Saves `workflow-sidebar.png`: the sidebar's job list with a batch of three camera jobs as one
group and a scout pair, and the Job panel of the paused full job with Approve / Reject.
Runs as root, like the GUI tests.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (ROOT, ROOT / "tools"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import build_extension  # noqa: E402
from local_farm import Farm  # noqa: E402
from tools.gui.screenshots import SCREEN, cli, log, no_python_errors, save  # noqa: E402
from tools.gui import desk  # noqa: E402
from tools.gui.session import GuiSession  # noqa: E402
from tools.gui.xscreen import Rect  # noqa: E402

# Three cameras bound to markers at frames 1, 9 and 17 of a 24-frame shot.
CAMERAS = """
scene = C.scene
for i, (name, frame) in enumerate((("CamWide", 1), ("CamClose", 9), ("CamOver", 17))):
    cam = bpy.data.objects.new(name, bpy.data.cameras.new(name))
    cam.location = (7 - 3 * i, -7, 5)
    cam.rotation_euler = (1.1, 0, 0.8 - 0.4 * i)
    scene.collection.objects.link(cam)
    scene.timeline_markers.new("M_" + name, frame=frame).camera = cam
bpy.ops.wm.save_mainfile()
result = True
"""


def submit(gui: GuiSession, **kwargs: object) -> list[str]:
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    gui.exec(desk.DESK + f"desk.submitting.last_outcome = None\nbpy.ops.flamenco_desk.submit_job({args})")
    outcome = gui.wait_until(
        desk.DESK + "o = desk.submitting.last_outcome\nresult = o and {'ok': o.ok, 'message': o.message, 'id': o.job_id}",
        timeout=60,
    )
    if not outcome["ok"]:
        raise RuntimeError(f"submitting failed: {outcome['message']}")
    return str(outcome["id"]).split(",")


def run(out: Path, work: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    zip_path = build_extension.build(work / "dist")
    with Farm(work / "farm", name="Studio Farm") as farm:
        farm.stop_worker()  # nothing renders: the picture shows the jobs waiting
        with GuiSession(work / "gui", work / "raw", binds=[zip_path.parent, farm.root], size=SCREEN) as gui:
            installed = gui.install_extension(zip_path)
            assert installed["result"] == ["FINISHED"], installed
            log(desk.connect(gui, farm.url))
            desk.save_shot(gui, gui.work / "sq070" / "sq070_sh0010.blend", frames=(1, 24))
            gui.exec(CAMERAS)
            desk.select_job_type(gui, "simple-blender-render", render_output_root=str(farm.shared / "renders"))
            batch = submit(gui, batch="CAMERA_MARKERS")
            log(f"batch: {batch}")
            gui.exec(desk.DESK + "desk.props.scene_props(C.scene).job_name = 'sq070_sh0020'")
            scout_id, full_id = submit(gui, scout=True)
            desk.show_sidebar(gui)
            gui.exec(f"bpy.ops.flamenco_desk.open_job(job_id={full_id!r})")
            time.sleep(2.0)
            desk.click_sidebar_panel_header(gui)  # the Submit panel closed: room for the jobs
            desk.park_pointer(gui)
            gui.redraw()
            sidebar = gui.region_rect("VIEW_3D", "UI")
            reject = desk.find_in_sidebar(gui, desk.is_operator("flamenco_desk.scout_reject"), columns=(0.75,))
            desk.park_pointer(gui)
            gui.redraw()
            height = min(sidebar.height, reject[1] + 70 - sidebar.y)
            shot = gui.screenshot("workflow-sidebar", Rect(sidebar.x, sidebar.y, sidebar.width, height))
            save(shot, out / "workflow-sidebar.png")
            no_python_errors(gui)


def main(argv: list[str]) -> int:
    return cli(run, argv, __doc__ or "")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
