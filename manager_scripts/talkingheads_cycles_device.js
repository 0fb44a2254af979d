// SPDX-License-Identifier: GPL-3.0-or-later
//
// Flamenco Desk example job type "talkingheads-cycles-device".
//
// A Cycles render, like Flamenco's built-in simple-blender-render, where the
// artist picks the render device (OptiX, CUDA, HIP or CPU). The device is
// applied on the worker by a small Python snippet passed to Blender with
// --python-expr, so the blend file itself does not need to be changed.
//
// Install: copy this file into the `scripts/` folder next to the
// flamenco-manager executable. See manager_scripts/README.md.

const JOB_TYPE = {
  label: 'TalkingHeads Cycles Render (device choice)',
  description:
    'Render the frame range with Cycles on the chosen device (OptiX, CUDA, HIP or CPU). ' +
    'The device is set on each worker before rendering.',
  settings: [
    // Settings for artists to determine:
    {
      key: 'frames',
      type: 'string',
      required: true,
      label: 'Frames',
      description: "Frame range to render. Examples: '47', '1-30', '3, 5-10, 47-327'",
      eval: 'f"{C.scene.frame_start}-{C.scene.frame_end}"',
      evalInfo: {
        showLinkButton: true,
        description: 'Scene frame range',
      },
    },
    {
      key: 'chunk_size',
      type: 'int32',
      default: 1,
      propargs: { min: 1, max: 100 },
      visible: 'submission',
      label: 'Chunk Size',
      description: 'Number of frames to render in one Blender render task',
    },
    {
      key: 'device',
      type: 'string',
      required: true,
      choices: ['OPTIX', 'CUDA', 'HIP', 'CPU'],
      default: 'OPTIX',
      visible: 'submission',
      label: 'Render Device',
      description:
        'Cycles device used on the workers: OPTIX (NVIDIA RTX), CUDA (NVIDIA), HIP (AMD) or CPU',
    },
    {
      key: 'require_gpu',
      type: 'bool',
      default: false,
      visible: 'submission',
      label: 'Fail Without GPU',
      description:
        'When a worker has no device of the chosen GPU type: fail the task so another worker ' +
        'retries it (on), or print a warning and render on the CPU (off)',
    },
    {
      key: 'samples',
      type: 'int32',
      default: 0,
      propargs: { min: 0, max: 65536 },
      visible: 'submission',
      label: 'Samples Override',
      description: "Cycles render samples for this job; 0 keeps the scene's own setting",
    },

    // render_output_root + jobname determine the value of render_output_path.
    {
      key: 'render_output_root',
      type: 'string',
      subtype: 'dir_path',
      required: true,
      visible: 'submission',
      eval: "str(Path(abspath('//')).joinpath('render'))",
      label: 'Render Output Root',
      description:
        'Base directory of the render output; the job name, a timestamp and the frame number are appended',
    },
    {
      key: 'render_output_path',
      type: 'string',
      subtype: 'file_path',
      required: true,
      eval: "str(Path(abspath(settings.render_output_root)).joinpath(jobname, '{timestamp}', '######'))",
      evalInfo: {
        showLinkButton: true,
        description: 'Render output root / job name / timestamp / frame number',
      },
      label: 'Render Output Path',
      description:
        "Final file path of the rendered frames; '{timestamp}' is replaced by the job's creation time",
    },

    // Automatically evaluated settings:
    {
      key: 'blendfile',
      type: 'string',
      subtype: 'file_path',
      required: true,
      eval: 'bpy.data.filepath',
      visible: 'web',
      label: 'Blend File',
      description: 'Path of the blend file to render',
    },
    {
      key: 'scene',
      type: 'string',
      eval: 'C.scene.name',
      visible: 'web',
      label: 'Scene',
      description: 'Name of the scene to render',
    },
    {
      key: 'format',
      type: 'string',
      required: true,
      eval: 'C.scene.render.image_settings.file_format',
      visible: 'web',
      label: 'Output Format',
      description: 'Image file format of the render output',
    },
    {
      key: 'image_file_extension',
      type: 'string',
      required: true,
      eval: 'C.scene.render.file_extension',
      visible: 'hidden',
      label: 'Image File Extension',
      description: 'File extension used when rendering images',
    },
    {
      key: 'render_engine',
      type: 'string',
      eval: 'C.scene.render.engine',
      visible: 'hidden',
      label: 'Render Engine',
      description: "The scene's render engine; this job type only accepts CYCLES",
    },
  ],
};

