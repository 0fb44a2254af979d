"""Flamenco Desk in a GuiSession: the steps the GUI tests and the README screenshots share.

Everything here acts on a real Blender window through `GuiSession` (Python steps in Blender's
main loop, real pointer input from the host). Reading what the add-on shows goes through
`ui_text`: the add-on's own draw functions, drawn into a recording layout inside Blender, so
the answer is exactly what Blender would lay out now.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from .session import GuiSession
from .xscreen import Rect

MODULE = "bl_ext.user_default.flamenco_desk"
PREFS = f"addons[{MODULE!r}].preferences"

# Python run in Blender: `desk` is the installed add-on's package.
DESK = f"import sys\ndesk = sys.modules[{MODULE!r}]\n"


def connect(gui: GuiSession, url: str, timeout: float = 60.0) -> str:
    """Set the Manager URL in the add-on's preferences and fetch the Manager's info (job types),
    as the refresh button does; returns the connection line."""
    gui.step("set_preference", path=f"{PREFS}.manager_url", value=url)
    gui.exec(DESK + "bpy.ops.flamenco_desk.refresh_manager()")
    info = gui.wait_until(DESK + "result = desk.state.info() is not None", timeout=timeout)
    assert info
    line = gui.exec(DESK + "line = desk.state.connection_line()\nresult = line.text if line else ''")
    return str(line)


def save_shot(gui: GuiSession, path: Path, frames: tuple[int, int] = (1, 4), resolution_percentage: int = 10) -> Path:
    """Save the open file (the default scene: cube, light, camera) as the artist's shot, quick
    to render on the Worker's real Blender: Cycles on the CPU, 4 samples, no denoising (EEVEE
    on a software GL takes 12-30 s a frame; Debian's Blender 4.3 cannot denoise)."""
    gui.exec(
        f"""
scene = C.scene
scene.frame_start, scene.frame_end = {frames[0]}, {frames[1]}
scene.render.resolution_percentage = {resolution_percentage}
scene.render.engine = "CYCLES"
scene.cycles.device, scene.cycles.samples, scene.cycles.use_denoising = "CPU", 4, False
import os
os.makedirs({str(path.parent)!r}, exist_ok=True)
bpy.ops.wm.save_as_mainfile(filepath={str(path)!r})
result = bpy.data.filepath
"""
    )
    return path


def select_job_type(gui: GuiSession, name: str, **settings: Any) -> list[dict[str, Any]]:
    """Pick a job type in the scene (as the Job Type menu does) and set some of its settings;
    returns the settings the panel shows: key, label, property identifier, for settings with a
    link toggle the toggle's identifier, whether it is editable and its value now."""
    return list(
        gui.exec(
            DESK
            + f"""
registry = desk.jobtypes.registry
desk.props.scene_props(C.scene).job_type = {name!r}
grp = registry.group(C.scene)
assert registry.job_type().name == {name!r}
for key, value in {settings!r}.items():
    setattr(grp, desk.jobtypes.setting_props.identifier(key), value)
result = []
for s in registry.job_type().settings:
    if registry.is_shown(s):
        ident, link = registry.identifiers(s)
        result.append({{"key": s.key, "label": desk.jobtypes.setting_props.label(s), "property": ident,
                       "link": link if registry.has_link(s) else None, "editable": s.editable is not False,
                       "value": getattr(grp, ident, None)}})
"""
        )
    )


def ui_text(gui: GuiSession, cls_name: str) -> list[dict[str, Any]]:
    """What the add-on's draw functions of a panel or header class would show now (see
    driver.op_ui_text)."""
    value: list[dict[str, Any]] = gui.step("ui_text", cls_name=cls_name, module_prefix=MODULE)
    return value


def texts(records: list[dict[str, Any]]) -> list[str]:
    return [str(r.get("text") or "") for r in records if r.get("text")]


def statusbar_text(gui: GuiSession) -> str:
    """The add-on's status-bar indicator as text ("" when it shows nothing)."""
    return "  ".join(texts(ui_text(gui, "STATUSBAR_HT_header")))


