"""Runtime state shared by operators and panels, and the Manager connection.

Everything here runs on the main thread; network work is handed to `runtime.timer.run`
and its results come back through the timer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import bpy

from .api import errors
from .api.client import ManagerClient
from .api.models import JobType
from .core import manager_info, plain_text
from .core.manager_info import ManagerInfo
from .runtime import timer

log = logging.getLogger(__name__)
ADDON_ID = __package__
REFRESH_KEY = "manager-refresh"


@dataclass(frozen=True)
class StatusLine:
    text: str
    icon: str = "NONE"
    at: float = 0.0


_client: Optional[ManagerClient] = None
_client_key: Optional[tuple[str, float, float]] = None
_info: Optional[ManagerInfo] = None
_cache_loaded_for: Optional[str] = None
_connection: Optional[StatusLine] = None
# Listeners called (main thread) after Manager info changed, e.g. to rebuild settings.
info_listeners: list[Callable[[ManagerInfo], None]] = []
# Listeners called when the Manager URL changes (what we knew is about another farm).
url_listeners: list[Callable[[], None]] = []


def online_allowed() -> bool:
    """Whether Blender may go online (Preferences > System > Network). Here, below operators
    and watching, so the operators' poll() and the background monitor share one check."""
    return bool(bpy.app.online_access)


def _prefs() -> object:
    return bpy.context.preferences.addons[ADDON_ID].preferences


def manager_url() -> str:
    return str(getattr(_prefs(), "manager_url", "")).strip()


def client() -> ManagerClient:
    """The client for the configured Manager. Creating it does no I/O."""
    global _client, _client_key
    prefs = _prefs()
    key = (manager_url(), float(getattr(prefs, "connect_timeout")), float(getattr(prefs, "read_timeout")))
    if _client is None or _client_key != key:
        if _client is not None:
            _client.close()
        _client = ManagerClient(key[0], connect_timeout=key[1], read_timeout=key[2])
        _client_key = key
    return _client


def cache_dir() -> Path:
    return Path(bpy.utils.extension_path_user(ADDON_ID, path="", create=True))


def info() -> Optional[ManagerInfo]:
    """The Manager info, from the last refresh or (until then) from the disk cache."""
    global _cache_loaded_for
    try:
        url = client().base_url
    except ValueError:
        return None
    if _info is not None and _info.url == url:
        return _info
    if _cache_loaded_for != url:
        _cache_loaded_for = url
        cached = manager_info.load(cache_dir(), url)
        if cached is not None:
            _set_info(cached)
    return _info if _info is not None and _info.url == url else None


def _set_info(new: ManagerInfo) -> None:
    global _info
    _info = new
    for listener in list(info_listeners):
        try:
            listener(new)
        except Exception:  # noqa: BLE001 - one listener must not block the others
            log.exception("Manager info listener failed")
    redraw()


def manager_url_changed() -> None:
    global _connection
    _connection = None
    for listener in list(url_listeners):
        listener()
    redraw()


def connection_line() -> Optional[StatusLine]:
    return _connection


def set_connection(text: str, icon: str) -> None:
    global _connection
    _connection = StatusLine(text, icon, time.time())
    redraw()


def describe_error(ex: BaseException) -> str:
    if isinstance(ex, errors.FlamencoError):
        return str(ex)
    return f"{type(ex).__name__}: {ex}"


def refresh() -> bool:
    """Start fetching Manager info in the background. False if one is already running."""
    if timer.bridge.busy(REFRESH_KEY):
        return False
    try:
        the_client = client()
    except ValueError as ex:
        set_connection(str(ex), "ERROR")
        return False
    directory = cache_dir()

    def work() -> ManagerInfo:
        fresh = manager_info.fetch(the_client)
        try:
            manager_info.save(fresh, directory)  # disk write stays off the main thread too
        except OSError as ex:
            log.warning("could not write the Manager cache: %s", ex)
        return fresh

    def ok(fresh: object) -> None:
        assert isinstance(fresh, ManagerInfo)
        set_connection(f"Connected to {fresh.version.name} (Flamenco {fresh.version.version})", "CHECKMARK")
        if bpy.app.background:  # the panel lists them; a script's log must too (one line each)
            for problem in fresh.job_type_problems:
                print(f"Flamenco Desk: Left out: {plain_text.one_line(problem)}", flush=True)
        _set_info(fresh)

    def failed(ex: BaseException) -> None:
        set_connection(f"Manager not reachable: {describe_error(ex)}", "ERROR")

    set_connection("Contacting the Manager…", "SORTTIME")
    timer.run(work, ok, failed, key=REFRESH_KEY)
    return True


def redraw() -> None:
    wm = getattr(bpy.context, "window_manager", None)
    if wm is None:
        return
    for window in wm.windows:
        for area in window.screen.areas:
            area.tag_redraw()


def redraw_statusbar() -> None:
    """The status bar is not among a screen's areas, so `redraw` does not reach it: asking the
    workspace to reset its status text is what redraws it (as Blender's own progress
    reports do). It also clears a status text a modal tool set; such tools set theirs again
    on their next event, and this runs only when the indicator changes."""
    wm = getattr(bpy.context, "window_manager", None)
    if wm is None:
        return
    for window in wm.windows:
        try:
            with bpy.context.temp_override(window=window):
                window.workspace.status_text_set_internal(None)
        except (AttributeError, RuntimeError, TypeError):
            log.debug("could not redraw the status bar of a window", exc_info=True)


def reset() -> None:
    """Forget everything (unregister)."""
    global _client, _client_key, _info, _cache_loaded_for, _connection
    if _client is not None:
        _client.close()
    _client = _client_key = _info = _cache_loaded_for = _connection = None
    info_listeners.clear()
    url_listeners.clear()


def replace_job_type(fresh: object, name: Optional[str]) -> None:
    """After a 412: put the Manager's current definition (or its absence) in place."""
    current = info()
    if current is None or not name:
        return
    job_types = dict(current.job_types)
    if isinstance(fresh, JobType):
        job_types[fresh.name] = fresh
    else:
        job_types.pop(name, None)
    updated = ManagerInfo(current.url, current.version, current.storage, job_types, current.tags, current.variables)
    _set_info(updated)
    directory = cache_dir()
    timer.run(lambda: manager_info.save(updated, directory))
