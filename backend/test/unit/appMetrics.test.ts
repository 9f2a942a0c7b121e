import assert from 'node:assert/strict';
import { BUCKET_MS, MetricsRegistry } from '../../src/metrics/appMetrics';

describe('MetricsRegistry', function () {
  let now = Date.parse('2026-12-07T10:00:30Z');
  const registry = () => new MetricsRegistry(() => now);

  it('counts requests per minute by status class, with p50/p95 from the histogram', () => {
    const m = registry();
    for (let i = 0; i < 18; i++) m.recordRequest('web', 200, 3);
    m.recordRequest('web', 301, 40);
    m.recordRequest('web', 404, 700);
    now += BUCKET_MS;
    m.recordRequest('web', 503, 12);
    const snap = m.snapshot('web');
    assert.equal(snap.buckets.length, 60);
    const [previous, current] = snap.buckets.slice(-2);
    assert.equal(previous.at, '2026-12-07T10:00:00.000Z');
    assert.deepEqual(
      [previous.requests, previous.status2xx, previous.status3xx, previous.status4xx, previous.status5xx],
      [20, 18, 1, 1, 0],
    );
    assert.equal(previous.p50Ms, 5, 'the bin holding the median: (2, 5] ms');
    assert.equal(previous.p95Ms, 50, 'the 19th of 20 requests took 40 ms: (20, 50]');
    assert.deepEqual([current.requests, current.status5xx, current.p50Ms], [1, 1, 20]);
    assert.equal(snap.buckets[0].requests, 0);
    assert.equal(snap.buckets[0].p50Ms, null);
  });

  it('forgets minutes older than the hour, even in a reused ring slot', () => {
    const m = registry();
    m.recordRequest('web', 200, 1);
    now += 60 * BUCKET_MS;
    assert.equal(
      m.snapshot('web').buckets.reduce((sum, b) => sum + b.requests, 0),
      0,
    );
  });

  it('judges health on the last five minutes: restarts, 5xx share, the runtime verdict', () => {
    const m = registry();
    assert.deepEqual(m.health('web'), { state: 'unknown' });
    for (let i = 0; i < 10; i++) m.recordRequest('web', i < 1 ? 500 : 200, 1);
    assert.deepEqual(m.health('web'), { state: 'healthy' });
    for (let i = 0; i < 5; i++) m.recordRequest('web', 502, 1);
    assert.equal(m.health('web').state, 'erroring');
    now += 6 * BUCKET_MS;
    assert.equal(m.health('web').state, 'healthy', 'old errors no longer count');
    m.recordRestart('web');
    assert.deepEqual(m.health('web'), { state: 'crashing', reason: 'restarted 1 time in the last 5 min' });
    now += 6 * BUCKET_MS;
    m.setDown('web', 'stopped answering');
    assert.deepEqual(m.health('web'), { state: 'crashing', reason: 'stopped answering' });
    m.released('web');
    assert.equal(m.health('web').state, 'healthy');
    m.recordMemory('web', 50 * 1024 * 1024);
    assert.equal(m.snapshot('web').buckets.at(-1)?.memoryMb, 50);
    m.forget('web');
    assert.deepEqual(m.health('web'), { state: 'unknown' });
  });
});
