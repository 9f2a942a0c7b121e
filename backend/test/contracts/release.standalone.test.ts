import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { oneDisk, type OneDisk } from './oneDisk';

/**
 * A Next.js standalone server runs from its own directory with the node_modules Next traced into it: the
 * release holds that directory alone (with .next/static and public/ copied in), not the root's node_modules,
 * not even as a dependency layer.
 */
describe('Next.js standalone release (local builder + process runtime, one disk)', function () {
  this.timeout(300_000);
  let h: OneDisk;

  before(async () => {
    h = await oneDisk('standalone');
  });
  after(async () => {
    await h.close();
  });

  it('ships only .next/standalone and serves from it', async () => {
    const logs: string[] = [];
    // The stub writes what `output: "standalone"` writes; the root's installed packages stand beside it.
    const { id, result } = await h.build('next-output-stub', logs, async (sourceDir) => {
      await mkdir(join(sourceDir, 'node_modules', 'next'), { recursive: true });
      await writeFile(join(sourceDir, 'node_modules', 'next', 'package.json'), '{"name":"next"}');
    });
    assert.ok(
      logs.some((l) => l.startsWith('Shipping only .next/standalone')),
      logs.join('\n'),
    );
    assert.ok(!logs.some((l) => l.startsWith('Dependency layer')), logs.join('\n'));
    assert.equal(result.plan.workdir, '.next/standalone');

    const files = h.listing(result).filter((l) => l && !l.endsWith('/'));
    assert.deepEqual(files.sort(), [
      './.next/standalone/.next/static/chunks/main.js',
      './.next/standalone/public/robots.txt',
      './.next/standalone/server.js',
    ]);

    await h.release(id, result, []);
    assert.equal(await h.served(), 'hello from next-output-stub');
    assert.match(await h.served('/robots.txt'), /next-output-stub public file/);
  });
});
