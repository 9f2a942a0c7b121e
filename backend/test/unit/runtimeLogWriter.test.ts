import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/adapters/bus/memory/memoryBus';
import { SqliteStore } from '../../src/adapters/store/sqlite/sqliteStore';
import type { AppLogs } from '../../src/domain/events';
import { runtimeLineBytes } from '../../src/domain/runtimeLog';
import { RuntimeLogWriter } from '../../src/runtimeLogs/runtimeLogWriter';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

describe('RuntimeLogWriter', function () {
  let store: SqliteStore;
  let bus: MemoryBus;
  let published: AppLogs[];

  beforeEach(async () => {
    store = new SqliteStore(':memory:');
    await store.init();
    bus = new MemoryBus();
    published = [];
    await bus.subscribe('app.logs', { group: 'test' }, async (event) => {
      published.push(event);
    });
  });
  afterEach(async () => {
    await bus.close();
    await store.close();
  });

  it('masks secrets (multi-line too), cuts long and binary lines, stores and publishes in order', async () => {
    const writer = new RuntimeLogWriter({ store, bus, logger: quiet });
    const pem = '-----BEGIN KEY-----\nabcdefghijkl\n-----END KEY-----';
    const write = writer.sink('web', 'dep-1', ['hunter2-secret', pem]);
    write({ stream: 'event', event: 'started', text: 'started' });
    write({ stream: 'stdout', text: 'token=hunter2-secret' });
    for (const line of pem.split('\n')) write({ stream: 'stderr', text: line });
    write({ stream: 'stderr', text: 'after the key' });
    write({ stream: 'stdout', text: `bin\u0000\u0007ary ${'x'.repeat(5000)}` });
    await writer.flush('web');
    const lines = await store.readRuntimeLogs('web', 0);
    const text = JSON.stringify(lines);
    assert.ok(!text.includes('hunter2-secret') && !text.includes('abcdefghijkl'), text);
    assert.deepEqual(
      lines.slice(0, 2).map((l) => [l.seq, l.stream, l.text]),
      [
        [1, 'event', 'started'],
        [2, 'stdout', 'token=••••••'],
      ],
    );
    assert.ok(lines.some((l) => l.stream === 'stderr' && l.text === 'after the key'));
    const binary = lines.at(-1);
    assert.ok(binary?.text.startsWith('bin\ufffd\ufffdary'), binary?.text.slice(0, 20));
    assert.ok(binary?.text.endsWith('…[line cut]') && binary.text.length < 4200);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      published.flatMap((e) => e.lines.map((l) => l.seq)),
      lines.map((l) => l.seq),
    );
    assert.ok(published.every((e) => e.app === 'web'));
  });

  it('drops output beyond the rate, says so in one event line, and keeps the stored log under its budget', async () => {
    const writer = new RuntimeLogWriter({ store, bus, logger: quiet, rateBytesPerSecond: 10_000, keepBytes: 8_000 });
    const write = writer.sink('web', 'dep-1', []);
    for (let i = 0; i < 2000; i++) write({ stream: 'stdout', text: `line ${i} ${'y'.repeat(90)}` });
    const deadline = Date.now() + 30_000;
    let lines = await store.readRuntimeLogs('web', 0);
    while (!lines.some((l) => /lines not kept/.test(l.text)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      await writer.flush('web');
      lines = await store.readRuntimeLogs('web', 0);
    }
    const said = lines.find((l) => l.stream === 'event');
    assert.match(said?.text ?? '', /^\[cloudsmith\] \d+ lines not kept: the app wrote more than 10 KiB\/s$/);
    assert.ok(lines.reduce((sum, l) => sum + runtimeLineBytes(l), 0) <= 8_000);
    await writer.remove('web');
    assert.deepEqual(await store.readRuntimeLogs('web', 0), []);
  });
});
