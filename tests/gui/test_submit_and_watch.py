"""Submitting with the real button in a real Blender window, and watching the job to completion
from that window, against the real Manager and Worker.

One run (the module fixture `watched`) does what an artist does: opens the shot, picks the
built-in simple-blender-render, clicks "Submit to Flamenco" (xdotool), leaves the pointer resting
in the Outliner and watches. Nothing but the add-on's own timer drives the add-on (a real Blender
ticks it). Meanwhile the run records, several times a second: the job on the farm (its API), the
status-bar indicator as the add-on's draw function lays it out (read in Blender), a screenshot of
the status bar (only changed pictures are kept), and what the Jobs panel lists. Afterwards it
opens the job with a click in the sidebar's job list and waits for the last-rendered thumbnail.
The tests below each check one part of that record.

The status bar is never redrawn by the test: the driver's `redraw` tags the screen's areas,
which do not include the status bar (a global area), and the pointer does not move while the
job runs, so only the add-on can make the status bar show its indicator.

Screenshots and Blender's log: `.cache/gui-artifacts/test_submit_and_watch/`.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from gui_helpers import ROOT  # noqa: F401  (puts the repository root on sys.path)
from local_farm import Farm
from tools.gui import desk
from tools.gui.session import GuiSession
from tools.gui.xscreen import Rect, pixel_digest, rgb_pixels

FRAMES = (1, 4)
JOB_TIMEOUT = 240.0  # generous: two cores shared with Blender's software GL and the Worker
SAMPLE_INTERVAL = 0.2
# After the job: how long the indicator and the status bar may take to show their final state.
SETTLE_TIMEOUT = 20.0
PERCENT = re.compile(r"(\d+)%")


@dataclass
class Sample:
    at: float  # seconds since the click
    farm_status: str  # "" until the job is on the farm
    text: str  # the status-bar indicator, read after the screenshot
    stable: bool  # the same text before and after the screenshot, and in the previous sample
    digest: str  # the status bar's pixels
    listed: bool  # the sidebar's Jobs panel lists the job
    open_job: Optional[str]  # the job the Job panel shows


@dataclass
class Run:
    shot: Path
    statusbar: Rect
    baseline: str  # the status bar's pixels before the click
    samples: list[Sample] = field(default_factory=list)
    pictures: dict[str, Path] = field(default_factory=dict)  # status-bar digest -> its screenshot
    job_id: str = ""
    file_job_ids: list[str] = field(default_factory=list)
    on_farm_at: Optional[float] = None
    known_at: Optional[float] = None  # the file records the job (the submission's answer arrived)
    final_job: dict[str, Any] = field(default_factory=dict)
    settled: list[str] = field(default_factory=list)  # status-bar digests after the job
    monitor: Optional[dict[str, Any]] = None  # the open job as the monitor sees it, at the end
    job_panel: list[dict[str, Any]] = field(default_factory=list)
    elapsed: list[tuple[float, str]] = field(default_factory=list)
    thumbnail_box: Optional[Rect] = None  # in the sidebar's screenshot
    sidebar_png: Optional[Path] = None
    python_errors: list[str] = field(default_factory=list)


def indicator(gui: GuiSession) -> str:
    return desk.statusbar_text(gui)


def jobs_panel_lists(gui: GuiSession, job_id: str) -> bool:
    return any(
        r["kind"] == "operator" and r["operator"] == "flamenco_desk.open_job" and r["text"]
        and r["props"].get("job_id") == job_id
        for r in desk.ui_text(gui, "FLAMENCO_DESK_PT_jobs")
    )  # fmt: skip


def elapsed_label(gui: GuiSession) -> str:
    return next((t for t in desk.texts(desk.ui_text(gui, "FLAMENCO_DESK_PT_job")) if t.startswith("Elapsed")), "")


def stable_digest(gui: GuiSession, rect: Rect, name: str, timeout: float = 10.0) -> tuple[str, Path]:
    """Screenshots of `rect` until two in a row are equal: what the window settled on."""
    previous = ""
    deadline = time.monotonic() + timeout
    while True:
        png = gui.screenshot(name, rect)
        digest = pixel_digest(png)
        if digest == previous or time.monotonic() > deadline:
            return digest, png
        previous = digest
        png.unlink()
        time.sleep(SAMPLE_INTERVAL)


@pytest.fixture(scope="module")
def watched(desk_gui: GuiSession, farm: Farm, module_artifacts: Path) -> Iterator[Run]:
    gui = desk_gui
    shot = desk.save_shot(gui, gui.work / "artist" / "sq010_sh020.blend", frames=FRAMES)
    desk.select_job_type(gui, "simple-blender-render", render_output_root=str(farm.shared / "renders"))
    desk.show_sidebar(gui)
    props = desk.show_output_panel(gui)
    gui.screenshot("window-before-submit")
    # The plain Submit (the batch and scout buttons below it run the same operator).
    submit_at = gui.find_button("PROPERTIES", "flamenco_desk.submit_job", bottom_up=True,
                                command="bpy.ops.flamenco_desk.submit_job()")
    assert props.contains(*submit_at)

    desk.park_pointer(gui)
    statusbar = desk.statusbar_rect(gui)
    baseline, png = stable_digest(gui, statusbar, "statusbar-before")
    run = Run(shot=shot, statusbar=statusbar, baseline=baseline, pictures={baseline: png})

    gui.click(*submit_at)
    clicked = time.monotonic()
    desk.park_pointer(gui)  # where it was for the baseline: the status bar's key hints match

    kick: Optional[threading.Thread] = None
    previous_text: Optional[str] = None
    sidebar_text: Optional[str] = None
    ended_at: Optional[float] = None
    try:
        while True:
            now = time.monotonic() - clicked
            job = desk.farm_job_of(farm.get_json("/api/v3/jobs")["jobs"], shot)
            if job is not None and kick is None:
                run.job_id, run.on_farm_at = job["id"], now
                # An idle Worker asks for work every 20 s; a restarted one at once. In a thread:
                # the window keeps being sampled meanwhile.
                kick = threading.Thread(target=farm.kick_worker, daemon=True)
                kick.start()
            if run.known_at is None and desk.file_job_ids(gui):
                run.known_at = now
            before = indicator(gui)
            png = gui.screenshot("statusbar", statusbar)
            text = indicator(gui)
            digest = pixel_digest(png)
            if digest in run.pictures:
                png.unlink()
            else:
                run.pictures[digest] = png
            run.samples.append(
                Sample(
                    at=now,
                    farm_status=job["status"] if job else "",
                    text=text,
                    stable=before == text == previous_text,
                    digest=digest,
                    listed=bool(run.job_id) and jobs_panel_lists(gui, run.job_id),
                    open_job=(desk.open_job_state(gui) or {}).get("id"),
                )
            )
            if text and text != sidebar_text:  # the sidebar while the job renders, per step
                gui.screenshot("sidebar-while-rendering", gui.region_rect("VIEW_3D", "UI"))
                sidebar_text = text
            previous_text = text
            if job is not None and job["status"] in ("completed", "failed", "canceled"):
                ended_at = now if ended_at is None else ended_at
                # The indicator may take a moment to clear; the tests judge how it ends.
                if not text or now - ended_at > SETTLE_TIMEOUT:
                    break
            if now > JOB_TIMEOUT:
                raise AssertionError(f"the job did not end within {JOB_TIMEOUT:.0f} s: {job}\n{farm.log_tail('worker')}")
            time.sleep(SAMPLE_INTERVAL)
    finally:
        if kick is not None:
            kick.join(60)
    run.final_job = farm.job(run.job_id)
    run.file_job_ids = desk.file_job_ids(gui)

    # The status bar after the job: until it shows what it showed before the click.
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        png = gui.screenshot("statusbar-after", statusbar)
        digest = pixel_digest(png)
        run.settled.append(digest)
        run.pictures.setdefault(digest, png)
        if digest == baseline or time.monotonic() > deadline:
            break
        time.sleep(SAMPLE_INTERVAL)

    # Open the job from the sidebar's list (a real click), with the Submit panel closed to make
    # room, and wait for the Manager's last-rendered image to arrive as the thumbnail.
    desk.click_sidebar_panel_header(gui)
    gui.redraw()
    row = desk.find_in_sidebar(gui, desk.is_operator("flamenco_desk.open_job", run.job_id))
    gui.click(*row)
    gui.wait_until(
        desk.DESK + "mon = desk.watching.monitor\n"
        f"result = bool(mon.open_job and mon.open_job.id == {run.job_id!r} and desk.watching.thumbnail_icon())",
        timeout=60,
    )
    run.elapsed.append((time.monotonic(), elapsed_label(gui)))
    run.monitor = desk.open_job_state(gui)
    desk.park_pointer(gui)
    gui.redraw()
    view = desk.find_in_sidebar(gui, desk.is_operator("flamenco_desk.view_last_rendered"), columns=(0.5,))
    sidebar = gui.region_rect("VIEW_3D", "UI")
    desk.park_pointer(gui)  # no highlight, no tooltip in the picture
    gui.redraw()
    run.sidebar_png = gui.screenshot("sidebar-last-rendered", sidebar)
    # The thumbnail is drawn right above its "View Last Rendered Frame" button.
    row_height = 20
    top = max(sidebar.y, view[1] - row_height // 2 - 8 * row_height)
    run.thumbnail_box = Rect(8, top - sidebar.y, sidebar.width - 36, view[1] - row_height // 2 - top)
    run.job_panel = desk.ui_text(gui, "FLAMENCO_DESK_PT_job")
    # Elapsed, read again a little later: a finished job's time must not keep running.
    time.sleep(max(0.0, run.elapsed[0][0] + 2.5 - time.monotonic()))
    run.elapsed.append((time.monotonic(), elapsed_label(gui)))
    gui.screenshot("window-after")
    run.python_errors = gui.python_errors()
    print(f"screenshots: {module_artifacts}")
    yield run


def active_samples(run: Run) -> list[Sample]:
    return [s for s in run.samples if s.farm_status == "active"]


def test_the_submit_button_sends_the_job_to_the_farm(watched: Run, farm: Farm) -> None:
    job = watched.final_job
    assert job["type"] == "simple-blender-render"
    assert job["settings"]["frames"] == f"{FRAMES[0]}-{FRAMES[1]}"
    # The .blend the Worker rendered: written by Blender in the chroot, read by the Worker on the host.
    blendfile = Path(job["settings"]["blendfile"])
    assert blendfile.is_file() and blendfile.is_relative_to(farm.shared), blendfile
    assert watched.file_job_ids == [job["id"]], "the file remembers the job it submitted"
    assert watched.on_farm_at is not None and watched.on_farm_at < 30, watched.on_farm_at


def test_the_job_is_watched_to_completion_in_the_window(watched: Run) -> None:
    assert watched.final_job["status"] == "completed"
    assert watched.monitor is not None
    assert watched.monitor["id"] == watched.job_id and watched.monitor["status"] == "completed"
    assert watched.monitor["progress"] == 1.0
    assert any(r["kind"] == "progress" and r["factor"] == 1.0 for r in watched.job_panel)


def test_the_statusbar_indicator_text_follows_the_job_and_clears(watched: Run) -> None:
    """What the add-on's status-bar draw function lays out, read through Blender's UI API."""
    shown = [s for s in watched.samples if s.text]
    assert shown, "the indicator never had anything to show"
    assert all(watched.final_job["name"] in s.text for s in shown), {s.text for s in shown}
    assert any(s.text for s in active_samples(watched)), "nothing shown while the job was active"
    percents = [int(m.group(1)) for s in shown if (m := PERCENT.search(s.text))]
    assert percents == sorted(percents) and len(set(percents)) >= 2, percents
    assert watched.samples[-1].text == "", "the indicator clears after the job"


def test_the_statusbar_pixels_follow_the_job_and_clear(watched: Run) -> None:
    """The window itself: the status bar's pixels change with the indicator's text, and return
    to what they were before the click once the job is over. Per text, the picture the status bar
    showed most often while that text was current (a redraw may lag a sample behind)."""
    seen: dict[str, Counter[str]] = {}
    for s in watched.samples:
        if s.stable and s.text:
            seen.setdefault(s.text, Counter())[s.digest] += 1
    shown = {text: pictures.most_common(1)[0][0] for text, pictures in seen.items()}
    assert len(shown) >= 2, seen
    assert any(digest != watched.baseline for digest in shown.values()), "the indicator never showed"
    texts = list(shown)
    for a, b in zip(texts, texts[1:]):
        assert shown[a] != shown[b], f"the status bar showed the same for {a!r} and {b!r}"
    assert watched.settled[-1] == watched.baseline, "the status bar did not clear after the job"


def test_the_new_job_is_listed_and_opened_at_once(watched: Run) -> None:
    assert watched.known_at is not None
    after = [s for s in watched.samples if s.at >= watched.known_at + 1.0]
    assert after and after[0].listed, "the Jobs panel does not list the job a second after submitting"
    assert any(s.open_job == watched.job_id for s in watched.samples if s.farm_status != "completed")


def test_elapsed_stops_when_the_job_ends(watched: Run) -> None:
    (t1, first), (t2, second) = watched.elapsed
    assert t2 - t1 >= 2.0 and first.startswith("Elapsed")
    assert first == second


def test_the_sidebar_shows_the_last_rendered_thumbnail(watched: Run, farm: Farm, module_artifacts: Path) -> None:
    assert watched.monitor is not None and watched.monitor["icon"], watched.monitor
    icons = [r for r in watched.job_panel if r["kind"] == "icon"]
    assert icons and icons[0]["icon_value"] == watched.monitor["icon"]
    # The window shows the Manager's last-rendered image there: the middle of the thumbnail has
    # the colour of the middle of the Manager's small image (the default cube, lit grey).
    info = farm.get_json(f"/api/v3/jobs/{watched.job_id}/last-rendered")
    small = module_artifacts / "manager-last-rendered-small.jpg"
    small.write_bytes(farm.get_raw(f"{info['base']}/last-rendered-small.jpg"))
    width, height, _ = rgb_pixels(small)
    expected = mean_rgb(small, Rect(width * 2 // 5, height * 2 // 5, max(1, width // 5), max(1, height // 5)))
    assert watched.sidebar_png is not None and watched.thumbnail_box is not None
    cx, cy = watched.thumbnail_box.center
    shown = mean_rgb(watched.sidebar_png, Rect(cx - 10, cy - 10, 20, 20))
    assert max(abs(a - b) for a, b in zip(shown, expected)) <= 20, (shown, expected)
    background = mean_rgb(watched.sidebar_png, Rect(watched.thumbnail_box.x, watched.thumbnail_box.y, 6, 6))
    assert max(abs(a - b) for a, b in zip(shown, background)) > 20, "the middle of the box is not the panel's background"


def mean_rgb(png: Path, rect: Rect) -> tuple[float, float, float]:
    width, height, data = rgb_pixels(png, rect)
    n = width * height
    return (sum(data[0::3]) / n, sum(data[1::3]) / n, sum(data[2::3]) / n)


def test_no_python_error_in_blenders_output(watched: Run) -> None:
    assert watched.python_errors == []
