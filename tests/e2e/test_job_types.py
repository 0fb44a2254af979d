"""Every job type the real Manager offers becomes settings UI that matches its definition."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import bpy

from local_farm import Farm
from support.blender_helpers import save_shot, select_job_type
from support.fake_layout import FakeLayout

RNA_TYPES = {"string": "STRING", "int32": "INT", "float": "FLOAT", "bool": "BOOLEAN"}


def expected_label(setting: dict[str, Any]) -> str:
    return str(setting.get("label") or setting["key"].replace("_", " ").title())


def test_every_offered_job_type_gets_matching_properties(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "sq010_sh0040_lighting.blend")
    offered = farm.get_json("/api/v3/jobs/types")["job_types"]
    assert {"echo-sleep-test", "simple-blender-render", "talkingheads-cycles-device",
            "talkingheads-studio-layout"} <= {jt["name"] for jt in offered}

    menu = bpy.context.scene.flamenco_desk.bl_rna.properties["job_type_ui"]
    items = {item[0] for item in desk.props._job_type_items(bpy.context.scene.flamenco_desk, bpy.context)}
    assert {jt["name"] for jt in offered} <= items, menu

    for definition in offered:
        grp = select_job_type(desk, definition["name"])
        registry = desk.jobtypes.registry
        layout = FakeLayout()
        desk.panels.submit_ui.draw_settings(layout, bpy.context.scene)
        drawn = layout.props()
        for setting in definition["settings"]:
            where = f'{definition["name"]}.{setting["key"]}'
            ident, link_ident = registry.identifiers(registry.job_type().setting(setting["key"]))
            prop = grp.bl_rna.properties[ident]
            kind = "ENUM" if setting.get("choices") else RNA_TYPES[setting["type"]]
            assert prop.type == kind, where
            assert prop.name == expected_label(setting), where
            assert prop.description == setting.get("description", ""), where
            if setting.get("choices"):
                assert [i.identifier for i in prop.enum_items] == setting["choices"], where
            propargs = setting.get("propargs", {})
            if "min" in propargs:
                assert prop.hard_min == propargs["min"], where
            if "max" in propargs:
                assert prop.hard_max == propargs["max"], where
            linked = bool(setting.get("eval") and setting.get("evalInfo", {}).get("showLinkButton"))
            assert (link_ident in grp.bl_rna.properties) is linked, where
            assert prop.is_readonly is (setting.get("editable") is False), where
            shown = setting.get("visible") in (None, "visible", "submission")
            if setting["key"] == desk.jobtypes.values.BLENDFILE_KEY:
                shown = False  # filled in by the add-on, never the artist's to edit
            copy_values = [args.get("value") for op, args in layout.operators() if op == "flamenco_desk.copy_value"]
            if shown and linked and getattr(grp, link_ident):
                assert link_ident in drawn and ident not in drawn, where  # value follows the scene
            elif shown and setting.get("editable") is False:
                assert ident not in drawn and str(getattr(grp, ident)) in copy_values, where  # shown, not edited
            else:
                assert (ident in drawn) is shown, where
