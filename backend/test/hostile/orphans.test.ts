import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentView } from '@cloudsmith/client';
import { freePort } from '../../src/health/health';
import { apiRequest } from '../helpers/apiRequest';
import { fetchApp } from '../helpers/appFetch';
import { alive, pidsWhere } from '../helpers/processes';
import { ALICE, SourceHost } from '../helpers/sourceHost';
import { FIXTURES } from '../helpers/world';
import { eventually, requireSandbox } from './helpers';

const BACKEND = join(__dirname, '..', '..');

/** `npm start` as a separate process, so the test can kill -9 it as a crash would. */
async function startPlatform(host: SourceHost, dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: BACKEND,
    env: {
      ...host.platformEnv(dataDir),
      // The sandbox is required here: the platform must not fall back to running builds unisolated.
      CLOUDSMITH_ALLOW_UNSANDBOXED: '0',
      HOME: process.env.HOME ?? tmpdir(),
      PORT: String(port),
      CLOUDSMITH_HEALTH_TIMEOUT_MS: '60000',
      CLOUDSMITH_QUIET: '1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  await eventually(
    async () => {
      if (exited) throw new Error(`the platform exited during start-up:\n${stderr}`);
      return fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    },
    'the platform to answer /healthz',
    90_000,
  );
  return child;
}

/**
 * After a crash of the platform (kill -9 of its process only, as the OOM killer or a power cut would), nothing
 * of the previous run keeps running: not an interrupted build, not a live app, not what either started with
 * setsid. The restarted platform brings the live app back as its own new process.
 */
describe('hostile tenants: no orphan survives a platform crash', function () {
  let host: SourceHost | undefined;
  let dataDir: string | undefined;
  let platform: ChildProcess | undefined;

  before(async function () {
    await requireSandbox(this);
    host = await SourceHost.start([ALICE]);
    dataDir = mkdtempSync(join(tmpdir(), 'cloudsmith-orphans-'));
  });

  after(() => {
    platform?.kill('SIGKILL');
    void host?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('kills the previous run’s builds, apps and their setsid escapes on restart', async () => {
    if (!host || !dataDir) throw new Error('before() did not run');
    const dir = dataDir;
    await host.addRepo('alice/hostile', join(FIXTURES, 'hostile-node'));
    await host.addRepo('alice/slow', join(FIXTURES, 'slow-build'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    platform = await startPlatform(host, dir, port);
    const api = <T>(method: string, path: string, body?: unknown) =>
      apiRequest<T>(url, ALICE.token, method, path, body);
    const waitStatus = async (id: string, statuses: string[]) => {
      let last: DeploymentView | undefined;
      await eventually(
        async () => {
          last = (await api<DeploymentView>('GET', `/api/deployments/${id}`)).body;
          return statuses.includes(last.status);
        },
        `deployment ${id} to reach ${statuses.join('|')}`,
        180_000,
      );
      return last as DeploymentView;
    };

    const app = await waitStatus(
      (await api<DeploymentView>('POST', '/api/deployments', { repo: 'alice/hostile' })).body.id,
      ['live', 'failed'],
    );
    assert.equal(app.status, 'live', app.error ?? undefined);
    const marker = `hostile-orphan-${Date.now()}`;
    await fetchApp(app.url, `/escape?marker=${marker}`);
    await api('POST', '/api/deployments', { repo: 'alice/slow' });
    const ofThisPlatform = (p: { environ: string }) => p.environ.includes(dir);
    await eventually(
      () => pidsWhere((p) => ofThisPlatform(p) && p.cmdline.includes('build.js')).length >= 3,
      'the slow build to be running',
      180_000,
    );
    await eventually(() => pidsWhere((p) => p.cmdline.includes(marker)).length > 0, 'the escaped process', 30_000);
    const before = pidsWhere(ofThisPlatform);
    assert.ok(before.length >= 5, `builds and the app run (${before.length} processes)`);

    platform.kill('SIGKILL');
    await new Promise((resolve) => platform?.once('exit', resolve));
    platform = await startPlatform(host, dir, port);

    await eventually(() => before.every((pid) => !alive(pid)), 'every process of the previous run to be gone', 30_000);
    assert.equal(pidsWhere((p) => p.cmdline.includes(marker)).length, 0, 'the setsid escape is gone');
    // The live app is back, as a process of the new run.
    await eventually(
      async () => (await fetchApp(app.url).catch(() => ({ status: 0 }))).status === 200,
      'the app to serve again',
      120_000,
    );
  });
});
