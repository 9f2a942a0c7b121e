import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { appUid } from '../../src/sandbox/appUids';

const BASE = 3_000_000;

/** Asks for the uids of `apps`, in that order, from a process of its own; answers `app=uid` lines. */
function askFromProcess(dir: string, apps: string[]): Promise<Record<string, number>> {
  const script =
    `const { appUid } = require(${JSON.stringify(resolve(__dirname, '../../src/sandbox/appUids'))});` +
    `for (const app of ${JSON.stringify(apps)}) console.log(app + '=' + appUid(${JSON.stringify(dir)}, app, ${BASE}));`;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) fail(new Error(`exited with ${code}`));
      else
        done(
          Object.fromEntries(
            out
              .trim()
              .split('\n')
              .map((l) => [l.split('=')[0], Number(l.split('=')[1])]),
          ),
        );
    });
  });
}

describe('app uids shared by the platform processes on one data dir', function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'uids-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each app one uid of its own, and the same one every time', () => {
    const a = appUid(dir, 'a', BASE);
    const b = appUid(dir, 'b', BASE);
    assert.equal(a, BASE);
    assert.equal(b, BASE + 1);
    assert.equal(appUid(dir, 'a', BASE), a);
  });

  it('keeps the uids the old uids.json gave, and gives new apps numbers above them', () => {
    writeFileSync(join(dir, 'uids.json'), JSON.stringify({ old: BASE + 7 }));
    assert.equal(appUid(dir, 'old', BASE), BASE + 7);
    assert.equal(appUid(dir, 'new', BASE), BASE + 8);
  });

  it('never gives two apps one uid, nor one app two, when processes ask at once', async function () {
    this.timeout(60_000);
    const apps = Array.from({ length: 30 }, (_, i) => `app${i}`);
    // Four processes, each asking for every app in its own order.
    const orders = [apps, [...apps].reverse(), [...apps.slice(15), ...apps.slice(0, 15)], [...apps].sort()];
    const answers = await Promise.all(orders.map((order) => askFromProcess(dir, order)));
    for (const app of apps) {
      const seen = new Set(answers.map((a) => a[app]));
      assert.equal(seen.size, 1, `${app} got one uid (${[...seen].join(', ')})`);
    }
    const uids = apps.map((app) => answers[0][app]);
    assert.equal(new Set(uids).size, apps.length, 'no two apps share a uid');
  });
});
