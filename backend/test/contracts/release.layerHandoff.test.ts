import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oneDisk, type OneDisk } from './oneDisk';

/**
 * Embedded, a new dependency layer's tree goes from the build to the runtime's layers as built, instead of being
 * unpacked again from its tarball for the first release: the release links it, the build cache copies it back after
 * the build, and the layer on disk holds exactly what its tarball unpacks to. A tree its tarball would not reproduce
 * goes the usual way.
 */
describe('Dependency layer handoff (local builder + process runtime in one process, one disk)', function () {
  this.timeout(600_000);
  const app = 'handed';
  let h: OneDisk;

  before(async function () {
    h = await oneDisk(app, { handoff: true });
  });
  after(async function () {
    await h.close();
  });

  const layerDirs = async () => (await readdir(join(h.dir, 'data', 'layers', app))).sort();

  it('releases the built tree without unpacking it; the cache gets it back and the next build reuses it unpacked', async function () {
    const logs: string[] = [];
    const first = await h.build('node-express', logs);
    assert.ok(
      logs.some((l) =>
        /^Dependency layer node_modules .*: stored; its tree goes to the runtime on this disk as built/.test(l),
      ),
      logs.join('\n'),
    );
    assert.ok(logs.some((l) => /^cache saved \(.*; node_modules copied in from its release's layer/.test(l)));

    const releaseLogs: string[] = [];
    await h.release(first.id, first.result, releaseLogs);
    assert.equal(await h.served(), 'hello from node-express');
    assert.ok(
      releaseLogs.some((l) => /^Dependency layer node_modules .* already on disk: linked$/.test(l)),
      releaseLogs.join('\n'),
    );

    // What runs is what the tarball holds: the same names, contents, modes and link targets.
    const [sha256] = await layerDirs();
    const unpacked = await mkdtemp(join(tmpdir(), 'layer-'));
    try {
      const tarball = join(h.dir, 'artifacts', 'blobs', 'artifacts', app, 'layers', `${sha256}.tar.gz`);
      execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
      execFileSync('diff', [
        '-r',
        '--no-dereference',
        unpacked,
        join(h.dir, 'data', 'layers', app, sha256, 'node_modules'),
      ]);
    } finally {
      await rm(unpacked, { recursive: true, force: true });
    }

    // The next build waits for the cache's copy, and finds the tree it packed before.
    const secondLogs: string[] = [];
    const second = await h.build('node-express', secondLogs);
    assert.ok(
      secondLogs.some((l) => /^cache restored .*: node_modules/.test(l)),
      secondLogs.join('\n'),
    );
    assert.ok(secondLogs.some((l) => l.startsWith('install skipped')));
    assert.ok(
      secondLogs.some((l) => /^Dependency layer node_modules .*: tree unchanged, reused without packing$/.test(l)),
      secondLogs.join('\n'),
    );
    const redeployLogs: string[] = [];
    await h.release(second.id, second.result, redeployLogs);
    assert.equal(await h.served(), 'hello from node-express');
    assert.deepEqual(await layerDirs(), [sha256]);
  });

  it('unpacks a tree that its tarball would not reproduce (a .git inside node_modules) from the tarball', async function () {
    const logs: string[] = [];
    const built = await h.build('node-express', logs, async (source) => {
      const pkg = JSON.parse(await readFile(join(source, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      };
      // A new layer (the marker), whose tree differs from what it unpacks to: packing leaves .git out.
      pkg.scripts.postinstall =
        'echo built > node_modules/.marker && mkdir -p node_modules/express/.git && echo x > node_modules/express/.git/HEAD';
      await writeFile(join(source, 'package.json'), JSON.stringify(pkg));
    });
    const layerLine = logs.find((l) => l.startsWith('Dependency layer node_modules'));
    assert.match(layerLine ?? '', /: stored$/, logs.join('\n'));
    assert.ok(!logs.some((l) => l.includes('copied in from')), 'the cache took the tree by rename');
    const releaseLogs: string[] = [];
    await h.release(built.id, built.result, releaseLogs);
    assert.ok(
      releaseLogs.some((l) => /^Dependency layer node_modules .* unpacked in/.test(l)),
      releaseLogs.join('\n'),
    );
    assert.equal(await h.served(), 'hello from node-express');
  });
});
