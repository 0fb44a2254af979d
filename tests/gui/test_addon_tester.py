"""blender-addon-tester (the runner the design card names) runs a suite inside the real Blender
binary (the GUI chroot's Blender 4.3) without the internet, through tools/gui/addon_tester.py,
which states the workarounds it needs (and tools/gui/README.md why)."""

from __future__ import annotations

from pathlib import Path

from tools.gui import addon_tester


def test_the_suite_passes_inside_the_chroot_blender(tmp_path: Path, extension_zip: Path) -> None:
    done = addon_tester.run(extension_zip, addon_tester.SUITE, tmp_path / "work", [])
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "Will run the following command: " in out  # blender-addon-tester's own runner
    assert "platform linux -- Python 3.13" in out  # pytest inside Debian's Blender
    assert 'Installed "flamenco_desk"' in out  # from the zip, by the load script
    assert "4 passed" in out, out


def test_a_failing_test_fails_the_run(tmp_path: Path, extension_zip: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_fails.py").write_text("import bpy\n\ndef test_fails():\n    assert bpy.app.version < (4, 0)\n")
    done = addon_tester.run(extension_zip, suite, tmp_path / "work", [])
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
