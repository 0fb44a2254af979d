"""Per-scene properties saved in the .blend: chosen job type, job options, submitted jobs."""


import time
from typing import Any, Callable

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, IntProperty, PointerProperty, StringProperty

from . import state
from .jobtypes import registry

NO_TAG = "-"
# Menu entry for "no job type": an empty identifier would make it an unselectable heading.
NO_JOB_TYPE = "NONE"
# Blender may crash if dynamic enum item strings are garbage collected while shown.
_enum_cache: dict[str, list[tuple[str, str, str]]] = {}


def _job_type_items(self: Any, context: Any) -> list[tuple[str, str, str]]:
    info = state.info()
    items = [(NO_JOB_TYPE, "None", "No job type selected")]
    if info is not None:
        items += [(jt.name, jt.label or jt.name, jt.description or "") for jt in info.job_types.values()]
    selected = getattr(self, "job_type", "")
    if selected and all(i[0] != selected for i in items):
        items.append((selected, f"{selected} (not on the Manager)", "This job type is not offered by the Manager"))
    _enum_cache["job_types"] = items
    return items


def _enum_view(items_of: Callable[[Any, Any], list[tuple[str, str, str]]], attr: str,
               none_id: str) -> tuple[Callable[[Any], int], Callable[[Any, int], None]]:
    """get/set of an enum that shows the string property `attr` (the enum's items change with
    the Manager, the string is what the .blend keeps); `none_id` stands for an empty string."""
    def get(self: Any) -> int:
        wanted = getattr(self, attr) or none_id
        return next((index for index, item in enumerate(items_of(self, None)) if item[0] == wanted), 0)

    def set_(self: Any, value: int) -> None:
        items = items_of(self, None)
        if 0 <= value < len(items):
            setattr(self, attr, "" if items[value][0] == none_id else items[value][0])

    return get, set_


_get_job_type_enum, _set_job_type_enum = _enum_view(_job_type_items, "job_type", NO_JOB_TYPE)


def _job_type_changed(self: Any, context: Any) -> None:
    scene = getattr(self, "id_data", None) or context.scene
    sync_settings(scene)


def tag_items(self: Any, context: Any) -> list[tuple[str, str, str]]:
    info = state.info()
    items = [(NO_TAG, "All Workers", "Any worker may run this job")]
    if info is not None:
        items += [(t.id, t.name, t.description or "") for t in info.tags]
    _enum_cache["tags"] = items
    return items


_get_tag, _set_tag = _enum_view(tag_items, "worker_tag", NO_TAG)


class FLAMENCO_DESK_PG_job_ref(bpy.types.PropertyGroup):
    """A job submitted from this file, so the file remembers its jobs."""

    job_id: StringProperty(name="Job ID")  # type: ignore[valid-type]
    job_name: StringProperty(name="Job Name")  # type: ignore[valid-type]
    job_type: StringProperty(name="Job Type")  # type: ignore[valid-type]
    submission_id: StringProperty(name="Submission ID")  # type: ignore[valid-type]
    submitted_at: StringProperty(name="Submitted At")  # type: ignore[valid-type]
    manager_url: StringProperty(name="Manager")  # type: ignore[valid-type]
    blend_path: StringProperty(name="Farm .blend")  # type: ignore[valid-type]
    status: StringProperty(name="Status")  # type: ignore[valid-type]


