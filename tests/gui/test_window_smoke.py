"""The extension in a real Blender 4.3 window: its panel is drawn in Output Properties, and a real
click (xdotool) on its refresh button runs the operator; the sidebar tab shows its panels. Proof that the GUI tooling works; the
panels' own tests build on it."""

from __future__ import annotations

import socket
from pathlib import Path

from gui_helpers import MODULE
from tools.gui.session import GuiSession
from tools.gui.xscreen import Rect, pixel_stats, rgb_pixels

CONNECTION_TEXT = f"""
import sys
line = sys.modules[{MODULE!r}].state.connection_line()
result = line.text if line is not None else None
"""
# The line once the Manager answered (or did not): not "Contacting the Manager…".
CONNECTION_SETTLED = CONNECTION_TEXT + "result = result if result and 'Contacting' not in result else None\n"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connecting is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_output_panel_drawn_and_refresh_clicked(gui: GuiSession, artifacts: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    assert gui.step("set_preference", path=f"addons[{MODULE!r}].preferences.manager_url", value=url) == url
    assert gui.exec("result = bpy.app.online_access") is True
    gui.step("probe_draws", idnames=["FLAMENCO_DESK_PT_output"])
    assert gui.step("properties_context", context="OUTPUT") == 1
    gui.step("scroll", area_type="PROPERTIES")  # the add-on's panel comes last in the tab
    gui.redraw()

    gui.screenshot("window")
    props = gui.region_rect("PROPERTIES")
    before = gui.screenshot("output-properties", props)

    # Blender drew the panel, in the Properties editor, at that editor's width.
    assert gui.exec("result = bpy.types.FLAMENCO_DESK_PT_output.is_registered") is True
    drawn = gui.step("draws")["FLAMENCO_DESK_PT_output"]
    assert drawn["count"] >= 1
    assert drawn["area"] == "PROPERTIES"
    assert drawn["region"]["width"] == props.width
    # ... and the window shows something there, not a blank editor.
    stats = pixel_stats(before)
    assert stats.stddev > 10 and stats.colors > 50, stats
    assert gui.exec(CONNECTION_TEXT) is None  # "Not connected to a Manager"

    # A user's click: the pointer finds the button Blender highlights, then presses it.
    x, y = gui.find_button("PROPERTIES", "flamenco_desk.refresh_manager", bottom_up=True)
    assert props.contains(x, y)
    gui.click(x, y)
    text = gui.wait_until(CONNECTION_SETTLED, timeout=30)
    assert "refused" in text, text

    gui.move(props.x - 300, props.y)  # no tooltip in the picture
    gui.redraw()
    after = gui.screenshot("output-properties-after-refresh", props)
    # The connection row (the button's row) shows the new line in the window.
    row = Rect(0, y - props.y - 10, props.width - 40, 20)
    assert rgb_pixels(before, row) != rgb_pixels(after, row)

    # The 3D Viewport's sidebar, switched to the add-on's tab with real input (Ctrl+wheel).
    gui.step("probe_draws", idnames=["FLAMENCO_DESK_PT_sidebar"])
    gui.show_sidebar_tab("Flamenco")
    gui.redraw()
    sidebar = gui.region_rect("VIEW_3D", "UI")
    gui.screenshot("sidebar", sidebar)
    drawn = gui.step("draws")["FLAMENCO_DESK_PT_sidebar"]
    assert drawn["area"] == "VIEW_3D" and drawn["region"]["type"] == "UI"

    assert gui.python_errors() == []
    print(f"screenshots: {artifacts}")