const DEVICES = ['OPTIX', 'CUDA', 'HIP', 'CPU'];

// File formats that would cause rendering to video.
// This is not supported by this job type.
const videoFormats = ['FFMPEG', 'AVI_RAW', 'AVI_JPEG'];

function compileJob(job) {
  print('TalkingHeads Cycles render job submitted:', job.name);

  const settings = job.settings;
  checkRequiredSettings(settings);

  const device = settings.device;
  if (DEVICES.indexOf(device) < 0) {
    throw `Unknown render device "${device}"; choose one of ${DEVICES.join(', ')}`;
  }
  if (settings.render_engine && settings.render_engine !== 'CYCLES') {
    throw `This job type renders with Cycles, but the scene uses the ${settings.render_engine} ` +
      'render engine; switch the scene to Cycles or use another job type';
  }
  if (videoFormats.indexOf(settings.format) >= 0) {
    throw `This job type only renders images, and not "${settings.format}"`;
  }

  const chunkSize = settings.chunk_size;
  if (typeof chunkSize !== 'number' || chunkSize % 1 !== 0 || chunkSize < 1) {
    throw `Chunk Size (chunk_size) must be a whole number of at least 1, not ${JSON.stringify(chunkSize)}`;
  }
  const samples = isEmpty(settings.samples) ? 0 : settings.samples;
  if (typeof samples !== 'number' || samples % 1 !== 0 || samples < 0) {
    throw `Samples Override (samples) must be a whole number of at least 0, not ${JSON.stringify(samples)}`;
  }

  const renderOutput = renderOutputPath(job);
  // Make sure that when the job is investigated later, it shows the
  // actually-used render output:
  settings.render_output_path = renderOutput;

  const renderDir = path.dirname(renderOutput);
  job.metadata['render.output_glob'] = path.join(renderDir, `*${settings.image_file_extension}`);

  const pythonExpr = devicePythonExpr(device, samples, !!settings.require_gpu);
  const renderTasks = authorRenderTasks(settings, renderDir, renderOutput, pythonExpr);
  for (const rt of renderTasks) {
    job.addTask(rt);
  }
}

// Throw a clear error for every `required` setting that is missing or empty.
// The Manager does not check `required` itself.
function checkRequiredSettings(settings) {
  const missing = [];
  for (const setting of JOB_TYPE.settings) {
    if (setting.required && isEmpty(settings[setting.key])) {
      missing.push(`${setting.label} (${setting.key})`);
    }
  }
  if (missing.length > 0) {
    throw `Missing required setting${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`;
  }
}

function isEmpty(value) {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

// Do field replacement on the render output path.
function renderOutputPath(job) {
  const renderPath = job.settings.render_output_path;
  return renderPath.replace(/{([^}]+)}/g, (match, group0) => {
    switch (group0) {
      case 'timestamp':
        return formatTimestampLocal(job.created);
      default:
        return match; // Keep Manager variables like {jobs} for the worker.
    }
  });
}

