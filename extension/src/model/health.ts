import type { AppHealth, AppMetrics, MetricsBucket } from '@cloudsmith/client';

/** A live app that needs the user: its process keeps dying, or it answers with 5xx. */
export type Unhealthy = AppHealth & { state: 'crashing' | 'erroring' };

export function unhealthy(health: AppHealth | undefined): Unhealthy | undefined {
  return health && (health.state === 'crashing' || health.state === 'erroring') ? (health as Unhealthy) : undefined;
}

/** "crashing: restarted 3 times in the last 5 minutes", for tooltips and the status bar. */
export function healthText(health: Unhealthy): string {
  const what = health.state === 'crashing' ? 'crashing' : 'returning server errors (5xx)';
  return health.reason ? `${what}: ${health.reason}` : what;
}

export interface Series {
  /** A CSS class per series, so the webview colours it from the theme. */
  key: '2xx' | '3xx' | '4xx' | '5xx' | 'p95' | 'memory' | 'restarts';
  label: string;
  /** One value per bucket, oldest first; null where there is no reading (a gap in the line). */
  values: Array<number | null>;
}

export interface Chart {
  id: 'requests' | 'latency' | 'memory' | 'restarts';
  title: string;
  /** The chart's words: what a screen reader and a glance get without reading the line. */
  summary: string;
  series: Series[];
  /** The top of the y axis (at least 1, so a flat zero line sits at the bottom). */
  max: number;
}

/**
 * The Launchboard's four health charts for the last window (an hour of minutes), one slot per bucket ending at
 * the current one: minutes the API did not return are zero requests and no reading, so the x axis is time.
 */
export function healthCharts(m: AppMetrics, now: number = Date.now()): Chart[] {
  const slots = slotsOf(m, now);
  const sum = (pick: (b: MetricsBucket) => number) => slots.reduce((n, b) => n + (b ? pick(b) : 0), 0);
  const counts = (pick: (b: MetricsBucket) => number) => slots.map((b) => (b ? pick(b) : 0));
  const readings = (pick: (b: MetricsBucket) => number | null) => slots.map((b) => (b ? pick(b) : null));
  const last = (values: Array<number | null>) => values.filter((v): v is number => v !== null).at(-1);
  const minutes = Math.round((m.windowSeconds || 3600) / 60);

  const requests: Series[] = [
    { key: '2xx', label: '2xx', values: counts((b) => b.status2xx) },
    { key: '3xx', label: '3xx', values: counts((b) => b.status3xx) },
    { key: '4xx', label: '4xx', values: counts((b) => b.status4xx) },
    { key: '5xx', label: '5xx', values: counts((b) => b.status5xx) },
  ];
  const p95 = readings((b) => b.p95Ms);
  const memory = readings((b) => b.memoryMb);
  const restarts = counts((b) => b.restarts);
  const total = sum((b) => b.requests);
  const errors = sum((b) => b.status5xx);
  const p95Now = last(p95);
  const memoryNow = last(memory);
  const restartCount = sum((b) => b.restarts);
  return [
    {
      id: 'requests',
      title: 'Requests',
      summary: `${total} in ${minutes} min${total > 0 ? `, ${errors} server errors (5xx)` : ''}`,
      series: requests,
      max: peak(requests.flatMap((s) => s.values)),
    },
    {
      id: 'latency',
      title: 'p95 latency',
      summary:
        p95Now === undefined ? 'no requests yet' : `${Math.round(p95Now)} ms now, ${Math.round(peak(p95))} ms peak`,
      series: [{ key: 'p95', label: 'p95 ms', values: p95 }],
      max: peak(p95),
    },
    {
      id: 'memory',
      title: 'Memory',
      summary: memoryNow === undefined ? 'no reading yet' : `${Math.round(memoryNow)} MB now`,
      series: [{ key: 'memory', label: 'MB', values: memory }],
      max: peak(memory),
    },
    {
      id: 'restarts',
      title: 'Restarts',
      summary: `${restartCount} in ${minutes} min`,
      series: [{ key: 'restarts', label: 'restarts', values: restarts }],
      max: peak(restarts),
    },
  ];
}

function slotsOf(m: AppMetrics, now: number): Array<MetricsBucket | undefined> {
  const step = (m.bucketSeconds || 60) * 1000;
  const count = Math.max(1, Math.round((m.windowSeconds || 3600) / (m.bucketSeconds || 60)));
  const byIndex = new Map<number, MetricsBucket>();
  for (const b of m.buckets) {
    const at = Date.parse(b.at);
    if (!Number.isNaN(at)) byIndex.set(Math.floor(at / step), b);
  }
  // The newest slot is the current minute, or the API's newest bucket when its clock runs ahead of ours.
  const newest = Math.max(Math.floor(now / step), ...byIndex.keys());
  return Array.from({ length: count }, (_, i) => byIndex.get(newest - (count - 1 - i)));
}

function peak(values: Array<number | null>): number {
  return Math.max(1, ...values.filter((v): v is number => v !== null));
}

/**
 * An SVG path for one series in a width × height box (y grows down), scaled to `max`. A null breaks the line;
 * a lone reading between gaps is a short dash, so it still shows.
 */
export function sparklinePath(values: Array<number | null>, max: number, width: number, height: number): string {
  const dx = values.length > 1 ? width / (values.length - 1) : 0;
  const y = (v: number) => +(height - (Math.min(v, max) / max) * height).toFixed(1);
  const parts: string[] = [];
  let drawing = false;
  values.forEach((v, i) => {
    if (v === null) {
      drawing = false;
      return;
    }
    const x = +(i * dx).toFixed(1);
    const lone = !drawing && (i + 1 >= values.length || values[i + 1] === null);
    parts.push(`${drawing ? 'L' : 'M'}${x} ${y(v)}${lone ? ' h2' : ''}`);
    drawing = true;
  });
  return parts.join(' ');
}
