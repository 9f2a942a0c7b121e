import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Overrides } from '../../src/domain/deployment';
import { UserFacingError } from '../../src/domain/errors';
import { detectPlan, finalizePlan, isDevServer, localOutput, resolveOutputDir } from '../../src/detect/plan';

describe('detect', () => {
  let repo: string;

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'detect-test-'));
  });
  afterEach(() => rm(repo, { recursive: true, force: true }));

  async function files(tree: Record<string, string | object>): Promise<void> {
    for (const [path, content] of Object.entries(tree)) {
      await mkdir(dirname(join(repo, path)), { recursive: true });
      await writeFile(join(repo, path), typeof content === 'string' ? content : JSON.stringify(content));
    }
  }

  async function refused(overrides: Overrides, message: RegExp): Promise<void> {
    await assert.rejects(detectPlan(repo, overrides), (err: unknown) => {
      assert.ok(err instanceof UserFacingError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }

  it('node server with a start script and a lockfile: npm ci, build, npm start', async () => {
    await files({
      'package.json': { scripts: { start: 'node server.js', build: 'tsc' }, dependencies: { express: '^5' } },
      'package-lock.json': '{}',
    });
    const plan = await detectPlan(repo, {});
    assert.equal(plan.kind, 'node');
    assert.equal(plan.rootDir, '.');
    assert.deepEqual(plan.install, { argv: ['npm', 'ci', '--include=dev', '--prefer-offline'] });
    assert.deepEqual(plan.build, { argv: ['npm', 'run', 'build'] });
    assert.deepEqual(plan.start, { argv: ['npm', 'start'] });
    assert.equal(plan.healthPath, '/');
  });

  it('node server without a lockfile or start script: npm install, node server.js', async () => {
    await files({ 'package.json': { dependencies: { express: '^5' } }, 'server.js': '' });
    const plan = await detectPlan(repo, {});
    assert.equal(plan.kind, 'node');
    assert.deepEqual(plan.install, { argv: ['npm', 'install', '--include=dev'] });
    assert.equal(plan.build, undefined);
    assert.deepEqual(plan.start, { argv: ['node', 'server.js'] });
  });

  it('uses main when there is no start script, and skips install without dependencies', async () => {
    await files({ 'package.json': { main: 'app.js' }, 'app.js': '' });
    const plan = await detectPlan(repo, {});
    assert.deepEqual(plan.start, { argv: ['node', 'app.js'] });
    assert.equal(plan.install, undefined);
  });

  it('vite app whose start script is the dev server is an SPA served from dist', async () => {
    await files({
      'package.json': { scripts: { dev: 'vite', start: 'vite', build: 'vite build' }, devDependencies: { vite: '^7' } },
      'package-lock.json': '{}',
    });
    const plan = await detectPlan(repo, {});
    assert.equal(plan.kind, 'spa');
    assert.equal(plan.outputDir, 'dist');
    assert.equal(plan.start, undefined);
    assert.deepEqual(plan.build, { argv: ['npm', 'run', 'build'] });
    assert.match(plan.reason, /dev server/);
  });

  it('create react app is an SPA served from build', async () => {
    await files({
      'package.json': {
        scripts: { start: 'react-scripts start', build: 'react-scripts build' },
        dependencies: { 'react-scripts': '5' },
      },
    });
    const plan = await detectPlan(repo, {});
    assert.equal(plan.kind, 'spa');
    assert.equal(plan.outputDir, 'build');
  });

  it('a build script without a server is an SPA whose output dir is found after the build', async () => {
    await files({ 'package.json': { scripts: { build: 'node build.js' } } });
    const plan = await detectPlan(repo, {});
    assert.equal(plan.kind, 'spa');
    assert.equal(plan.outputDir, undefined);
    await files({ 'out/x.txt': '', 'build/index.html': '' });
    assert.equal(resolveOutputDir(repo, plan), 'build');
  });

  it('resolveOutputDir explains a missing output directory', async () => {
    await files({ 'package.json': { scripts: { build: 'true' } } });
    const plan = await detectPlan(repo, {});
    assert.throws(() => resolveOutputDir(repo, plan), /wrote none of dist\/, build\/, out\//);
    assert.throws(
      () => resolveOutputDir(repo, { ...plan, outputDir: 'public' }),
      /did not produce the output directory "public"/,
    );
  });

  it('next.js: next build; how it runs is decided from what the build produced', async () => {
    await files({
      'package.json': { scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '15' } },
      'next.config.mjs': '// output: "export",\nexport default {};\n',
    });
    const plan = await detectPlan(repo, {});
    assert.equal(plan.kind, 'next');
    assert.equal(plan.framework, 'next');
    assert.deepEqual(plan.build, { argv: ['npm', 'run', 'build'] });
    // The commented-out export line decides nothing: only the build's output does.
    await files({ '.next/BUILD_ID': 'x' });
    const started = await finalizePlan(plan, localOutput(repo));
    assert.equal(started.kind, 'next');
    assert.deepEqual(started.start, { argv: ['npx', '--no-install', 'next', 'start'] });
    await files({ 'out/index.html': '<html>' });
    const exported = await finalizePlan(plan, localOutput(repo));
    assert.equal(exported.kind, 'spa');
    assert.equal(exported.outputDir, 'out');
    await files({ '.next/standalone/server.js': '', 'public/x.txt': '' });
    const standalone = await finalizePlan(plan, localOutput(repo));
    assert.equal(standalone.workdir, '.next/standalone');
    assert.match(JSON.stringify(standalone.start), /node server\.js/);
    assert.deepEqual(standalone.copies, [
      ['.next/static', '.next/standalone/.next/static'],
      ['public', '.next/standalone/public'],
    ]);
    // The standalone dir runs on its own (its node_modules traced by Next): nothing else of the root ships.
    assert.deepEqual(standalone.ships, ['.next/standalone']);
  });

  it('plain static site without package.json', async () => {
    await files({ 'index.html': '<h1>hi</h1>' });
    const plan = await detectPlan(repo, {});
    assert.equal(plan.kind, 'static');
    assert.equal(plan.outputDir, '.');
    assert.equal(plan.install, undefined);
    assert.equal(plan.build, undefined);
  });

  it('monorepo: rootDir selects the app', async () => {
    await files({
      'package.json': { private: true },
      'apps/web/package.json': { scripts: { start: 'node server.js' } },
      'apps/web/server.js': '',
    });
    await refused({}, /nothing to build or run in the repository root/);
    const plan = await detectPlan(repo, { rootDir: 'apps/web/' });
    assert.equal(plan.rootDir, 'apps/web');
    assert.equal(plan.kind, 'node');
  });

  it('says clearly when there is nothing to build', async () => {
    await files({ 'README.md': 'hi' });
    await refused({}, /^nothing CloudSmith knows how to build in the repository root: .*Procfile with a `web:` line/);
    await mkdir(join(repo, 'sub'));
    await refused({ rootDir: 'sub' }, /^nothing CloudSmith knows how to build in sub:/);
  });

  it('rootDir must stay inside the repository', async () => {
    await files({ 'index.html': '' });
    await refused({ rootDir: '../' }, /rootDir "\.\.\/" must not contain "\.\."/);
    await refused({ rootDir: '/etc' }, /must be a relative path/);
    await refused({ rootDir: 'missing' }, /not a directory/);
    await symlink(tmpdir(), join(repo, 'escape'));
    await refused({ rootDir: 'escape' }, /leads outside the repository/);
  });

  it('overrides beat cloudsmith.json, which beats detection', async () => {
    await files({
      'package.json': { scripts: { start: 'node server.js', build: 'tsc' } },
      'cloudsmith.json': { buildCommand: 'make from-json', installCommand: 'pnpm i', healthPath: '/healthz' },
    });
    const fromJson = await detectPlan(repo, {});
    assert.deepEqual(fromJson.build, { shell: 'make from-json' });
    assert.deepEqual(fromJson.install, { shell: 'pnpm i' });
    assert.equal(fromJson.healthPath, '/healthz');
    const overridden = await detectPlan(repo, { buildCommand: 'make from-override', startCommand: 'node other.js' });
    assert.deepEqual(overridden.build, { shell: 'make from-override' });
    assert.deepEqual(overridden.start, { shell: 'node other.js' });
    assert.deepEqual(overridden.install, { shell: 'pnpm i' });
    assert.match(overridden.reason, /from the deployment settings/);
  });

  it('cloudsmith.json can move rootDir, and outputDir turns a build into a static site', async () => {
    await files({ 'cloudsmith.json': { rootDir: 'site' }, 'site/package.json': { scripts: { build: 'node gen.js' } } });
    const plan = await detectPlan(repo, { outputDir: 'public' });
    assert.equal(plan.rootDir, 'site');
    assert.equal(plan.kind, 'spa');
    assert.equal(plan.outputDir, 'public');
    await refused({ outputDir: '../x' }, /outputDir/);
  });

  it('a start command alone makes a node app out of a repo without package.json', async () => {
    await files({ 'main.py': '' });
    const plan = await detectPlan(repo, { startCommand: 'python3 -m http.server $PORT' });
    assert.equal(plan.kind, 'node');
    assert.deepEqual(plan.start, { shell: 'python3 -m http.server $PORT' });
  });

  it('rejects a malformed cloudsmith.json or package.json with the reason', async () => {
    await files({ 'cloudsmith.json': { buildComand: 'typo' }, 'index.html': '' });
    await refused({}, /cloudsmith\.json in the repository root is invalid/);
    await files({ 'cloudsmith.json': '{nope' });
    await refused({}, /cloudsmith\.json in the repository root is not valid JSON/);
    await rm(join(repo, 'cloudsmith.json'));
    await files({ 'package.json': '{"scripts": 5}' });
    await refused({}, /package\.json in the repository root is invalid/);
  });

  it('recognises dev servers', () => {
    for (const s of [
      'vite',
      'vite dev',
      'vite preview',
      'vite --port 3000',
      'react-scripts start',
      'webpack serve',
      'ng serve',
      'parcel index.html',
    ]) {
      assert.ok(isDevServer(s), s);
    }
    for (const s of [
      'node server.js',
      'next start',
      'serve -s dist',
      'vite-node server.ts',
      'parcel build index.html',
    ]) {
      assert.ok(!isDevServer(s), s);
    }
  });
});
