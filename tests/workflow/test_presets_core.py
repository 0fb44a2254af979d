"""The bpy-free preset logic (core/presets.py): what fits a changed job type, the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flamenco_desk_src.api.models import JobType
from flamenco_desk_src.core import presets as core


def job_type(etag: str, *settings: dict[str, object]) -> JobType:
    return JobType.from_json({"name": "shot-render", "label": "Shot Render", "etag": etag, "settings": list(settings)})


OLD = job_type("v1", {"key": "samples", "type": "int32"}, {"key": "device", "type": "string", "choices": ["CPU", "GPU"]},
               {"key": "denoise", "type": "bool"}, {"key": "exposure", "type": "float"})


def preset(**values: object) -> core.Preset:
    kinds = {s.key: s.type for s in OLD.settings}
    return core.Preset("Look", "shot-render", "v1", {k: core.Stored(kinds.get(k, "string"), v) for k, v in values.items()})


def test_what_fits_is_applied_and_the_rest_is_named() -> None:
    new = job_type("v2",
                   {"key": "samples", "type": "float"},  # type changed
                   {"key": "device", "type": "string", "choices": ["CPU", "OPTIX"]},  # GPU no longer a choice
                   {"key": "exposure", "type": "float"},
                   {"key": "tiles", "type": "int32"},  # new, not in the preset
                   {"key": "camera", "type": "string", "eval": "C.scene.camera.name"},  # new, follows the scene
                   {"key": "checksum", "type": "string", "editable": False},
                   {"key": "blendfile", "type": "string", "visible": "web"})
    fitted = core.fit(preset(samples=64, device="GPU", denoise=True, exposure=1), new)
    assert fitted.applied == {"exposure": 1.0} and isinstance(fitted.applied["exposure"], float)
    assert {d.key: d.reason for d in fitted.dropped} == {
        "samples": "now float, was int32", "device": '"GPU" is no longer a choice',
        "denoise": "no longer in the job type"}
    assert fitted.unknown_to_preset == ("tiles",) and fitted.outdated
    text = fitted.summary("Look")
    assert text.startswith('Preset "Look": 1 setting applied; dropped samples (now float, was int32)')
    assert text.endswith("(saved for an older version of the job type)")


def test_a_preset_for_the_same_version_applies_whole() -> None:
    fitted = core.fit(preset(samples=8, device="CPU", denoise=False, exposure=0.5), OLD)
    assert fitted.applied == {"samples": 8, "device": "CPU", "denoise": False, "exposure": 0.5}
    assert not fitted.dropped and not fitted.unknown_to_preset and not fitted.outdated
    assert core.fit(preset(samples=True, denoise=1), OLD).dropped == (  # JSON types are checked as stored
        core.Dropped("samples", "not a valid int32: True"), core.Dropped("denoise", "not a valid bool: 1"))


def test_files_save_rename_delete_and_never_lose_a_preset(tmp_path: Path) -> None:
    folders = {core.ARTIST: tmp_path / "mine", core.PROJECT: tmp_path / "project", core.STUDIO: tmp_path / "studio"}
    a, b = preset(samples=1), preset(samples=2)
    path = core.save(folders, core.ARTIST, a)
    core.save(folders, core.ARTIST, core.Preset("Look/2", **{k: getattr(b, k) for k in ("job_type", "job_type_etag", "settings")}))
    assert json.loads(path.read_text())["settings"] == {"samples": {"type": "int32", "value": 1}}
    # "Look/2" and "Look_2" make different files; the name is kept inside.
    assert core.file_name("Look/2") != core.file_name("Look_2") and "/" not in core.file_name("Look/2")
    with pytest.raises(core.PresetError, match="exists already"):
        core.save(folders, core.ARTIST, b, overwrite=False)
    with pytest.raises(core.PresetError, match="exists already"):
        core.rename(folders, core.ARTIST, "shot-render", "Look", "Look/2")
    assert json.loads(path.read_text())["name"] == "Look"  # the refused rename lost nothing
    core.rename(folders, core.ARTIST, "shot-render", "Look", "Final")
    listing = core.read_all(folders, "shot-render")
    assert [(p.name, p.level) for p in listing.presets] == [("Final", core.ARTIST), ("Look/2", core.ARTIST)]
    assert listing.find("Final").settings["samples"].value == 1
    assert not list((tmp_path / "mine").rglob("*.partial"))
    with pytest.raises(core.PresetError, match="read-only"):
        core.delete(folders, core.STUDIO, "shot-render", "Final")
    with pytest.raises(core.PresetError, match="No folder"):
        core.save({core.ARTIST: None}, core.ARTIST, a)
    core.delete(folders, core.ARTIST, "shot-render", "Final")
    assert [p.name for p in core.read_all(folders, "shot-render").presets] == ["Look/2"]
    with pytest.raises(core.PresetError, match='No preset "Final"'):
        core.delete(folders, core.ARTIST, "shot-render", "Final")


def test_which_job_types_have_a_preset_of_that_name(tmp_path: Path) -> None:
    """A profile's default preset missing for its job type: the artist is told whose it is."""
    folders = {core.ARTIST: tmp_path / "mine", core.PROJECT: None, core.STUDIO: tmp_path / "studio"}
    core.save(folders, core.ARTIST, core.Preset("Look/2", "shot-render", "v1", {}))
    (tmp_path / "studio" / "comp").mkdir(parents=True)  # a TD's folder, filled by hand
    (tmp_path / "studio" / "comp" / "Look").write_text("not a preset")  # no .json: not one
    core.save({core.ARTIST: tmp_path / "td"}, core.ARTIST, core.Preset("Look", "comp", "v1", {}))
    (tmp_path / "td" / "comp" / "Look.json").rename(tmp_path / "studio" / "comp" / "Look.json")
    assert core.job_types_with(folders, "Look/2", ["comp", "shot-render", "edit"]) == ["shot-render"]
    assert core.job_types_with(folders, "Look", ["shot-render", "comp"]) == ["comp"]
    assert core.job_types_with(folders, "Nope", ["shot-render", "comp"]) == []
