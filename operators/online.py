"""The base of every operator that respects Blender's Online Access setting."""


import bpy

from .. import state


class OnlineOperator(bpy.types.Operator):
    """Base for every operator that talks to the Manager."""

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not state.online_allowed():
            cls.poll_message_set(
                "Online access is disabled: enable 'Allow Online Access' in Preferences > System > Network"
            )
            return False
        return True
