# mypy: disable-error-code="union-attr,override,attr-defined"
# (Blender-facing: fake-bpy-module types every context member as Optional, see mypy.ini.)
"""Watching this file's jobs on the Managers other than the active one (several Managers).

`watching.monitor` follows the active Manager (the open job, All Jobs, the farm), as before.
Each other Manager that has jobs of this file gets a `Watch` of its own: a `core.monitor.Monitor`
that watches only those jobs, its own event stream (`core.live.LiveLink`) and its own poll client,
and its own features, detected from its own `/api/v3/version` (one Manager may be 3.6, another
3.8). Everything runs on the add-on's timer like the main monitor: requests on background
threads, results applied on the main thread.

Job actions (operators/jobs.py) and results ask here for the client and the Manager info of the
Manager the job is on (`client_for_job`, `info_for_job`).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Optional

import bpy

from . import profiles, props, state, watching
from .api import errors
from .api.client import ManagerClient
from .api.models import Job
from .core import live as core_live
from .core import manager_info
from .core import monitor as core_monitor
from .core.manager_info import ManagerInfo
from .runtime import timer

log = logging.getLogger(__name__)
INFO_RETRY_SECONDS = 10.0


def _timeouts() -> tuple[float, float]:
    prefs = bpy.context.preferences.addons[state.ADDON_ID].preferences
    return float(getattr(prefs, "connect_timeout")), float(getattr(prefs, "read_timeout"))


class Watch:
    """This file's jobs on one Manager that is not the active one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.monitor = core_monitor.Monitor()
        self.info: Optional[ManagerInfo] = None  # version (features), variables, tags
        self.info_error = ""
        self._info_at = 0.0  # no info request before
        self._client: Optional[ManagerClient] = None
        self._key: Optional[tuple[float, float]] = None
        self.live: Optional[core_live.LiveLink] = None

    @property
    def poll_key(self) -> str:
        return f"{watching.POLL_KEY}:{self.url}"

    def client(self) -> ManagerClient:
        """Without inline retries, as the main monitor's: the monitor schedules its backoff."""
        key = _timeouts()
        if self._client is None or self._key != key:
            self.stop()
            self._client = ManagerClient(self.url, connect_timeout=key[0], read_timeout=key[1], max_retries=0)
            self._key = key
        return self._client

    def tick(self, job_ids: set[str]) -> None:
        mon = self.monitor
        mon.watched_ids = job_ids
        client = self.client()
        if self.info is None:
            self._fetch_info()
            return
        unfinished = any(mon.jobs.get(i) is None or mon.jobs[i].status not in core_monitor.FINAL_STATES for i in job_ids)
        wanted = unfinished or time.monotonic() - watching._panel_seen_at < watching.PANEL_INTEREST_SECONDS
        if self.live is None and wanted:
            self.live = core_live.LiveLink(
                self.url, mon, timer.bridge.post, connect_timeout=client.connect_timeout,
                read_timeout=client.read_timeout, on_applied=self._after_change, **watching.stream_options,
            )
            self.live.start()
        if self.live is not None:
            self.live.update(active=wanted)
        if not wanted or timer.bridge.busy(self.poll_key) or not mon.due():
            return
        features = self.info.features
        client.use_features(features)
        plan = mon.plan(None, can_list=features.jobs_list, has_steps=features.steps)
        if plan.requests:
            timer.run(lambda: core_monitor.poll(client, plan), self._apply, self._crashed, key=self.poll_key)

    def _fetch_info(self) -> None:
        key = f"manager-info:{self.url}"
        if timer.bridge.busy(key) or time.monotonic() < self._info_at:
            return
        self._info_at = time.monotonic() + INFO_RETRY_SECONDS
        connect, read = _timeouts()
        url = self.url

        def work() -> ManagerInfo:
            with ManagerClient(url, connect_timeout=connect, read_timeout=read) as fetching:
                return manager_info.fetch(fetching)

        def ok(fresh: object) -> None:
            assert isinstance(fresh, ManagerInfo)
            self.info, self.info_error = fresh, ""
            state.redraw()

        def failed(ex: BaseException) -> None:
            self.info_error = f"{profiles.name_for(url)} not reachable: {state.describe_error(ex)}"
            self.monitor.error = self.info_error

        timer.run(work, ok, failed, key=key)

    def _apply(self, result: object) -> None:
        assert isinstance(result, core_monitor.PollResult)
        recovering = self.monitor.failures > 0
        self.monitor.apply(result)
        if recovering and self.monitor.failures == 0 and self.live is not None:
            self.live.stream.retry_now()
        self._after_change()

    def _crashed(self, ex: BaseException) -> None:
        self.monitor.apply(core_monitor.PollResult(
            error=errors.FlamencoError(f"Monitoring failed: {state.describe_error(ex)}")))

    def _after_change(self) -> None:
        mon = self.monitor
        for scene in bpy.data.scenes:
            for ref in props.scene_props(scene).jobs:
                job = mon.jobs.get(ref.job_id)
                if job is not None and ref.status != job.status:
                    ref.status = job.status
        events, mon.events = mon.events, []
        for event in events:
            watching._notify(event)
        for listener in list(watching.apply_listeners):
            listener()
        state.redraw()

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
        if self._client is not None:
            self._client.close()
            self._client = None


