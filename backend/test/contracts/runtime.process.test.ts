import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FsArtifactStore } from '../../src/adapters/artifacts/fs/fsArtifactStore';
import { ProcessRuntime, type ProcessRuntimeOptions } from '../../src/adapters/runtime/process/processRuntime';
import { packDir } from '../../src/archive/tarball';
import type { ArtifactRef, RunPlan } from '../../src/domain/deployment';
import { UserFacingError } from '../../src/domain/errors';
import type { ReleaseContext } from '../../src/ports/runtime';
import { createReverseProxy } from '../../src/proxy/reverseProxy';
import { RouteTable } from '../../src/proxy/routes';
import { fetchApp } from '../helpers/appFetch';
import { eventually } from '../helpers/eventually';
import { describeRuntimeContract, type RuntimeFixture, type RuntimeHarness } from './runtime.contract';
import { alive } from '../helpers/processes';

const FIXTURES: Record<
  RuntimeFixture,
  { files: Record<string, string>; plan: Omit<RunPlan, 'healthPath'> & { healthPath?: string } }
> = {
  node: {
    files: {
      'server.js': `
        const http = require('node:http');
        console.log('node fixture: starting (pid ' + process.pid + ')');
        http.createServer((req, res) => {
          res.setHeader('content-type', 'text/plain');
          res.end('hello from the node fixture ' + JSON.stringify({
            pid: process.pid, port: process.env.PORT, nodeEnv: process.env.NODE_ENV,
            greeting: process.env.GREETING || null, leaked: process.env.CLOUDSMITH_TEST_PLATFORM_SECRET || null,
          }));
        }).listen(Number(process.env.PORT), '127.0.0.1');
      `,
    },
    plan: { kind: 'node', start: ['node', 'server.js'], workdir: '.' },
  },
  static: {
    files: {
      'site/index.html': '<!doctype html><title>fixture</title><p>hello from the static fixture</p>\n',
      'serve.js': `
        const http = require('node:http');
        const fs = require('node:fs');
        const page = fs.readFileSync('site/index.html');
        http.createServer((req, res) => {
          res.setHeader('content-type', 'text/html');
          res.end(page);
        }).listen(Number(process.env.PORT), '127.0.0.1');
      `,
    },
    plan: { kind: 'static', start: ['node', 'serve.js'], workdir: '.', spaFallback: true },
  },
  'never-healthy': {
    files: {
      'server.js': `
        const http = require('node:http');
        console.log('never-healthy fixture: starting (pid ' + process.pid + ')');
        http.createServer((req, res) => {
          res.statusCode = 500;
          res.end('database unreachable');
        }).listen(Number(process.env.PORT), '127.0.0.1');
      `,
    },
    plan: { kind: 'node', start: ['node', 'server.js'], workdir: '.' },
  },
};

interface ProcessHarness extends RuntimeHarness {
  runtime: ProcessRuntime;
  dataDir: string;
  routes: RouteTable;
  artifactFrom(
    files: Record<string, string>,
    plan: Partial<RunPlan>,
  ): Promise<{ artifact: ArtifactRef; plan: RunPlan }>;
}

