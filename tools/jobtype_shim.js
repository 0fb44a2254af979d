#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
//
// jobtype_shim.js: run Flamenco job-type scripts (the `scripts/*.js` files a
// Flamenco Manager loads) under Node.js, with a shim of the Manager's goja
// environment, so that job types can be tested without a Manager.
//
// Usage:
//   node tools/jobtype_shim.js export  <file.js>
//       Print the AvailableJobType JSON as the Manager sends it for
//       GET /api/v3/jobs/type/{name} (compact, one line).
//   node tools/jobtype_shim.js compile <file.js> <job.json>
//       Run compileJob() on the job in <job.json> and print
//       {"job": {...}, "tasks": [...]} (pretty JSON). If the script throws,
//       print the Manager-style error body {"code": 400, "message": ...,
//       "thrown": ...} on stdout, the message on stderr, and exit 1.
//
// <job.json> is a SubmittedJob-like object: {name, type (or jobType),
// priority, settings, metadata, created (RFC 3339, default: now), id,
// storage: {shaman_checkout_id}, worker_tag, type_etag}. As in the Manager,
// no defaults are applied and nothing is type-coerced; a non-empty `type_etag`
// that differs from the script's etag is rejected like a 412.
//
// Exactly reproduced (ported from the Manager's Go code):
//   - frameChunker/frameCount: frame syntax, merge/sort, chunk formatting,
//     error texts (including the Go format string's double space);
//   - path.basename/dirname/join/stem (Flamenco's crosspath + Go path.Clean);
//   - shellSplit (github.com/google/shlex rules and error texts);
//   - author.Task/Command (name/type checks, priority 50, parameters copied at
//     Command() time, task copied when added to the job);
//   - JOB_TYPE export: Go struct field order (oapi-codegen sorts properties
//     alphabetically), omitted absent optional fields, dropped unknown keys,
//     Go-style string coercion, sorted map keys, HTML-escaping JSON encoder;
//     etag = SHA-1 hex of that JSON with `"etag":""` (checked against the
//     Manager's unit-test etag for echo-sleep-test).
// Approximated (documented in manager_scripts/README.md):
//   - the JS engine is V8, not goja: V8-only syntax/APIs are not rejected, and
//     runtime error texts differ (e.g. TypeError wording);
//   - the error location suffix: goja prints `at fn (file.js:L:C(pc))`; the
//     shim prints `at fn (file.js:L:C)` for Error objects and cannot locate
//     thrown primitives (strings), see `thrown` for the bare value;
//   - job.created is a JS Date (a Go time.Time in the Manager);
//   - two-way variable replacement of settings/metadata (done by the Manager
//     before compileJob) is not performed;
//   - print()/alert() go to stderr instead of the Manager log;
//   - process.platform/cwd() are those of the Node process.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const nodePath = require('path');
const vm = require('vm');

// ---------------------------------------------------------------------------
// Go-style helpers

/** Go's strconv.Quote, good enough for error messages. */
function goQuote(s) {
  let out = '"';
  for (const ch of String(s)) {
    const cp = ch.codePointAt(0);
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\x07': out += '\\a'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\v': out += '\\v'; break;
      default:
        if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
        else out += ch;
    }
  }
  return out + '"';
}

/** A Go error value; turned into a goja GoError when thrown into JS. */
class GoErr extends Error {}