watches: dict[str, Watch] = {}
_clients: dict[tuple[str, float, float], ManagerClient] = {}


def tick_hook() -> None:
    """Every timer tick: a Watch for each other Manager with jobs of this file, none for others."""
    if not state.online_allowed():
        stop_all()
        return
    prefs = bpy.context.preferences.addons[state.ADDON_ID].preferences
    profiles.ensure(prefs)  # the old single URL becomes the first profile (timer: writes allowed)
    if profiles.refresh_pending and not timer.bridge.busy(state.REFRESH_KEY):
        profiles.refresh_active()
    active = profiles.active_url()
    by_url = {url: set(ids) for url, ids in profiles.file_jobs().items() if url != active}
    for url in [u for u in watches if u not in by_url]:
        watches.pop(url).stop()
    for url, ids in by_url.items():
        watch = watches.get(url)
        if watch is None:
            watch = watches[url] = Watch(url)
        watch.tick(ids)


def stop_all() -> None:
    for watch in watches.values():
        watch.stop()
    watches.clear()


# -- which Manager a job is on: for the job list, actions and results --------------------------


def _owner(job_id: str) -> Optional[Watch]:
    """The Watch of the Manager the job is on, or None for the active Manager."""
    return watches.get(profiles.manager_of(job_id)) if watches else None


def find_job(job_id: str) -> Optional[Job]:
    watch = _owner(job_id)
    mon = watching.monitor if watch is None else watch.monitor
    return mon.jobs.get(job_id) or (mon.open_job if mon.open_job_id == job_id else None)


def info_for_job(job_id: str) -> Optional[ManagerInfo]:
    watch = _owner(job_id)
    return state.info() if watch is None else watch.info


def client_for_job(job_id: str) -> ManagerClient:
    """A client (with retries, like state.client) for the Manager the job is on."""
    watch = _owner(job_id)
    if watch is None:
        return state.client()
    connect, read = _timeouts()
    key = (watch.url, connect, read)
    client = _clients.get(key)
    if client is None:
        for old in [k for k in _clients if k[0] == watch.url]:
            _clients.pop(old).close()
        client = _clients[key] = ManagerClient(watch.url, connect_timeout=connect, read_timeout=read)
    if watch.info is not None:
        client.use_features(watch.info.features)
    return client


def poll_soon(job_id: str) -> None:
    """After an action on a job: re-read it on its own Manager."""
    watch = _owner(job_id)
    (watching.monitor if watch is None else watch.monitor).poll_soon()


def file_jobs_known() -> list[Job]:
    """This file's jobs, as far as they are known, from every Manager."""
    found: list[Job] = []
    for url, ids in profiles.file_jobs().items():
        watch = watches.get(url)
        mon = watching.monitor if watch is None else watch.monitor
        found += [mon.jobs[i] for i in ids if i in mon.jobs]
    return found


def manager_label(job_id: str) -> str:
    """The name of the job's Manager, for the job list; empty while there is only one Manager."""
    prefs = bpy.context.preferences.addons[state.ADDON_ID].preferences
    if len(prefs.managers) < 2:
        return ""
    return profiles.name_for(profiles.manager_of(job_id))


def register() -> None:
    if tick_hook not in timer.tick_hooks:
        timer.tick_hooks.append(tick_hook)


def unregister() -> None:
    if tick_hook in timer.tick_hooks:
        timer.tick_hooks.remove(tick_hook)
    stop_all()
    for client in _clients.values():
        client.close()
    _clients.clear()


__all__ = ["Watch", "watches", "tick_hook", "find_job", "info_for_job", "client_for_job", "file_jobs_known",
           "manager_label", "poll_soon"]
