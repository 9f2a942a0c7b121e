import type { AppHealth, AppMetrics, MetricsBucket } from '@cloudsmith/client';

export const BUCKET_MS = 60_000;
export const WINDOW_BUCKETS = 60;
/** Health is judged on the last five minutes. */
const HEALTH_BUCKETS = 5;
/** "erroring": at least this share of at least MIN_REQUESTS requests answered 5xx. */
const ERROR_RATIO = 0.2;
const MIN_REQUESTS = 5;
/** Upper bounds (ms) of the latency histogram's bins; the last bin is everything slower. */
const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000];

interface Minute {
  start: number;
  requests: number;
  byClass: [number, number, number, number];
  latency: Uint32Array;
  memoryBytes: number | null;
  restarts: number;
}

interface AppState {
  /** Ring of minutes, indexed by minute number modulo the window. */
  minutes: Array<Minute | undefined>;
  down?: string;
}

/**
 * Per-app traffic and runtime readings of the last hour, in one-minute buckets held in memory: a request costs a
 * few increments, and an app costs at most 60 small buckets. p50/p95 come from a fixed-bin histogram (the bin's
 * upper bound), precise enough for a chart and free of per-request storage.
 */
export class MetricsRegistry {
  private readonly apps = new Map<string, AppState>();

  constructor(private readonly clock: () => number = Date.now) {}

  recordRequest(app: string, status: number, ms: number): void {
    const minute = this.minute(app);
    minute.requests += 1;
    const cls = Math.floor(status / 100) - 2;
    if (cls >= 0 && cls <= 3) minute.byClass[cls] += 1;
    const bin = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
    minute.latency[bin === -1 ? LATENCY_BOUNDS_MS.length : bin] += 1;
  }

  recordRestart(app: string): void {
    this.minute(app).restarts += 1;
  }

  recordMemory(app: string, bytes: number): void {
    this.minute(app).memoryBytes = bytes;
  }

  /** The runtime's verdict on the live release: a reason while it does not serve, undefined once it serves again. */
  setDown(app: string, reason: string | undefined): void {
    this.state(app).down = reason;
  }

  /** A new release went live: it starts with a clean verdict (its history stays in the buckets). */
  released(app: string): void {
    this.state(app).down = undefined;
  }

  forget(app: string): void {
    this.apps.delete(app);
  }

  snapshot(app: string): AppMetrics {
    const now = this.clock();
    const current = Math.floor(now / BUCKET_MS);
    const state = this.apps.get(app);
    const buckets: MetricsBucket[] = [];
    for (let n = current - WINDOW_BUCKETS + 1; n <= current; n++) {
      const minute = state?.minutes[n % WINDOW_BUCKETS];
      buckets.push(view(n * BUCKET_MS, minute?.start === n * BUCKET_MS ? minute : undefined));
    }
    return {
      app,
      windowSeconds: (WINDOW_BUCKETS * BUCKET_MS) / 1000,
      bucketSeconds: BUCKET_MS / 1000,
      buckets,
      health: this.health(app),
    };
  }

  health(app: string): AppHealth {
    const state = this.apps.get(app);
    if (!state) return { state: 'unknown' };
    if (state.down) return { state: 'crashing', reason: state.down };
    const recent = this.snapshotMinutes(state, HEALTH_BUCKETS);
    const restarts = recent.reduce((sum, m) => sum + m.restarts, 0);
    if (restarts > 0)
      return { state: 'crashing', reason: `restarted ${restarts} time${restarts === 1 ? '' : 's'} in the last 5 min` };
    const requests = recent.reduce((sum, m) => sum + m.requests, 0);
    const errors = recent.reduce((sum, m) => sum + m.byClass[3], 0);
    if (requests >= MIN_REQUESTS && errors / requests >= ERROR_RATIO) {
      return {
        state: 'erroring',
        reason: `${Math.round((100 * errors) / requests)}% of ${requests} requests answered 5xx in the last 5 min`,
      };
    }
    return { state: 'healthy' };
  }

  private snapshotMinutes(state: AppState, count: number): Minute[] {
    const current = Math.floor(this.clock() / BUCKET_MS);
    const out: Minute[] = [];
    for (let n = current - count + 1; n <= current; n++) {
      const minute = state.minutes[n % WINDOW_BUCKETS];
      if (minute?.start === n * BUCKET_MS) out.push(minute);
    }
    return out;
  }

  private state(app: string): AppState {
    let state = this.apps.get(app);
    if (!state) this.apps.set(app, (state = { minutes: new Array<Minute | undefined>(WINDOW_BUCKETS) }));
    return state;
  }

  private minute(app: string): Minute {
    const state = this.state(app);
    const n = Math.floor(this.clock() / BUCKET_MS);
    const start = n * BUCKET_MS;
    let minute = state.minutes[n % WINDOW_BUCKETS];
    if (minute?.start !== start) {
      minute = {
        start,
        requests: 0,
        byClass: [0, 0, 0, 0],
        latency: new Uint32Array(LATENCY_BOUNDS_MS.length + 1),
        memoryBytes: null,
        restarts: 0,
      };
      state.minutes[n % WINDOW_BUCKETS] = minute;
    }
    return minute;
  }
}

function view(start: number, minute: Minute | undefined): MetricsBucket {
  return {
    at: new Date(start).toISOString(),
    requests: minute?.requests ?? 0,
    status2xx: minute?.byClass[0] ?? 0,
    status3xx: minute?.byClass[1] ?? 0,
    status4xx: minute?.byClass[2] ?? 0,
    status5xx: minute?.byClass[3] ?? 0,
    p50Ms: minute ? quantile(minute.latency, 0.5) : null,
    p95Ms: minute ? quantile(minute.latency, 0.95) : null,
    memoryMb: minute?.memoryBytes == null ? null : Math.round(minute.memoryBytes / 104_857.6) / 10,
    restarts: minute?.restarts ?? 0,
  };
}

/** The upper bound of the bin holding the q-quantile (the slowest bin reports its lower bound); null with no requests. */
function quantile(bins: Uint32Array, q: number): number | null {
  const total = bins.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i];
    if (seen >= q * total) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)];
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
}
