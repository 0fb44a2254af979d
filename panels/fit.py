"""Making text fit the region it is drawn in: Blender clips what is too long ("Job Ty…").

Labels that fit the label column are drawn with Blender's property split; longer ones go on
their own line above the field. Long messages wrap; long paths show their end. Widths come
from the region being drawn, so the same panel works in the wide Properties editor and in
the narrow sidebar.
"""

from __future__ import annotations

import textwrap
from typing import Any

# Average width of a UI character at scale 1.0 (Blender's default UI font, 11 pt), and the
# part of the region the property split gives to labels (UI_ITEM_PROP_SEP_DIVIDE).
CHAR_PX = 7.0
SPLIT_FACTOR = 0.4
# Panel margins and the space an icon takes, in pixels at scale 1.0.
MARGIN_PX = 30.0
ICON_PX = 22.0
DEFAULT_WIDTH = 300  # when drawn without a region (tests, scripts)


def region_width(context: Any) -> float:
    region = getattr(context, "region", None)
    width = getattr(region, "width", 0) or DEFAULT_WIDTH
    return float(width)


def _scale(context: Any) -> float:
    try:
        return float(context.preferences.view.ui_scale) or 1.0
    except AttributeError:
        return 1.0


def chars(context: Any, fraction: float = 1.0, icon: bool = False) -> int:
    """How many characters fit in `fraction` of the region's width."""
    scale = _scale(context)
    px = region_width(context) * fraction - MARGIN_PX * scale - (ICON_PX * scale if icon else 0.0)
    return max(8, int(px / (CHAR_PX * scale)))


def narrow(context: Any) -> bool:
    """The 3D View sidebar at its default width, or a Properties editor made as narrow."""
    return region_width(context) / _scale(context) < 330


def label_fits(context: Any, text: str) -> bool:
    return len(text) <= chars(context, SPLIT_FACTOR)


def tail(text: str, limit: int) -> str:
    """The end of a long path ("…/sq010/sh020/######"): the end is the part that differs."""
    if len(text) <= limit:
        return text
    return "…" + text[-(limit - 1):]


def wrapped(layout: Any, context: Any, text: str, icon: str = "NONE") -> None:
    """A message over as many lines as it needs; the icon on the first only."""
    lines = textwrap.wrap(text, chars(context, icon=icon != "NONE"), break_long_words=True) or [""]
    col = layout.column(align=True)
    for index, line in enumerate(lines):
        col.label(text=line, icon=icon if index == 0 else "BLANK1" if icon != "NONE" else "NONE")


def field(layout: Any, context: Any, data: Any, prop: str, text: str, alert: bool = False,
          value_text: str = "", **kwargs: Any) -> Any:
    """`layout.prop` with its label beside the value when both fit, the label above a
    full-width value when not (`value_text`: what the value shows, e.g. a menu's choice);
    `alert` draws it in red. Returns the row the value is in (for buttons after it)."""
    value_fits = len(value_text) <= chars(context, 1 - SPLIT_FACTOR, icon=True)
    if label_fits(context, text) and value_fits:
        row = layout.row(align=True)
        row.alert = alert  # before the items: Blender applies it as they are added
        row.prop(data, prop, text=text, **kwargs)
        return row
    col = layout.column(align=True)
    col.alert = alert
    col.use_property_split = False
    row = col.row(align=True)
    if _is_checkbox(data, prop):
        row.prop(data, prop, text=text, **kwargs)  # a checkbox carries its label on its right
        return row
    col.label(text=text)
    row = col.row(align=True)
    row.prop(data, prop, text="", **kwargs)
    return row


def _is_checkbox(data: Any, prop: str) -> bool:
    try:
        return bool(data.bl_rna.properties[prop].type == "BOOLEAN")
    except (AttributeError, KeyError):
        return False


def split_row(layout: Any, context: Any, text: str) -> Any:
    """A row shaped like a property-split row (label left, content right) for content that
    is not a single property; above-the-content when the label does not fit."""
    if label_fits(context, text):
        split = layout.split(factor=SPLIT_FACTOR, align=True)
        left = split.row()
        left.alignment = "RIGHT"
        left.label(text=text)
        return split.row(align=True)
    col = layout.column(align=True)
    col.label(text=text)
    return col.row(align=True)