// Python code run by Blender (--python-expr) before rendering. It never
// raises unless `requireGpu` is set; Blender is started with
// --python-exit-code 1, so a raised exception fails the task.
function devicePythonExpr(device, samples, requireGpu) {
  const lines = ['import bpy', 'scene = bpy.context.scene'];
  if (device === 'CPU') {
    lines.push(
      'try:',
      "    bpy.context.preferences.addons['cycles'].preferences.compute_device_type = 'NONE'",
      'except Exception as ex:',
      "    print('Flamenco WARNING: cannot reset the Cycles compute device type: %s' % ex)",
      'for sc in bpy.data.scenes:',
      '    try:',
      "        sc.cycles.device = 'CPU'",
      '    except Exception as ex:',
      "        print('Flamenco WARNING: cannot set scene %r to render on the CPU: %s' % (sc.name, ex))",
      "print('Flamenco: Cycles renders on the CPU')"
    );
  } else {
    lines.push(
      `device_type = '${device}'`,
      'try:',
      "    prefs = bpy.context.preferences.addons['cycles'].preferences",
      '    prefs.compute_device_type = device_type',
      "    if hasattr(prefs, 'refresh_devices'):",
      '        prefs.refresh_devices()',
      '    else:',
      '        prefs.get_devices()',
      '    found = [d for d in prefs.devices if d.type == device_type]',
      '    for d in prefs.devices:',
      '        d.use = d.type == device_type',
      '    if not found:',
      "        raise RuntimeError('no %s device on this worker' % device_type)",
      '    for sc in bpy.data.scenes:',
      "        sc.cycles.device = 'GPU'",
      "    print('Flamenco: Cycles renders on %s: %s' % (device_type, ', '.join(d.name for d in found)))",
      'except Exception as ex:'
    );
    if (requireGpu) {
      lines.push(
        "    print('Flamenco ERROR: cannot render on %s: %s' % (device_type, ex))",
        '    raise'
      );
    } else {
      lines.push(
        "    print('Flamenco WARNING: cannot render on %s (%s), rendering on the CPU instead' % (device_type, ex))",
        '    for sc in bpy.data.scenes:',
        '        try:',
        "            sc.cycles.device = 'CPU'",
        '        except Exception as ex2:',
        "            print('Flamenco WARNING: cannot set scene %r to the CPU: %s' % (sc.name, ex2))"
      );
    }
  }
  if (samples > 0) {
    lines.push(
      `samples = ${samples}`,
      'try:',
      '    scene.cycles.samples = samples',
      "    print('Flamenco: Cycles samples set to %d' % samples)",
      'except Exception as ex:',
      "    print('Flamenco WARNING: cannot set the Cycles samples to %d: %s' % (samples, ex))"
    );
  }
  return lines.join('\n') + '\n';
}

// One step per frame, so the Manager can show progress. frameCount() and step-based
// progress came with Flamenco 3.8; an older Manager has neither, and counts no steps.
function stepCount(chunk) {
  return typeof frameCount === 'function' ? frameCount(chunk) : 0;
}

function authorRenderTasks(settings, renderDir, renderOutput, pythonExpr) {
  print('authorRenderTasks(', renderDir, renderOutput, ')');
  const renderTasks = [];
  const chunks = frameChunker(settings.frames, settings.chunk_size);

  // --scene must come before --python-expr, so that bpy.context.scene is the
  // scene to render when the snippet runs.
  const sceneArgs = settings.scene ? ['--scene', settings.scene] : [];

  for (const chunk of chunks) {
    const task = author.Task(`render-${chunk}`, 'blender');
    const command = author.Command(
      'blender-render',
      {
        exe: '{blender}',
        exeArgs: '{blenderArgs}',
        argsBefore: [],
        blendfile: settings.blendfile,
        args: sceneArgs.concat([
          '--python-exit-code', '1',
          '--python-expr', pythonExpr,
          '--render-output', path.join(renderDir, path.basename(renderOutput)),
          '--render-format', settings.format,
          '--render-frame', chunk.replaceAll('-', '..'), // Convert to Blender frame range notation.
        ]),
      },
      stepCount(chunk)
    );
    task.addCommand(command);
    renderTasks.push(task);
  }
  return renderTasks;
}
