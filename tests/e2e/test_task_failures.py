"""When the Worker's real Blender fails a task, or a GPU job type falls back to the CPU, the artist
reads Blender's own line with the job: in the Job panel, as a notice, and on the console (what
`blender -b` shows). Nothing here is simulated: the failures are the real Blender's."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import bpy
import pytest

from local_farm import Farm
from support.blender_helpers import refresh, save_shot, select_job_type
from support.fake_layout import FakeLayout

from test_monitor import submit_current, watch_until

# Blender 4.x files open in the Worker's Blender 4.3.2; Blender 5.0's do not.
NEWER_THAN_WORKER = bpy.app.version >= (4, 4, 0)


@pytest.fixture(scope="module")
def trixie_farm(farm: Farm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    """A farm whose Worker runs Debian trixie's Blender 4.3.2: the session's farm when it is
    that one (the Blender 4.2 tests), else one of its own."""
    if farm.worker_blender == "trixie":
        yield farm
        return
    with Farm(tmp_path_factory.mktemp("trixie-farm"), farm.release, worker_blender="trixie") as own:
        yield own


@pytest.fixture
def on_trixie(clean_desk: ModuleType, trixie_farm: Farm, prefs: Any) -> ModuleType:
    prefs.manager_url = trixie_farm.url
    refresh(clean_desk)
    return clean_desk


def squashed(text: str) -> str:
    return "".join(text.split())


def panel_text(desk: ModuleType) -> str:
    """The Job panel's text without white space (it wraps long lines, paths mid-word)."""
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_open_job(layout, bpy.context)
    return squashed("".join(layout.labels()))


def watch_to_the_end(desk: ModuleType, job_id: str, farm: Farm) -> Any:
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    farm.kick_worker()
    return watch_until(desk, lambda m: m.open_job.status in ("completed", "failed") and not m.pending_details
                       and (m.failure is not None or m.open_job.status == "completed"))


def test_blenders_error_line_comes_with_the_failed_job(on_trixie: ModuleType, trixie_farm: Farm, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Blender 4.x: the shot asks for denoising, which Debian's Blender 4.3.2 cannot do (no
    OpenImageDenoise). Blender 5.0: the Worker's 4.3.2 cannot open the file at all."""
    desk = on_trixie
    save_shot(tmp_path / "artist" / "denoised.blend", 1, 1)
    bpy.context.scene.cycles.use_denoising = True
    grp = select_job_type(desk, "simple-blender-render")
    grp.render_output_root = str(trixie_farm.shared / "renders" / tmp_path.name)
    job_id = submit_current(desk, paused=False)

    mon = watch_to_the_end(desk, job_id, trixie_farm)
    assert mon.open_job.status == "failed"
    if NEWER_THAN_WORKER:
        expected, hint = "Error: Cannot read blend file", "The Workers run an older Blender"
        assert "may be from a newer version of Blender" in mon.failure.text
    else:
        expected = "Error: Failed to denoise, build has no OpenImageDenoise support"
        hint = "turn Denoise off under Render Properties > Sampling"
    assert mon.failure.text.startswith(expected), mon.failure
    failed = [t.name for t in mon.tasks if t.status == "failed"]
    assert mon.failure.task_name in failed
    message = mon.failure.failure_message()
    assert message.startswith(f'Task "{mon.failure.task_name}" failed: {mon.failure.text} ') and hint in message
    assert squashed(message) in panel_text(desk)
    assert any(n.job_id == job_id and n.text == message for n in desk.watching.notices)
    printed = capsys.readouterr().out
    assert f"Flamenco Desk: {message}" in printed
    assert printed.count(message) == 1  # said once, however many polls follow


def test_gpu_job_without_a_gpu_fails_with_the_job_types_line(connected: ModuleType, farm: Farm, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "gpu.blend", 1, 2)
    grp = select_job_type(desk, "talkingheads-cycles-device")
    grp.render_output_root = str(farm.shared / "renders" / tmp_path.name)
    grp.device, grp.require_gpu = "OPTIX", True
    job_id = submit_current(desk, paused=False)

    mon = watch_to_the_end(desk, job_id, farm)
    assert mon.open_job.status == "failed"
    assert mon.failure.text.startswith("Flamenco ERROR: cannot render on OPTIX"), mon.failure
    assert mon.cpu_fallback is None
    assert squashed(f'Task "{mon.failure.task_name}" failed: {mon.failure.text}') in panel_text(desk)
    assert "cannot render on OPTIX" in capsys.readouterr().out


def test_gpu_job_that_rendered_on_the_cpu_says_so(connected: ModuleType, farm: Farm, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "gpu.blend", 1, 2)
    grp = select_job_type(desk, "talkingheads-cycles-device")
    out = farm.shared / "renders" / tmp_path.name
    grp.render_output_root = str(out)
    grp.device, grp.require_gpu = "OPTIX", False
    job_id = submit_current(desk, paused=False)

    mon = watch_to_the_end(desk, job_id, farm)
    watch_until(desk, lambda m: m.cpu_fallback is not None, timeout=30)
    assert mon.open_job.status == "completed"
    assert sorted(p.name for p in out.rglob("*.png")) == ["000001.png", "000002.png"]
    assert mon.failure is None
    line = mon.cpu_fallback.text
    assert "cannot render on OPTIX" in line and line.endswith("rendering on the CPU instead"), line
    message = f'GPU job rendered on the CPU (task "{mon.cpu_fallback.task_name}"): {line}'
    assert squashed(message) in panel_text(desk)
    assert f"Flamenco Desk: {message}" in capsys.readouterr().out


def test_a_cpu_job_of_the_same_type_raises_no_gpu_warning(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "cpu.blend", 1, 1)
    grp = select_job_type(desk, "talkingheads-cycles-device")
    grp.render_output_root = str(farm.shared / "renders" / tmp_path.name)
    grp.device = "CPU"
    job_id = submit_current(desk, paused=False)

    mon = watch_to_the_end(desk, job_id, farm)
    watch_until(desk, lambda m: m._head_read, timeout=30)  # the log's start was read, and said nothing
    assert mon.open_job.status == "completed"
    assert mon.cpu_fallback is None and mon.failure is None
