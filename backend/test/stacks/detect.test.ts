import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cacheSpecFor } from '../../src/cache/stacks';
import { detectPlan, finalizePlan, localOutput } from '../../src/detect/plan';
import { findGo, findPython } from '../../src/detect/toolchains';
import { satisfies } from '../../src/detect/versions';
import { UserFacingError } from '../../src/domain/errors';

/** Provider decisions from files alone (no build, no network); the stack e2e tests run the real builds. */
describe('stacks: detection by provider', () => {
  let repo: string;

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'stacks-detect-'));
  });
  afterEach(() => rm(repo, { recursive: true, force: true }));

  async function files(tree: Record<string, string | object>): Promise<void> {
    for (const [path, content] of Object.entries(tree)) {
      await mkdir(dirname(join(repo, path)), { recursive: true });
      await writeFile(join(repo, path), typeof content === 'string' ? content : JSON.stringify(content));
    }
  }

  async function refused(message: RegExp): Promise<void> {
    await assert.rejects(detectPlan(repo, {}), (err: unknown) => {
      assert.ok(err instanceof UserFacingError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }

  it('version ranges: npm and PEP 440 forms', () => {
    assert.ok(satisfies('20.11.1', '>=18'));
    assert.ok(satisfies('20.11.1', '^20.4'));
    assert.ok(!satisfies('20.11.1', '^22'));
    assert.ok(satisfies('20.11.1', '18 || 20'));
    assert.ok(satisfies('3.11.7', '>=3.10,<4'));
    assert.ok(satisfies('3.11.7', '3.11'));
    assert.ok(!satisfies('3.11.7', '3.12'));
    assert.ok(satisfies('3.11.7', '~=3.11.0'));
    assert.ok(!satisfies('3.11.7', '~=3.10.0'));
    assert.ok(satisfies('1.26.8', '>=1.22'));
  });

  it('pnpm, yarn classic and yarn berry from packageManager or the lockfile, with frozen installs', async () => {
    await files({
      'package.json': { scripts: { start: 'node s.js' }, dependencies: { ms: '2' } },
      'pnpm-lock.yaml': '',
    });
    assert.deepEqual((await detectPlan(repo, {})).install, {
      argv: ['env', 'NODE_ENV=development', 'corepack', 'pnpm', 'install', '--frozen-lockfile'],
    });
    await rm(join(repo, 'pnpm-lock.yaml'));
    await files({ 'yarn.lock': '# yarn lockfile v1\n' });
    assert.deepEqual((await detectPlan(repo, {})).install, {
      argv: ['corepack', 'yarn', 'install', '--production=false', '--frozen-lockfile'],
    });
    await files({ 'yarn.lock': '__metadata:\n  version: 8\n' });
    const berry = await detectPlan(repo, {});
    assert.deepEqual(berry.install, { argv: ['corepack', 'yarn', 'install', '--immutable'] });
    assert.equal(berry.buildEnv?.COREPACK_ENABLE_DOWNLOAD_PROMPT, '0');
    await files({ 'package.json': { packageManager: 'pnpm@9.1.0', scripts: { build: 'x', start: 'node s.js' } } });
    const pinned = await detectPlan(repo, {});
    assert.deepEqual(pinned.build, { argv: ['corepack', 'pnpm', 'run', 'build'] });
    // The runtime needs no package manager: start scripts run through npm.
    assert.deepEqual(pinned.start, { argv: ['npm', 'start'] });
  });

  it('engines.node and .nvmrc the host cannot meet are a warning, not a failure', async () => {
    await files({ 'package.json': { engines: { node: '>=99' }, scripts: { start: 'node s.js' } }, '.nvmrc': 'v98\n' });
    const plan = await detectPlan(repo, {});
    assert.match(plan.notes?.join('\n') ?? '', /warning: engines\.node asks for Node ">=99"/);
    assert.match(plan.notes?.join('\n') ?? '', /warning: \.nvmrc asks for Node "v98"/);
  });

  it('SvelteKit, Nuxt, Astro, Remix: how they run is decided from the build output', async () => {
    const cases: [Record<string, string>, Record<string, string>, RegExp][] = [
      [{ '@sveltejs/kit': '2' }, { 'build/index.js': '', 'build/handler.js': '' }, /"node","build"/],
      [{ '@sveltejs/kit': '2' }, { 'build/index.html': '' }, /"outputDir":"build"/],
      [{ nuxt: '3' }, { '.output/server/index.mjs': '' }, /\.output\/server\/index\.mjs/],
      [{ astro: '5' }, { 'dist/server/entry.mjs': '' }, /dist\/server\/entry\.mjs/],
      [{ astro: '5' }, { 'dist/index.html': '' }, /"kind":"static","outputDir":"dist"/],
      [{ '@remix-run/dev': '2' }, { 'build/server/index.js': '' }, /remix-serve/],
      [{ '@react-router/dev': '7' }, { 'build/server/index.js': '' }, /react-router-serve/],
    ];
    for (const [deps, output, expected] of cases) {
      await rm(repo, { recursive: true, force: true });
      await mkdir(repo);
      await files({ 'package.json': { scripts: { build: 'x' }, devDependencies: deps }, ...output });
      const plan = await detectPlan(repo, {});
      const final = await finalizePlan(plan, localOutput(repo));
      assert.match(JSON.stringify({ kind: final.kind, outputDir: final.outputDir, start: final.start }), expected);
    }
    await rm(join(repo, 'build'), { recursive: true, force: true });
    const plan = await detectPlan(repo, {});
    await assert.rejects(finalizePlan(plan, localOutput(repo)), /produced nothing runnable.*startCommand/);
  });

  it('a Procfile web: line beats inference, and release: becomes the release step', async () => {
    await files({
      'package.json': { scripts: { start: 'node a.js' } },
      Procfile: 'web: node b.js\nrelease: node m.js\n',
    });
    const plan = await detectPlan(repo, {});
    assert.deepEqual(plan.start, { shell: 'node b.js' });
    assert.deepEqual(plan.release, { shell: 'node m.js' });
    const overridden = await detectPlan(repo, { startCommand: 'node c.js' });
    assert.deepEqual(overridden.start, { shell: 'node c.js' });
  });

  it("a Next.js build gets a Server Actions key of its app's own, stable between builds, so its webpack cache can hit", async () => {
    await files({
      'package.json': { scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '15.5.0' } },
      'package-lock.json': '{}',
    });
    const plan = await detectPlan(repo, {});
    const salt = Buffer.alloc(32, 1);
    const keyOf = (app: string, env: Record<string, string> = {}) =>
      cacheSpecFor(plan, repo, env)?.stableEnv?.(app, salt).NEXT_SERVER_ACTIONS_ENCRYPTION_KEY;
    const key = keyOf('web');
    assert.equal(Buffer.from(key ?? '', 'base64').length, 32, 'an AES-256 key, as Next.js makes one');
    assert.equal(keyOf('web'), key);
    assert.notEqual(keyOf('other'), key);
    assert.equal(keyOf('web', { NEXT_SERVER_ACTIONS_ENCRYPTION_KEY: 'mine' }), undefined);
    await files({ 'package.json': { scripts: { start: 'node server.js' } } });
    assert.equal(cacheSpecFor(await detectPlan(repo, {}), repo, {})?.stableEnv, undefined);
  });

  it('a Next.js build preloads the trace cache, kept in .next/cache, unless the app turns it off', async () => {
    await files({
      'package.json': { scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '15.5.0' } },
      'package-lock.json': '{}',
    });
    const plan = await detectPlan(repo, {});
    const preload = cacheSpecFor(plan, repo, {})?.preload;
    assert.ok(preload && existsSync(preload.script), 'the script is on disk');
    assert.match(preload.script, /runtime-assets\/next-trace-cache\.js$/);
    assert.deepEqual(preload.env(repo), {
      CLOUDSMITH_NEXT_TRACE_CACHE: join(repo, '.next', 'cache', 'cloudsmith', 'trace.json'),
    });
    assert.equal(cacheSpecFor(plan, repo, { CLOUDSMITH_NEXT_TRACE_CACHE: 'off' })?.preload, undefined);
    await files({ 'package.json': { scripts: { start: 'node server.js' } } });
    assert.equal(cacheSpecFor(await detectPlan(repo, {}), repo, {})?.preload, undefined);
  });

  it('a Procfile alone runs its web command; only a Dockerfile is a dockerfile plan', async () => {
    await files({ Procfile: 'web: ./serve --port $PORT\n' });
    assert.equal((await detectPlan(repo, {})).kind, 'procfile');
    await rm(join(repo, 'Procfile'));
    await files({ Dockerfile: 'FROM scratch\n' });
    assert.equal((await detectPlan(repo, {})).kind, 'dockerfile');
  });

  describe('with the host Python', function () {
    before(function () {
      if (!findPython()) this.skip();
    });

    it('Flask: gunicorn module:app, added when not listed; the venv is on PATH for Procfile commands', async () => {
      await files({ 'requirements.txt': 'Flask==3\n', 'web.py': 'from flask import Flask\napp = Flask(__name__)\n' });
      const plan = await detectPlan(repo, {});
      assert.equal(plan.kind, 'python');
      assert.match(JSON.stringify(plan.start), /gunicorn --bind \$\{HOST:-0\.0\.0\.0\}:\$PORT web:app/);
      // One pip run resolves the app's requirements and the added server together, as one would type it.
      const install = JSON.stringify(plan.install);
      assert.match(install, /install -r requirements\.txt gunicorn"/);
      assert.equal(install.split(' install ').length, 2);
      // With an interpreter pip that can target the venv, the venv gets no pip of its own (ensurepip is slow).
      assert.match(
        install,
        findPython()?.pipTargets
          ? /^\{"shell":"python3 -m venv --copies --without-pip \.venv && python3 -m pip --python \.venv\/bin\/python install /
          : /^\{"shell":"python3 -m venv --copies \.venv && \.venv\/bin\/pip install /,
      );
      await files({ Procfile: 'web: gunicorn other:app\n' });
      assert.match(
        JSON.stringify((await detectPlan(repo, {})).start),
        /PATH=\\"\$PWD\/\.venv\/bin:\$PATH\\".*gunicorn other:app/,
      );
    });

    it('the added server joins a plain pip install, but follows a lockfile install (uv) as its own step', async () => {
      await files({
        'pyproject.toml': '[project]\nname="x"\nversion="1"\ndependencies=["flask"]\n',
        'web.py': 'from flask import Flask\napp = Flask(__name__)\n',
      });
      assert.match(JSON.stringify((await detectPlan(repo, {})).install), / install flask gunicorn"/);
      await files({ 'uv.lock': 'version = 1\n' });
      assert.match(JSON.stringify((await detectPlan(repo, {})).install), /uv sync [^&]*&& \S.* install gunicorn"/);
    });

    it('the build cache keeps the venv for a manifest-only install, not for one that installs the app itself', async () => {
      await files({ 'requirements.txt': 'flask\n', 'web.py': 'from flask import Flask\napp = Flask(__name__)\n' });
      const spec = cacheSpecFor(await detectPlan(repo, {}), repo, {});
      assert.deepEqual(spec?.dirs, [{ path: '.venv', exact: true }]);
      assert.ok(spec.installReusable);
      await rm(join(repo, 'requirements.txt'));
      await files({ 'pyproject.toml': '[project]\nname="x"\nversion="1"\n[build-system]\nrequires=["hatchling"]\n' });
      const own = await detectPlan(repo, {});
      assert.match(JSON.stringify(own.install), / install \. gunicorn"/);
      assert.deepEqual(cacheSpecFor(own, repo, {})?.dirs, []);
    });

    it('FastAPI factory, Django ASGI with uvicorn listed, and a Python version the host lacks', async () => {
      await files({
        'pyproject.toml': '[project]\nname="x"\nversion="1"\ndependencies=["fastapi", "uvicorn[standard]"]\n',
        'main.py': '# import flask\nimport fastapi\n\ndef create_app():\n    return fastapi.FastAPI()\n',
      });
      const fast = await detectPlan(repo, {});
      assert.match(JSON.stringify(fast.start), /uvicorn --factory main:create_app/);
      assert.doesNotMatch(JSON.stringify(fast.install), / uvicorn( |")/);
      await files({ 'manage.py': '', 'proj/settings.py': '', 'proj/wsgi.py': '', 'proj/asgi.py': '' });
      assert.match(JSON.stringify((await detectPlan(repo, {})).start), /uvicorn proj\.asgi:application/);
      await files({ '.python-version': '3.99\n' });
      await refused(/\.python-version asks for Python 3\.99, but the build host has Python \d/);
    });

    it('no web entry: the build says to add a Procfile line or startCommand', async () => {
      await files({ 'requirements.txt': 'requests\n', 'job.py': 'print(1)\n' });
      const plan = await detectPlan(repo, {});
      await assert.rejects(finalizePlan(plan, localOutput(repo)), /add a Procfile line such as `web: gunicorn/);
    });
  });

  describe('with the host Go', function () {
    before(function () {
      if (!findGo()) this.skip();
    });

    it('main package at the root or under cmd/, and a go directive the host cannot meet', async () => {
      await files({ 'go.mod': 'module example.com/a\n\ngo 1.21\n', 'main.go': 'package main\nfunc main() {}\n' });
      assert.deepEqual((await detectPlan(repo, {})).build, {
        argv: ['go', 'build', '-trimpath', '-o', '.cloudsmith/server', '.'],
      });
      await rm(join(repo, 'main.go'));
      await files({ 'cmd/a/main.go': 'package main\n', 'lib/lib.go': 'package lib\n' });
      assert.match(JSON.stringify((await detectPlan(repo, {})).build), /\.\/cmd\/a/);
      await files({ 'go.mod': 'module example.com/a\n\ngo 9.99\n' });
      await refused(/go\.mod asks for Go 9\.99/);
    });
  });
});
