"""A stand-in for bpy.types.UILayout that records what a draw function shows.

Panels cannot be drawn without a window; their draw functions only call layout methods,
so recording those calls tests what the artist would see.
"""

from __future__ import annotations

from typing import Any


class FakeLayout:
    def __init__(self, log: list[tuple[str, Any]] | None = None) -> None:
        self.log: list[tuple[str, Any]] = log if log is not None else []
        self.enabled = True
        self.alert = False
        self.use_property_split = False
        self.use_property_decorate = True
        self.scale_y = 1.0
        self.alignment = "EXPAND"

    def _child(self, *_a: Any, **_k: Any) -> "FakeLayout":
        child = FakeLayout(self.log)
        child.enabled = self.enabled
        child.alert = self.alert
        child.use_property_split = self.use_property_split
        return child

    row = column = box = split = column_flow = grid_flow = _child

    def prop(self, data: Any, attr: str, **kwargs: Any) -> None:
        self.log.append(("prop", (attr, self.enabled, kwargs.get("icon"))))
        self.log.append(("prop_detail", (attr, {"alert": self.alert, "split": self.use_property_split, **kwargs})))

    def label(self, text: str = "", **kwargs: Any) -> None:
        self.log.append(("label", text))
        if self.alert:  # drawn in red (set on the layout, or inherited from its parent)
            self.log.append(("alert_label", text))

    def operator(self, idname: str, **kwargs: Any) -> Any:
        record: dict[str, Any] = {}
        self.log.append(("operator", (idname, record)))
        self.log.append(("operator_text", (idname, kwargs.get("text"), self.use_property_split)))

        class _Props:
            def __setattr__(self, key: str, value: Any) -> None:
                record[key] = value

        return _Props()

    def menu(self, menu: str, text: str = "", **kwargs: Any) -> None:
        self.log.append(("menu", (menu, text)))

    def separator(self, **_k: Any) -> None:
        pass

    def progress(self, factor: float = 0.0, type: str = "BAR", text: str = "") -> None:  # noqa: A002
        self.log.append(("progress", (factor, text)))

    def template_icon(self, icon_value: int = 0, scale: float = 1.0) -> None:
        self.log.append(("icon", icon_value))

    def progresses(self) -> list[tuple[float, str]]:
        return [entry[1] for entry in self.log if entry[0] == "progress"]

    # Queries used by tests.
    def props(self) -> list[str]:
        return [entry[1][0] for entry in self.log if entry[0] == "prop"]

    def prop_details(self, attr: str) -> dict[str, Any]:
        """How `attr` was drawn: alert, property split, and the keyword arguments given."""
        return next(entry[1][1] for entry in self.log if entry[0] == "prop_detail" and entry[1][0] == attr)

    def prop_enabled(self, attr: str) -> bool:
        return next(entry[1][1] for entry in self.log if entry[0] == "prop" and entry[1][0] == attr)

    def labels(self) -> list[str]:
        return [entry[1] for entry in self.log if entry[0] == "label"]

    def drawn_texts(self) -> list[tuple[str, str, bool]]:
        """(kind, text, in a property split) of every label, button text and property label
        given explicitly: what has to fit the region."""
        found: list[tuple[str, str, bool]] = []
        for kind, value in self.log:
            if kind == "label":
                found.append(("label", value, False))
            elif kind == "operator_text" and value[1]:
                found.append(("button", value[1], value[2]))
            elif kind == "prop_detail" and value[1].get("text"):
                found.append(("prop", value[1]["text"], bool(value[1].get("split"))))
        return found

    def alert_text(self) -> str:
        """The labels drawn in red, joined as `text` joins them."""
        return " ".join(" ".join(entry[1] for entry in self.log if entry[0] == "alert_label").split())

    def text(self) -> str:
        """Every label joined with spaces: wrapped messages read as one again."""
        return " ".join(" ".join(self.labels()).split())

    def buttons(self, idname: str) -> list[tuple[str, dict[str, Any]]]:
        """(text given, properties set) of each button of one operator, in the order drawn."""
        texts = [entry[1] for entry in self.log if entry[0] == "operator_text"]
        return [(text or "", record) for (name, record), (_, text, _) in zip(self.operators(), texts) if name == idname]

    def operators(self) -> list[tuple[str, dict[str, Any]]]:
        return [entry[1] for entry in self.log if entry[0] == "operator"]
