"""Reading a task's log for the line that matters (core/task_log.py). The logs below have the
shapes the real Worker and Blender wrote (tests/e2e/test_task_failures.py reads real ones)."""

from __future__ import annotations

from flamenco_desk_src.core import task_log

DENOISE_4_3 = """\
2026-12-04T13:12:36Z task changed status queued -> active
going to run:

    /farm/bin/blender -b -y /farm/shared/dn.blend --scene Scene --render-frame 1

pid=24096 > Blender 4.3.2
pid=24096 > Fra:1 Mem:10.47M (Peak 11.18M) | Time:00:00.00 | Scene, ViewLayer | Failed to denoise, build has no OpenImageDenoise support
pid=24096 > Error: Failed to denoise, build has no OpenImageDenoise support
pid=24096 > 
pid=24096 > Blender quit
Failed: command exited abnormally with code 1
2026-12-04T13:12:37Z Task failed by worker w (71cc), Manager will fail the entire job.
2026-12-04T13:12:37Z task changed status active -> failed
"""


def test_blenders_error_line_is_taken_over_the_workers_and_managers_words() -> None:
    assert task_log.failure_line(DENOISE_4_3) == "Error: Failed to denoise, build has no OpenImageDenoise support"


def test_blender_5_log_prefix_is_not_part_of_the_line() -> None:
    log = ("pid=7 > 00:00.935  render           | Fra: 1 | Mem: 2M | Sample 1/2\n"
           "pid=7 > 00:00.940  blend            | Error: Cannot read blend file '/x.blend'\n"
           "Failed: command exited abnormally with code 1\n")
    assert task_log.failure_line(log) == "Error: Cannot read blend file '/x.blend'"


def test_a_python_exception_is_the_reason_when_blender_printed_no_error_line() -> None:
    log = ("pid=3 > Traceback (most recent call last):\n"
           "pid=3 >   File \"<string>\", line 14, in <module>\n"
           "pid=3 > RuntimeError: no OPTIX device on this worker\n"
           "Failed: command exited abnormally with code 1\n")
    assert task_log.failure_line(log) == "RuntimeError: no OPTIX device on this worker"


def test_without_blenders_words_the_workers_line_is_the_reason() -> None:
    log = "pid=3 > Blender 4.3.2\nFailed: command exited abnormally with code 137\n2026-12-04T13:12:37Z x\n"
    assert task_log.failure_line(log) == "Failed: command exited abnormally with code 137"
    assert task_log.failure_line("2026-12-04T13:12:37Z task changed status active -> failed\n") is None


def test_a_shown_line_has_no_terminal_escapes_and_is_bounded() -> None:
    log = "pid=1 > Error: \x1b[31mred\x1b[0m and a bell\x07" + "x" * 1_000_000 + "\n"
    line = task_log.failure_line(log)
    assert line is not None and line.startswith("Error: red and a bell")
    assert "\x1b" not in line and "\x07" not in line and len(line) == task_log.MAX_LINE


def test_a_gpu_job_types_fallback_warning_is_found_and_a_cpu_job_is_not_taken_for_one() -> None:
    fallback = ("pid=5 > Flamenco WARNING: cannot render on OPTIX (no OPTIX device on this worker), "
                "rendering on the CPU instead\n")
    assert task_log.cpu_fallback_line("pid=5 > Blender 4.3.2\n" + fallback) == fallback[8:].strip()
    assert task_log.cpu_fallback_line("pid=5 > Flamenco: Cycles renders on the CPU\n") is None
    # Only Blender's own lines count: the Manager echoing a reason is not a render.
    assert task_log.cpu_fallback_line("2026-12-04T13:12:37Z rendering on the CPU instead\n") is None


def test_failure_messages_say_what_to_do_for_known_failures() -> None:
    newer = task_log.LogLine("render-1", "Error: Cannot read blend file '/x', may be from a newer version of Blender")
    assert newer.failure_message().startswith('Task "render-1" failed: Error: Cannot read blend file')
    assert "older Blender than the one that saved this file" in newer.failure_message()
    other = task_log.LogLine("render-2", "Error: something else")
    assert other.failure_message() == 'Task "render-2" failed: Error: something else'


def test_an_add_ons_traceback_at_start_up_is_not_taken_for_why_blender_failed() -> None:
    """Debian sid's Blender 5.2 prints an add-on's traceback at every start and carries on;
    this render then failed for want of OpenGL (the real log of a GUI test's EEVEE job)."""
    log = ("pid=6771 > Traceback (most recent call last):\n"
           "pid=6771 >   File \"/usr/share/blender/scripts/modules/_bpy_internal/http/downloader.py\", line 51\n"
           "pid=6771 >     import cattrs\n"
           "pid=6771 > ModuleNotFoundError: No module named 'cattrs'\n"
           "pid=6771 > 00:00.649  render           | Engine: EEVEE\n"
           "pid=6771 > Couldn't open libGL.so.1 or libOpenGL.so.0\n"
           "Failed: command exited abnormally with code 250\n")
    assert task_log.failure_line(log) == "Couldn't open libGL.so.1 or libOpenGL.so.0"
