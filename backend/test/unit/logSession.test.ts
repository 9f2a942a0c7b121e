import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { LogSession, SLOW_CONSUMER_CLOSE } from '../../src/api/logSession';
import type { LogLine } from '../../src/domain/deployment';
import { logView } from '../../src/api/views';

/** A WebSocket whose send queue the test controls: nothing leaves it unless the test drains it. */
class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  sent: Array<{ type: string; seq?: number }> = [];
  closed?: number;
  send(data: string): void {
    this.sent.push(JSON.parse(data) as { type: string; seq?: number });
    this.bufferedAmount += data.length;
  }
  close(code: number): void {
    this.closed = code;
    this.readyState = 3;
  }
  terminate(): void {
    this.readyState = 3;
  }
}

const log: LogLine[] = Array.from({ length: 5000 }, (_, i) => ({
  seq: i + 1,
  ts: '2026-01-01T00:00:00.000Z',
  stage: 'build',
  text: `line ${i + 1} ${'x'.repeat(100)}`,
}));

function session(ws: FakeSocket, since = 0, status = 'building' as const, stallMs = 300) {
  return new LogSession(
    ws as unknown as WebSocket,
    since,
    {
      readLogs: async (after, limit) => log.filter((l) => l.seq > after).slice(0, limit),
      readStatus: async () => ({ status }),
      view: logView,
    },
    (err) => {
      throw err;
    },
    { highWaterBytes: 20_000, lowWaterBytes: 5_000, stallMs, pageLines: 100 },
  );
}

/** Waits for a condition; the budget is generous because a loaded CI machine delays timers. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check());
}

describe('LogSession backpressure', function () {
  it('stops sending at the high-water mark and closes a client that reads nothing, resumably', async () => {
    const ws = new FakeSocket();
    await session(ws).start();
    await until(() => ws.closed !== undefined);
    assert.equal(ws.closed, SLOW_CONSUMER_CLOSE);
    const seqs = ws.sent.filter((m) => m.type === 'log').map((m) => m.seq);
    assert.ok(seqs.length < 300, `sent ${seqs.length} lines into a full queue`);
    assert.deepEqual(
      seqs,
      seqs.map((_s, i) => i + 1),
    );
  });

  it('keeps sending to a client that reads slowly, in order, to the end', async () => {
    const ws = new FakeSocket();
    const drain = setInterval(() => {
      ws.bufferedAmount = Math.max(0, ws.bufferedAmount - 8_000);
    }, 5);
    // Only the drain's pace is slow: a stall allowance far beyond any timer delay keeps the verdict on ordering.
    const s = session(ws, 0, 'building', 10_000);
    await s.start();
    await until(() => ws.sent.filter((m) => m.type === 'log').length === log.length);
    s.onStatus({ status: 'failed', error: 'x' });
    await until(() => ws.closed !== undefined);
    clearInterval(drain);
    assert.equal(ws.closed, 1000);
    assert.deepEqual(
      ws.sent.filter((m) => m.type === 'log').map((m) => m.seq),
      log.map((l) => l.seq),
    );
    assert.equal(ws.sent.at(-1)?.type, 'end');
  });

  it('takes live lines from the bus while caught up and from the store after falling behind', async () => {
    const ws = new FakeSocket();
    const s = session(ws, 4990);
    await s.start();
    await until(() => ws.sent.some((m) => m.type === 'status'));
    ws.bufferedAmount = 50_000;
    s.onLines(log.slice(4990));
    ws.bufferedAmount = 0;
    await until(() => ws.sent.filter((m) => m.type === 'log').length === 10);
    assert.deepEqual(
      ws.sent.filter((m) => m.type === 'log').map((m) => m.seq),
      log.slice(4990).map((l) => l.seq),
    );
  });
});