class FLAMENCO_DESK_PG_scene(bpy.types.PropertyGroup):
    job_type: StringProperty(  # type: ignore[valid-type]
        name="Job Type", description="Name of the selected Flamenco job type", update=_job_type_changed,
    )
    job_type_ui: EnumProperty(  # type: ignore[valid-type]
        name="Job Type", description="The kind of job to submit (offered by the Manager)",
        items=_job_type_items, get=_get_job_type_enum, set=_set_job_type_enum,
    )
    job_name: StringProperty(  # type: ignore[valid-type]
        name="Job Name", description="Name of the job on the farm; empty: the file's name, numbered for resubmissions. "
                                     "Placeholders: {file} {scene} {camera} {view_layer} {marker} {user} {date} {version}",
    )
    output_template: StringProperty(  # type: ignore[valid-type]
        name="Output Template",
        description="The job type's output path from a template: {file} {scene} {camera} {view_layer} {marker} "
                    "{user} {date} {version} (next free v### in its folder); empty: the job type's own",
    )
    priority: IntProperty(  # type: ignore[valid-type]
        name="Priority", description="Higher-priority jobs run first", default=50, min=0, max=100,
    )
    submit_paused: BoolProperty(  # type: ignore[valid-type]
        name="Submit Paused", description="The job waits on the farm until it is resumed", default=False,
    )
    worker_tag: StringProperty(name="Worker Tag ID")  # type: ignore[valid-type]
    worker_tag_ui: EnumProperty(  # type: ignore[valid-type]
        name="Worker Tag", description="Only workers with this tag run the job",
        items=tag_items, get=_get_tag, set=_set_tag,
    )
    jobs: CollectionProperty(type=FLAMENCO_DESK_PG_job_ref)  # type: ignore[valid-type]
    # The id of a submission whose answer was lost; looked up before submitting again.
    pending_submission_id: StringProperty()  # type: ignore[valid-type]
    # "<batch id> <version>": the {version} of a batch cut short, so a retry's parts get it too.
    pending_version: StringProperty()  # type: ignore[valid-type]


def scene_props(scene: bpy.types.Scene) -> FLAMENCO_DESK_PG_scene:
    return scene.flamenco_desk  # type: ignore[attr-defined,no-any-return]


_REFRESH_EVERY = 1.0  # seconds between bringing scene-following settings up to date
_refreshed_at = 0.0


def refresh_tick() -> None:
    """Timer hook: scene-following settings show what the scene says now (cheap: a few
    restricted evaluations, writes only when a value changed)."""
    global _refreshed_at
    now = time.monotonic()
    if now - _refreshed_at < _REFRESH_EVERY:
        return
    _refreshed_at = now
    scene = getattr(bpy.context, "scene", None)
    if scene is not None and registry.job_type() is not None:
        registry.refresh_from_scene(scene)


def sync_settings(scene: bpy.types.Scene | None) -> None:
    """Point the settings group at the scene's selected job type (known or cached)."""
    if scene is None:
        return
    wanted = scene_props(scene).job_type
    info = state.info()
    jt = info.job_types.get(wanted) if info is not None and wanted else None
    if jt is None and wanted and registry.job_type() is not None and registry.job_type().name == wanted:  # type: ignore[union-attr]
        return  # keep what we have until the Manager says otherwise
    registry.use(jt, scene)
    registry.refresh_from_scene(scene)


class FLAMENCO_DESK_PG_ui(bpy.types.PropertyGroup):
    """How the job list is shown (per session, not saved in files)."""

    list_scope: EnumProperty(  # type: ignore[valid-type]
        name="Jobs",
        items=[("FILE", "This File", "Jobs submitted from this file"), ("ALL", "All Jobs", "Every job on the Manager")],
        default="FILE",
    )
    status_filter: EnumProperty(  # type: ignore[valid-type]
        name="Status",
        items=[("ALL", "Any Status", ""), ("RUNNING", "Running", "Queued, active or paused"),
               ("COMPLETED", "Completed", ""), ("FAILED", "Failed / Canceled", "")],
        default="ALL",
    )
    sort_by: EnumProperty(  # type: ignore[valid-type]
        name="Sort",
        items=[("UPDATED", "Last Updated", ""), ("CREATED", "Newest", ""), ("NAME", "Name", ""),
               ("PRIORITY", "Priority", ""), ("STATUS", "Status", "")],
        default="UPDATED",
    )


classes = (FLAMENCO_DESK_PG_job_ref, FLAMENCO_DESK_PG_scene, FLAMENCO_DESK_PG_ui)


def register() -> None:
    bpy.types.Scene.flamenco_desk = PointerProperty(type=FLAMENCO_DESK_PG_scene)  # type: ignore[attr-defined]
    bpy.types.WindowManager.flamenco_desk_ui = PointerProperty(type=FLAMENCO_DESK_PG_ui)  # type: ignore[attr-defined]


def unregister() -> None:
    if hasattr(bpy.types.Scene, "flamenco_desk"):
        del bpy.types.Scene.flamenco_desk  # type: ignore[attr-defined]
    if hasattr(bpy.types.WindowManager, "flamenco_desk_ui"):
        del bpy.types.WindowManager.flamenco_desk_ui  # type: ignore[attr-defined]
    _enum_cache.clear()
