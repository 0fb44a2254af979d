"""Watching jobs from Blender: the Manager's event stream and the bounded poll loop on the
add-on's timer, notifications and the last-rendered thumbnail. The bookkeeping itself is
bpy-free (`core.monitor`, `core.live`)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import bpy

from . import profiles, props, state
from .api import errors
from .api.client import ManagerClient
from .api.event_stream import StreamState, StreamStatus
from .core import doctor_watch
from .core import live as core_live
from .core import monitor as core_monitor
from .core.plain_text import one_line
from .runtime import timer

log = logging.getLogger(__name__)
POLL_KEY = "monitor-poll"
# Polling stops when nothing is watched and no job panel was drawn for this long.
PANEL_INTEREST_SECONDS = 30.0

monitor = core_monitor.Monitor()
_panel_seen_at = 0.0
_farm_seen_at = 0.0
_live: Optional[core_live.LiveLink] = None
_live_key: Optional[tuple[str, float, float]] = None
# Extra EventStream options (tests shorten the reconnect backoff with retry_max).
stream_options: dict[str, Any] = {}
_client: Optional[ManagerClient] = None
_client_key: Optional[tuple[str, float, float]] = None
_previews: Any = None


@dataclass
class Notice:
    """A message that stays in the panels until the artist dismisses it."""

    text: str
    icon: str
    job_id: str


notices: list[Notice] = []
# Called (main thread) after each poll result is applied, e.g. to redraw the status bar.
apply_listeners: list[Callable[[], None]] = []


def panel_drawn() -> None:
    """Panels showing jobs call this: someone is looking, so keep the list fresh."""
    global _panel_seen_at
    _panel_seen_at = time.monotonic()


def farm_panel_drawn() -> None:
    """The farm panel calls this: keep workers, tags and the farm status current."""
    global _farm_seen_at
    _farm_seen_at = time.monotonic()


_doctor_seen_at = 0.0
DOCTOR_KEY = "monitor-doctor"


def doctor_drawn() -> None:
    """The Job panel's findings call this: keep what the open job's diagnosis needs current
    (the Workers, tags, the job's blocklist; core/doctor_watch.py)."""
    global _doctor_seen_at
    _doctor_seen_at = time.monotonic()


def _diagnose() -> None:
    """When what the open job's findings depend on changed: diagnose it again from a snapshot,
    on a background thread (core/doctor.py); the result is only swapped in."""
    doctor = monitor.doctor
    now = monitor.clock()
    if not monitor.doctoring() or not doctor.due(monitor, now) or timer.bridge.busy(DOCTOR_KEY):
        return
    facts = doctor.facts(monitor)
    doctor.dirty, doctor.next_at = False, now + doctor_watch.DIAGNOSE_SPACING

    def done(diagnosis: object) -> None:
        assert isinstance(diagnosis, doctor_watch.Diagnosis)
        if diagnosis.job_id == monitor.open_job_id:
            monitor.doctor.diagnosis = diagnosis
            state.redraw()

    def failed(ex: BaseException) -> None:  # a bug: say so rather than show stale findings
        log.error("Flamenco Desk: diagnosing the job failed: %s", state.describe_error(ex))
        monitor.doctor.diagnosis = None

    timer.run(lambda: doctor_watch.run(facts), done, failed, key=DOCTOR_KEY)


def _views_all_jobs() -> bool:
    if time.monotonic() - _panel_seen_at >= PANEL_INTEREST_SECONDS:
        return False
    ui = getattr(bpy.context.window_manager, "flamenco_desk_ui", None)
    return ui is not None and ui.list_scope == "ALL"


def poll_client() -> ManagerClient:
    """A client of its own, without inline retries: the monitor schedules its own backoff
    (honouring Retry-After) instead of keeping a thread busy."""
    global _client, _client_key
    base = state.client()
    key = (base.base_url, base.connect_timeout, base.read_timeout)
    if _client is None or _client_key != key:
        if _client is not None:
            _client.close()
        _client = ManagerClient(key[0], connect_timeout=key[1], read_timeout=key[2], max_retries=0)
        _client_key = key
    return _client


def file_job_ids() -> set[str]:
    return {ref.job_id for scene in bpy.data.scenes for ref in props.scene_props(scene).jobs if ref.job_id}


def _wanted() -> bool:
    if monitor.open_job_id or monitor.want_farm:
        return True
    if time.monotonic() - _panel_seen_at < PANEL_INTEREST_SECONDS:
        return True
    # Jobs of this file that have not finished yet, as far as we know.
    for job_id in monitor.watched_ids:
        job = monitor.jobs.get(job_id)
        if job is None or job.status not in ("completed", "failed", "canceled"):
            return True
    return False


_thumbnail_dir: Optional[Path] = None


def thumbnail_dir() -> Path:
    # Asked on every tick that may poll; Blender's extension_path_user touches the disk.
    global _thumbnail_dir
    if _thumbnail_dir is None:
        _thumbnail_dir = state.cache_dir() / "thumbnails"
    return _thumbnail_dir


def tick_hook() -> None:
    """Runs on every timer tick (main thread): keep the event stream's subscriptions to what
    is watched, and start a poll when one is due."""
    if not state.online_allowed():
        stop_live()
        return
    info = state.info()
    if info is None:  # never connected to this Manager: the submit panel's refresh comes first
        return
    monitor.watched_ids = profiles.job_ids_on(state.manager_url())  # other Managers': manager_watches.py
    monitor.want_list = _views_all_jobs()
    monitor.want_farm = time.monotonic() - _farm_seen_at < PANEL_INTEREST_SECONDS
    monitor.want_doctor = time.monotonic() - _doctor_seen_at < PANEL_INTEREST_SECONDS
    monitor.can_set_tag = info.features.settag
    wanted = _wanted()
    try:
        client = poll_client()
    except ValueError as ex:  # no valid Manager URL
        monitor.error = str(ex)
        monitor.next_poll_at = monitor.clock() + core_monitor.IDLE_INTERVAL
        return
    _keep_live(client, wanted)
    _diagnose()
    if not wanted or timer.bridge.busy(POLL_KEY) or not monitor.due():
        return
    client.use_features(info.features)
    plan = monitor.plan(thumbnail_dir(), can_list=info.features.jobs_list, has_steps=info.features.steps)
    if not plan.requests:
        return
    timer.run(lambda: core_monitor.poll(client, plan), _apply, _crashed, key=POLL_KEY)


def _keep_live(client: ManagerClient, wanted: bool) -> None:
    """One event stream per Manager URL and timeouts, started the first time something is
    watched; its subscriptions follow what is watched."""
    global _live, _live_key
    key = (client.base_url, client.connect_timeout, client.read_timeout)
    if _live is not None and _live_key != key:
        stop_live()
    if _live is None:
        if not wanted:
            return
        _live = core_live.LiveLink(
            key[0], monitor, timer.bridge.post, connect_timeout=key[1], read_timeout=key[2],
            on_applied=_after_change, **stream_options,
        )
        _live_key = key
        _live.start()
    _live.update(active=wanted)


def stop_live() -> None:
    """Returns at once: the stream's thread ends by itself."""
    global _live, _live_key
    if _live is not None:
        _live.stop()
    _live = _live_key = None
    if monitor.stream is not None:
        monitor.set_stream(StreamStatus(StreamState.STOPPED))
        monitor.stream = None


def _crashed(ex: BaseException) -> None:
    # poll() turns Manager errors into results; anything else is a bug, shown not hidden.
    monitor.apply(core_monitor.PollResult(error=errors.FlamencoError(f"Monitoring failed: {state.describe_error(ex)}")))


def _apply(result: object) -> None:
    assert isinstance(result, core_monitor.PollResult)
    recovering = monitor.failures > 0
    monitor.apply(result)
    if result.thumbnail is not None:
        _load_thumbnail(result.thumbnail)
    if recovering and monitor.failures == 0 and _live is not None:
        _live.stream.retry_now()  # the Manager answers again: its stream may be back too
    _after_change()


def _after_change() -> None:
    """After a poll or a slice of events was applied (main thread)."""
    _sync_file_refs()
    events, monitor.events = monitor.events, []
    for event in events:
        _notify(event)
    _report_findings()
    if bpy.app.background:
        _print_progress()
    for listener in list(apply_listeners):
        listener()
    state.redraw()


_last_printed: Optional[tuple[str, str, int, int, int]] = None


def _print_progress() -> None:
    """Without a UI (blender -b), the watched job's progress goes to the console."""
    global _last_printed
    job = monitor.open_job
    if job is None:
        return
    done = monitor.task_counts.get("completed", 0)
    key = (job.id, job.status, job.steps_completed, job.steps_total, done)
    if key == _last_printed:
        return
    _last_printed = key
    eta = monitor.eta_seconds()
    tasks = f", tasks {done}/{len(monitor.tasks)}" if monitor.tasks else ""
    print(
        f'Flamenco Desk: job "{one_line(job.name)}" {one_line(job.status, 40)} {int(round(monitor.progress(job) * 100))}%'
        f" (steps {job.steps_completed}/{job.steps_total}{tasks})"
        + (f", ETA {core_monitor.duration(eta)}" if eta else ""),
        flush=True,
    )


def _sync_file_refs() -> None:
    for scene in bpy.data.scenes:
        for ref in props.scene_props(scene).jobs:
            job = monitor.jobs.get(ref.job_id)
            if job is not None and ref.status != job.status:
                ref.status = job.status  # only on change: every write marks the file dirty


# -- thumbnails -------------------------------------------------------------------------------


def previews() -> Any:
    global _previews
    if _previews is None:
        import bpy.utils.previews

        _previews = bpy.utils.previews.new()
    return _previews


def thumbnail_icon() -> int:
    if monitor.thumbnail is None or monitor.open_job_id is None:
        return 0
    key = f"{monitor.open_job_id}-{monitor.thumbnail_version}"
    pcoll = previews()
    return int(pcoll[key].icon_id) if key in pcoll else 0


def _load_thumbnail(path: Path) -> None:
    pcoll = previews()
    key = f"{monitor.open_job_id}-{monitor.thumbnail_version}"
    # Only the newest frame is shown: release the older previews (and their memory).
    for old in [k for k in pcoll.keys() if k != key]:
        del pcoll[old]
    if key not in pcoll:
        pcoll.load(key, str(path), "IMAGE")


# -- notifications ----------------------------------------------------------------------------


def _notify(event: core_monitor.JobEvent) -> None:
    job = event.job
    ok = job.status == "completed"
    text = f'Flamenco job "{one_line(job.name)}" {"completed" if ok else "failed"}'
    notices.append(Notice(text, "CHECKMARK" if ok else "ERROR", job.id))
    print(f"Flamenco Desk: {text}")
    prefs = bpy.context.preferences.addons[state.ADDON_ID].preferences
    if getattr(prefs, "desktop_notifications", False):
        desktop_notification("Flamenco Desk", text)
    if getattr(prefs, "notification_sound", False) and not bpy.app.background:
        _beep(ok)


_reported: set[tuple[str, str]] = set()


def _report_findings() -> None:
    """Say once what the open job's task logs told: why a task failed, or that a GPU job
    rendered on the CPU. A notice in the panel, and a line on the console (blender -b)."""
    job_id = monitor.open_job_id
    if job_id is None:
        return
    messages = []
    if monitor.failure is not None:
        messages.append(monitor.failure.failure_message())
    if monitor.cpu_fallback is not None:
        messages.append(monitor.cpu_fallback.cpu_fallback_message())
    for message in messages:
        if (job_id, message) in _reported:
            continue
        _reported.add((job_id, message))
        notices.append(Notice(message, "ERROR", job_id))
        print(f"Flamenco Desk: {message}", flush=True)


def desktop_notification(title: str, text: str) -> bool:
    """Best effort and never blocking: only where the platform has a notifier."""
    if sys.platform.startswith("linux"):
        cmd = ["notify-send", title, text] if shutil.which("notify-send") else None
    elif sys.platform == "darwin":
        script = f'display notification "{text.replace(chr(34), chr(39))}" with title "{title}"'
        cmd = ["osascript", "-e", script] if shutil.which("osascript") else None
    else:
        cmd = None
    if cmd is None:
        return False
    try:
        subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return False
    return True


def _beep(ok: bool) -> None:
    try:
        import aud

        sound = aud.Sound.sine(880 if ok else 330).limit(0, 0.25).volume(0.3)
        aud.Device().play(sound)
    except Exception:  # noqa: BLE001 - no audio device is not an error worth showing
        log.info("no sound device for the notification")


def _manager_changed() -> None:
    global _panel_seen_at, _farm_seen_at, _thumbnail_dir, _doctor_seen_at
    stop_live()
    _thumbnail_dir = None
    monitor.reset()
    notices.clear()
    _reported.clear()
    _panel_seen_at = _farm_seen_at = _doctor_seen_at = 0.0


def register() -> None:
    if tick_hook not in timer.tick_hooks:
        timer.tick_hooks.append(tick_hook)
    state.url_listeners.append(_manager_changed)


def unregister() -> None:
    global _previews, _client, _client_key
    stop_live()
    if tick_hook in timer.tick_hooks:
        timer.tick_hooks.remove(tick_hook)
    if _previews is not None:
        import bpy.utils.previews

        bpy.utils.previews.remove(_previews)
        _previews = None
    if _client is not None:
        _client.close()
    _client = _client_key = None
    notices.clear()
    _reported.clear()
    monitor.reset()
