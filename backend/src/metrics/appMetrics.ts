import type { AppHealth, AppMetrics, MetricsBucket } from '@cloudsmith/client';
import type { Minute } from '../domain/appMetrics';
import type { AppMetricsView } from '../ports/metrics';

export type { Minute };

export const BUCKET_MS = 60_000;
export const WINDOW_BUCKETS = 60;
/** Health is judged on the last five minutes. */
const HEALTH_BUCKETS = 5;
/** "erroring": at least this share of at least MIN_REQUESTS requests answered 5xx. */
const ERROR_RATIO = 0.2;
const MIN_REQUESTS = 5;
/** Upper bounds (ms) of the latency histogram's bins; the last bin is everything slower. */
const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000];

/** What changed for one app since the last drain: its touched minutes and the runtime's current verdict. */
export interface MetricsDelta {
  app: string;
  minutes: Minute[];
  down?: string;
}

interface AppState {
  /** Ring of minutes, indexed by minute number modulo the window. */
  minutes: Array<Minute | undefined>;
  down?: string;
  /** Minute starts touched since the last drain (for publishing to other processes). */
  dirty: Set<number>;
  verdictChanged: boolean;
}

/**
 * Per-app traffic and runtime readings of the last hour, in one-minute buckets held in memory: a request costs a
 * few increments, and an app costs at most 60 small buckets. p50/p95 come from a fixed-bin histogram (the bin's
 * upper bound), precise enough for a chart and free of per-request storage.
 */
export class MetricsRegistry implements AppMetricsView {
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
    const state = this.state(app);
    state.verdictChanged ||= state.down !== reason;
    state.down = reason;
  }

  /** A new release went live: it starts with a clean verdict (its history stays in the buckets). */
  released(app: string): void {
    this.setDown(app, undefined);
  }

  forget(app: string): void {
    this.apps.delete(app);
  }

  snapshot(app: string): AppMetrics {
    const state = this.apps.get(app);
    return windowSnapshot(app, this.clock(), (start) => state && this.at(state, start), this.health(app));
  }

  health(app: string): AppHealth {
    const state = this.apps.get(app);
    if (!state) return { state: 'unknown' };
    return judgeHealth(this.clock(), (start) => this.at(state, start), state.down);
  }

  /**
   * The minutes and verdicts that changed since the last call, per app; a process that does not serve the API
   * publishes them. A down verdict is repeated on every call while it holds: receivers let an unrepeated one lapse,
   * so the verdict of a process that died does not stick to the app.
   */
  drain(): MetricsDelta[] {
    const out: MetricsDelta[] = [];
    for (const [app, state] of this.apps) {
      if (state.dirty.size === 0 && !state.verdictChanged && state.down === undefined) continue;
      const minutes = [...state.dirty]
        .map((start) => this.at(state, start))
        .filter((m): m is Minute => m !== undefined)
        .map((m) => ({ ...m, byClass: [...m.byClass] as Minute['byClass'], latency: [...m.latency] }));
      out.push({ app, minutes, ...(state.down === undefined ? {} : { down: state.down }) });
      state.dirty.clear();
      state.verdictChanged = false;
    }
    return out;
  }

  private at(state: AppState, start: number): Minute | undefined {
    const minute = state.minutes[(start / BUCKET_MS) % WINDOW_BUCKETS];
    return minute?.start === start ? minute : undefined;
  }

  private state(app: string): AppState {
    let state = this.apps.get(app);
    if (!state) {
      state = { minutes: new Array<Minute | undefined>(WINDOW_BUCKETS), dirty: new Set(), verdictChanged: false };
      this.apps.set(app, state);
    }
    return state;
  }

  private minute(app: string): Minute {
    const state = this.state(app);
    const n = Math.floor(this.clock() / BUCKET_MS);
    const start = n * BUCKET_MS;
    let minute = state.minutes[n % WINDOW_BUCKETS];
    if (minute?.start !== start) {
      // Nobody drains in embedded mode: a minute leaving the ring leaves the dirty set too, which stays ≤ 60 entries.
      if (minute) state.dirty.delete(minute.start);
      minute = emptyMinute(start);
      state.minutes[n % WINDOW_BUCKETS] = minute;
    }
    state.dirty.add(start);
    return minute;
  }
}

export function emptyMinute(start: number): Minute {
  return {
    start,
    requests: 0,
    byClass: [0, 0, 0, 0],
    latency: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
    memoryBytes: null,
    restarts: 0,
  };
}

/** The hour ending now, one bucket per minute; `minuteAt` gives a minute's readings, undefined when there are none. */
export function windowSnapshot(
  app: string,
  now: number,
  minuteAt: (start: number) => Minute | undefined,
  health: AppHealth,
): AppMetrics {
  const current = Math.floor(now / BUCKET_MS);
  const buckets: MetricsBucket[] = [];
  for (let n = current - WINDOW_BUCKETS + 1; n <= current; n++)
    buckets.push(view(n * BUCKET_MS, minuteAt(n * BUCKET_MS)));
  return { app, windowSeconds: (WINDOW_BUCKETS * BUCKET_MS) / 1000, bucketSeconds: BUCKET_MS / 1000, buckets, health };
}

/** The verdict on the last five minutes: the runtime's down reason first, then restarts, then the share of 5xx. */
export function judgeHealth(now: number, minuteAt: (start: number) => Minute | undefined, down?: string): AppHealth {
  if (down) return { state: 'crashing', reason: down };
  const current = Math.floor(now / BUCKET_MS);
  const recent: Minute[] = [];
  for (let n = current - HEALTH_BUCKETS + 1; n <= current; n++) {
    const minute = minuteAt(n * BUCKET_MS);
    if (minute) recent.push(minute);
  }
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
function quantile(bins: readonly number[], q: number): number | null {
  const total = bins.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i];
    if (seen >= q * total) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)];
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
}