/** Go's strconv.ParseInt(s, 10, 64). */
function parseInt64(s) {
  if (!/^[+-]?[0-9]+$/.test(s)) {
    throw new GoErr(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  }
  const big = BigInt(s);
  if (big > 9223372036854775807n || big < -9223372036854775808n) {
    throw new GoErr(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  }
  return Number(big);
}

/** goja's conversion of a JS argument to a Go `string` parameter. */
function toGoString(v) {
  return v === undefined || v === null ? '' : String(v);
}

/** goja's conversion of a JS argument to a Go `int` parameter. */
function toGoInt(v) {
  if (v === undefined || v === null) return 0;
  const n = Number(v);
  if (Number.isNaN(n)) return 0;
  if (!Number.isFinite(n)) return n > 0 ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  return Math.trunc(n);
}

// ---------------------------------------------------------------------------
// Frame ranges (internal/manager/job_compilers/js_globals.go)

const CHUNK_REGULAR = '-';
const CHUNK_BLENDER = '..';
const MAX_FRAMES = 10000000; // Shim-only guard; the Manager would just allocate.

function errInvalidRange(theRange, message, ...errs) {
  const wrapped = errs.find((e) => e);
  if (wrapped) {
    // Note the two spaces: that is the Go format string.
    return new GoErr(`invalid range ${goQuote(theRange)}:  ${message} (${wrapped.message})`);
  }
  return new GoErr(`invalid range ${goQuote(theRange)}: ${message}`);
}

function tryParse(s) {
  try {
    return [parseInt64(s.trim()), null];
  } catch (e) {
    return [null, e];
  }
}

function frameRangeExplode(frameRange) {
  const frames = new Set();
  frameRange = frameRange.split(CHUNK_BLENDER).join(CHUNK_REGULAR);
  for (const part of frameRange.split(',')) {
    const startEnd = part.split(CHUNK_REGULAR);
    if (startEnd.length === 1) {
      const [frame, err] = tryParse(startEnd[0]);
      if (err) throw errInvalidRange(frameRange, part, err);
      frames.add(frame);
    } else if (startEnd.length === 2) {
      const [start, startErr] = tryParse(startEnd[0]);
      const [end, endErr] = tryParse(startEnd[1]);
      if (startErr || endErr) throw errInvalidRange(frameRange, part, startErr, endErr);
      if (end - start >= MAX_FRAMES) {
        throw new GoErr(`jobtype_shim: refusing to explode ${end - start + 1} frames in ${goQuote(part)}`);
      }
      for (let f = start; f <= end; f++) frames.add(f);
    } else {
      throw errInvalidRange(frameRange, part);
    }
  }
  return Array.from(frames).sort((a, b) => a - b);
}

function frameRangeMerge(frames) {
  let startFrame = frames[0];
  let prevFrame = frames[0];
  const ranges = [];
  const appendRange = (from, to) => {
    if (from === to) ranges.push(String(from));
    else if (from + 1 === to) ranges.push(String(from), String(to));
    else ranges.push(`${from}${CHUNK_REGULAR}${to}`);
  };
  let current = frames[0];
  for (current of frames) {
    if (current > prevFrame + 1) {
      appendRange(startFrame, prevFrame);
      startFrame = current;
    }
    prevFrame = current;
  }
  appendRange(startFrame, current);
  return ranges.join(',');
}

/** frameChunker(frames, chunkSize) -> ["1-3", "4,5", ...] */
function frameChunker(frameRange, chunkSize) {
  frameRange = toGoString(frameRange).trim();
  chunkSize = toGoInt(chunkSize);
  if (frameRange.length === 0) throw errInvalidRange(frameRange, 'empty range');
  if (chunkSize < 1) throw new GoErr(`invalid chunk size, must be positive number: ${chunkSize}`);
  const frames = frameRangeExplode(frameRange);
  if (frames.length === 0) throw errInvalidRange(frameRange, 'empty range');
  const chunks = [];
  for (let i = 0; i < frames.length; i += chunkSize) {
    chunks.push(frameRangeMerge(frames.slice(i, Math.min(i + chunkSize, frames.length))));
  }
  return chunks;
}

/** frameCount(frames) -> number of distinct frames. */
function frameCount(frameRange) {
  return frameRangeExplode(toGoString(frameRange)).length;
}

// ---------------------------------------------------------------------------
// Timestamps

function toDate(t) {
  if (t instanceof Date) return t;
  if (t && typeof t === 'object' && typeof t.getTime === 'function') return new Date(t.getTime());
  if (typeof t === 'string' || typeof t === 'number') return new Date(t);
  return new Date(NaN);
}

/** formatTimestampLocal(t) -> "YYYY-MM-DD_HHMMSS" in local time (Go layout 2006-01-02_150405). */
function formatTimestampLocal(t) {
  let d = toDate(t);
  if (Number.isNaN(d.getTime())) d = new Date(Date.UTC(1, 0, 1)); // Go's zero time.
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())}_` +
    `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

// ---------------------------------------------------------------------------
// shellSplit: github.com/google/shlex

function shellSplit(s) {
  s = toGoString(s);
  const words = [];
  const SPACE = ' \t\r\n';
  let i = 0;
  const n = s.length;
  for (;;) {
    // startState: skip spaces and comments.
    let word = null;
    let state = 'start';
    while (i <= n) {
      const ch = i < n ? s[i] : null; // null = EOF
      i++;
      if (state === 'start') {
        if (ch === null) break;
        if (SPACE.includes(ch)) continue;
        if (ch === '"') { word = ''; state = 'dquote'; }
        else if (ch === "'") { word = ''; state = 'squote'; }
        else if (ch === '\\') { word = ''; state = 'escape'; }
        else if (ch === '#') { state = 'comment'; }
        else { word = ch; state = 'word'; }
      } else if (state === 'comment') {
        if (ch === null) break;
        if (ch === '\n') state = 'start';
      } else if (state === 'word') {
        if (ch === null || SPACE.includes(ch)) break;
        if (ch === '"') state = 'dquote';
        else if (ch === "'") state = 'squote';
        else if (ch === '\\') state = 'escape';
        else word += ch;
      } else if (state === 'escape') {
        if (ch === null) throw new GoErr('EOF found after escape character');
        word += ch; state = 'word';
      } else if (state === 'dquote-escape') {
        if (ch === null) throw new GoErr('EOF found after escape character');
        word += ch; state = 'dquote';
      } else if (state === 'dquote') {
        if (ch === null) throw new GoErr('EOF found when expecting closing quote');
        if (ch === '"') state = 'word';
        else if (ch === '\\') state = 'dquote-escape';
        else word += ch;
      } else if (state === 'squote') {
        if (ch === null) throw new GoErr('EOF found when expecting closing quote');
        if (ch === "'") state = 'word';
        else word += ch;
      }
    }
    if (word === null) return words;
    words.push(word);
  }
}

// ---------------------------------------------------------------------------
// path module: pkg/crosspath + Go's "path" package

/** Go's path.Clean. */
function goClean(p) {
  if (p === '') return '.';
  const rooted = p[0] === '/';
  const n = p.length;
  let out = rooted ? '/' : '';
  let r = rooted ? 1 : 0;
  let dotdot = out.length;
  while (r < n) {
    if (p[r] === '/') { r++; continue; }
    if (p[r] === '.' && (r + 1 === n || p[r + 1] === '/')) { r++; continue; }
    if (p[r] === '.' && p[r + 1] === '.' && (r + 2 === n || p[r + 2] === '/')) {
      r += 2;
      if (out.length > dotdot) {
        let w = out.length - 1;
        while (w > dotdot && out[w] !== '/') w--;
        out = out.slice(0, w);
      } else if (!rooted) {
        if (out.length > 0) out += '/';
        out += '..';
        dotdot = out.length;
      }
      continue;
    }
    if ((rooted && out.length !== 1) || (!rooted && out.length !== 0)) out += '/';
    while (r < n && p[r] !== '/') out += p[r++];
  }
  return out === '' ? '.' : out;
}

const toSlash = (p) => p.split('\\').join('/');

function goBase(p) {
  if (p === '') return '.';
  while (p.length > 0 && p[p.length - 1] === '/') p = p.slice(0, -1);
  const i = p.lastIndexOf('/');
  if (i >= 0) p = p.slice(i + 1);
  return p === '' ? '/' : p;
}

function goExt(p) {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) {
    if (p[i] === '.') return p.slice(i);
  }
  return '';
}

