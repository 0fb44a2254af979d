"""bpy-free logic of the add-on (Manager info, submission planning, frame syntax).

Kept apart from operators/panels so it runs and is tested in plain Python.
"""
