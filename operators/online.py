"""The one place that respects Blender's Online Access setting."""


import bpy


def allowed() -> bool:
    """Whether Blender may go online (Preferences > System > Network). Operators check it in
    poll(); the background monitor, which has no operator, asks here too."""
    return bool(bpy.app.online_access)


class OnlineOperator(bpy.types.Operator):
    """Base for every operator that talks to the Manager."""

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not allowed():
            cls.poll_message_set(
                "Online access is disabled: enable 'Allow Online Access' in Preferences > System > Network"
            )
            return False
        return True
