import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv } from '../../src/sandbox/env';
import { runSandboxed } from '../../src/sandbox/runSandboxed';
import { Sandbox } from '../../src/sandbox/sandbox';
import { eventually, requireSandbox } from '../hostile/helpers';
import { pidsWhere } from '../helpers/processes';

/** The sandbox itself, below the platform: what a step sees, who it runs as, and what is left after it. */
describe('sandbox isolation (bubblewrap, cgroups)', function () {
  let dataDir: string;
  let sandbox: Sandbox;

  before(async function () {
    await requireSandbox(this);
  });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sandbox-iso-'));
    writeFileSync(join(dataDir, 'secret.key'), 'platform-secret');
    mkdirSync(join(dataDir, 'work', 'a'), { recursive: true });
    mkdirSync(join(dataDir, 'work', 'b'), { recursive: true });
    sandbox = await Sandbox.create({ dataDir });
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  async function run(app: string, script: string, writable = join(dataDir, 'work', app)): Promise<string[]> {
    const lines: string[] = [];
    await sandbox.handOver(app, writable);
    await runSandboxed(
      { shell: script },
      {
        sandbox,
        env: cleanEnv({}, { home: sandbox.homeFor(app) }),
        timeoutMs: 60_000,
        maxOutputBytes: 1024 * 1024,
        onLine: (line) => lines.push(line),
        spec: { app, label: 'test', cwd: writable, writable: [writable], limits: { memoryMb: 256, pids: 64 } },
      },
    );
    return lines;
  }

  it('shows a step only its own directory and HOME, never the data dir or the platform user', async () => {
    const out = await run(
      'a',
      `cat ${dataDir}/secret.key 2>&1; ls ${dataDir}/work 2>&1; ls /root 2>&1; touch ok && echo wrote; ` +
        `touch ${dataDir}/work/b/x 2>&1; echo "home=$HOME"; touch "$HOME/cache" && echo home-writable`,
    );
    const text = out.join('\n');
    assert.match(text, /secret\.key: No such file or directory/);
    assert.doesNotMatch(text, /platform-secret/);
    assert.match(text, /^a$/m, 'the data dir holds only the mount points of this run');
    assert.doesNotMatch(text, /^b$/m);
    assert.match(text, /\/root.*No such file or directory/);
    assert.match(text, /^wrote$/m);
    assert.match(text, /work\/b\/x.*No such file or directory/);
    assert.match(text, new RegExp(`^home=${sandbox.homeFor('a')}$`, 'm'));
    assert.match(text, /^home-writable$/m);
  });

  it('runs each app as a uid of its own when the platform is root', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const [uidA] = await run('a', 'id -u');
    const [uidB] = await run('b', 'id -u');
    assert.notEqual(uidA, '0');
    assert.notEqual(uidA, uidB);
    assert.equal(sandbox.uidFor('a'), Number(uidA));
    const [again] = await run('a', 'id -u');
    assert.equal(again, uidA, 'an app keeps its uid');
  });

  it('gives a step its own PID namespace, and a setsid child ends with the step', async () => {
    const marker = `iso-setsid-${Date.now()}`;
    const out = await run('a', `ls /proc | grep -c '^[0-9]'; setsid sh -c 'sleep 300; :' ${marker} & echo started`);
    assert.ok(Number(out[0]) <= 5, `sees only its own processes (${out[0]})`);
    await eventually(() => pidsWhere((p) => p.cmdline.includes(marker)).length === 0, 'the setsid child to be gone');
  });

  it('kills on the next start what a crashed run left in its cgroups', async function () {
    if (!sandbox.limited) this.skip();
    const prepared = await sandbox.prepare({
      app: 'a',
      label: 'leftover',
      cwd: join(dataDir, 'work', 'a'),
      writable: [join(dataDir, 'work', 'a')],
      limits: {},
    });
    const marker = `iso-leftover-${Date.now()}`;
    const [file, ...args] = [...prepared.prefix, 'sh', '-c', 'sleep 300; :', marker];
    // Detached and never disposed of: what a platform killed with -9 leaves behind (were its parent alive).
    const child = spawn(file, args, { detached: true, stdio: 'ignore' });
    child.unref();
    await eventually(() => pidsWhere((p) => p.cmdline.includes(marker)).length > 0, 'the leftover to run');
    // The registry names the platform process that made each cgroup; make it one that no longer exists.
    const registry = join(dataDir, 'sandbox', 'cgroups');
    writeFileSync(registry, readFileSync(registry, 'utf8').replace(/\t\d+-\d+$/gm, '\t999999999-0'));
    await Sandbox.create({ dataDir });
    await eventually(() => pidsWhere((p) => p.cmdline.includes(marker)).length === 0, 'the leftover to be killed');
  });
});
