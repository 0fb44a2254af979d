"""The fault table's short form: one row of each fault kind from bench/faults.py, against real
Managers and a real Worker of their own (the bench's farms: they are frozen, killed and
replaced, so not the session's farm), the add-on in real Blender. Each row must keep the
table's promises: at most one job, the artist's .blend byte for byte, no main-thread hold
above the project's bound, recovery without restarting Blender, nothing left on shared storage.
The full table (52 rows) is `bench/faults.py`; its latest output is docs/faults.md."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import bpy

ROOT = Path(__file__).resolve().parents[2]


def _bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_fault_table", ROOT / "bench" / "faults.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


table = _bench_module()

# One row per fault kind, the cheapest moment of each (a frozen Manager costs its 5 s).
SHORT_FORM = (
    "post-before:freeze",  # frozen before storing: it stores the job once resumed; the next submit finds it
    "post-after:kill",  # killed after storing the job: the lost answer is looked up, not resubmitted
    "post-before:kill",  # killed before: the next submit finds no job, packs anew, the first pack removed
    "refresh:swap",  # the other release on the same port
    "monitor:swap",  # ... while a job is watched: it is "gone", then found again once swapped back
    "post-after:drop",
    "check:slow",
    "post-after:cut",
    "post-before:502",  # a gateway's 502 is a lost answer, not a refusal ...
    "post-after:502",  # ... which matters once the Manager did store the job: one job, not two
    "monitor:worker",
    "pack:full",
    "pack:frozen",  # a FUSE share that stops answering while packing (a background thread waits)
    "upload:open",
    "pack:quit",
)


@pytest.fixture(scope="module")
def rows(desk: ModuleType, release: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    if os.geteuid() != 0:
        pytest.fail("the fault table mounts a tmpfs (shared storage full): run as root, as CI does", pytrace=False)
    import local_farm

    prefs = bpy.context.preferences.addons[table.MODULE].preferences
    saved = (prefs.manager_url, prefs.connect_timeout, prefs.read_timeout)
    work = tmp_path_factory.mktemp("fault-table")
    with table.Bench(desk, work, release, local_farm.worker_blender_for(tuple(bpy.app.version))) as bench:
        done = table.run_rows(bench, set(SHORT_FORM), echo=False)
    prefs = bpy.context.preferences.addons[table.MODULE].preferences  # the quit row re-registered
    prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = saved
    bpy.ops.wm.read_homefile(use_empty=True)
    print("\n" + table.table(done, release, bpy.app.version_string))
    yield {row.key: row for row in done}


@pytest.mark.parametrize("key", SHORT_FORM)
def test_row_keeps_the_promises(rows: dict[str, object], key: str) -> None:
    row = rows[key]
    assert not row.problems(), f"{row.markdown()}\n{row.problems()}"  # type: ignore[attr-defined]
    assert row.saw, "the artist was told something"  # type: ignore[attr-defined]


def test_a_lost_submission_answer_gives_exactly_one_job(rows: dict[str, object]) -> None:
    # The rows where the Manager stored the job but the answer never came: exactly one job,
    # found again rather than made twice.
    for key in ("post-after:kill", "post-after:drop", "post-after:cut", "post-after:502", "post-before:freeze"):
        assert rows[key].jobs == 1, rows[key].markdown()  # type: ignore[attr-defined]


def test_the_gateway_page_is_named_not_pasted(rows: dict[str, object]) -> None:
    saw = rows["post-before:502"].saw  # type: ignore[attr-defined]
    assert "Bad Gateway" in saw and "<html>" not in saw and "<center>" not in saw


def test_full_storage_is_said_and_cleaned_up(rows: dict[str, object]) -> None:
    row = rows["pack:full"]
    assert "No space left on device" in row.saw and not row.leftovers  # type: ignore[attr-defined]
