"""The README's screenshot of presets and templates, from a real Blender window.

    .venv/bpy-5.0.1/bin/python tools/gui/screenshot_workflow.py [--out docs/screenshots] [--keep DIR]

Like tools/gui/screenshots.py (same chroot's Blender 4.3, default layout, a real Manager):
a shot with talkingheads-cycles-device, a preset saved and loaded, a job-name template and an
output template whose {version} is found in a folder holding v001..v003. Saves
`presets-templates.png`, Output Properties from the add-on's panel down. Runs as root.
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
from local_farm import Farm  # noqa: E402
from tools.gui import desk  # noqa: E402
from tools.gui.screenshots import SCREEN, cli, log, no_python_errors, save  # noqa: E402
from tools.gui.session import GuiSession  # noqa: E402
from tools.gui.xscreen import Rect  # noqa: E402

SHOT = "sq030_sh0010_lighting.blend"
JOB_TYPE = "talkingheads-cycles-device"
PRESET = "CPU preview"


def run(out: Path, work: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    zip_path = build_extension.build(work / "dist")
    with Farm(work / "farm", name="Studio Farm") as farm:
        renders = farm.shared / "renders"
        for version in ("v001", "v002", "v003"):
            (renders / SHOT.removesuffix(".blend") / version).mkdir(parents=True)
        with GuiSession(work / "gui", work / "raw", binds=[zip_path.parent, farm.root], size=SCREEN) as gui:
            installed = gui.install_extension(zip_path)
            assert installed["result"] == ["FINISHED"], installed
            log(desk.connect(gui, farm.url))
            desk.save_shot(gui, gui.work / "sq030" / SHOT, frames=(1, 8))
            desk.select_job_type(gui, JOB_TYPE, device="CPU", samples=16)
            template = str(renders / "{file}" / "{version}" / "{scene}_{view_layer}_######")
            gui.exec(desk.DESK + f"""
sp = desk.props.scene_props(C.scene)
sp.job_name = "{{file}}_{{camera}}_{{version}}"
sp.output_template = {template!r}
bpy.ops.flamenco_desk.preset_save(name={PRESET!r})
""")
            gui.wait_until(desk.DESK + f"l = desk.job_presets.listing\nresult = bool(l and l.find({PRESET!r}))")
            gui.exec(desk.DESK + f"bpy.ops.flamenco_desk.preset_load(name={PRESET!r})")
            gui.wait_until(desk.DESK + "result = bool(desk.templating._versions)")
            desk.show_output_panel(gui)
            editor = gui.region_rect("PROPERTIES")
            nav = gui.region_rect("PROPERTIES", "NAVIGATION_BAR")
            hits = gui.scan_buttons("PROPERTIES", columns=(1 - 29 / editor.width,), step=8, bottom_up=True,
                                    stop=desk.is_operator("flamenco_desk.refresh_manager"))  # fmt: skip
            found = [y for _x, y, hit in hits if hit.get("operator") == "flamenco_desk.refresh_manager"]
            top = max(editor.y, found[0] - 60) if found else editor.y
            desk.park_pointer(gui)
            gui.redraw()
            shot = gui.screenshot("presets-templates",
                                  Rect(nav.x, top, nav.width + editor.width, editor.y + editor.height - top))
            save(shot, out / "presets-templates.png")
            no_python_errors(gui)


def main(argv: list[str]) -> int:
    return cli(run, argv, __doc__ or "")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
