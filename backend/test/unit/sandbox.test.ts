import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFacingError } from '../../src/domain/errors';
import { cleanEnv } from '../../src/sandbox/env';
import { describeCommand, MAX_LINE_BYTES, runCommand, type RunOptions } from '../../src/sandbox/run';
import { alive } from '../helpers/processes';

/** Running, as opposed to gone or a zombie (killed but not yet reaped by init, which can lag under load). */
async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('sandbox', () => {
  let dir: string;
  let lines: string[];
  let base: Omit<RunOptions, 'onLine'> & { onLine(line: string): void };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sandbox-test-'));
    lines = [];
    base = {
      cwd: dir,
      env: cleanEnv({}, { home: join(dir, 'home') }),
      timeoutMs: 60_000,
      maxOutputBytes: 8 * 1024 * 1024,
      onLine: (line) => lines.push(line),
    };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  // A parent that starts a child that starts a grandchild, each sleeping and recording its pid.
  async function writeTree(): Promise<string> {
    const script = join(dir, 'tree.js');
    await writeFile(
      script,
      `const { spawn } = require('child_process');
       const fs = require('fs');
       const depth = Number(process.argv[2] || 0);
       fs.writeFileSync(${JSON.stringify(dir)} + '/pid-' + depth, String(process.pid));
       console.log('PID ' + process.pid);
       if (depth < 2) spawn(process.execPath, [__filename, String(depth + 1)], { stdio: 'inherit' });
       setTimeout(() => {}, 120000);`,
    );
    return script;
  }

  async function treePids(): Promise<number[]> {
    return Promise.all([0, 1, 2].map(async (d) => Number(await readFile(join(dir, `pid-${d}`), 'utf8'))));
  }

  async function pidsWritten(): Promise<boolean> {
    try {
      const pids = await treePids();
      return pids.every((p) => p > 0);
    } catch {
      return false;
    }
  }

  it('runs argv commands and streams their lines from stdout and stderr', async () => {
    await runCommand({ argv: [process.execPath, '-e', 'console.log("out1\\nout2"); console.error("err1")'] }, base);
    assert.deepEqual([...lines].sort(), ['err1', 'out1', 'out2']);
  });

  it('reports the failing command and its exit code', async () => {
    await assert.rejects(runCommand({ shell: 'echo BUILD_ERROR_MARKER >&2; exit 2' }, base), (err: unknown) => {
      assert.ok(err instanceof UserFacingError);
      assert.equal(err.message, '`echo BUILD_ERROR_MARKER >&2; exit 2` exited with code 2');
      return true;
    });
    assert.deepEqual(lines, ['BUILD_ERROR_MARKER']);
  });

  it('names a missing program', async () => {
    await assert.rejects(runCommand({ argv: ['definitely-not-a-program-xyz'] }, base), /could not start/);
  });

  it('cancel kills the whole process tree', async () => {
    const script = await writeTree();
    const controller = new AbortController();
    const run = runCommand({ argv: [process.execPath, script] }, { ...base, signal: controller.signal });
    await waitFor(pidsWritten, 'the process tree to start');
    const pids = await treePids();
    assert.ok(pids.every(alive), 'the whole tree is running before the cancel');
    controller.abort();
    await assert.rejects(run, (err: unknown) => err instanceof UserFacingError && err.message === 'cancelled');
    await waitFor(() => pids.every((p) => !alive(p)), 'every process of the tree to be gone');
  });

  it('refuses to start when already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(runCommand({ shell: 'touch started' }, { ...base, signal: controller.signal }), /cancelled/);
  });

  it('times out and kills the tree', async () => {
    const script = await writeTree();
    const run = runCommand({ argv: [process.execPath, script] }, { ...base, timeoutMs: 1500 });
    await assert.rejects(
      run,
      (err: unknown) => err instanceof UserFacingError && err.message === 'build timed out after 2 s',
    );
    const pids = await treePids();
    await waitFor(() => pids.every((p) => !alive(p)), 'every process of the tree to be gone');
  });

  it('kills a command whose output exceeds the cap', async () => {
    await assert.rejects(
      runCommand({ shell: 'yes hello-hello-hello' }, { ...base, maxOutputBytes: 1024 * 1024 }),
      (err: unknown) => err instanceof UserFacingError && err.message === 'build output exceeded 1 MiB',
    );
    const total = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    assert.ok(total <= 1024 * 1024 + 1, `at most the cap is logged, got ${total}`);
  });

  it('kills a group over its memory limit', async () => {
    // The child allocates, so only summing the whole group catches it.
    const code = `require('child_process').spawn(process.execPath, ['-e', 'const a=[];setInterval(()=>{a.push(Buffer.alloc(16*1024*1024,1))},20)'], {stdio:'inherit'}); setTimeout(()=>{},120000)`;
    await assert.rejects(
      runCommand({ argv: [process.execPath, '-e', code] }, { ...base, maxMemoryMb: 200 }),
      (err: unknown) => err instanceof UserFacingError && err.message === 'build used more than 200 MiB of memory',
    );
  });

  it('cuts long lines and makes binary output printable', async () => {
    await runCommand(
      {
        argv: [
          process.execPath,
          '-e',
          `process.stdout.write('x'.repeat(${MAX_LINE_BYTES * 3}) + '\\nafter\\n'); process.stdout.write(Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x41, 0x0a])); process.stdout.write('caf'); setTimeout(() => process.stdout.write(Buffer.from([0xc3])), 50); setTimeout(() => process.stdout.write(Buffer.from([0xa9, 0x0a])), 100);`,
        ],
      },
      base,
    );
    assert.equal(lines.length, 4);
    assert.ok(lines[0].startsWith('x'.repeat(MAX_LINE_BYTES)));
    assert.match(lines[0], /line cut at 8 KiB/);
    assert.ok(lines[0].length < MAX_LINE_BYTES + 100);
    assert.equal(lines[1], 'after');
    assert.equal(lines[2], '\uFFFD\uFFFD\uFFFDA');
    assert.equal(lines[3], 'café', 'a character split across writes is kept whole');
  });

  it('keeps what a terminal would show of CRLF and progress-bar lines', async () => {
    await runCommand(
      { argv: [process.execPath, '-e', `process.stdout.write('windows\\r\\n10%\\r50%\\r100% done\\n')`] },
      base,
    );
    assert.deepEqual(lines, ['windows', '100% done']);
  });

  it('gives the command a clean environment', async () => {
    process.env.CLOUDSMITH_PARENT_SECRET = 'do-not-leak';
    try {
      const env = cleanEnv({ GREETING: 'hi', PATH: '/evil', HOME: '/root' }, { home: join(dir, 'home') });
      await runCommand(
        { argv: [process.execPath, '-e', 'console.log(JSON.stringify(process.env))'] },
        { ...base, env },
      );
      const seen = JSON.parse(lines.join('')) as Record<string, string>;
      assert.equal(seen.CLOUDSMITH_PARENT_SECRET, undefined);
      assert.equal(seen.GREETING, 'hi');
      assert.equal(seen.CI, '1');
      assert.equal(seen.NODE_ENV, 'production');
      assert.equal(seen.HOME, join(dir, 'home'));
      assert.ok(!seen.PATH.includes('/evil'));
      const allowed = new Set([
        'PATH',
        'HOME',
        'CI',
        'NODE_ENV',
        'GREETING',
        'npm_config_audit',
        'npm_config_fund',
        'npm_config_update_notifier',
      ]);
      // Node itself may add a few (e.g. for its own bookkeeping); nothing else of the parent may appear.
      for (const key of Object.keys(seen)) assert.ok(allowed.has(key), `unexpected variable ${key}`);
    } finally {
      delete process.env.CLOUDSMITH_PARENT_SECRET;
    }
  });

  it('describes commands as a user would type them', () => {
    assert.equal(describeCommand({ argv: ['npm', 'ci', '--include=dev'] }), 'npm ci --include=dev');
    assert.equal(describeCommand({ argv: ['node', 'a b.js'] }), "node 'a b.js'");
    assert.equal(describeCommand({ shell: 'npm run build && ls' }), 'npm run build && ls');
  });
});
