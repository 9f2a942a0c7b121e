import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/adapters/store/sqlite/sqliteStore';
import { deployment, describeStoreContract } from './store.contract';

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
    await a.createDeployment(deployment('o', { id: 'd1', app: 'x' }));
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
    await a.createDeployment(deployment('o', { id: 'd1', app: 'x' }));
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

  it('keeps the database file to the platform user (mode 0600)', async function () {
    const file = path.join(dir, 'db.sqlite');
    const store = new SqliteStore(file);
    await store.init();
    await store.putEnv('x', { K: 'sealed' });
    for (const f of [file, `${file}-wal`]) assert.equal((await fs.stat(f)).mode & 0o077, 0, `${f} is private`);
    await store.close();
  });

  it('turns a log stored one row per line (older databases) into chunks, once', async function () {
    const file = path.join(dir, 'db.sqlite');
    const Database = (await import('better-sqlite3')).default;
    const old = new Database(file);
    old.exec(
      'CREATE TABLE logs (deployment_id TEXT NOT NULL, seq INTEGER NOT NULL, ts TEXT NOT NULL, stage TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (deployment_id, seq)) WITHOUT ROWID',
    );
    const insert = old.prepare('INSERT INTO logs VALUES (?, ?, ?, ?, ?)');
    for (let seq = 1; seq <= 3; seq++) insert.run('d1', seq, '2026-01-01T00:00:00.000Z', 'build', `old ${seq}`);
    old.close();
    const store = new SqliteStore(file);
    await store.init();
    assert.deepEqual(
      (await store.readLogs('d1', 1)).map((l) => [l.seq, l.text]),
      [
        [2, 'old 2'],
        [3, 'old 3'],
      ],
    );
    assert.deepEqual(
      (await store.appendLogs('d1', [{ ts: '2026-01-01T00:00:01.000Z', stage: 'build', text: 'new' }])).map(
        (l) => l.seq,
      ),
      [4],
    );
    await store.close();
    const again = new SqliteStore(file);
    await again.init();
    assert.equal((await again.readLogs('d1', 0)).length, 4);
    await again.close();
  });

  it('refuses use before init with a clear error', async function () {
    await assert.rejects(new SqliteStore(':memory:').getApp('x'), /before init/);
  });
});
