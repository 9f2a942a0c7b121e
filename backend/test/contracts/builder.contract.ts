import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpackTarball } from '../../src/archive/tarball';
import type { BuildResult, Builder, BuildJob } from '../../src/ports/builder';
import type { ArtifactStore } from '../../src/ports/artifacts';
import { UserFacingError } from '../../src/domain/errors';

export const FIXTURES_DIR = join(__dirname, '..', 'fixtures');

export interface BuilderFixture {
  builder: Builder;
  artifacts: ArtifactStore;
  cleanup(): Promise<void>;
  /**
   * For builders that fetch for themselves (Jenkins): publish the fixture copied at `sourceDir` and say where
   * to clone it from. Builders that build `sourceDir` directly leave this out.
   */
  publishSource?(
    fixture: string,
    sourceDir: string,
  ): Promise<{ cloneUrl: string; commitSha: string; sealedToken: string }>;
}

export interface BuildRun {
  result: BuildResult;
  logs: string[];
}

/** Copies a fixture app into a fresh source dir and builds it, collecting the build's log lines. */
export async function buildFixture(
  fx: BuilderFixture,
  fixture: string,
  options: {
    overrides?: BuildJob['overrides'];
    env?: Record<string, string>;
    signal?: AbortSignal;
    logs?: string[];
    workDir: string;
  },
): Promise<BuildRun> {
  const sourceDir = join(options.workDir, `src-${fixture}-${randomUUID().slice(0, 8)}`);
  await cp(join(FIXTURES_DIR, fixture), sourceDir, { recursive: true });
  const published = fx.publishSource ? await fx.publishSource(fixture, sourceDir) : undefined;
  const logs = options.logs ?? [];
  const job: BuildJob = {
    deploymentId: randomUUID(),
    app: `${fixture}-${randomUUID().slice(0, 6)}`,
    repo: `fixtures/${fixture}`,
    commitSha: published?.commitSha ?? 'c0ffee'.padEnd(40, '0'),
    sourceDir,
    cloneUrl: published?.cloneUrl ?? '',
    sealedToken: published?.sealedToken ?? '',
    overrides: options.overrides ?? {},
    env: options.env ?? {},
  };
  const result = await fx.builder.build(job, {
    signal: options.signal ?? new AbortController().signal,
    log: (text) => logs.push(text),
  });
  return { result, logs };
}

/** Downloads a tarball artifact (verifying its checksum) and unpacks it; returns the directory. */
export async function unpackArtifact(artifacts: ArtifactStore, result: BuildResult, workDir: string): Promise<string> {
  // Narrows the artifact to a tarball for what follows.
  assert.equal(result.artifact.kind, 'tarball');
  const file = join(workDir, `artifact-${randomUUID()}.tar.gz`);
  await artifacts.getFile(result.artifact.key, file, result.artifact.sha256);
  const dir = join(workDir, `unpacked-${randomUUID()}`);
  await unpackTarball(file, dir);
  return dir;
}

/** Every file path under dir, relative, posix. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

/** What every Builder adapter must do, checked on the fixture apps in test/fixtures. */
export function describeBuilderContract(name: string, factory: () => Promise<BuilderFixture>): void {
  describe(`Builder contract: ${name}`, function () {
    this.timeout(600_000);
    let fx: BuilderFixture;
    let workDir: string;

    beforeEach(async function () {
      fx = await factory();
      workDir = await mkdtemp(join(tmpdir(), 'builder-contract-'));
    });
    afterEach(async function () {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
      await fx?.cleanup();
      await rm(workDir, { recursive: true, force: true });
    });

    /** For tarballs, the unpacked files; for images only that a reference came back. */
    async function filesOf(result: BuildResult): Promise<{ dir: string; files: string[] } | undefined> {
      if (result.artifact.kind === 'image') {
        assert.ok(result.artifact.image.length > 0, 'an image reference');
        return undefined;
      }
      assert.match(result.artifact.sha256, /^[0-9a-f]{64}$/);
      assert.ok(result.artifact.size > 0);
      const dir = await unpackArtifact(fx.artifacts, result, workDir);
      return { dir, files: await listFiles(dir) };
    }

    it('builds a plain static site into something that serves its index.html', async function () {
      const { result } = await buildFixture(fx, 'static-site', { workDir });
      assert.equal(result.plan.kind, 'static');
      assert.ok(result.plan.start.length > 0, 'a start command');
      assert.equal(result.plan.healthPath, '/');
      const out = await filesOf(result);
      if (out) {
        const index = out.files.find((f) => f.endsWith('index.html'));
        assert.ok(index, `index.html in ${out.files.join(', ')}`);
        assert.match(await readFile(join(out.dir, index), 'utf8'), /static-site ok/);
        assert.ok(out.files.some((f) => f.endsWith('style.css')));
      }
    });

    it('builds a node server with its dependencies installed', async function () {
      const { result, logs } = await buildFixture(fx, 'node-express', { workDir });
      assert.equal(result.plan.kind, 'node');
      assert.ok(result.plan.start.length > 0);
      assert.ok(logs.length > 0, 'build output reaches the log');
      const out = await filesOf(result);
      if (out) {
        assert.ok(
          out.files.some((f) => f.endsWith('server.js')),
          'server.js shipped',
        );
        assert.ok(
          out.files.some((f) => /node_modules\/express\/package\.json$/.test(f)),
          'express installed',
        );
      }
    });

    it('fails a failing build with a UserFacingError naming the command and exit code; its output is logged', async function () {
      const logs: string[] = [];
      await assert.rejects(buildFixture(fx, 'failing-build', { workDir, logs }), (err: unknown) => {
        assert.ok(err instanceof UserFacingError, `UserFacingError expected, got ${String(err)}`);
        assert.match(err.message, /(exit(ed)?( with)? code:? 2\b|non-zero code:? 2\b)/);
        return true;
      });
      assert.ok(
        logs.some((l) => l.includes('BUILD_ERROR_MARKER')),
        'the build output is in the logs',
      );
    });

    it('cancels a running build when its signal aborts', async function () {
      const controller = new AbortController();
      const logs: string[] = [];
      const build = buildFixture(fx, 'slow-build', { workDir, logs, signal: controller.signal });
      build.catch(() => undefined);
      const deadline = Date.now() + 300_000;
      while (!logs.some((l) => /PID \d+/.test(l))) {
        if (Date.now() > deadline) throw new Error(`slow-build never started; logs:\n${logs.join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      controller.abort();
      await assert.rejects(build, (err: unknown) => err instanceof UserFacingError && /cancel/i.test(err.message));
    });
  });
}
