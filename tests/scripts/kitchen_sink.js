// Flamenco Desk test job type "kitchen-sink": every AvailableJobSetting field the API offers
// (subtypes, choices, propargs, label, description, default, eval, evalInfo, all four
// `visible` values, required, editable), served by a real Manager to the tests.
//
// Installed per test by the `job_type_script` fixture (tests/support/farm_fixtures.py).
// compileJob makes one `misc` task that echoes a summary, so a job of this type runs on
// any Worker without Blender.

const JOB_TYPE = {
  label: 'Kitchen Sink',
  description: 'Uses every job setting feature the API offers.',
  settings: [
    {
      // Every field but `choices` (see `quality`).
      key: 'output_file',
      type: 'string',
      subtype: 'file_path',
      propargs: { maxlen: 1024 },
      description: 'Where the output goes',
      label: 'Output File',
      default: '//output.png',
      eval: "abspath('//output.png')",
      evalInfo: { showLinkButton: true, description: 'Next to the blend file' },
      visible: 'visible',
      required: true,
      editable: true,
    },
    { key: 'work_dir', type: 'string', subtype: 'dir_path', visible: 'submission',
      default: '/tmp/work', description: 'Scratch directory' },
    { key: 'log_name', type: 'string', subtype: 'file_name', visible: 'web', default: 'log.txt' },
    { key: 'frame_pattern', type: 'string', subtype: 'hashed_file_path', visible: 'hidden',
      default: '/render/shot/######' },
    { key: 'quality', type: 'string', choices: ['draft', 'preview', 'final'], default: 'preview',
      label: 'Quality', required: false },
    { key: 'samples', type: 'int32', propargs: { min: 1, max: 4096 }, default: 64,
      description: 'Render samples' },
    { key: 'exposure', type: 'float', propargs: { min: -10.0, max: 10.0, step: 0.1 }, default: 0.5 },
    { key: 'denoise', type: 'bool', default: true, label: 'Denoise' },
    // From the scene, with a minimum and no default (a studio's "samples"): the scene's value
    // must win over the minimum until the artist changes it.
    { key: 'scene_samples', type: 'int32', eval: 'C.scene.cycles.samples', propargs: { min: 1 },
      label: 'Samples', visible: 'submission' },
    { key: 'camera', type: 'string', eval: 'C.scene.camera.name',
      evalInfo: { showLinkButton: false, description: 'The scene camera' } },
    { key: 'checksum', type: 'string', editable: false, eval: 'jobname.upper()', visible: 'submission' },
    // Minimal setting: only the two required fields.
    { key: 'bare', type: 'int32' },
    // What the submitter fills in (as in the built-in job types): no eval, shown on the web only.
    { key: 'blendfile', type: 'string', required: true, visible: 'web',
      description: 'Path of the Blend file to render' },
  ],
};

function compileJob(job) {
  const settings = job.settings;
  const qualities = JOB_TYPE.settings.filter(function (s) { return s.key === 'quality'; })[0].choices;
  if (qualities.indexOf(settings.quality) < 0) {
    throw 'quality must be one of ' + qualities.join(', ') + ', not ' + settings.quality;
  }
  const task = author.Task('kitchen-sink', 'misc');
  task.addCommand(author.Command('echo', {
    message: 'kitchen sink: quality=' + settings.quality + ' samples=' + settings.samples,
  }));
  job.addTask(task);
}