const pathModule = {
  basename: (p) => goBase(toSlash(toGoString(p))),
  dirname: (p) => {
    p = toGoString(p);
    if (p === '') return '.';
    const slashed = toSlash(p);
    const dir = slashed.slice(0, slashed.lastIndexOf('/') + 1);
    if (dir === '') return '.';
    if (dir.length > 1) return dir.slice(0, -1);
    return dir;
  },
  join: (...elems) => {
    const parts = elems.map(toGoString);
    const first = parts.findIndex((e) => e !== '');
    if (first < 0) return '';
    return toSlash(goClean(parts.slice(first).join('/')));
  },
  stem: (p) => {
    const base = goBase(toSlash(toGoString(p)));
    return base.slice(0, base.length - goExt(base).length);
  },
};

// ---------------------------------------------------------------------------
// Go JSON encoding (encoding/json with HTML escaping)

/** Marks a plain object as a Go map: keys are sorted when encoded. */
class GoMap {
  constructor(entries) { this.entries = entries; }
}

function goJSONString(s) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { out += ch + s[i + 1]; i++; } else out += '\\ufffd';
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) { out += '\\ufffd'; continue; }
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '<': out += '\\u003c'; break;
      case '>': out += '\\u003e'; break;
      case '&': out += '\\u0026'; break;
      case '\u2028': out += '\\u2028'; break;
      case '\u2029': out += '\\u2029'; break;
      default:
        out += c < 0x20 ? '\\u' + c.toString(16).padStart(4, '0') : ch;
    }
  }
  return out + '"';
}

