import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { excludesBeside, shippedPaths } from '../../src/adapters/builder/artifactLayout';
import { packDir } from '../../src/archive/tarball';
import type { BuildPlan } from '../../src/detect/plan';

const plan = (extra: Partial<BuildPlan>): BuildPlan => ({
  kind: 'next',
  provider: 'node',
  rootDir: '.',
  healthPath: '/',
  reason: 'test',
  ...extra,
});

describe('artifact layout: what of the root dir a server artifact holds', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'artifact-layout-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a self-contained output ships alone, unless a release step needs the root', () => {
    assert.deepEqual(shippedPaths(plan({ ships: ['.next/standalone'] })), ['.next/standalone']);
    assert.equal(shippedPaths(plan({})), undefined);
    assert.equal(
      shippedPaths(plan({ ships: ['.next/standalone'], release: { shell: 'npx prisma migrate' } })),
      undefined,
    );
  });

  it('a pack with excludesBeside holds only the kept paths, whatever glob characters names beside them have', async () => {
    for (const file of [
      'package.json',
      'node_modules/next/index.js',
      '*',
      '[.]next',
      '.next/cache/webpack/x.pack',
      '.next/server/pages/index.js',
      '.next/standalone/server.js',
      '.next/standalone/node_modules/next/index.js',
      '.next/standalone/.next/static/chunks/a.js',
      '.next/standalone/public/robots.txt',
    ]) {
      await mkdir(dirname(join(dir, 'tree', file)), { recursive: true });
      await writeFile(join(dir, 'tree', file), file);
    }
    const tarball = join(dir, 'out.tar.gz');
    await packDir(join(dir, 'tree'), tarball, {
      exclude: await excludesBeside(join(dir, 'tree'), ['.next/standalone']),
    });
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l && !l.endsWith('/'));
    assert.deepEqual(files.sort(), [
      './.next/standalone/.next/static/chunks/a.js',
      './.next/standalone/node_modules/next/index.js',
      './.next/standalone/public/robots.txt',
      './.next/standalone/server.js',
    ]);
    assert.deepEqual(await excludesBeside(join(dir, 'tree'), ['.']), []);
  });
});
