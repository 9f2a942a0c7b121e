import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/adapters/store/sqlite/sqliteStore';
import { describeStoreContract } from './store.contract';

describeStoreContract('sqlite (:memory:)', async () => {
  const store = new SqliteStore(':memory:');
  return { store, cleanup: () => store.close() };
});

describeStoreContract('sqlite (file, WAL)', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'store-sqlite-'));
  const store = new SqliteStore(path.join(dir, 'nested', 'cloudsmith.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore specifics', function () {
  let dir: string;
  beforeEach(async function () {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'store-sqlite-'));
  });
  afterEach(async function () {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps everything across a reopen (platform restart)', async function () {
    const file = path.join(dir, 'db.sqlite');
    const a = new SqliteStore(file);
    await a.init();
    const at = new Date().toISOString();
    await a.createDeployment({
      id: 'd1',
      app: 'x',
      ownerId: 'o',
      repo: 'o/r',
      ref: 'main',
      status: 'queued',
      overrides: {},
      timings: {},
      createdAt: at,
      updatedAt: at,
    });
    await a.transition('d1', 'fetching');
    await a.appendLogs('d1', [{ ts: at, stage: 'fetch', text: 'hello' }]);
    await a.putEnv('x', { K: 'sealed' });
    await a.close();
    const b = new SqliteStore(file);
    await b.init();
    assert.equal((await b.getDeployment('d1'))?.status, 'fetching');
    assert.deepEqual(
      (await b.listInFlight()).map((d) => d.id),
      ['d1'],
    );
    assert.deepEqual(
      (await b.appendLogs('d1', [{ ts: at, stage: 'fetch', text: 'again' }])).map((l) => l.seq),
      [2],
    );
    assert.deepEqual(await b.getEnv('x'), { K: 'sealed' });
    await b.close();
  });

  it('shares one file between two connections without seq clashes or double transitions', async function () {
    const file = path.join(dir, 'db.sqlite');
    const a = new SqliteStore(file);
    const b = new SqliteStore(file);
    await a.init();
    await b.init();
    const at = new Date().toISOString();
    await a.createDeployment({
      id: 'd1',
      app: 'x',
      ownerId: 'o',
      repo: 'o/r',
      ref: 'main',
      status: 'queued',
      overrides: {},
      timings: {},
      createdAt: at,
      updatedAt: at,
    });
    const line = { ts: at, stage: 'build' as const, text: 'l' };
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).appendLogs('d1', [line, line])));
    assert.deepEqual(
      (await a.readLogs('d1', 0)).map((l) => l.seq),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const wins = [await a.transition('d1', 'cancelled'), await b.transition('d1', 'failed')];
    assert.equal(wins.filter(Boolean).length, 1);
    await a.close();
    await b.close();
  });

  it('refuses use before init with a clear error', async function () {
    await assert.rejects(new SqliteStore(':memory:').getApp('x'), /before init/);
  });
});
