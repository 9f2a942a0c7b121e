#!/usr/bin/env node
// Compiles the backend (tsc, tsconfig.build.json) into dist/.
//   node bin/build.js              always compile
//   node bin/build.js --if-needed  compile only when a source is newer than the last build (what `npm start` does)
// Several `npm start`s at once (the distributed quick start) share one build: a lock directory makes the others
// wait, then find the build fresh.
'use strict';
const { spawnSync } = require('node:child_process');
const {
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  existsSync,
} = require('node:fs');
const { join } = require('node:path');

const BACKEND = join(__dirname, '..');
const ROOT = join(BACKEND, '..');
const DIST = join(BACKEND, 'dist');
const LOCK = join(DIST, '.build.lock');
// What gets compiled, in order: the backend requires @cloudsmith/client's compiled JS at run time. Each unit is
// stale when one of its inputs (sources, compiler settings) is newer than its stamp.
const UNITS = [
  {
    name: '@cloudsmith/client',
    dir: join(ROOT, 'packages', 'client'),
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json'],
    entry: 'dist/index.js',
  },
  { name: 'the backend', dir: BACKEND, inputs: ['src', 'tsconfig.build.json'], entry: 'dist/main.js' },
];
const SHARED_INPUTS = [join(ROOT, 'tsconfig.base.json')];

function newestMtime(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted or renamed file changes its directory's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

const stampOf = (unit) => join(unit.dir, 'dist', '.built');

function fresh(unit) {
  if (!existsSync(join(unit.dir, unit.entry))) return false;
  let built;
  try {
    built = statSync(stampOf(unit)).mtimeMs;
  } catch {
    return false;
  }
  return [...unit.inputs.map((i) => join(unit.dir, i)), ...SHARED_INPUTS].every((input) => newestMtime(input) <= built);
}

function compile(unit) {
  const started = Date.now();
  process.stderr.write(`cloudsmith: compiling ${unit.name} (tsc)\n`);
  const tsc = require.resolve('typescript/bin/tsc', { paths: [BACKEND] });
  const result = spawnSync(process.execPath, [tsc, '-p', join(unit.dir, 'tsconfig.build.json')], { stdio: 'inherit' });
  // tsc exits 2 when it found type errors but still wrote the output: like tsx before it, running the code is not
  // the place to enforce types (`npm run typecheck` and CI are). Exit 1 means nothing was written.
  if (result.status === 2) process.stderr.write('cloudsmith: type errors above; the JavaScript was still emitted\n');
  else if (result.status !== 0) {
    process.stderr.write(`cloudsmith: ${unit.name} does not compile (errors above)\n`);
    process.exit(1);
  }
  // Stamped with the time the compile started: a source saved during it makes the next start compile again.
  mkdirSync(join(unit.dir, 'dist'), { recursive: true });
  writeFileSync(stampOf(unit), `${new Date(started).toISOString()}\n`);
  utimesSync(stampOf(unit), new Date(started), new Date(started));
  process.stderr.write(`cloudsmith: compiled ${unit.name} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
}

function holderAlive() {
  try {
    const pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive but not ours; anything else (no file yet, ESRCH) counts as gone only once the file exists.
    if (err && err.code === 'EPERM') return true;
    return !existsSync(join(LOCK, 'pid')) && Date.now() - statSync(LOCK).mtimeMs < 10_000;
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withLock(work) {
  mkdirSync(DIST, { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let alive;
      try {
        alive = holderAlive();
      } catch {
        continue; // released between our mkdir and the look
      }
      // A builder killed mid-compile leaves its lock behind: take it over.
      if (!alive) rmSync(LOCK, { recursive: true, force: true });
      else sleep(250);
    }
  }
  try {
    writeFileSync(join(LOCK, 'pid'), String(process.pid));
    work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

const ifNeeded = process.argv.includes('--if-needed');
const stale = () => UNITS.filter((unit) => !ifNeeded || !fresh(unit));
if (stale().length > 0)
  withLock(() => {
    for (const unit of stale()) compile(unit);
  });
