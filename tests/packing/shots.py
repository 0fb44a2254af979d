"""Shots for the packing tests, made with real Blender (the bpy module of this venv).

The camera looks straight down at two planes that fill the frame: the left one is the
shot's own, showing a solid red PNG; the right one comes from a linked library .blend and
shows a solid green PNG that sits next to the library. Both emit their texture's colour, so
a 64x36 Cycles render with one sample is exactly red | green when every file reached the
farm, and magenta (Blender's missing texture) or black (missing library) when not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import bpy

from support.blender_helpers import quick_render

RED = (1.0, 0.0, 0.0, 1.0)
GREEN = (0.0, 1.0, 0.0, 1.0)


def write_png(path: Path, rgba: tuple[float, float, float, float], size: int = 4) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = bpy.data.images.new(f"tmp-{path.stem}", size, size)
    img.pixels = list(rgba) * (size * size)
    img.filepath_raw = str(path)
    img.file_format = "PNG"
    img.save()
    bpy.data.images.remove(img)
    return path


def _emit_image_material(name: str, image: "bpy.types.Image") -> "bpy.types.Material":
    mat = bpy.data.materials.new(name)
    if bpy.app.version < (5, 0, 0):  # 5.0: always node-based (use_nodes is deprecated)
        mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    nodes.clear()
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = image
    tex.interpolation = "Closest"
    emit = nodes.new("ShaderNodeEmission")
    out = nodes.new("ShaderNodeOutputMaterial")
    links.new(tex.outputs["Color"], emit.inputs["Color"])
    links.new(emit.outputs["Emission"], out.inputs["Surface"])
    return mat


def _plane(name: str, x: float, material: "bpy.types.Material") -> "bpy.types.Object":
    bpy.ops.mesh.primitive_plane_add(size=2.0, location=(x, 0.0, 0.0))
    ob = bpy.context.active_object
    ob.name = name
    ob.scale = (1.0, 1.5, 1.0)  # taller than the camera's view
    ob.data.materials.append(material)
    return ob


def _load_image(path: Path, written_as: str) -> "bpy.types.Image":
    img = bpy.data.images.load(str(path))
    img.filepath = written_as
    return img


def _written(path: Path, blend_dir: Path, mode: str) -> str:
    if mode == "absolute":
        return str(path)
    return "//" + os.path.relpath(path, blend_dir).replace(os.sep, "/")


def _fresh_scene() -> "bpy.types.Scene":
    bpy.ops.wm.read_homefile(use_empty=True)
    scene = bpy.context.scene
    quick_render(scene)
    scene.view_settings.view_transform = "Standard"  # red stays (1, 0, 0)
    scene.frame_start = scene.frame_end = 1
    return scene


@dataclass
class Shot:
    blend: Path
    texture: Path
    library: Optional[Path] = None
    library_texture: Optional[Path] = None
    extra: list[Path] = field(default_factory=list)

    def artist_files(self) -> list[Path]:
        files = [self.blend, self.texture, *self.extra]
        if self.library is not None and self.library_texture is not None:
            files += [self.library, self.library_texture]
        return files


def make_library(path: Path, texture: Path) -> Path:
    """`path`: a .blend with collection "Props" holding a plane that shows `texture`
    (stored relative to the library, so only a correct pack finds it)."""
    _fresh_scene()
    write_png(texture, GREEN)
    mat = _emit_image_material("LibGreen", _load_image(texture, _written(texture, path.parent, "relative")))
    ob = _plane("LibPlane", 0.0, mat)
    col = bpy.data.collections.new("Props")
    bpy.context.scene.collection.children.link(col)
    for c in ob.users_collection:
        c.objects.unlink(ob)
    col.objects.link(ob)
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def make_shot(
    blend: Path,
    texture: Path,
    *,
    texture_mode: str = "relative",
    library: Optional[Path] = None,
    library_texture: Optional[Path] = None,
    missing: Optional[Path] = None,
) -> Shot:
    """The shot at `blend`: its red texture at `texture` (written "relative" or "absolute"),
    optionally the linked library (made first) and a reference to a `missing` texture."""
    if library is not None:
        make_library(library, library_texture or library.parent / "green.png")
    scene = _fresh_scene()
    write_png(texture, RED)
    red = _emit_image_material("Red", _load_image(texture, _written(texture, blend.parent, texture_mode)))
    _plane("ShotPlane", -1.0, red)
    if missing is not None:
        ghost = bpy.data.images.new("ghost", 4, 4)
        ghost.source = "FILE"
        ghost.filepath = _written(missing, blend.parent, "relative")
        holder = _emit_image_material("Ghost", ghost)
        holder.use_fake_user = True
    if library is not None:
        with bpy.data.libraries.load(str(library), link=True, relative=True) as (_src, dst):
            dst.collections = ["Props"]
        inst = bpy.data.objects.new("PropsInstance", None)
        inst.instance_type = "COLLECTION"
        inst.instance_collection = dst.collections[0]
        inst.location = (1.0, 0.0, 0.0)
        scene.collection.objects.link(inst)
    cam_data = bpy.data.cameras.new("Cam")
    cam_data.type = "ORTHO"
    cam_data.ortho_scale = 4.0  # 4 units wide: x from -2 to 2
    cam = bpy.data.objects.new("Cam", cam_data)
    cam.location = (0.0, 0.0, 5.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    blend.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), relative_remap=False)
    if library is not None:  # linked by a relative path, as Blender does by default
        bpy.data.libraries[0].filepath = _written(library, blend.parent, "relative")
        bpy.ops.wm.save_mainfile(relative_remap=False)
    return Shot(blend, texture, library, library_texture or (library.parent / "green.png" if library else None))


def pixels(png: Path) -> list[tuple[float, float, float]]:
    """Left-half and right-half centre colours of a rendered frame."""
    img = bpy.data.images.load(str(png))
    try:
        w, h = img.size
        px = list(img.pixels)
    finally:
        bpy.data.images.remove(img)

    def at(x: int, y: int) -> tuple[float, float, float]:
        i = (y * w + x) * 4
        return (round(px[i], 2), round(px[i + 1], 2), round(px[i + 2], 2))

    return [at(w // 4, h // 2), at(3 * w // 4, h // 2)]


def is_red(rgb: tuple[float, float, float]) -> bool:
    return rgb[0] > 0.8 and rgb[1] < 0.15 and rgb[2] < 0.15


def is_green(rgb: tuple[float, float, float]) -> bool:
    return rgb[1] > 0.8 and rgb[0] < 0.15 and rgb[2] < 0.15


def resolved_paths(blend: Path) -> dict[str, Path]:
    """Open `blend` and return where each image and library resolves, by name (library
    images as "<library>/<image>")."""
    bpy.ops.wm.open_mainfile(filepath=str(blend), load_ui=False)
    found: dict[str, Path] = {}
    for lib in bpy.data.libraries:
        found[lib.name] = Path(os.path.normpath(bpy.path.abspath(lib.filepath)))
    for img in bpy.data.images:
        if img.source != "FILE":
            continue
        path = bpy.path.abspath(img.filepath, library=img.library)
        key = f"{img.library.name}/{img.name}" if img.library else img.name
        found[key] = Path(os.path.normpath(path))
    return found
