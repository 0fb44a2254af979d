"""The path check's logic without a Manager (plain Python): the artist's form, the Manager's
prefix replacement as variables.go does it, and each problem the check must name. The same
logic is compared with what the real Manager hands each platform in test_mixed_platforms.py."""

from __future__ import annotations

import pytest

from flamenco_desk_src.core import platform_paths as pp

VARS = pp.Variables({
    plat: {"storage": (value, True), "jobs": ("/srv/flamenco", False), "blender": ("blender", False)}
    for plat, value in {"linux": "/srv/flamenco", "windows": "S:\\Flamenco", "darwin": "/Volumes/Flamenco"}.items()
}, manager_platform="linux")
WORKERS = ("linux", "windows", "darwin")


def test_the_switch_is_read_in_one_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pp.PLATFORM_ENV, "Windows")
    assert pp.artist_platform() == "windows"
    monkeypatch.delenv(pp.PLATFORM_ENV)
    assert pp.artist_platform() == "linux"


def test_join_writes_the_artists_form_without_touching_the_disk() -> None:
    assert pp.join("S:\\Flamenco", "flamenco-desk/job/shot.blend", "windows") == "S:\\Flamenco\\flamenco-desk\\job\\shot.blend"
    assert pp.join("/Volumes/Flamenco", "a\\b.blend", "darwin") == "/Volumes/Flamenco/a/b.blend"
    assert str(pp.relative_to("s:\\flamenco\\Shots\\x.blend", "S:\\Flamenco", "windows")) == "Shots/x.blend"
    assert str(pp.relative_to("/volumes/flamenco/Shots/x.blend", "/Volumes/Flamenco", "darwin")) == "Shots/x.blend"
    assert pp.relative_to("S:\\Flamenco2\\x.blend", "S:\\Flamenco", "windows") is None


@pytest.mark.parametrize("sent", ["S:\\Flamenco\\shots\\a.blend", "S:/Flamenco/shots/a.blend", "s:\\flamenco\\shots\\a.blend"])
def test_windows_forms_reach_every_platform(sent: str) -> None:
    row = pp.check_path("blendfile", sent, "windows", WORKERS, VARS)
    assert row.problems == ()
    assert row.per_platform == {"linux": "/srv/flamenco/shots/a.blend", "windows": "S:\\Flamenco\\shots\\a.blend",
                                "darwin": "/Volumes/Flamenco/shots/a.blend"}


def test_prefix_trap_is_a_problem() -> None:
    row = pp.check_path("render_output_root", "S:\\Flamenco2\\renders", "windows", WORKERS, VARS)
    assert row.stored == "{storage}2\\renders"
    assert row.per_platform["linux"] == "/srv/flamenco2/renders"
    assert len(row.problems) == 1 and "only its first characters match" in row.problems[0]


def test_unc_drive_relative_and_no_variable_are_problems() -> None:
    unc = pp.check_path("out", "\\\\nas\\flamenco\\renders", "windows", WORKERS, VARS)
    assert unc.per_platform["linux"] == "\\\\nas\\flamenco\\renders"  # untranslated
    assert "UNC" in unc.problems[0]
    assert "drive-relative" in pp.check_path("out", "S:renders", "windows", WORKERS, VARS).problems[0]
    loose = pp.check_path("out", "D:\\local\\renders", "windows", WORKERS, VARS)
    assert "under no two-way variable" in loose.problems[0] and "linux, darwin" in loose.problems[0]
    # A path under no variable is fine when every Worker is on the artist's platform.
    assert pp.check_path("out", "/home/me/x", "linux", ("linux",), VARS).problems == ()


def test_a_variable_without_a_value_for_a_worker_platform() -> None:
    partial = pp.Variables({"linux": {"storage": ("/srv/flamenco", True)},
                            "darwin": {"storage": ("/Volumes/Flamenco", True)}, "windows": {}})
    row = pp.check_path("blendfile", "/Volumes/Flamenco/a.blend", "darwin", WORKERS, partial)
    assert row.per_platform["windows"] == "{storage}/a.blend"
    assert any("no value for windows" in p for p in row.problems)


def test_shaman_jobs_path_is_rebased_onto_each_platform() -> None:
    row = pp.check_path("blendfile", "{jobs}/flamenco-desk/x/shot.blend", "darwin", WORKERS, VARS)
    assert row.per_platform["windows"] == "S:\\Flamenco\\flamenco-desk\\x\\shot.blend"
    assert row.problems == ()
    assert pp.shaman_windows_notice(True, WORKERS) and "symbolic links" in pp.shaman_windows_notice(True, WORKERS)
    assert pp.shaman_windows_notice(True, ("linux",)) is None
