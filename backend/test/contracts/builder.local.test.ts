import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/adapters/artifacts/fs/fsArtifactStore';
import { LocalBuilder } from '../../src/adapters/builder/local/localBuilder';
import { UserFacingError } from '../../src/domain/errors';
import {
  buildFixture,
  describeBuilderContract,
  listFiles,
  unpackArtifact,
  type BuilderFixture,
} from './builder.contract';
import { alive } from '../helpers/processes';

const limits = { timeoutMs: 300_000, maxOutputBytes: 8 * 1024 * 1024, maxMemoryMb: 2048 };
// One build HOME for every test of this file, as a platform has: its npm cache makes repeated installs fast.
const homeDir = join(tmpdir(), 'cloudsmith-test-build-home');

async function localFixture(overrides: Partial<typeof limits> = {}): Promise<BuilderFixture & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'builder-local-'));
  const artifacts = new FsArtifactStore(join(dir, 'artifacts'));
  const builder = new LocalBuilder({
    artifacts,
    workDir: join(dir, 'work'),
    homeDir,
    limits: { ...limits, ...overrides },
  });
  return { dir, builder, artifacts, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

describeBuilderContract('local', () => localFixture());

/** Running, as opposed to gone or a zombie (killed but not yet reaped by init, which can lag under load). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Runs a built artifact the way a runtime does (its start argv in its workdir, PORT set) until the test is done. */
async function serve(dir: string, start: string[], workdir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const [cmd, ...args] = start;
  const child = spawn(cmd === 'node' ? process.execPath : cmd, args, {
    cwd: join(dir, workdir),
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(url);
      return { url, child };
    } catch {
      if (Date.now() > deadline) throw new Error(`${start.join(' ')} never listened`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('LocalBuilder specifics', function () {
  this.timeout(600_000);
  let fx: BuilderFixture & { dir: string };
  const children: ChildProcess[] = [];

  beforeEach(async function () {
    fx = await localFixture();
  });
  afterEach(async function () {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await fx.cleanup();
  });

  it('builds the Vite SPA to dist/ and serves it with SPA fallback from the artifact alone', async function () {
    const { result, logs } = await buildFixture(fx, 'vite-spa', { workDir: fx.dir });
    assert.ok(logs.includes('$ npm ci --include=dev --prefer-offline'), logs.join('\n'));
    assert.ok(logs.includes('$ npm run build'));
    assert.deepEqual(result.plan.start, ['node', '.cloudsmith/static-server.js', 'site', '--spa']);
    assert.equal(result.plan.spaFallback, true);
    const dir = await unpackArtifact(fx.artifacts, result, fx.dir);
    const files = await listFiles(dir);
    assert.ok(!files.some((f) => f.includes('node_modules')), 'an SPA artifact ships no node_modules');
    const { url, child } = await serve(dir, result.plan.start, result.plan.workdir);
    children.push(child);
    const home = await fetch(`${url}/`);
    assert.equal(home.status, 200);
    assert.match(home.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await home.text(), /vite-spa ok/);
    assert.match(await (await fetch(`${url}/some/client/route`)).text(), /vite-spa ok/);
    const asset = files.find((f) => /^site\/assets\/.*\.js$/.test(f));
    assert.ok(asset, files.join(', '));
    const js = await fetch(`${url}/${asset.slice('site/'.length)}`);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await fetch(`${url}/missing.js`)).status, 404);
    assert.equal((await fetch(`${url}/.cloudsmith/static-server.js`)).status, 404);
    assert.equal((await fetch(`${url}/..%2f..%2fetc%2fpasswd`)).status, 403);
    const head = await fetch(`${url}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('serves a plain static site as is: no SPA fallback, correct types, 404s', async function () {
    const { result } = await buildFixture(fx, 'static-site', { workDir: fx.dir });
    assert.deepEqual(result.plan.start, ['node', '.cloudsmith/static-server.js', 'site']);
    const dir = await unpackArtifact(fx.artifacts, result, fx.dir);
    const { url, child } = await serve(dir, result.plan.start, result.plan.workdir);
    children.push(child);
    assert.match(await (await fetch(`${url}/`)).text(), /static-site ok/);
    const css = await fetch(`${url}/style.css`);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
    assert.equal((await fetch(`${url}/about`)).status, 404);
    assert.equal((await fetch(`${url}/`, { method: 'POST' })).status, 405);
  });

  it('plans npm start for node-express, and its unpacked artifact serves on its own', async function () {
    const { result } = await buildFixture(fx, 'node-express', { workDir: fx.dir });
    assert.deepEqual(result.plan.start, ['npm', 'start']);
    const dir = await unpackArtifact(fx.artifacts, result, fx.dir);
    const { url, child } = await serve(dir, ['node', 'server.js'], result.plan.workdir);
    children.push(child);
    assert.equal(await (await fetch(url)).text(), 'hello from node-express');
  });

  it('builds a monorepo app from its rootDir', async function () {
    await assert.rejects(
      buildFixture(fx, 'monorepo', { workDir: fx.dir }),
      /nothing to build or run in the repository root/,
    );
    const { result } = await buildFixture(fx, 'monorepo', { workDir: fx.dir, overrides: { rootDir: 'apps/web' } });
    assert.equal(result.plan.kind, 'node');
    const files = await listFiles(await unpackArtifact(fx.artifacts, result, fx.dir));
    assert.deepEqual(files.sort(), ['package.json', 'server.js']);
  });

  it('reports the failing command and exit code', async function () {
    await assert.rejects(buildFixture(fx, 'failing-build', { workDir: fx.dir }), (err: unknown) => {
      assert.ok(err instanceof UserFacingError);
      assert.equal(err.message, 'build failed: `npm run build` exited with code 2');
      return true;
    });
  });

  it('cancel leaves no process of the build tree alive', async function () {
    const controller = new AbortController();
    const logs: string[] = [];
    const build = buildFixture(fx, 'slow-build', { workDir: fx.dir, logs, signal: controller.signal });
    build.catch(() => undefined);
    const pids = () => logs.flatMap((l) => /^PID (\d+)$/.exec(l)?.slice(1) ?? []).map(Number);
    while (pids().length < 3) await new Promise((r) => setTimeout(r, 100));
    assert.ok(pids().every(alive), 'the whole tree is running before the cancel');
    controller.abort();
    await assert.rejects(build, /cancelled/);
    const deadline = Date.now() + 20_000;
    while (pids().some(alive)) {
      if (Date.now() > deadline) throw new Error(`still alive: ${pids().filter(alive).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('times out a build with the configured limit in the message', async function () {
    const short = await localFixture({ timeoutMs: 3000 });
    try {
      await assert.rejects(buildFixture(short, 'slow-build', { workDir: short.dir }), (err: unknown) => {
        assert.ok(err instanceof UserFacingError);
        assert.equal(err.message, 'build timed out after 3 s');
        return true;
      });
    } finally {
      await short.cleanup();
    }
  });

  it("gives the build the app's env and nothing of the platform's", async function () {
    process.env.CLOUDSMITH_TEST_PLATFORM_SECRET = 'platform-secret-value-123';
    process.env.GITHUB_TOKEN = 'ghp_should_never_leak_456';
    try {
      const { logs } = await buildFixture(fx, 'print-env', { workDir: fx.dir, env: { GREETING: 'hello-app' } });
      const all = logs.join('\n');
      assert.ok(!all.includes('platform-secret-value-123'));
      assert.ok(!all.includes('ghp_should_never_leak_456'));
      const json = logs.find((l) => l.startsWith('PRINT_ENV_JSON '));
      assert.ok(json, all);
      const env = JSON.parse(json.slice('PRINT_ENV_JSON '.length)) as Record<string, string>;
      assert.equal(env.GREETING, 'hello-app');
      assert.equal(env.CI, '1');
      assert.equal(env.GITHUB_TOKEN, undefined);
    } finally {
      delete process.env.CLOUDSMITH_TEST_PLATFORM_SECRET;
      delete process.env.GITHUB_TOKEN;
    }
  });
});