function goJSONNumber(n) {
  if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${n}`);
  if (Object.is(n, -0)) return '-0';
  return String(n); // Same thresholds and exponent notation as Go for float64.
}

/** Encode like Go's json.Marshal: GoMap keys sorted, plain objects in insertion (struct) order. */
function goJSON(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJSONString(v);
  if (typeof v === 'number') return goJSONNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return goJSONString(v.toISOString().replace('.000Z', 'Z'));
  if (Array.isArray(v)) return '[' + v.map(goJSON).join(',') + ']';
  if (v instanceof GoMap) {
    const keys = Object.keys(v.entries).sort(); // Go sorts map keys bytewise; fine for ASCII keys.
    return '{' + keys.map((k) => goJSONString(k) + ':' + goJSON(v.entries[k])).join(',') + '}';
  }
  return '{' + Object.keys(v).map((k) => goJSONString(k) + ':' + goJSON(v[k])).join(',') + '}';
}

/** Turn a GoMap/struct tree into plain JS data with Go's key order (for JSON.stringify). */
function toPlain(v) {
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Date) return v.toISOString().replace('.000Z', 'Z');
  if (v instanceof GoMap) {
    const out = {};
    for (const k of Object.keys(v.entries).sort()) out[k] = toPlain(v.entries[k]);
    return out;
  }
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v)) out[k] = toPlain(v[k]);
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------
// goja Export(): JS value -> Go value (interface{})

function exportValue(v, seen = new Set()) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'function') throw new GoErr('cannot export a function to a Go value');
  if (typeof v === 'symbol') return null;
  if (toDateLike(v)) return new Date(v.getTime());
  if (seen.has(v)) throw new GoErr('cannot export a cyclic structure to a Go value');
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => exportValue(x, seen));
    const entries = {};
    for (const k of Object.keys(v)) entries[k] = exportValue(v[k], seen);
    return new GoMap(entries);
  } finally {
    seen.delete(v);
  }
}

function toDateLike(v) {
  return Object.prototype.toString.call(v) === '[object Date]';
}

// ---------------------------------------------------------------------------
// JOB_TYPE -> api.AvailableJobType (goja ExportTo with UncapFieldNameMapper)

const isAbsent = (v) => v === undefined || v === null;

function exportString(v) { return isAbsent(v) ? '' : String(v); }
function exportOptString(v) { return isAbsent(v) ? undefined : String(v); }
function exportOptBool(v) { return isAbsent(v) ? undefined : Boolean(v); }
function exportOptAny(v) { return isAbsent(v) ? undefined : exportValue(v); }

function exportArrayLike(v, what) {
  if (Array.isArray(v)) return v;
  throw new GoErr(`could not convert ${what} to a Go slice: ${typeof v}`);
}

function exportSetting(s, index) {
  if (isAbsent(s) || typeof s !== 'object' || Array.isArray(s)) {
    throw new GoErr(`settings[${index}]: could not convert ${JSON.stringify(s)} to api.AvailableJobSetting`);
  }
  // Field order = Go struct order (oapi-codegen sorts schema properties).
  const out = {};
  const put = (k, v) => { if (v !== undefined) out[k] = v; };
  if (!isAbsent(s.choices)) {
    put('choices', exportArrayLike(s.choices, `settings[${index}].choices`).map(exportString));
  }
  put('default', exportOptAny(s.default));
  put('description', exportOptAny(s.description));
  put('editable', exportOptBool(s.editable));
  put('eval', exportOptString(s.eval));
  if (!isAbsent(s.evalInfo)) {
    if (typeof s.evalInfo !== 'object') {
      throw new GoErr(`settings[${index}].evalInfo: could not convert ${typeof s.evalInfo} to a Go struct`);
    }
    out.evalInfo = {
      description: exportString(s.evalInfo.description),
      showLinkButton: Boolean(s.evalInfo.showLinkButton),
    };
  }
  out.key = exportString(s.key);
  put('label', exportOptAny(s.label));
  if (!isAbsent(s.propargs)) {
    const pa = exportValue(s.propargs);
    if (!(pa instanceof GoMap)) {
      throw new GoErr(`settings[${index}].propargs: could not convert ${typeof s.propargs} to map[string]interface {}`);
    }
    out.propargs = pa;
  }
  put('required', exportOptBool(s.required));
  put('subtype', exportOptString(s.subtype));
  out.type = exportString(s.type);
  put('visible', exportOptString(s.visible));
  return out;
}

function jobTypeNameFromFile(file) {
  const base = nodePath.basename(file);
  const ext = nodePath.extname(base);
  return base.slice(0, base.length - ext.length).split('_').join('-');
}

/** The AvailableJobType (as ordered plain data + GoMaps) for a loaded script. */
function availableJobType(loaded) {
  const jt = loaded.get('JOB_TYPE');
  if (jt === undefined) {
    throw new Error(`script (${loaded.filename}) does not define a JOB_TYPE object`);
  }
  if (jt === null || typeof jt !== 'object') {
    throw new Error(`script (${loaded.filename}) does not define a proper JOB_TYPE object`);
  }
  const ajt = {};
  const description = exportOptString(jt.description);
  if (description !== undefined) ajt.description = description;
  ajt.etag = '';
  ajt.label = exportString(jt.label);
  ajt.name = jobTypeNameFromFile(loaded.filename);
  try {
    ajt.settings = isAbsent(jt.settings)
      ? null
      : exportArrayLike(jt.settings, 'JOB_TYPE.settings').map(exportSetting);
  } catch (e) {
    throw new Error(`script (${loaded.filename}) does not define a proper JOB_TYPE object: ${e.message}`);
  }
  ajt.etag = crypto.createHash('sha1').update(goJSON(ajt), 'utf8').digest('hex');
  return ajt;
}

// ---------------------------------------------------------------------------
// The VM

let uuidCounter = 0;
function newUUID() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  uuidCounter++;
  return `00000000-0000-4000-8000-${String(uuidCounter).padStart(12, '0')}`;
}

/**
 * Load a job-type script into a fresh context with the Manager's globals.
 * Returns {filename, context, get(name), logs}.
 */
function loadScript(file, options = {}) {
  const filename = nodePath.resolve(file);
  if (nodePath.extname(filename) !== '.js') throw new Error(`${file}: job-type scripts must be *.js files`);
  const source = fs.readFileSync(filename, 'utf8');
  if (Buffer.byteLength(source) < 8) throw new Error(`${file}: the Manager ignores scripts under 8 bytes`);

  const logs = [];
  const log = options.log || ((level, args) => {
    const line = `${level}: ${args.map((a) => (typeof a === 'string' ? a : safeInspect(a))).join(' ')}`;
    logs.push(line);
    process.stderr.write(line + '\n');
  });

  const context = vm.createContext({});
  // V8 adds these to every context; goja has neither.
  vm.runInContext('delete globalThis.console; delete globalThis.WebAssembly;', context);
  // A GoError class inside the context, so scripts see a real Error subclass.
  const GoError = vm.runInContext(
    '(function () { function GoError(message) { var e = new Error(message);' +
    ' Object.setPrototypeOf(e, GoError.prototype); return e; }' +
    ' GoError.prototype = Object.create(Error.prototype, {constructor: {value: GoError}, name: {value: "GoError"}});' +
    ' return GoError; })()', context);
  const ctxArray = vm.runInContext('Array', context);
  const ctxObject = vm.runInContext('Object', context);

  // Wrap a native (Go) function: GoErr -> thrown GoError, arrays made in-context.
  const native = (fn) => function (...args) {
    try {
      const result = fn(...args);
      return Array.isArray(result) ? ctxArray.from(result) : result;
    } catch (e) {
      if (e instanceof GoErr) throw GoError(e.message);
      throw e;
    }
  };

  const tasks = new WeakSet();
  const commandParams = new WeakMap(); // command object -> exported (Go) parameters

  const author = ctxObject.create(null);
  author.Task = native((name, taskType) => {
    name = toGoString(name).trim();
    taskType = toGoString(taskType).trim();
    if (name === '') throw new GoErr('author.Task(name, type): name is required');
    if (taskType === '') throw new GoErr('author.Task(name, type): type is required');
    const task = new ctxObject();
    task.uuid = newUUID();
    task.name = name;
    task.type = taskType;
    task.priority = 50;
    task.commands = new ctxArray();
    task.dependencies = new ctxArray();
    Object.defineProperty(task, 'addCommand', {
      value: native((cmd) => {
        if (!commandParams.has(cmd)) throw new GoErr('addCommand: argument is not an author.Command()');
        const copy = Object.assign(new ctxObject(), cmd); // AddCommand appends a copy.
        commandParams.set(copy, commandParams.get(cmd));
        task.commands.push(copy);
      }),
    });
    Object.defineProperty(task, 'addDependency', {
      value: native((dep) => {
        if (!tasks.has(dep)) throw new GoErr('addDependency: argument is not an author.Task()');
        task.dependencies.push(dep);
      }),
    });
    tasks.add(task);
    return task;
  });
  author.Command = native((cmdName, parameters, totalStepCount) => {
    const exported = exportValue(parameters); // Copied now, like goja's ExportTo.
    if (exported !== null && !(exported instanceof GoMap)) {
      throw new GoErr('author.Command(name, parameters, steps): parameters must be an object');
    }
    const cmd = new ctxObject();
    cmd.name = toGoString(cmdName);
    // What the script sees: a copy of the exported parameters.
    cmd.parameters = vm.runInContext('(function (s) { return JSON.parse(s); })', context)(
      JSON.stringify(toPlain(exported)));
    cmd.totalStepCount = toGoInt(totalStepCount);
    commandParams.set(cmd, exported);
    return cmd;
  });

  const pathObj = ctxObject.create(null);
  for (const [k, fn] of Object.entries(pathModule)) pathObj[k] = native(fn);
  const processObj = ctxObject.create(null);
  processObj.platform = options.platform || process.platform;
  processObj.cwd = native(() => process.cwd());

  const modules = { author, path: pathObj, process: processObj };
  const moduleCache = new Map();
  const scriptDir = nodePath.dirname(filename);
  const requireFn = native((name) => {
    name = toGoString(name);
    if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
    const candidates = [name, name + '.js', nodePath.join(name, 'index.js')]
      .map((c) => nodePath.resolve(scriptDir, c));
    const found = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
    if (!found) throw new GoErr(`Invalid module: ${goQuote(name)}`);
    if (moduleCache.has(found)) return moduleCache.get(found).exports;
    const mod = { exports: new ctxObject() };
    moduleCache.set(found, mod);
    const wrapper = vm.runInContext(
      '(function (exports, require, module) {' + fs.readFileSync(found, 'utf8') + '\n})',
      context, { filename: found });
    wrapper(mod.exports, requireFn, mod);
    return mod.exports;
  });

  Object.assign(context, {
    print: (...args) => { log('print', args); },
    alert: (...args) => { log('alert (warning)', args); },
    frameChunker: native(frameChunker),
    frameCount: native(frameCount),
    formatTimestampLocal: native(formatTimestampLocal),
    shellSplit: native(shellSplit),
    author,
    path: pathObj,
    process: processObj,
    require: requireFn,
  });

  vm.runInContext(source, context, { filename });

  return {
    filename,
    context,
    logs,
    tasks,
    commandParams,
    ctxObject,
    ctxArray,
    get(name) {
      return vm.runInContext(`typeof ${name} === "undefined" ? undefined : ${name}`, context);
    },
  };
}

function safeInspect(v) {
  try {
    return JSON.stringify(v);
  } catch (e) {
    return String(v);
  }
}

// ---------------------------------------------------------------------------
// Compilation

class CompileError extends Error {
  constructor(message, thrown, code = 400) {
    super(message);
    this.thrown = thrown;
    this.code = code;
  }
}

/** Manager-style message for a value thrown out of compileJob. */
function describeThrown(value, scriptFile) {
  let text;
  try {
    text = String(value);
  } catch (e) {
    text = Object.prototype.toString.call(value);
  }
  const base = nodePath.basename(scriptFile);
  const stack = value && typeof value === 'object' && typeof value.stack === 'string' ? value.stack : '';
  for (const line of stack.split('\n')) {
    const m = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/.exec(line);
    if (m && nodePath.resolve(m[2]) === nodePath.resolve(scriptFile)) {
      return { thrown: text, message: `${text} at ${m[1] || '<anonymous>'} (${base}:${m[3]}:${m[4]})` };
    }
  }
  return { thrown: text, message: `${text} at ${base} (location unknown to the shim)` };
}

function jsToPlainSettings(obj) {
  // Settings/metadata after the script ran: Go maps (sorted keys).
  return toPlain(exportValue(obj === undefined ? null : obj)) || {};
}

/**
 * Compile a job. `submitted` is a SubmittedJob-like object.
 * Returns {job, tasks} (plain data) or throws CompileError.
 */
function compile(file, submitted, options = {}) {
  const loaded = loadScript(file, options);
  const ajt = availableJobType(loaded);
  const jobType = submitted.type !== undefined ? submitted.type : submitted.jobType;
  if (jobType !== undefined && jobType !== ajt.name) {
    throw new CompileError('job type unknown', null, 400);
  }
  if (submitted.type_etag && submitted.type_etag !== ajt.etag) {
    throw new CompileError(
      'rejecting job because its settings are outdated, refresh the job type', null, 412);
  }
  const compileJob = loaded.get('compileJob');
  if (typeof compileJob !== 'function') {
    throw new CompileError(`script (${loaded.filename}) does not define a compileJob(job) function`, null, 500);
  }

  const C = loaded.ctxObject;
  const clone = (v) => vm.runInContext('(function (s) { return JSON.parse(s); })', loaded.context)(JSON.stringify(v));
  const created = submitted.created ? new Date(submitted.created) : new Date();
  if (Number.isNaN(created.getTime())) throw new Error(`invalid "created" timestamp: ${submitted.created}`);

  const job = new C();
  job.jobID = submitted.id || submitted.jobID || newUUID();
  job.workerTagUUID = submitted.worker_tag || submitted.workerTagUUID || '';
  job.name = submitted.name === undefined ? '' : submitted.name;
  job.jobType = ajt.name;
  job.priority = submitted.priority === undefined ? 50 : submitted.priority;
  job.status = 'under-construction';
  job.created = vm.runInContext('(function (ms) { return new Date(ms); })', loaded.context)(created.getTime());
  job.settings = clone(submitted.settings || {});
  job.metadata = clone(submitted.metadata || {});
  job.storage = clone({ shamanCheckoutID: (submitted.storage && submitted.storage.shaman_checkout_id) || '' });
  job.tasks = new loaded.ctxArray();
  const added = [];
  Object.defineProperty(job, 'addTask', {
    value: (task) => {
      if (!loaded.tasks.has(task)) {
        throw vm.runInContext('(function (m) { return new TypeError(m); })', loaded.context)(
          'job.addTask(task): argument is not an author.Task()');
      }
      // The Manager appends a copy of the task: later changes are not seen.
      const snapshot = {
        task,
        uuid: task.uuid,
        name: String(task.name),
        type: String(task.type),
        priority: task.priority,
        commands: Array.from(task.commands, (c) => ({
          name: String(c.name),
          parameters: loaded.commandParams.has(c) ? loaded.commandParams.get(c) : exportValue(c.parameters),
          totalStepCount: toGoInt(c.totalStepCount),
        })),
        dependencies: Array.from(task.dependencies),
      };
      added.push(snapshot);
      job.tasks.push(task);
    },
  });

  try {
    compileJob(job);
  } catch (e) {
    const d = describeThrown(e, loaded.filename);
    throw new CompileError(d.message, d.thrown, 400);
  }

  // Metadata values must stay strings (Go map[string]string).
  for (const [k, v] of Object.entries(job.metadata || {})) {
    if (typeof v !== 'string') {
      throw new CompileError(`metadata ${goQuote(k)} must be a string, got ${typeof v}`, null, 400);
    }
  }

  const indexByUUID = new Map(added.map((t, i) => [t.uuid, i + 1]));
  const tasks = added.map((t, i) => {
    const cmds = t.commands.map((c) => ({
      name: c.name,
      parameters: toPlain(c.parameters),
      total_step_count: c.totalStepCount,
    }));
    const deps = t.dependencies.map((dep) => {
      if (!indexByUUID.has(dep.uuid)) {
        throw new CompileError(
          `task ${goQuote(t.name)} depends on task ${goQuote(dep.name)}, which was not added to the job`,
          null, 500);
      }
      return { index_in_job: indexByUUID.get(dep.uuid), name: added[indexByUUID.get(dep.uuid) - 1].name };
    });
    return {
      index_in_job: i + 1,
      name: t.name,
      task_type: t.type,
      priority: t.priority,
      status: 'queued',
      commands: cmds,
      steps_total: cmds.reduce((sum, c) => sum + Math.max(1, c.total_step_count), 0),
      dependencies: deps,
    };
  });

  const outJob = {
    id: job.jobID,
    name: job.name,
    type: ajt.name,
    priority: job.priority,
    status: 'under-construction',
    created: created.toISOString().replace('.000Z', 'Z'),
    settings: jsToPlainSettings(job.settings),
    metadata: jsToPlainSettings(job.metadata),
  };
  if (submitted.storage && submitted.storage.shaman_checkout_id) outJob.storage = { shaman_checkout_id: submitted.storage.shaman_checkout_id };
  if (job.workerTagUUID) outJob.worker_tag = job.workerTagUUID;
  return { job: outJob, tasks, logs: loaded.logs };
}

// ---------------------------------------------------------------------------
// CLI

function usage() {
  process.stderr.write(
    'usage: node tools/jobtype_shim.js export <file.js>\n' +
    '       node tools/jobtype_shim.js compile <file.js> <job.json>\n');
  return 2;
}

function main(argv) {
  const [cmd, ...args] = argv;
  if (cmd === 'export' && args.length === 1) {
    let ajt;
    try {
      ajt = availableJobType(loadScript(args[0]));
    } catch (e) {
      process.stderr.write(`${e.message || e}\n`);
      return 1;
    }
    process.stdout.write(goJSON(ajt) + '\n');
    return 0;
  }
  if (cmd === 'compile' && args.length === 2) {
    let submitted;
    try {
      submitted = JSON.parse(fs.readFileSync(args[1], 'utf8'));
    } catch (e) {
      process.stderr.write(`cannot read job ${args[1]}: ${e.message}\n`);
      return 2;
    }
    try {
      const result = compile(args[0], submitted);
      process.stdout.write(JSON.stringify({ job: result.job, tasks: result.tasks }, null, 2) + '\n');
      return 0;
    } catch (e) {
      if (e instanceof CompileError) {
        const body = { code: e.code, message: e.message };
        if (e.thrown !== null && e.thrown !== undefined) body.thrown = e.thrown;
        process.stdout.write(JSON.stringify(body) + '\n');
        process.stderr.write(e.message + '\n');
        return 1;
      }
      process.stderr.write(`${e.stack || e}\n`);
      return 1;
    }
  }
  return usage();
}

module.exports = {
  availableJobType,
  compile,
  CompileError,
  formatTimestampLocal,
  frameChunker,
  frameCount,
  goJSON,
  jobTypeNameFromFile,
  loadScript,
  pathModule,
  shellSplit,
};

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
