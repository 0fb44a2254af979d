"""Add-on preferences: where the Manager is and how long to wait for it.

No `from __future__ import annotations` in modules declaring bpy properties: Blender
reads the annotations itself, and string annotations would lose this module's names.
"""


import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from . import profiles, state

ADDON_ID = __package__


def _manager_url_changed(prefs: object) -> None:
    profiles.manager_url_edited(prefs)  # the active profile keeps the same URL
    state.manager_url_changed()


class FLAMENCO_DESK_preferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    manager_url: StringProperty(  # type: ignore[valid-type]
        name="Manager URL",
        description="Address of the Flamenco Manager, e.g. http://flamenco:8080",
        default="http://localhost:8080",
        update=lambda self, _ctx: _manager_url_changed(self),
    )
    # Several Managers (profiles.py): `manager_url` is the active profile's URL.
    managers: CollectionProperty(type=profiles.FLAMENCO_DESK_PG_manager_profile)  # type: ignore[valid-type]
    active_manager: IntProperty(name="Active Manager", default=0, min=0)  # type: ignore[valid-type]
    active_manager_ui: EnumProperty(  # type: ignore[valid-type]
        name="Manager", description="The Manager to submit to (profiles in the add-on's preferences)",
        items=profiles._items, get=profiles._get, set=profiles._set,
    )
    connect_timeout: FloatProperty(  # type: ignore[valid-type]
        name="Connect Timeout",
        description="Seconds to wait for the Manager to accept a connection",
        default=3.0, min=0.2, max=60.0, unit="TIME_ABSOLUTE",
    )
    read_timeout: FloatProperty(  # type: ignore[valid-type]
        name="Read Timeout",
        description="Seconds to wait for the Manager's answer (compiling a job can take a while)",
        default=20.0, min=0.5, max=600.0, unit="TIME_ABSOLUTE",
    )

    desktop_notifications: BoolProperty(  # type: ignore[valid-type]
        name="Desktop Notifications",
        description="Also tell the desktop when a watched job completes or fails (where a notifier exists)",
        default=False,
    )
    notification_sound: BoolProperty(  # type: ignore[valid-type]
        name="Notification Sound",
        description="Play a short sound when a watched job completes or fails",
        default=False,
    )

    project_presets_folder: StringProperty(  # type: ignore[valid-type]
        name="Project Presets",
        description="Folder of the project's job presets: beside the .blend (// is its folder) or on shared storage",
        default="//flamenco_presets", subtype="DIR_PATH",
    )
    studio_presets_folder: StringProperty(  # type: ignore[valid-type]
        name="Studio Presets",
        description="Folder of the studio's job presets, set by a TD; read-only for artists (empty: none)",
        default="", subtype="DIR_PATH",
    )

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        row = layout.row(align=True)
        row.prop(self, "manager_url")
        row.operator("flamenco_desk.test_connection", icon="PLUGIN")
        line = state.connection_line()
        if line:
            layout.label(text=line.text, icon=line.icon)
        profiles.draw_prefs(self, layout.column())
        col = layout.column(align=True)
        col.prop(self, "connect_timeout")
        col.prop(self, "read_timeout")
        col = layout.column(align=True)
        col.prop(self, "project_presets_folder")
        col.prop(self, "studio_presets_folder")
        col = layout.column(heading="When a watched job ends")
        col.prop(self, "desktop_notifications")
        col.prop(self, "notification_sound")
        if not bpy.app.online_access:
            layout.label(text="Blender's Online Access is off: Flamenco Desk cannot reach the Manager", icon="ERROR")


def get(context: bpy.types.Context | None = None) -> FLAMENCO_DESK_preferences:
    ctx = context or bpy.context
    return ctx.preferences.addons[ADDON_ID].preferences  # type: ignore[return-value]


classes = (*profiles.classes, FLAMENCO_DESK_preferences)
