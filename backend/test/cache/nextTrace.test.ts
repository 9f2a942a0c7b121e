import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runtimeAsset } from '../../src/lib/runtimeAssets';

const FIXTURE = join(__dirname, '..', 'fixtures', 'next-standalone');
const REPORT = /CloudSmith trace cache: (\d+) of (\d+) files' analysis reused/;

function run(argv: string[], cwd: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.join(' ')} exited with ${code}\n${out.slice(-3000)}`));
    });
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => !d.isDirectory())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

/**
 * The preload that keeps `next build`'s file trace between builds (runtime-assets/next-trace-cache.js), against
 * a real Next.js: the traces and the standalone output are the same as Next.js alone makes them, a redeploy reuses
 * the dependencies' analysis, and a changed dependency, a changed lockfile or a corrupt cache file are noticed.
 * (Through the platform, sandboxed: the Next.js case of stacks/frameworks.test.ts.)
 */
describe('Next.js trace cache (a real next build)', function () {
  this.timeout(900_000);
  let app: string;
  let baseline: { server: string; minimal: string; standalone: string[] };
  const cacheFile = () => join(app, '.next', 'cache', 'cloudsmith', 'trace.json');
  const env = () => ({
    NEXT_TELEMETRY_DISABLED: '1',
    NODE_OPTIONS: `--require=${runtimeAsset('next-trace-cache.js')}`,
    CLOUDSMITH_NEXT_TRACE_CACHE: cacheFile(),
  });
  let change = 0;

  /** A code change (so webpack's cache is no shortcut), a build, and what it traced and wrote. */
  async function build(withPreload: boolean) {
    appendFileSync(join(app, 'pages', 'index.js'), `\n// change ${++change}\n`);
    const out = await run(['npx', 'next', 'build'], app, withPreload ? env() : { NEXT_TELEMETRY_DISABLED: '1' });
    const report = REPORT.exec(out);
    return {
      reused: report ? Number(report[1]) : undefined,
      analysed: report ? Number(report[2]) : undefined,
      server: readFileSync(join(app, '.next', 'next-server.js.nft.json'), 'utf8'),
      minimal: readFileSync(join(app, '.next', 'next-minimal-server.js.nft.json'), 'utf8'),
      standalone: filesUnder(join(app, '.next', 'standalone')),
    };
  }

  function assertSameOutput(got: Awaited<ReturnType<typeof build>>) {
    assert.equal(got.server, baseline.server, 'next-server.js.nft.json differs from Next.js alone');
    assert.equal(got.minimal, baseline.minimal, 'next-minimal-server.js.nft.json differs from Next.js alone');
    assert.deepEqual(got.standalone, baseline.standalone);
  }

  before(async () => {
    app = mkdtempSync(join(tmpdir(), 'next-trace-'));
    cpSync(FIXTURE, app, { recursive: true });
    await run(['npm', 'ci', '--no-audit', '--no-fund'], app, {});
    baseline = await build(false);
  });
  after(() => {
    rmSync(app, { recursive: true, force: true });
  });

  it('a first build traces what Next.js alone traces, and keeps the analysis', async () => {
    const cold = await build(true);
    assert.ok(cold.analysed && cold.analysed > 1000, `the server trace was reported: ${cold.analysed}`);
    assertSameOutput(cold);
    const stored = JSON.parse(readFileSync(cacheFile(), 'utf8')) as { entries: Record<string, unknown> };
    const files = Object.keys(stored.entries);
    assert.ok(files.length > 1000, `${files.length} entries kept`);
    assert.ok(
      files.every((f) => f.includes('/node_modules/')),
      'only dependencies are kept',
    );
  });

  it('a redeploy reuses the dependencies’ analysis and traces the same files', async () => {
    const warm = await build(true);
    assert.ok(warm.reused && warm.analysed && warm.reused > 0.95 * warm.analysed, `${warm.reused} of ${warm.analysed}`);
    assertSameOutput(warm);
  });

  it('a dependency file that changed (same lockfile) is analysed again: its new require is traced', async () => {
    const file = join(app, 'node_modules', 'styled-jsx', 'style.js');
    const original = readFileSync(file, 'utf8');
    writeFileSync(join(app, 'node_modules', 'styled-jsx', 'cloudsmith-probe.js'), 'module.exports = 1;\n');
    writeFileSync(file, `${original}\nrequire('./cloudsmith-probe');\n`);
    try {
      const changed = await build(true);
      const traced = (JSON.parse(changed.server) as { files: string[] }).files;
      assert.ok(
        traced.some((f) => f.endsWith('styled-jsx/cloudsmith-probe.js')),
        'the new dependency is in the trace',
      );
      assert.ok(changed.reused && changed.analysed && changed.reused < changed.analysed);
    } finally {
      writeFileSync(file, original);
      rmSync(join(app, 'node_modules', 'styled-jsx', 'cloudsmith-probe.js'));
    }
  });

  it('a corrupt cache file is ignored: the build goes on and traces as Next.js alone', async () => {
    writeFileSync(cacheFile(), '{"key": "x", "entries": ');
    const got = await build(true);
    assertSameOutput(got);
    assert.ok(got.reused !== undefined && got.analysed && got.reused < 0.1 * got.analysed, `${got.reused} reused`);
  });

  it('a changed lockfile drops every kept result', async () => {
    await build(true);
    appendFileSync(join(app, 'package-lock.json'), '\n');
    const got = await build(true);
    assertSameOutput(got);
    assert.ok(got.reused !== undefined && got.analysed && got.reused < 0.1 * got.analysed, `${got.reused} reused`);
  });
});
