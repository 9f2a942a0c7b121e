import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sha256File } from '../../src/archive/checksum';
import { NotFoundError } from '../../src/domain/errors';
import { artifactKey, sourceKey, type ArtifactStore } from '../../src/ports/artifacts';

export interface ArtifactStoreFixture {
  store: ArtifactStore;
  cleanup(): Promise<void>;
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What every ArtifactStore adapter must do. Keys are fresh per test, so adapters on shared services can reuse one bucket. */
export function describeArtifactStoreContract(name: string, factory: () => Promise<ArtifactStoreFixture>): void {
  describe(`ArtifactStore contract: ${name}`, function () {
    this.timeout(120_000);
    let fx: ArtifactStoreFixture;
    let store: ArtifactStore;
    let dir: string;

    beforeEach(async function () {
      fx = await factory();
      store = fx.store;
      dir = await mkdtemp(join(tmpdir(), 'artifacts-contract-'));
    });
    afterEach(async function () {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
      await fx?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    const key = (): string => artifactKey(`app-${randomUUID().slice(0, 8)}`, 'a'.repeat(40), randomUUID());

    async function file(content: Buffer | string): Promise<string> {
      const path = join(dir, `in-${randomUUID()}`);
      await writeFile(path, content);
      return path;
    }

    it('round-trips a file with its size and sha256', async function () {
      const k = key();
      const content = 'hello artifact\n';
      const stored = await store.putFile(k, await file(content));
      assert.equal(stored.key, k);
      assert.equal(stored.size, Buffer.byteLength(content));
      assert.equal(stored.sha256, createHash('sha256').update(content).digest('hex'));
      const out = join(dir, 'nested', 'out.tar.gz');
      await store.getFile(k, out, stored.sha256);
      assert.equal(await readFile(out, 'utf8'), content);
      const again = join(dir, 'again');
      await store.getFile(k, again);
      assert.equal(await readFile(again, 'utf8'), content);
      assert.equal((await collect(await store.open(k))).toString('utf8'), content);
    });

    it('keeps source and artifact keys of the same commit apart', async function () {
      const app = `app-${randomUUID().slice(0, 8)}`;
      const id = randomUUID();
      await store.putFile(sourceKey(app, 'b'.repeat(40), id), await file('source'));
      await store.putFile(artifactKey(app, 'b'.repeat(40), id), await file('artifact'));
      const out = join(dir, 'src');
      await store.getFile(sourceKey(app, 'b'.repeat(40), id), out);
      assert.equal(await readFile(out, 'utf8'), 'source');
    });

    it('handles a large file (24 MiB)', async function () {
      const path = join(dir, 'large');
      const handle = await open(path, 'w');
      for (let i = 0; i < 24; i++) await handle.write(randomBytes(1024 * 1024));
      await handle.close();
      const expected = await sha256File(path);
      const k = key();
      const stored = await store.putFile(k, path);
      assert.equal(stored.size, 24 * 1024 * 1024);
      assert.equal(stored.sha256, expected);
      const out = join(dir, 'large-out');
      await store.getFile(k, out, expected);
      assert.equal(await sha256File(out), expected);
    });

    /** `mib` MiB of random bytes in uneven chunks, as a stream of unknown length (a pack in progress). */
    function randomStream(mib: number): { body: Readable; sha256: string; size: number } {
      const chunks: Buffer[] = [];
      for (let left = mib * 1024 * 1024; left > 0;) {
        const chunk = randomBytes(Math.min(left, 300_000));
        chunks.push(chunk);
        left -= chunk.length;
      }
      const hash = createHash('sha256');
      for (const chunk of chunks) hash.update(chunk);
      return { body: Readable.from(chunks), sha256: hash.digest('hex'), size: mib * 1024 * 1024 };
    }

    it('stores a stream as it arrives, small or larger than an upload part (12 MiB), with its size and sha256', async function () {
      for (const mib of [1, 12]) {
        const k = key();
        const { body, sha256, size } = randomStream(mib);
        const stored = await store.put(k, body);
        assert.deepEqual(stored, { key: k, size, sha256 });
        const out = join(dir, `streamed-${mib}`);
        await store.getFile(k, out);
        assert.equal(await sha256File(out), sha256);
        const read = createHash('sha256');
        for await (const chunk of await store.open(k, sha256)) read.update(chunk as Buffer);
        assert.equal(read.digest('hex'), sha256);
      }
    });

    it('keeps the previous content when a stored stream fails midway', async function () {
      const k = key();
      await store.putFile(k, await file('previous'));
      const failing = Readable.from(
        (async function* () {
          yield randomBytes(7 * 1024 * 1024);
          throw new Error('pack failed');
        })(),
      );
      await assert.rejects(store.put(k, failing), /pack failed/);
      const out = join(dir, 'kept');
      await store.getFile(k, out);
      assert.equal(await readFile(out, 'utf8'), 'previous');
    });

    it('fails a stream opened with another sha256 at its end', async function () {
      const k = key();
      await store.putFile(k, await file('real content'));
      await assert.rejects(collect(await store.open(k, 'f'.repeat(64))), /sha256|checksum|corrupt/i);
    });

    it('refuses a download whose checksum does not match, leaving no file behind', async function () {
      const k = key();
      await store.putFile(k, await file('real content'));
      const out = join(dir, 'mismatch');
      await assert.rejects(store.getFile(k, out, 'f'.repeat(64)), /sha256|checksum|corrupt/i);
      assert.equal(existsSync(out), false);
    });

    it('reports a missing key as NotFoundError', async function () {
      const k = key();
      await assert.rejects(store.getFile(k, join(dir, 'missing')), (err: unknown) => err instanceof NotFoundError);
      await assert.rejects(store.open(k), (err: unknown) => err instanceof NotFoundError);
      assert.equal(existsSync(join(dir, 'missing')), false);
    });

    it('answers exists and deletes (delete is idempotent)', async function () {
      const k = key();
      assert.equal(await store.exists(k), false);
      await store.putFile(k, await file('x'));
      assert.equal(await store.exists(k), true);
      await store.delete(k);
      assert.equal(await store.exists(k), false);
      await store.delete(k);
      await assert.rejects(store.getFile(k, join(dir, 'gone')), (err: unknown) => err instanceof NotFoundError);
    });

    it('overwrites a key with new content', async function () {
      const k = key();
      await store.putFile(k, await file('one'));
      const second = await store.putFile(k, await file('two'));
      const out = join(dir, 'over');
      await store.getFile(k, out, second.sha256);
      assert.equal(await readFile(out, 'utf8'), 'two');
    });

    it('rejects hostile keys', async function () {
      const path = await file('x');
      for (const bad of [
        '../escape.tar.gz',
        'artifacts/../../escape',
        '/etc/passwd',
        'a//b',
        '',
        'a/./b',
        'a\\..\\b',
      ]) {
        await assert.rejects(store.putFile(bad, path), /invalid artifact key/, `key ${JSON.stringify(bad)}`);
      }
    });
  });
}
