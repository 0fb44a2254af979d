// Flamenco Desk test job type "path-probe": one `misc` task whose `echo` command carries each
// of the settings `p0`…`p5` as a parameter, so a test reads back exactly what the Manager hands a
// Worker of each platform for each path (tests/platforms/). Never run: only fake Workers take it.

const JOB_TYPE = {
  label: 'Path Probe',
  settings: [
    { key: 'p0', type: 'string', default: '' },
    { key: 'p1', type: 'string', default: '' },
    { key: 'p2', type: 'string', default: '' },
    { key: 'p3', type: 'string', default: '' },
    { key: 'p4', type: 'string', default: '' },
    { key: 'p5', type: 'string', default: '' },
  ],
};

function compileJob(job) {
  const s = job.settings;
  const task = author.Task('path-probe', 'misc');
  task.addCommand(author.Command('echo', {
    message: 'path probe', p0: s.p0, p1: s.p1, p2: s.p2, p3: s.p3, p4: s.p4, p5: s.p5,
  }));
  job.addTask(task);
}
