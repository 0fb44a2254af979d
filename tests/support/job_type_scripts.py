"""The job-type scripts the tests install on the real Manager (tests/scripts/), and what
they are expected to serve."""

from __future__ import annotations

from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def source(file_name: str) -> str:
    """The text of tests/scripts/<file_name>, for `job_type_script(file_name, source(...))`."""
    return (SCRIPTS / file_name).read_text(encoding="utf-8")


# The eval strings of tests/scripts/hostile.js, in order: what the Manager must serve unchanged
# and what a submitter must never run.
HOSTILE_EXPRESSIONS: list[str] = [
    "__import__('os').system('echo pwned')",
    'import os',
    "__builtins__['open']('/etc/passwd').read()",
    "open('/etc/passwd').read()",
    'exec(\'import os; os.system("id")\')',
    'eval(\'__import__("os")\')',
    "compile('import os', 'x', 'exec')",
    "getattr(bpy, 'ops')",
    "getattr(__builtins__, 'exec')",
    'bpy.ops.wm.quit_blender()',
    "bpy.ops.wm.save_as_mainfile(filepath='/tmp/stolen.blend')",
    "bpy.utils.execfile('/tmp/payload.py')",
    "bpy.data.texts['payload'].as_module()",
    '().__class__.__bases__[0].__subclasses__()',
    '().__class__.__base__.__subclasses__()[0].__init__.__globals__',
    'C.scene.__class__.__mro__',
    "abspath.__globals__['os'].system('id')",
    'settings.__dict__',
    "(lambda: __import__('os'))()",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen']",
    '{k: v for k, v in globals().items()}',
    "'{0.__class__.__init__.__globals__}'.format(C)",
    "'{.__globals__[os]}'.format(abspath)",
    "f'{C.scene.frame_start:{10**9}}'",
    "Path('/etc/passwd').read_text()",
    "Path.home().joinpath('.ssh').iterdir()",
    'globals()',
    'vars(bpy)',
    'breakpoint()',
    "type('X', (), {'__del__': lambda s: None})()",
    '10**10**10',
    '2**10**8',
    "'x' * 10**12",
    '[0] * 10**10',
    "'%s' % ('x' * 10**9)",
]
