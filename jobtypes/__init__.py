"""Job types as Blender properties: settings UI, evaluation from the scene, values to submit."""
