"""Helpers for the preset tests: a studio job type in two versions, served by the real
Manager through the `job_type_script` fixture."""

from __future__ import annotations

import uuid

# Version 1: what the preset is saved for. Version 2 (the TD's edit): `legacy_flag` removed,
# `denoiser` added, `count` now text; `message` and `quality` unchanged.
_SCRIPT = """
const JOB_TYPE = {
  label: 'Preset Probe',
  settings: [
    { key: 'message', type: 'string', default: 'hello', label: 'Message' },
    { key: 'quality', type: 'string', choices: ['draft', 'preview', 'final'], default: 'draft' },
    COUNT
    EXTRA
    { key: 'camera', type: 'string', eval: 'C.scene.camera.name' },
    { key: 'blendfile', type: 'string', required: true, visible: 'web' },
  ],
};

function compileJob(job) {
  const task = author.Task('probe', 'misc');
  task.addCommand(author.Command('echo', { message: 'probe ' + job.settings.message }));
  job.addTask(task);
}
"""

V1 = {
    "COUNT": "{ key: 'count', type: 'int32', default: 3, propargs: { min: 0, max: 100 } },",
    "EXTRA": "{ key: 'legacy_flag', type: 'bool', default: false },",
}
V2 = {
    "COUNT": "{ key: 'count', type: 'string', default: 'three' },",
    "EXTRA": "{ key: 'denoiser', type: 'string', choices: ['none', 'oidn'], default: 'none' },",
}


def probe_script(version: dict[str, str]) -> str:
    source = _SCRIPT
    for marker, text in version.items():
        source = source.replace(marker, text)
    return source


def probe_file_name() -> tuple[str, str]:
    """A script file name per test and the job type name the Manager makes of it, so presets
    left in the session's artist folder never meet another test's."""
    stem = f"preset_probe_{uuid.uuid4().hex[:8]}"
    return f"{stem}.js", stem.replace("_", "-")
