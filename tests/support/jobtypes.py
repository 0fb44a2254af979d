"""Job type JSON as the Manager returns it (without "etag": the stub adds it).

The built-ins mirror Flamenco's embedded scripts (api-notes §3, §6);
"kitchen-sink" exercises every AvailableJobSetting field and enum value;
"hostile" carries eval expressions a submitter must never run blindly.
"""

from __future__ import annotations

import copy
from typing import Any

JSONDict = dict[str, Any]

ECHO_SLEEP_TEST: JSONDict = {
    "name": "echo-sleep-test",
    "label": "Echo Sleep Test",
    "settings": [
        {"key": "message", "type": "string", "required": True},
        {"key": "sleep_duration_seconds", "type": "int32", "default": 1},
        {"key": "sleep_repeats", "type": "int32", "default": 1},
    ],
}

SIMPLE_BLENDER_RENDER: JSONDict = {
    "name": "simple-blender-render",
    "label": "Simple Blender Render",
    "description": "Render a sequence of frames, and create a preview video file",
    "settings": [
        {
            "key": "frames",
            "type": "string",
            "required": True,
            "eval": "f'{C.scene.frame_start}-{C.scene.frame_end}'",
            "evalInfo": {"showLinkButton": True, "description": "Scene frame range"},
            "description": "Frame range to render. Examples: '47', '1-30', '3, 5-10, 47-327'",
        },
        {
            "key": "chunk_size",
            "type": "int32",
            "default": 1,
            "description": "Number of frames to render in one Blender render task",
            "visible": "submission",
        },
        {
            "key": "render_output_root",
            "type": "string",
            "subtype": "dir_path",
            "required": True,
            "visible": "submission",
            "description": "Base directory of where render output is stored. "
            "Will have some job-specific parts appended to it",
        },
        {
            "key": "add_path_components",
            "type": "int32",
            "required": True,
            "default": 0,
            "propargs": {"min": 0, "max": 32},
            "visible": "submission",
            "description": "Number of path components of the current blend file "
            "to use in the render output path",
        },
        {
            "key": "render_output_path",
            "type": "string",
            "subtype": "file_path",
            "editable": False,
            "eval": "str(Path(abspath(settings.render_output_root), "
            "last_n_dir_parts(settings.add_path_components), jobname, '{timestamp}', '######'))",
            "description": "Final file path of where render output will be saved",
        },
        {
            "key": "blendfile",
            "type": "string",
            "required": True,
            "eval": "bpy.data.filepath",
            "description": "Path of the Blend file to render",
            "visible": "web",
        },
        {
            "key": "fps",
            "type": "float",
            "eval": "C.scene.render.fps / C.scene.render.fps_base",
            "visible": "hidden",
        },
        {
            "key": "format",
            "type": "string",
            "required": True,
            "eval": "C.scene.render.image_settings.file_format",
            "visible": "web",
        },
        {
            "key": "image_file_extension",
            "type": "string",
            "required": True,
            "eval": "C.scene.render.file_extension",
            "visible": "hidden",
            "description": "File extension used when rendering images",
        },
        {
            "key": "has_previews",
            "type": "bool",
            "required": False,
            "eval": "C.scene.render.image_settings.use_preview",
            "visible": "hidden",
            "description": "Whether Blender will render preview images.",
        },
        {
            "key": "scene",
            "type": "string",
            "required": True,
            "eval": "C.scene.name",
            "visible": "web",
            "description": "Name of the scene to render.",
        },
    ],
}

