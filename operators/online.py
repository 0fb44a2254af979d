"""The one place that respects Blender's Online Access setting."""


import bpy


class OnlineOperator(bpy.types.Operator):
    """Base for every operator that talks to the Manager."""

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not bpy.app.online_access:
            cls.poll_message_set(
                "Online access is disabled: enable 'Allow Online Access' in Preferences > System > Network"
            )
            return False
        return True
