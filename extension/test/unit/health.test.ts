import assert from 'node:assert/strict';
import type { AppMetrics, MetricsBucket } from '@cloudsmith/client';
import { healthCharts, healthText, sparklinePath, unhealthy } from '../../src/model/health';
import { must } from './must';

const MINUTE = 60_000;
const NOW = Date.UTC(2026, 11, 7, 14, 30, 20);
const minuteStart = (ago: number) => new Date(Math.floor(NOW / MINUTE) * MINUTE - ago * MINUTE).toISOString();
const bucket = (ago: number, b: Partial<MetricsBucket>): MetricsBucket => ({
  at: minuteStart(ago),
  requests: 0,
  status2xx: 0,
  status3xx: 0,
  status4xx: 0,
  status5xx: 0,
  p50Ms: null,
  p95Ms: null,
  memoryMb: null,
  restarts: 0,
  ...b,
});
const metrics = (buckets: MetricsBucket[]): AppMetrics => ({
  app: 'site-alice',
  windowSeconds: 3600,
  bucketSeconds: 60,
  buckets,
  health: { state: 'healthy' },
});

describe('extension: app health', () => {
  it('puts each bucket in its minute of the last hour, gaps as zero requests and no reading', () => {
    const charts = healthCharts(
      metrics([
        bucket(0, { requests: 10, status2xx: 8, status5xx: 2, p95Ms: 120, memoryMb: 48 }),
        bucket(2, { requests: 4, status2xx: 3, status4xx: 1, p95Ms: 80, memoryMb: 40, restarts: 1 }),
        bucket(90, { requests: 1000, status2xx: 1000 }),
      ]),
      NOW,
    );
    const [requests, latency, memory, restarts] = charts;
    assert.deepEqual(
      charts.map((c) => c.id),
      ['requests', 'latency', 'memory', 'restarts'],
    );
    const ok = must(requests.series.find((s) => s.key === '2xx'));
    assert.equal(ok.values.length, 60);
    assert.deepEqual(ok.values.slice(-3), [3, 0, 8], 'the oldest bucket (90 min ago) is outside the window');
    assert.deepEqual(must(requests.series.find((s) => s.key === '5xx')).values.slice(-1), [2]);
    assert.equal(requests.summary, '14 in 60 min, 2 server errors (5xx)');
    assert.equal(requests.max, 8);
    assert.deepEqual(latency.series[0].values.slice(-3), [80, null, 120]);
    assert.equal(latency.summary, '120 ms now, 120 ms peak');
    assert.equal(memory.summary, '48 MB now');
    assert.equal(restarts.summary, '1 in 60 min');
  });

  it('says when there is nothing yet, and keeps a flat zero line at the bottom', () => {
    const [requests, latency, memory] = healthCharts(metrics([]), NOW);
    assert.equal(requests.summary, '0 in 60 min');
    assert.equal(requests.max, 1);
    assert.equal(latency.summary, 'no requests yet');
    assert.equal(memory.summary, 'no reading yet');
    assert.equal(sparklinePath([0, 0, 0], requests.max, 100, 20), 'M0 20 L50 20 L100 20');
  });

  it('breaks the sparkline at gaps and draws a lone reading as a dash', () => {
    assert.equal(sparklinePath([10, 5, null, 10, null], 10, 40, 10), 'M0 0 L10 5 M30 0 h2');
    assert.equal(sparklinePath([null, null], 1, 10, 10), '');
    assert.equal(sparklinePath([20], 10, 10, 10), 'M0 0 h2', 'a value above max is drawn at the top');
  });

  it('calls crashing and erroring apps unhealthy, with the reason', () => {
    assert.equal(unhealthy({ state: 'healthy' }), undefined);
    assert.equal(unhealthy({ state: 'stopped' }), undefined);
    assert.equal(unhealthy(undefined), undefined);
    const crashing = must(unhealthy({ state: 'crashing', reason: 'restarted 3 times in 5 min' }));
    assert.equal(healthText(crashing), 'crashing: restarted 3 times in 5 min');
    assert.equal(healthText(must(unhealthy({ state: 'erroring' }))), 'returning server errors (5xx)');
  });
});
