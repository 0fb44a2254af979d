// Flamenco Desk test job type "hostile": every setting's `eval` is an attack a submitter must
// never execute (code execution, file access, introspection escapes, resource exhaustion).
// The expressions are JSON string literals, so the Manager serves them byte for byte; the
// same list is tests/support/job_type_scripts.py HOSTILE_EXPRESSIONS.
//
// Installed per test by the `job_type_script` fixture (tests/support/farm_fixtures.py).

const ATTACKS = [
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
];

const VISIBILITIES = ['visible', 'submission', 'web', 'hidden'];

const JOB_TYPE = {
  label: 'Hostile',
  description: "Every setting's eval is an attack; a submitter must not execute them.",
  settings: ATTACKS.map(function (expression, index) {
    const setting = {
      key: 'attack_' + (index < 10 ? '0' : '') + index,
      type: 'string',
      eval: expression,
      description: 'eval: ' + expression,
      visible: VISIBILITIES[index % 4],
    };
    if (index % 3 === 0) {
      setting.evalInfo = { showLinkButton: true, description: 'auto' };
    }
    return setting;
  }),
};

function compileJob(job) {
  // Whatever the submitter sent is only echoed, never interpreted.
  const task = author.Task('hostile', 'misc');
  task.addCommand(author.Command('echo', { message: 'hostile job with ' + Object.keys(job.settings || {}).length + ' settings' }));
  job.addTask(task);
}
