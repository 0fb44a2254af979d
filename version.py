"""The add-on's version, sent in job metadata. tests check it matches blender_manifest.toml."""

VERSION = "0.1.0"