KITCHEN_SINK: JSONDict = {
    "name": "kitchen-sink",
    "label": "Kitchen Sink",
    "description": "Uses every job setting feature the API offers.",
    "settings": [
        {
            # Every AvailableJobSetting field but "choices" (see "quality").
            "key": "output_file",
            "type": "string",
            "subtype": "file_path",
            "propargs": {"maxlen": 1024},
            "description": "Where the output goes",
            "label": "Output File",
            "default": "//output.png",
            "eval": "abspath('//output.png')",
            "evalInfo": {"showLinkButton": True, "description": "Next to the blend file"},
            "visible": "visible",
            "required": True,
            "editable": True,
        },
        {"key": "work_dir", "type": "string", "subtype": "dir_path", "visible": "submission",
         "default": "/tmp/work", "description": "Scratch directory"},
        {"key": "log_name", "type": "string", "subtype": "file_name", "visible": "web",
         "default": "log.txt"},
        {"key": "frame_pattern", "type": "string", "subtype": "hashed_file_path",
         "visible": "hidden", "default": "/render/shot/######"},
        {"key": "quality", "type": "string", "choices": ["draft", "preview", "final"],
         "default": "preview", "label": "Quality", "required": False},
        {"key": "samples", "type": "int32", "propargs": {"min": 1, "max": 4096}, "default": 64,
         "description": "Render samples"},
        {"key": "exposure", "type": "float", "propargs": {"min": -10.0, "max": 10.0, "step": 0.1},
         "default": 0.5},
        {"key": "denoise", "type": "bool", "default": True, "label": "Denoise"},
        {"key": "camera", "type": "string", "eval": "C.scene.camera.name",
         "evalInfo": {"showLinkButton": False, "description": "The scene camera"}},
        {"key": "checksum", "type": "string", "editable": False, "eval": "jobname.upper()",
         "visible": "submission"},
        # Minimal setting: only the two required fields.
        {"key": "bare", "type": "int32"},
    ],
}

# eval strings a job type could ship to make the submitter run arbitrary code.
HOSTILE_EXPRESSIONS: list[str] = [
    "__import__('os').system('echo pwned')",
    "import os",
    "__builtins__['open']('/etc/passwd').read()",
    "open('/etc/passwd').read()",
    "exec('import os; os.system(\"id\")')",
    "eval('__import__(\"os\")')",
    "compile('import os', 'x', 'exec')",
    "getattr(bpy, 'ops')",
    "getattr(__builtins__, 'exec')",
    "bpy.ops.wm.quit_blender()",
    "bpy.ops.wm.save_as_mainfile(filepath='/tmp/stolen.blend')",
    "bpy.utils.execfile('/tmp/payload.py')",
    "bpy.data.texts['payload'].as_module()",
    "().__class__.__bases__[0].__subclasses__()",
    "().__class__.__base__.__subclasses__()[0].__init__.__globals__",
    "C.scene.__class__.__mro__",
    "abspath.__globals__['os'].system('id')",
    "settings.__dict__",
    "(lambda: __import__('os'))()",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen']",
    "{k: v for k, v in globals().items()}",
    "'{0.__class__.__init__.__globals__}'.format(C)",
    "'{.__globals__[os]}'.format(abspath)",
    "f'{C.scene.frame_start:{10**9}}'",
    "Path('/etc/passwd').read_text()",
    "Path.home().joinpath('.ssh').iterdir()",
    "globals()",
    "vars(bpy)",
    "breakpoint()",
    "type('X', (), {'__del__': lambda s: None})()",
    "10**10**10",
    "2**10**8",
    "'x' * 10**12",
    "[0] * 10**10",
    "'%s' % ('x' * 10**9)",
]

HOSTILE: JSONDict = {
    "name": "hostile",
    "label": "Hostile",
    "description": "Every setting's eval is an attack; a submitter must not execute them.",
    "settings": [
        {
            "key": f"attack_{index:02d}",
            "type": "string",
            "eval": expression,
            "description": f"eval: {expression}",
            "visible": ("visible", "submission", "web", "hidden")[index % 4],
            **({"evalInfo": {"showLinkButton": True, "description": "auto"}} if index % 3 == 0 else {}),
        }
        for index, expression in enumerate(HOSTILE_EXPRESSIONS)
    ],
}

BUILTIN_JOB_TYPES: list[JSONDict] = [ECHO_SLEEP_TEST, SIMPLE_BLENDER_RENDER]
ALL_JOB_TYPES: list[JSONDict] = [ECHO_SLEEP_TEST, SIMPLE_BLENDER_RENDER, KITCHEN_SINK, HOSTILE]


def fresh(*job_types: JSONDict) -> list[JSONDict]:
    """Deep copies, so a test that edits one can't leak into the next."""
    return [copy.deepcopy(jt) for jt in (job_types or tuple(BUILTIN_JOB_TYPES))]