async function processHarness(options: Partial<ProcessRuntimeOptions> = {}): Promise<ProcessHarness> {
  const root = await mkdtemp(join(tmpdir(), 'cloudsmith-runtime-'));
  const dataDir = join(root, 'data');
  const artifacts = new FsArtifactStore(join(root, 'artifacts'));
  const routes = new RouteTable();
  const proxy = createReverseProxy({ routes, appDomain: 'localhost' });
  const server = http.createServer((req, res) => {
    const app = proxy.appFor(req.headers.host);
    if (app) proxy.web(req, res, app);
    else res.writeHead(421).end('not an app host');
  });
  server.on('upgrade', (req, socket, head) => {
    const app = proxy.appFor(req.headers.host);
    if (app) proxy.upgrade(req, socket, head, app);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const runtime = new ProcessRuntime({
    dataDir,
    artifacts,
    routes,
    urlFor: (app) => `http://${app}.localhost:${port}`,
    // Generous for a loaded CI machine; the never-healthy cases wait for all of it.
    healthTimeoutMs: 10_000,
    stopGraceMs: 2000,
    ...options,
  });
  let n = 0;

  async function artifactFrom(files: Record<string, string>, plan: Partial<RunPlan>) {
    const dir = join(root, `src-${++n}`);
    for (const [name, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), content);
    }
    const file = join(root, `artifact-${n}.tar.gz`);
    await packDir(dir, file);
    const stored = await artifacts.putFile(`artifacts/test/${n}.tar.gz`, file);
    const artifact: ArtifactRef = { kind: 'tarball', key: stored.key, sha256: stored.sha256, size: stored.size };
    const base: RunPlan = { kind: 'node', start: ['node', 'server.js'], workdir: '.', healthPath: '/' };
    return { artifact, plan: { ...base, ...plan } };
  }

  return {
    runtime,
    artifacts,
    dataDir,
    routes,
    artifactFrom,
    makeArtifact: (fixture) => artifactFrom(FIXTURES[fixture].files, FIXTURES[fixture].plan),
    fetchApp: (app, path = '/') => fetchApp(`http://${app}.localhost:${port}`, path),
    async cleanup() {
      await runtime.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(root, { recursive: true, force: true });
    },
  };
}

describeRuntimeContract('process', () => processHarness());

function ctx(signal = new AbortController().signal): ReleaseContext & { lines: string[] } {
  const lines: string[] = [];
  return { signal, lines, log: (text) => lines.push(text) };
}

function pidsIn(lines: string[]): number[] {
  return lines.flatMap((line) => [...line.matchAll(/pid (\d+)/g)].map((m) => Number(m[1])));
}

describe('process runtime', function () {
  this.timeout(120_000);
  let h: ProcessHarness;

  before(async () => {
    h = await processHarness({ restart: { maxRestarts: 2, backoffMs: 100, stableMs: 60_000 } });
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    await h?.cleanup();
  });

  const release = (
    app: string,
    built: { artifact: ArtifactRef; plan: RunPlan },
    context = ctx(),
    env: Record<string, string> = {},
  ) => h.runtime.release({ app, deploymentId: randomUUID(), artifact: built.artifact, plan: built.plan, env }, context);

  it('runs the app with PORT, NODE_ENV=production and its own env only', async () => {
    process.env.CLOUDSMITH_TEST_PLATFORM_SECRET = 'platform-secret';
    try {
      const context = ctx();
      await release('envy', await h.makeArtifact('node'), context, { GREETING: 'hello' });
      const body = (await h.fetchApp('envy')).body;
      const seen = JSON.parse(body.slice(body.indexOf('{'))) as Record<string, unknown>;
      assert.equal(seen.port, String(h.routes.get('envy')?.port));
      assert.equal(seen.nodeEnv, 'production');
      assert.equal(seen.greeting, 'hello');
      assert.equal(seen.leaked, null);
      assert.ok(
        context.lines.some((l) => /node fixture: starting/.test(l)),
        'app output reaches the deployment log',
      );
      assert.ok((await h.runtime.logs('envy')).some((l) => /node fixture: starting/.test(l)));
    } finally {
      delete process.env.CLOUDSMITH_TEST_PLATFORM_SECRET;
    }
  });

  it('reports an app that exits before it becomes healthy, with its output', async () => {
    const crashing = await h.artifactFrom(
      { 'server.js': "console.error('boom: missing DATABASE_URL'); process.exit(1);" },
      {},
    );
    await assert.rejects(release('early-exit', crashing), (err: unknown) => {
      assert.ok(err instanceof UserFacingError);
      assert.match(
        err.message,
        /^the new release did not become healthy within 10 s \(the app exited with code 1 before it became healthy\); no previous release was running\. Last log lines:\n/,
      );
      assert.match(err.message, /boom: missing DATABASE_URL/);
      return true;
    });
    assert.equal(h.routes.get('early-exit'), undefined);
    assert.deepEqual(await readdir(join(h.dataDir, 'releases', 'early-exit')), []);
  });

  it('names the last health answer when the deadline passes', async () => {
    const quick = await processHarness({ healthTimeoutMs: 2500 });
    try {
      const sick = await quick.makeArtifact('never-healthy');
      await assert.rejects(
        quick.runtime.release(
          { app: 'sick', deploymentId: randomUUID(), artifact: sick.artifact, plan: sick.plan, env: {} },
          ctx(),
        ),
        /within 2\.5 s \(no response below 500 within 2\.5 s; last check: it answered 500 on \/\)/,
      );
    } finally {
      await quick.cleanup();
    }
  });

  it('refuses image artifacts and a start command missing from the machine, clearly', async () => {
    const { plan } = await h.makeArtifact('node');
    await assert.rejects(
      h.runtime.release(
        {
          app: 'img',
          deploymentId: randomUUID(),
          artifact: { kind: 'image', image: 'registry/app:abc' },
          plan,
          env: {},
        },
        ctx(),
      ),
      /process runtime runs tarball artifacts.*registry\/app:abc/,
    );
    const missing = await h.artifactFrom({ 'index.js': '' }, { start: ['cloudsmith-no-such-command'] });
    await assert.rejects(
      release('nocmd', missing),
      /\(the app could not be started: cloudsmith-no-such-command: command not found\)/,
    );
    const good = await h.makeArtifact('node');
    await release('corrupt', good);
    const tampered: ArtifactRef = { ...good.artifact, sha256: '0'.repeat(64) } as ArtifactRef;
    await assert.rejects(release('corrupt', { artifact: tampered, plan: good.plan }), (err: unknown) => {
      assert.ok(err instanceof UserFacingError);
      assert.match(err.message, /^could not download the release's artifact: .*sha256/);
      return true;
    });
    assert.match((await h.fetchApp('corrupt')).body, /node fixture/);
    const outside = await h.artifactFrom({ 'index.js': '' }, { workdir: '../..' });
    await assert.rejects(release('outside', outside), /points outside the release/);
  });

  it('kills the whole process tree of a cancelled release', async () => {
    const tree = await h.artifactFrom(
      {
        'child.js': "console.log('child running (pid ' + process.pid + ')'); setInterval(() => {}, 1000);",
        'server.js': FIXTURES['never-healthy'].files['server.js'],
      },
      { start: ['sh', '-c', 'node child.js & exec node server.js'] },
    );
    const controller = new AbortController();
    const context = ctx(controller.signal);
    const pending = release('tree', tree, context);
    const pids = await eventually(
      'both processes to report',
      () => {
        const found = pidsIn(context.lines);
        return found.length >= 2 ? found : undefined;
      },
      30_000,
    );
    assert.ok(pids.every(alive));
    controller.abort(new Error('cancelled'));
    await assert.rejects(pending, /cancelled/);
    await eventually('the process tree to be gone', () => pids.every((pid) => !alive(pid)) || undefined, 30_000);
  });

  it('restarts a live app that crashes, up to the limit', async () => {
    const crasher = await h.artifactFrom(
      {
        'server.js': `
          const http = require('node:http');
          const fs = require('node:fs');
          if (fs.existsSync('broken')) { console.log('still broken'); process.exit(4); }
          console.log('crasher up (pid ' + process.pid + ')');
          http.createServer((req, res) => {
            if (req.url === '/crash') { res.end('bye'); setTimeout(() => process.exit(3), 10); return; }
            if (req.url === '/break') { fs.writeFileSync('broken', '1'); res.end('bye'); setTimeout(() => process.exit(3), 10); return; }
            res.end('alive ' + process.pid);
          }).listen(Number(process.env.PORT), '127.0.0.1');
        `,
      },
      {},
    );
    await release('crasher', crasher);
    const first = (await h.fetchApp('crasher')).body;
    await h.fetchApp('crasher', '/crash');
    const second = await eventually(
      'the app to be restarted',
      async () => {
        const answer = await h.fetchApp('crasher');
        return answer.status === 200 && answer.body !== first ? answer.body : undefined;
      },
      30_000,
    );
    assert.match(second, /^alive \d+$/);
    const logs = await h.runtime.logs('crasher');
    assert.ok(logs.includes('[cloudsmith] the app exited with code 3'), logs.join('\n'));
    assert.ok(
      logs.some((l) => /restarting in 0\.1 s \(restart 1 of 2\)/.test(l)),
      logs.join('\n'),
    );

    await h.fetchApp('crasher', '/break');
    await eventually(
      'the runtime to give up',
      async () =>
        (await h.runtime.logs('crasher')).some((l) => /crashed 3 times in a row; not restarting it again/.test(l)) ||
        undefined,
      30_000,
    );
    assert.equal((await h.fetchApp('crasher')).status, 502);
  });

  it('keeps only the last three release directories and removes everything on remove', async () => {
    const { files, plan } = FIXTURES.static;
    for (let i = 0; i < 5; i++)
      await release('prune', await h.artifactFrom({ ...files, 'site/release.txt': `release ${i}` }, plan));
    assert.equal((await readdir(join(h.dataDir, 'releases', 'prune'))).length, 3);
    // Releasing an artifact again under a new deployment (a rollback) takes over its stopped dir: none is added.
    const again = await h.makeArtifact('static');
    await release('prune', again);
    await release('prune', await h.artifactFrom({ ...files, 'site/release.txt': 'release 5' }, plan));
    const context = ctx();
    await release('prune', again, context);
    assert.ok(
      context.lines.some((l) => l.startsWith('Reusing the kept unpacked release')),
      context.lines.join('\n'),
    );
    assert.equal((await readdir(join(h.dataDir, 'releases', 'prune'))).length, 3);
    await h.runtime.remove('prune');
    await assert.rejects(stat(join(h.dataDir, 'releases', 'prune')));
  });

  it('restores a release at the same URL, and close() stops every process it started', async () => {
    const other = await processHarness();
    try {
      const built = await other.makeArtifact('node');
      const release1 = { app: 'keep', deploymentId: randomUUID(), artifact: built.artifact, plan: built.plan, env: {} };
      const context = ctx();
      const { url } = await other.runtime.release(release1, context);
      const pids = pidsIn(context.lines);
      assert.equal(pids.length, 1);
      await other.runtime.close();
      assert.ok(!alive(pids[0]));
      assert.notEqual((await other.fetchApp('keep')).status, 200);

      // A new runtime over the same data dir and routes, as after a platform restart.
      const restarted = new ProcessRuntime({
        dataDir: other.dataDir,
        artifacts: other.artifacts,
        routes: other.routes,
        urlFor: (app) => other.runtime.urlFor(app),
        healthTimeoutMs: 10_000,
      });
      const restored = await restarted.restore(release1, ctx());
      assert.equal(restored.url, url);
      assert.match((await other.fetchApp('keep')).body, /node fixture/);
      await restarted.close();
    } finally {
      await other.cleanup();
    }
  });
});