def statusbar_rect(gui: GuiSession) -> Rect:
    """The status bar's screen rectangle: the strip under the screen's areas (Blender keeps it
    out of `screen.areas`; it is a global area of the window)."""
    assert gui.screen is not None
    geo = gui.geometry()
    window = geo["windows"][0]
    bottom = min(a["y"] for a in window["areas"])
    origin = gui.screen.window_rect()
    return Rect(origin.x, origin.y + window["height"] - bottom, window["width"], bottom)


def park_pointer(gui: GuiSession) -> tuple[int, int]:
    """Move the pointer where it shows no tooltip and changes nothing: the empty lower part
    of the Outliner. Returns the point."""
    rect = gui.region_rect("OUTLINER")
    point = (rect.x + rect.width // 2, rect.y + rect.height - 12)
    gui.move(*point)
    return point


def show_output_panel(gui: GuiSession) -> Rect:
    """Output Properties, scrolled to the bottom where the add-on's panel is; its region."""
    gui.step("properties_context", context="OUTPUT")
    gui.step("scroll", area_type="PROPERTIES")
    gui.redraw()
    return gui.region_rect("PROPERTIES")


def show_sidebar(gui: GuiSession) -> Rect:
    """The 3D Viewport's sidebar on the tab "Flamenco" (at its default width); its region."""
    gui.show_sidebar_tab("Flamenco")
    gui.redraw()
    return gui.region_rect("VIEW_3D", "UI")


def file_job_ids(gui: GuiSession) -> list[str]:
    return list(gui.exec(DESK + "result = [r.job_id for r in desk.props.scene_props(C.scene).jobs]"))


def open_job_state(gui: GuiSession) -> Optional[dict[str, Any]]:
    """The monitor's view of the open job (None when none is open)."""
    value: Optional[dict[str, Any]] = gui.exec(
        DESK
        + """
mon = desk.watching.monitor
job = mon.open_job
result = None if job is None else {
    "id": job.id, "status": job.status, "progress": mon.progress(job),
    "thumbnail": str(mon.thumbnail) if mon.thumbnail else None,
    "icon": desk.watching.thumbnail_icon(),
}
"""
    )
    return value


def farm_job_of(farm_jobs: list[dict[str, Any]], blend: Path) -> Optional[dict[str, Any]]:
    """The job the add-on submitted for this .blend (it records the artist's file in the job's
    metadata), from a Manager's `GET /api/v3/jobs` list."""
    for job in farm_jobs:
        if job.get("metadata", {}).get("blendfile") == str(blend):
            return job
    return None


def click_sidebar_panel_header(gui: GuiSession, index_from_top: int = 0) -> None:
    """Click the header of the sidebar's first panel (open/close it), as an artist does to
    make room; the sidebar must not be scrolled."""
    rect = gui.region_rect("VIEW_3D", "UI")
    assert index_from_top == 0, "only the first header has a fixed place"
    gui.click(rect.x + 60, rect.y + 14)


def find_in_sidebar(gui: GuiSession, match: Callable[[dict[str, Any]], bool], columns: tuple[float, ...] = (0.25, 0.6)) -> tuple[int, int]:
    """Screen point of the first sidebar button for which `match(hit)` holds."""
    hits = gui.scan_buttons("VIEW_3D", "UI", columns=columns, stop=match)
    if not hits or not match(hits[-1][2]):
        # A picture of what was there instead, kept with the test's artifacts.
        gui.screenshot("sidebar-button-not-found", gui.region_rect("VIEW_3D", "UI"))
        raise LookupError(f"no such button in the sidebar; seen: {[h for _x, _y, h in hits]}")
    x, y, _hit = hits[-1]
    return x, y


def is_operator(name: str, contains: str = "") -> Callable[[dict[str, Any]], bool]:
    return lambda hit: hit.get("operator") == name and contains in (hit.get("command") or "")
