"""A real Blender window for GUI tests and screenshots (see README.md here)."""
