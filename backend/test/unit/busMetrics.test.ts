import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/adapters/bus/memory/memoryBus';
import type { AppMetricsEvent } from '../../src/domain/events';
import type { Logger } from '../../src/lib/logger';
import { BUCKET_MS, MetricsRegistry } from '../../src/metrics/appMetrics';
import { BusMetrics } from '../../src/metrics/busMetrics';
import { MetricsPublisher } from '../../src/metrics/metricsPublisher';
import type { AppMetricsView } from '../../src/ports/metrics';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('metrics across processes (app.metrics)', function () {
  let now = Date.parse('2026-12-07T10:00:30Z');
  const clock = () => now;

  /** The same traffic recorded by one registry and split between two, for comparison. */
  function traffic(record: (i: number, status: number, ms: number) => void): void {
    for (let i = 0; i < 40; i++) record(i, i % 10 === 0 ? 503 : 200, i < 30 ? 3 : 700);
  }

  it('drains only touched minutes and verdict changes, once, as plain data', () => {
    const registry = new MetricsRegistry(clock);
    assert.deepEqual(registry.drain(), []);
    registry.recordRequest('web', 200, 3);
    registry.recordMemory('api', 10 * 1024 * 1024);
    const first = registry.drain();
    assert.deepEqual(
      first.map((d) => [d.app, d.minutes.map((m) => m.start), d.down]),
      [
        ['web', [Date.parse('2026-12-07T10:00:00Z')], undefined],
        ['api', [Date.parse('2026-12-07T10:00:00Z')], undefined],
      ],
    );
    assert.deepEqual(JSON.parse(JSON.stringify(first)), first, 'survives JSON (the Kafka encoding) unchanged');
    assert.deepEqual(registry.drain(), [], 'nothing changed since');
    registry.setDown('web', 'stopped answering');
    assert.deepEqual(registry.drain(), [{ app: 'web', minutes: [], down: 'stopped answering' }]);
    assert.deepEqual(registry.drain(), [{ app: 'web', minutes: [], down: 'stopped answering' }], 'repeated while down');
    registry.released('web');
    assert.deepEqual(registry.drain(), [{ app: 'web', minutes: [] }], 'the cleared verdict is reported too');
    for (let i = 0; i < 3 * 60; i++) {
      now += BUCKET_MS;
      registry.recordRequest('web', 200, 1);
    }
    assert.equal(registry.drain()[0].minutes.length, 60, 'undrained minutes are bounded by the hour');
  });

  it('sums the sources of a minute; quantiles from the summed bins equal one process holding all the traffic', () => {
    const whole = new MetricsRegistry(clock);
    const a = new MetricsRegistry(clock);
    const b = new MetricsRegistry(clock);
    traffic((i, status, ms) => {
      whole.recordRequest('web', status, ms);
      (i % 2 ? a : b).recordRequest('web', status, ms);
    });
    whole.recordRestart('web');
    a.recordRestart('web');
    a.recordMemory('web', 30 * 1024 * 1024);
    b.recordMemory('web', 20 * 1024 * 1024);
    const view = new BusMetrics(clock);
    const at = new Date(now).toISOString();
    for (const [source, registry] of [
      ['a', a],
      ['b', b],
    ] as const) {
      for (const delta of registry.drain())
        view.apply({ eventId: source, deploymentId: 'app:web', at, source, ...delta });
    }
    const merged = view.snapshot('web');
    const expected = whole.snapshot('web');
    const [last] = merged.buckets.slice(-1);
    assert.deepEqual({ ...last, memoryMb: null }, { ...expected.buckets.slice(-1)[0], memoryMb: null });
    assert.equal(last.memoryMb, 50, 'each source’s copy of the app uses memory: summed');
    assert.deepEqual([last.p50Ms, last.p95Ms], [5, 1000]);
    assert.deepEqual(merged.health, expected.health);
    assert.deepEqual(view.health('other'), { state: 'unknown' });
  });

  it('is idempotent per (app, minute, source): redelivered and late older reports change nothing', () => {
    const registry = new MetricsRegistry(clock);
    const view = new BusMetrics(clock);
    const report = (at: number): AppMetricsEvent[] =>
      registry.drain().map((d) => ({
        eventId: String(at),
        deploymentId: 'app:web',
        at: new Date(at).toISOString(),
        source: 's1',
        ...d,
      }));
    registry.recordRequest('web', 200, 1);
    const early = report(now);
    registry.recordRequest('web', 200, 1);
    const later = report(now + 10_000);
    for (const event of [...later, ...later, ...early]) view.apply(event);
    assert.equal(view.snapshot('web').buckets.at(-1)?.requests, 2);
  });

  it('keeps the last hour only, and the runtime verdict of any source', () => {
    const view = new BusMetrics(clock);
    const registry = new MetricsRegistry(clock);
    registry.recordRequest('web', 200, 1);
    const old = registry.drain();
    now += 61 * BUCKET_MS;
    registry.setDown('web', 'gave up after 3 restarts');
    const at = new Date(now).toISOString();
    for (const delta of [...old, ...registry.drain()])
      view.apply({ eventId: 'x', deploymentId: 'app:web', at, source: 's1', ...delta });
    assert.equal(
      view.snapshot('web').buckets.reduce((sum, b) => sum + b.requests, 0),
      0,
      'a minute older than the hour is dropped',
    );
    assert.deepEqual(view.health('web'), { state: 'crashing', reason: 'gave up after 3 restarts' });
    now += 3 * BUCKET_MS;
    assert.deepEqual(view.health('web'), { state: 'healthy' }, 'a verdict nobody repeats lapses');
    view.forget('web');
    assert.deepEqual(view.health('web'), { state: 'unknown' });
  });

  it('two runtime-owning processes publish on the bus; an API-only view answers like one registry would', async () => {
    const bus = new MemoryBus();
    const view = new BusMetrics();
    await bus.subscribe('app.metrics', { group: 'api-1', latestOnly: true }, async (event) => {
      view.apply(event);
    });
    const whole = new MetricsRegistry();
    const owners = ['docksage-1', 'docksage-2'].map((source) => {
      const registry = new MetricsRegistry();
      return { registry, publisher: new MetricsPublisher({ registry, bus, source, logger: quiet }) };
    });
    try {
      owners.forEach((o) => {
        o.publisher.start(50);
      });
      traffic((i, status, ms) => {
        whole.recordRequest('web', status, ms);
        owners[i % 2].registry.recordRequest('web', status, ms);
      });
      // A minute boundary may fall amid the recordings: compare the hour's totals and the health.
      const sum = (m: AppMetricsView) => m.snapshot('web').buckets.reduce((s, b) => s + b.requests, 0);
      await until('both reports', () => sum(view) === 40);
      assert.equal(sum(whole), 40);
      assert.deepEqual(view.health('web'), whole.health('web'));
      owners[0].registry.setDown('web', 'stopped answering');
      await until('the verdict', () => view.health('web').state === 'crashing');
      owners[0].registry.released('web');
      await until('the cleared verdict', () => view.health('web').state !== 'crashing');
    } finally {
      owners.forEach((o) => {
        o.publisher.stop();
      });
      await bus.close();
    }
  });
});
