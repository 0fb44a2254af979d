// SPDX-License-Identifier: GPL-3.0-or-later
//
// Flamenco Desk example job type "talkingheads-studio-layout".
//
// A Blender render whose output follows a studio folder layout:
//
//     <render root>/<sequence>/<job name>/<frame pattern>
//
// - the sequence comes from the blend file name (first '_'-separated part:
//   sq010_sh0040_lighting.blend -> sq010), unless the artist types one;
// - the job name is built from a configurable format, by default
//   "{sequence}_{shot}_{user}", expanded by the Manager when the job is
//   submitted. Placeholders:
//       {job}        the submitted job name
//       {sequence}   the Sequence setting
//       {shot}       the Shot setting
//       {user}       the Artist setting (or job metadata "user.name")
//       {scene}      the scene name
//       {blendfile}  the blend file name without extension
//       {timestamp}  the job's creation time, YYYY-MM-DD_HHMMSS (Manager local time)
//   Unknown placeholders, or placeholders whose value is empty, reject the job.
//   Characters unsafe in file names (/ \ : * ? " < > | ; { }, control
//   characters and whitespace) in the values become '_'.
//
// Install: copy this file into the `scripts/` folder next to the
// flamenco-manager executable. See manager_scripts/README.md.

const JOB_NAME_PLACEHOLDERS = ['job', 'sequence', 'shot', 'user', 'scene', 'blendfile', 'timestamp'];
const OUTPUT_FORMATS = ['SCENE', 'PNG', 'JPEG', 'OPEN_EXR', 'OPEN_EXR_MULTILAYER', 'TIFF'];

const JOB_TYPE = {
  label: 'TalkingHeads Studio Layout Render',
  description:
    'Render into <render root>/<sequence>/<job name>/<frames>, with the sequence taken from ' +
    'the blend file name and the job name built from a format like {sequence}_{shot}_{user}.',
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
      key: 'render_root',
      type: 'string',
      subtype: 'dir_path',
      required: true,
      default: '{jobs}/renders',
      visible: 'submission',
      label: 'Render Root',
      description:
        'Top directory of the studio render tree, as seen by the workers; may start with a ' +
        'Manager variable such as {jobs}',
    },
    {
      key: 'sequence',
      type: 'string',
      required: true,
      eval: "Path(bpy.data.filepath).stem.partition('_')[0]",
      evalInfo: {
        showLinkButton: true,
        description: 'First part of the blend file name (sq010_sh0040_lighting.blend: sq010)',
      },
      visible: 'submission',
      label: 'Sequence',
      description: 'Sequence folder of the render output',
    },
    {
      key: 'shot',
      type: 'string',
      eval: "Path(bpy.data.filepath).stem.partition('_')[2].partition('_')[0]",
      evalInfo: {
        showLinkButton: true,
        description: 'Second part of the blend file name (sq010_sh0040_lighting.blend: sh0040)',
      },
      visible: 'submission',
      label: 'Shot',
      description: 'Shot name, available as {shot} in the job-name format',
    },
    {
      key: 'user',
      type: 'string',
      visible: 'submission',
      label: 'Artist',
      description: 'Artist name, available as {user} in the job-name format',
    },
    {
      key: 'job_name_format',
      type: 'string',
      required: true,
      default: '{sequence}_{shot}_{user}',
      visible: 'submission',
      label: 'Job Name Format',
      description:
        'Name of the job folder. Placeholders: {job} {sequence} {shot} {user} {scene} {blendfile} {timestamp}',
    },
    {
      key: 'output_format',
      type: 'string',
      required: true,
      choices: OUTPUT_FORMATS,
      default: 'SCENE',
      visible: 'submission',
      label: 'Output Format',
      description: "Image format of the rendered frames; SCENE keeps the scene's own format",
    },
    {
      key: 'render_output_path',
      type: 'string',
      subtype: 'file_path',
      editable: false,
      eval:
        "Path(settings.render_root, settings.sequence, settings.job_name_format" +
        ".replace('{sequence}', settings.sequence).replace('{shot}', settings.shot)" +
        ".replace('{user}', settings.user).replace('{job}', jobname)" +
        ".replace('{scene}', C.scene.name).replace('{blendfile}', Path(bpy.data.filepath).stem)" +
        ", '######').as_posix()",
      label: 'Render Output Path',
      description:
        'Computed: render root / sequence / job name / frame pattern. The Manager recomputes ' +
        'and stores it when the job is submitted',
    },

    // Automatically evaluated settings:
    {
      key: 'frame_pattern',
      type: 'string',
      default: '######',
      visible: 'hidden',
      label: 'Frame Pattern',
      description: "File name of the frames inside the job folder; '#' is replaced by the frame number",
    },
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
      label: 'Rendered Format',
      description: 'Image format actually rendered (the output format, or the scene format for SCENE)',
    },
    {
      key: 'expanded_job_name',
      type: 'string',
      visible: 'web',
      label: 'Output Job Name',
      description: 'Filled in by the Manager: the job-name format after expansion',
    },
  ],
};

