"""Presets per job type in real Blender against the real Manager: saved, the job type changed
on the Manager by its TD, loaded (what fits applied, the rest reported), submitted headless
with `submit_job(preset=...)`; the three levels; the files read off the main thread."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest

from local_farm import Farm
from support.blender_helpers import MODULE, farm_jobs, refresh, save_shot, select_job_type, tick_until
from support.fake_layout import FakeLayout

from presets_support import V1, V2, probe_file_name, probe_script


def artist_folder(job_type: str) -> Path:
    return Path(bpy.utils.extension_path_user(MODULE, path="", create=False)) / "presets" / job_type


@pytest.fixture
def probe(connected: ModuleType, job_type_script: Any, tmp_path: Path) -> tuple[ModuleType, str, str]:
    """A saved shot with the probe job type (version 1) selected; (desk, file name, job type)."""
    desk = connected
    desk.job_presets.reset()
    script, job_type = probe_file_name()
    job_type_script(script, probe_script(V1))
    refresh(desk)
    save_shot(tmp_path / "artist" / "probe_shot.blend")
    select_job_type(desk, job_type)
    return desk, script, job_type


def test_preset_survives_a_changed_job_type_and_submits(probe: tuple[ModuleType, str, str], job_type_script: Any,
                                                        farm: Farm, tmp_path: Path) -> None:
    desk, script, job_type = probe
    grp = desk.jobtypes.registry.group(bpy.context.scene)
    grp.message, grp.quality, grp.count, grp.legacy_flag = "studio look", "final", 7, True

    assert bpy.ops.flamenco_desk.preset_save(name="Studio Look") == {"FINISHED"}
    (saved,) = artist_folder(job_type).glob("*.json")
    data = json.loads(saved.read_text())
    etag_v1 = desk.state.info().job_types[job_type].etag
    assert (data["name"], data["job_type"], data["job_type_etag"]) == ("Studio Look", job_type, etag_v1)
    assert data["settings"] == {"message": {"type": "string", "value": "studio look"},
                                "quality": {"type": "string", "value": "final"},
                                "count": {"type": "int32", "value": 7},
                                "legacy_flag": {"type": "bool", "value": True}}
    assert data["scene_keys"] == ["camera"]  # follows the scene: not frozen into the preset

    # The TD changes the job type on the Manager: legacy_flag removed, denoiser added, count now text.
    job_type_script(script, probe_script(V2))
    refresh(desk)
    assert desk.state.info().job_types[job_type].etag != etag_v1
    bpy.ops.wm.read_homefile(use_empty=True)  # a new shot, settings at the job type's defaults
    save_shot(tmp_path / "shots" / "second.blend")
    grp = select_job_type(desk, job_type)
    assert (grp.message, grp.quality, grp.count) == ("hello", "draft", "three")

    assert bpy.ops.flamenco_desk.preset_load(name="Studio Look") == {"FINISHED"}
    assert (grp.message, grp.quality, grp.count, grp.denoiser) == ("studio look", "final", "three", "none")
    text, icon = desk.job_presets.message
    assert "2 settings applied" in text
    assert "count (now string, was int32)" in text and "legacy_flag (no longer in the job type)" in text
    assert "not in the preset, left as they are: denoiser" in text
    assert "older version of the job type" in text

    # The submit panel: the preset row (menu named after the loaded preset, add, remove) and the report.
    layout = FakeLayout()
    desk.panels.submit_ui.draw(layout, bpy.context)
    assert ("menu", ("FLAMENCO_DESK_MT_presets", "Studio Look")) in layout.log
    ops = [name for name, _ in layout.operators()]
    assert "flamenco_desk.preset_save" in ops and "flamenco_desk.preset_delete" in ops
    assert "denoiser" in layout.text()

    # Headless: a fresh shot, submitted with the preset; the Manager's job has its values.
    bpy.ops.wm.read_homefile(use_empty=True)
    shot = save_shot(tmp_path / "shots" / "third.blend")
    props = bpy.context.scene.flamenco_desk
    props.submit_paused = True  # the shared Worker need not run it
    desk.job_presets.reset()  # as a fresh `blender -b`: nothing read yet
    assert bpy.ops.flamenco_desk.submit_job(job_type=job_type, preset="Studio Look") == {"FINISHED"}
    (job,) = farm_jobs(farm, blendfile=str(shot))
    assert job["type"] == job_type
    settings = job["settings"]
    assert (settings["message"], settings["quality"], settings["count"], settings["denoiser"]) == \
        ("studio look", "final", "three", "none")
    assert "legacy_flag" not in settings and settings["camera"] == "ShotCam"

    with pytest.raises(RuntimeError, match='No preset "Nope"'):
        bpy.ops.flamenco_desk.submit_job(preset="Nope")
    assert len(farm_jobs(farm, blendfile=str(shot))) == 1  # nothing submitted for a missing preset


def test_three_levels_rename_delete_and_reading_off_the_main_thread(probe: tuple[ModuleType, str, str],
                                                                    tmp_path: Path, prefs: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    desk, _script, job_type = probe
    core = desk.core.presets
    studio = tmp_path / "studio-presets"
    # The TD's preset, written by hand as a TD would (the documented format).
    (studio / job_type).mkdir(parents=True)
    (studio / job_type / "farm-final.json").write_text(json.dumps({
        "format": "flamenco-desk-preset", "format_version": 1, "name": "Farm Final", "job_type": job_type,
        "job_type_etag": "an-older-etag", "settings": {"quality": {"type": "string", "value": "final"}},
    }))
    (studio / job_type / "broken.json").write_text("{not json")
    old_studio = prefs.studio_presets_folder
    prefs.studio_presets_folder = str(studio)
    try:
        grp = desk.jobtypes.registry.group(bpy.context.scene)
        grp.message = "project look"
        assert bpy.ops.flamenco_desk.preset_save(name="Shot 10/20: look", level="PROJECT") == {"FINISHED"}
        project = Path(bpy.data.filepath).parent / "flamenco_presets" / job_type  # beside the .blend
        (project_file,) = project.glob("*.json")
        assert json.loads(project_file.read_text())["name"] == "Shot 10/20: look"  # any name, a safe file name
        grp.message = "mine"
        assert bpy.ops.flamenco_desk.preset_save(name="Mine") == {"FINISHED"}

        # Every read happens on a background thread; hold the studio folder like a hung share.
        readers: list[str] = []
        held = threading.Event()
        real_read_folder = core.read_folder

        def watched(folder: Path, jt: str, level: str) -> Any:
            readers.append(threading.current_thread().name)
            if level == core.STUDIO:
                held.wait(10)
            return real_read_folder(folder, jt, level)

        monkeypatch.setattr(core, "read_folder", watched)
        desk.job_presets.reset()
        layout = FakeLayout()
        desk.panels.presets_ui.draw_menu(layout, bpy.context)  # starts the read, returns at once
        assert "Reading presets…" in layout.labels()
        ok, text = desk.job_presets.load(bpy.context.scene, "Mine")  # what a click on the menu meets now
        assert not ok and "still being read" in text
        held.set()
        tick_until(desk, lambda: desk.job_presets.listing is not None)
        assert readers and threading.main_thread().name not in readers

        layout = FakeLayout()
        desk.panels.presets_ui.draw_menu(layout, bpy.context)
        labels = layout.labels()
        assert labels.index("Mine") < labels.index("Project") < labels.index("Studio")
        loads = [(p["name"], p["level"]) for op, p in layout.operators() if op == "flamenco_desk.preset_load"]
        assert loads == [("Mine", "ARTIST"), ("Shot 10/20: look", "PROJECT"), ("Farm Final", "STUDIO")]
        assert any("broken.json is not readable" in label for label in labels)  # reported, left in place
        assert (studio / job_type / "broken.json").exists()

        assert bpy.ops.flamenco_desk.preset_load(name="Farm Final") == {"FINISHED"}
        assert grp.quality == "final"
        with pytest.raises(TypeError, match="STUDIO"):  # not a level an artist saves to
            bpy.ops.flamenco_desk.preset_save(name="Farm Final", level="STUDIO")
        with pytest.raises(core.PresetError, match="read-only"):
            core.save(desk.job_presets.folders(), core.STUDIO, desk.job_presets.capture(
                bpy.context.scene, desk.state.info().job_types[job_type], "Farm Final"))
        assert not (studio / job_type / "farm-final.json").read_text().count("project look")

        assert bpy.ops.flamenco_desk.preset_rename(name="Shot 10/20: look", level="PROJECT", new_name="Sh020") == {"FINISHED"}
        assert [json.loads(p.read_text())["name"] for p in project.glob("*.json")] == ["Sh020"]
        with pytest.raises(RuntimeError, match="exists already among the project"):
            bpy.ops.flamenco_desk.preset_save(name="Sh020", level="PROJECT", overwrite=False)
        assert bpy.ops.flamenco_desk.preset_delete(name="Mine", level="ARTIST") == {"FINISHED"}
        assert not list(artist_folder(job_type).glob("*.json"))
        assert [p.name for p in desk.job_presets.listing.presets] == ["Sh020", "Farm Final"]
    finally:
        prefs.studio_presets_folder = old_studio

