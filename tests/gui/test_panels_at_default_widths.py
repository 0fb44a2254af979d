"""The add-on's panels in a real Blender window at Blender's default layout (factory start-up,
1600x900, no editor resized), connected to the real Manager: Output Properties and the 3D
Viewport sidebar's "Flamenco" tab, for the built-in simple-blender-render and both example job
types (manager_scripts/).

Each test keeps its screenshots in `.cache/gui-artifacts/<test>/`. Whether every setting is
there is checked the way an artist finds it: the pointer is moved down the editor and Blender says
which button it highlights; each setting the job type shows must have its field (or, while
linked to the scene, its link toggle) in the window at that width.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from gui_helpers import ROOT  # noqa: F401  (puts the repository root on sys.path)
from local_farm import Farm
from tools.gui import desk
from tools.gui.session import GuiSession
from tools.gui.xscreen import Rect, pixel_stats

JOB_TYPES = {
    "simple-blender-render": {},
    "talkingheads-cycles-device": {},
    "talkingheads-studio-layout": {},
}
PANELS = ["FLAMENCO_DESK_PT_output", "FLAMENCO_DESK_PT_sidebar"]
# Columns the pointer moves down: the fields (right of the labels), and two columns of pixels
# from the region's right edge where rows end in icon buttons (link toggles, file browser): the
# Properties editor's rows end ~20 px before its edge, the sidebar's ~40 px (its tab strip), and
# a decorator column would move them one icon further left.
FIELD = 0.7
ICONS_FROM_RIGHT = (29, 49)
STEP = 12  # px; rows are 20 px high


@pytest.fixture(scope="module")
def window(desk_gui: GuiSession, farm: Farm) -> dict[str, Any]:
    """The window as Blender lays it out by default, with the artist's shot open. Returns the
    default widths of the Properties editor and the sidebar, measured before any test."""
    gui = desk_gui
    desk.save_shot(gui, gui.work / "artist" / "sq010_sh020.blend")
    gui.step("probe_draws", idnames=PANELS)
    properties = gui.region_rect("PROPERTIES").width
    gui.step("sidebar", show=True)
    gui.redraw()
    sidebar = gui.region_rect("VIEW_3D", "UI").width
    return {"properties": properties, "sidebar": sidebar}


@pytest.fixture
def gui(desk_gui: GuiSession, artifacts: Path) -> Iterator[GuiSession]:
    desk_gui.use_artifacts(artifacts)
    yield desk_gui
    desk_gui.save_log()
    print(f"screenshots: {artifacts}")


def scan_panel(gui: GuiSession, area: str, region: str) -> list[dict[str, Any]]:
    """Every button the pointer finds in the add-on's panel (what button_under_mouse says).
    Output Properties (scrolled to the bottom, where the panel is) is scanned bottom-up to the
    Job Type menu, the sidebar top-down to the submit button. A row is done once a property's
    button is found in it."""
    rect = gui.region_rect(area, region)
    columns = (FIELD, *(1 - px / rect.width for px in ICONS_FROM_RIGHT))
    if area == "PROPERTIES":
        stop = lambda hit: hit.get("property") == "job_type_ui"  # noqa: E731
    else:
        stop = desk.is_operator("flamenco_desk.submit_job")
    hits = gui.scan_buttons(area, region, columns=columns, step=STEP, stop=stop, bottom_up=area == "PROPERTIES",
                            row_done=lambda hit: bool(hit.get("property")))  # fmt: skip
    return [hit for _x, _y, hit in hits]


def names(hits: list[dict[str, Any]]) -> set[str]:
    return {str(h.get("property") or h.get("operator")) for h in hits}


def missing_settings(shown: list[dict[str, Any]], hits: list[dict[str, Any]]) -> list[str]:
    """Settings without a button in the window: their field, their link toggle, or (read-only
    ones) a button that carries their value (its Python command names it)."""
    found = names(hits)
    commands = [h.get("command") or "" for h in hits]

    def present(s: dict[str, Any]) -> bool:
        if s["property"] in found or (s["link"] and s["link"] in found):
            return True
        return not s["editable"] and bool(s["value"]) and any(str(s["value"]) in c for c in commands)

    return [s["key"] for s in shown if not present(s)]


def test_output_panel_before_a_job_type_is_chosen(gui: GuiSession, window: dict[str, Any]) -> None:
    gui.exec(desk.DESK + "desk.props.scene_props(C.scene).job_type = ''")
    props = desk.show_output_panel(gui)
    gui.screenshot("output-properties-no-job-type", props)
    assert props.width == window["properties"]
    found = names(scan_panel(gui, "PROPERTIES", "WINDOW"))
    assert "job_type_ui" in found and "flamenco_desk.submit_job" in found, sorted(found)
    assert gui.python_errors() == []


def test_no_enum_warning_for_the_empty_job_type(gui: GuiSession, window: dict[str, Any]) -> None:
    gui.exec(desk.DESK + "desk.props.scene_props(C.scene).job_type = ''")
    desk.show_output_panel(gui)
    assert desk.ui_text(gui, "FLAMENCO_DESK_PT_output")  # drawn with nothing chosen
    assert "pyrna_enum_to_py" not in gui.log_text()


def show_job_type(gui: GuiSession, job_type: str, show: Callable[[GuiSession], Rect], picture: str
                  ) -> tuple[list[dict[str, Any]], Rect, Path]:
    """The job type chosen, its panel shown (no pointer over it) and photographed: the
    settings the add-on lays out, the panel's region, the picture."""
    shown = desk.select_job_type(gui, job_type, **JOB_TYPES[job_type])
    region = show(gui)
    desk.park_pointer(gui)
    gui.redraw()
    return shown, region, gui.screenshot(f"{picture}-{job_type}", region)


@pytest.mark.parametrize("job_type", list(JOB_TYPES))
def test_output_properties_panel_shows_every_setting(gui: GuiSession, window: dict[str, Any], job_type: str) -> None:
    shown, props, png = show_job_type(gui, job_type, desk.show_output_panel, "output-properties")

    # Drawn by Blender, in Output Properties, at the editor's default width.
    drawn = gui.step("draws")["FLAMENCO_DESK_PT_output"]
    assert drawn["area"] == "PROPERTIES" and drawn["region"]["width"] == window["properties"] == props.width
    assert pixel_stats(png).stddev > 10
    hits = scan_panel(gui, "PROPERTIES", "WINDOW")
    assert missing_settings(shown, hits) == [], sorted(names(hits))
    assert "flamenco_desk.submit_job" in names(hits)
    labels = desk.texts(desk.ui_text(gui, "FLAMENCO_DESK_PT_output"))
    assert all(s["label"] in labels for s in shown if s["link"]), labels  # linked: labelled
    assert gui.python_errors() == []


@pytest.mark.parametrize("job_type", list(JOB_TYPES))
def test_sidebar_shows_every_setting(gui: GuiSession, window: dict[str, Any], job_type: str) -> None:
    shown, sidebar, _ = show_job_type(gui, job_type, desk.show_sidebar, "sidebar")

    drawn = gui.step("draws")["FLAMENCO_DESK_PT_sidebar"]
    assert drawn["area"] == "VIEW_3D" and drawn["region"]["type"] == "UI"
    assert drawn["region"]["width"] == window["sidebar"] == sidebar.width
    hits = scan_panel(gui, "VIEW_3D", "UI")
    assert missing_settings(shown, hits) == [], sorted(names(hits))
    assert "flamenco_desk.submit_job" in names(hits)
    assert gui.python_errors() == []