// File formats that would cause rendering to video.
// This is not supported by this job type.
const videoFormats = ['FFMPEG', 'AVI_RAW', 'AVI_JPEG'];

function compileJob(job) {
  print('TalkingHeads studio layout render job submitted:', job.name);

  const settings = job.settings;
  checkRequiredSettings(settings);

  if (OUTPUT_FORMATS.indexOf(settings.output_format) < 0) {
    throw `Unknown output format "${settings.output_format}"; choose one of ${OUTPUT_FORMATS.join(', ')}`;
  }
  const format = settings.output_format === 'SCENE' ? settings.format : settings.output_format;
  if (videoFormats.indexOf(format) >= 0) {
    throw `This job type only renders images, and not "${format}"`;
  }

  const chunkSize = settings.chunk_size;
  if (typeof chunkSize !== 'number' || chunkSize % 1 !== 0 || chunkSize < 1) {
    throw `Chunk Size (chunk_size) must be a whole number of at least 1, not ${JSON.stringify(chunkSize)}`;
  }

  const rawRoot = String(settings.render_root).trim();
  if (rawRoot.startsWith('\\\\')) {
    throw `Render Root (render_root) "${rawRoot}" is a UNC path, which Flamenco does not support; ` +
      'use a mapped drive letter or a Manager variable like {jobs}/renders';
  }
  if (rawRoot.startsWith('//')) {
    throw `Render Root (render_root) "${rawRoot}" is relative to the blend file; ` +
      'use an absolute path or a Manager variable like {jobs}/renders';
  }

  const framePattern = isEmpty(settings.frame_pattern) ? '######' : String(settings.frame_pattern);
  if (framePattern.indexOf('#') < 0 || /[\/\\]/.test(framePattern)) {
    throw `Frame Pattern (frame_pattern) "${framePattern}" must be a file name containing '#'`;
  }

  const sequence = checkPathComponent('Sequence (sequence)', sanitize(settings.sequence));
  const jobDirName = checkPathComponent(
    `job name from the format "${settings.job_name_format}"`,
    expandJobName(settings.job_name_format, jobNameFields(job)));

  // path.join() cleans the path before it converts backslashes, so convert
  // them first ("R:\\renders\\" would otherwise become "R:/renders//...").
  const renderRoot = rawRoot.replace(/\\/g, '/');
  const renderOutput = path.join(renderRoot, sequence, jobDirName, framePattern);

  // Store what was actually used, so that the web interface shows it.
  settings.render_output_path = renderOutput;
  settings.expanded_job_name = jobDirName;
  settings.format = format;
  settings.frame_pattern = framePattern;

  const renderTasks = authorRenderTasks(settings, renderOutput, format);
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

// Replace characters that are unsafe in a file or directory name.
function sanitize(value) {
  if (isEmpty(value)) {
    return '';
  }
  return String(value).trim().replace(/[\/\\:*?"<>|;{}\x00-\x1f\x7f\s]+/g, '_');
}

function checkPathComponent(what, value) {
  if (value === '' || value === '.' || value === '..') {
    throw `The ${what} is empty or not usable as a folder name: "${value}"`;
  }
  if (/[\/\\:*?"<>|;{}]/.test(value) || value.indexOf('..') >= 0) {
    throw `The ${what} "${value}" contains characters that cannot be used in a folder name`;
  }
  return value;
}

function jobNameFields(job) {
  const settings = job.settings;
  const metadata = job.metadata || {};
  return {
    job: job.name,
    sequence: settings.sequence,
    shot: settings.shot,
    user: isEmpty(settings.user) ? metadata['user.name'] : settings.user,
    scene: settings.scene,
    blendfile: isEmpty(settings.blendfile) ? '' : path.stem(settings.blendfile),
    timestamp: formatTimestampLocal(job.created),
  };
}

// Expand {placeholder} fields in the job-name format.
function expandJobName(format, fields) {
  return String(format).trim().replace(/{([^{}]*)}/g, (match, name) => {
    if (JOB_NAME_PLACEHOLDERS.indexOf(name) < 0) {
      throw `Unknown placeholder {${name}} in the job-name format "${format}"; ` +
        `use ${JOB_NAME_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`;
    }
    const value = sanitize(fields[name]);
    if (value === '') {
      throw `The job-name format "${format}" uses {${name}}, but its value is empty`;
    }
    return value;
  });
}

// One step per frame, so the Manager can show progress. frameCount() and step-based
// progress came with Flamenco 3.8; an older Manager has neither, and counts no steps.
function stepCount(chunk) {
  return typeof frameCount === 'function' ? frameCount(chunk) : 0;
}

function authorRenderTasks(settings, renderOutput, format) {
  print('authorRenderTasks(', renderOutput, ')');
  const renderTasks = [];
  const chunks = frameChunker(settings.frames, settings.chunk_size);
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
          '--render-output', renderOutput,
          '--render-format', format,
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
