"""The background bridge: work never runs on the caller's thread, results only in drain()."""

from __future__ import annotations

import threading
import time

from flamenco_desk_src.runtime.bridge import Bridge


def wait(cond, timeout=5.0):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_results_arrive_only_through_drain_and_keys_track_work() -> None:
    bridge = Bridge()
    release = threading.Event()
    seen: list[object] = []
    caller = threading.get_ident()
    bridge.run(lambda: (release.wait(5), threading.get_ident())[1], seen.append, key="k")
    assert bridge.busy("k") and bridge.pending()
    assert bridge.drain().handled == 0
    release.set()
    wait(lambda: bridge.drain().handled == 1)
    assert seen and seen[0] != caller
    assert not bridge.busy("k") and not bridge.pending()


def test_hung_work_does_not_hold_up_other_work() -> None:
    bridge = Bridge(max_workers=3)
    hung = threading.Event()
    seen: list[str] = []
    bridge.run(lambda: hung.wait(10) and "late", seen.append)
    bridge.run(lambda: "quick", seen.append)
    wait(lambda: bool(bridge.drain().handled))
    assert seen == ["quick"]
    hung.set()


def test_errors_reach_on_error_and_a_failing_callback_does_not_stop_others() -> None:
    bridge = Bridge()
    errors: list[BaseException] = []
    ok: list[int] = []

    def boom() -> int:
        raise ValueError("no")

    def bad_callback(_: object) -> None:
        raise RuntimeError("callback broke")

    bridge.run(boom, ok.append, errors.append, key="a")
    bridge.run(lambda: 1, bad_callback, key="b")
    bridge.run(lambda: 2, ok.append, key="c")
    broken: list[str] = []

    def all_done() -> bool:
        broken.extend(bridge.drain(1.0).errors)
        return not bridge.pending()

    wait(all_done)
    assert len(broken) == 1 and "callback broke" in broken[0]
    assert [type(e) for e in errors] == [ValueError]
    assert ok == [2]


def test_drain_respects_its_budget_but_always_makes_progress() -> None:
    bridge = Bridge()
    slow: list[int] = []

    def slow_callback(v: object) -> None:
        time.sleep(0.01)
        slow.append(1)

    for _ in range(10):
        bridge.post(slow_callback)
    stats = bridge.drain(budget_seconds=0.0)
    assert stats.handled == 1
    stats = bridge.drain(budget_seconds=0.025)
    # Stops once the budget is spent (oversleeping under load only makes it stop sooner).
    assert 1 <= stats.handled <= 4
    assert sum(slow) == 1 + stats.handled


def test_shutdown_retires_threads_and_new_work_still_runs() -> None:
    bridge = Bridge(max_workers=1)
    hung = threading.Event()
    bridge.run(lambda: hung.wait(10))
    bridge.shutdown()
    seen: list[str] = []
    bridge.run(lambda: "after", seen.append)
    wait(lambda: bool(bridge.drain().handled))
    assert seen == ["after"]
    hung.set()


def test_wait_for_gives_up_at_its_timeout() -> None:
    bridge = Bridge()
    hung = threading.Event()
    bridge.run(lambda: hung.wait(10), key="slow")
    start = time.monotonic()
    assert bridge.wait_for("slow", timeout=0.2) is False
    assert time.monotonic() - start < 1.0
    hung.set()
    assert bridge.wait_for("slow", timeout=5) is True
