"""The bpy-free template logic (core/templates.py)."""

from __future__ import annotations

from pathlib import Path

from flamenco_desk_src.core import templates

VALUES = {"file": "sq010_sh020", "scene": "Scene", "camera": "CamA", "view_layer": "Beauty", "marker": "m1",
          "user": "ana", "date": "2026-12-04"}


def test_placeholders_are_filled_and_unknown_ones_named() -> None:
    asked: list[str] = []

    def version_of(folder: str) -> str:
        asked.append(folder)
        return "v007"

    out = templates.render("/r/{file}/{version}/{scene}_{camera}_{view_layer}_######", VALUES, version_of)
    assert out.text == "/r/sq010_sh020/v007/Scene_CamA_Beauty_######" and not out.pending
    assert asked == ["/r/sq010_sh020"] and out.version_folder == "/r/sq010_sh020"
    name = templates.render("{file}-{marker}-{user}-{date}-{shot}-{timestamp}", VALUES, version_of, ("timestamp",))
    assert name.text == "sq010_sh020-m1-ana-2026-12-04-{shot}-{timestamp}"  # the Manager fills {timestamp}
    assert name.unknown == ("shot",)
    assert name.problem("Job name").startswith("Job name: unknown placeholder {shot}; use {file}, {scene}")


def test_a_version_not_known_yet_shows_an_ellipsis() -> None:
    out = templates.render("{jobs}/r/{version}/x", VALUES, lambda folder: None, ("jobs",))
    assert out.text == "{jobs}/r/…/x" and out.pending and out.version_folder == "{jobs}/r"


def test_next_free_version_in_a_folder(tmp_path: Path) -> None:
    assert templates.next_version(tmp_path / "not-there-yet") == "v001"
    for name in ("v001", "v004", "shot_v009.png", "preview12", "v2x"):
        (tmp_path / name).mkdir()
    assert templates.next_version(tmp_path) == "v010"
    assert templates.after("v010") == "v011" and templates.after("v999") == "v1000"


def test_one_version_for_a_batch_whose_parts_have_folders_of_their_own() -> None:
    # {camera} before {version}: CamGreen's folder already has v002, the others nothing yet.
    assert templates.highest(["v001", "v003", "v001"]) == "v003"
    assert templates.highest(["v009", "v010"]) == "v010"  # by number, not by text
    assert templates.highest([]) is None
