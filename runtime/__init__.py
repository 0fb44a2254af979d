"""Runtime plumbing between background threads and Blender's main thread.

`bridge` is bpy-free (tested without Blender); `timer` hooks it into bpy.app.timers.
"""
