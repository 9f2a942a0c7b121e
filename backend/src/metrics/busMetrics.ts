import { z } from 'zod';
import type { AppHealth, AppMetrics } from '@cloudsmith/client';
import type { Minute } from '../domain/appMetrics';
import type { AppMetricsEvent } from '../domain/events';
import type { AppMetricsView } from '../ports/metrics';
import { BUCKET_MS, emptyMinute, judgeHealth, WINDOW_BUCKETS, windowSnapshot } from './appMetrics';

/** A source's down verdict lapses unless repeated (every report repeats it, PUBLISH_MS apart); slack for clock skew. */
const DOWN_LAPSES_MS = 120_000;

interface SourceState {
  /** Minute start → the newest report of it, with the time it was sent (a late older report does not win). */
  minutes: Map<number, { minute: Minute; sentAt: number }>;
  down?: string;
  downSentAt: number;
}

/**
 * The API's view in distributed mode: the `app.metrics` reports of every process that serves or runs the app, kept
 * for the last hour. Several sources of one minute are summed (requests, status classes, latency bins, restarts,
 * memory of each source's copy of the app); quantiles come from the summed bins, so they are what one process
 * holding all the traffic would report.
 */
export class BusMetrics implements AppMetricsView {
  private readonly apps = new Map<string, Map<string, SourceState>>();

  constructor(private readonly clock: () => number = Date.now) {}

  apply(event: AppMetricsEvent): void {
    const sentAt = Date.parse(event.at);
    const oldest = this.oldestStart();
    let sources = this.apps.get(event.app);
    if (!sources) this.apps.set(event.app, (sources = new Map<string, SourceState>()));
    let source = sources.get(event.source);
    if (!source) sources.set(event.source, (source = { minutes: new Map(), downSentAt: 0 }));
    for (const reported of event.minutes) {
      const parsed = minuteSchema.safeParse(reported);
      if (!parsed.success || parsed.data.start < oldest) continue;
      const minute = parsed.data;
      const held = source.minutes.get(minute.start);
      if (!held || held.sentAt <= sentAt) source.minutes.set(minute.start, { minute, sentAt });
    }
    if (source.downSentAt <= sentAt) {
      source.down = event.down;
      source.downSentAt = sentAt;
    }
    this.prune(sources, oldest);
  }

  forget(app: string): void {
    this.apps.delete(app);
  }

  snapshot(app: string): AppMetrics {
    return windowSnapshot(app, this.clock(), this.merged(app), this.health(app));
  }

  health(app: string): AppHealth {
    const sources = this.apps.get(app);
    if (!sources || sources.size === 0) return { state: 'unknown' };
    const down = [...sources.values()].find((s) => this.isDown(s))?.down;
    return judgeHealth(this.clock(), this.merged(app), down);
  }

  /** A minute's readings summed over the sources that reported it. */
  private merged(app: string): (start: number) => Minute | undefined {
    const sources = [...(this.apps.get(app)?.values() ?? [])];
    return (start) => {
      const parts = sources.map((s) => s.minutes.get(start)?.minute).filter((m): m is Minute => m !== undefined);
      if (parts.length === 0) return undefined;
      return parts.reduce(sumMinutes, emptyMinute(start));
    };
  }

  private isDown(source: SourceState): boolean {
    return source.down !== undefined && this.clock() - source.downSentAt <= DOWN_LAPSES_MS;
  }

  private oldestStart(): number {
    return (Math.floor(this.clock() / BUCKET_MS) - WINDOW_BUCKETS + 1) * BUCKET_MS;
  }

  private prune(sources: Map<string, SourceState>, oldest: number): void {
    for (const [id, source] of sources) {
      for (const start of source.minutes.keys()) if (start < oldest) source.minutes.delete(start);
      if (source.minutes.size === 0 && !this.isDown(source)) sources.delete(id);
    }
  }
}

export function sumMinutes(a: Minute, b: Minute): Minute {
  return {
    start: a.start,
    requests: a.requests + b.requests,
    byClass: [0, 1, 2, 3].map((i) => a.byClass[i] + b.byClass[i]) as Minute['byClass'],
    latency: a.latency.map((n, i) => n + (b.latency[i] ?? 0)),
    memoryBytes: a.memoryBytes === null && b.memoryBytes === null ? null : (a.memoryBytes ?? 0) + (b.memoryBytes ?? 0),
    restarts: a.restarts + b.restarts,
  };
}

/** A bin count per latency bin of this version: a report with other bins would skew every quantile, so it is left out. */
const minuteSchema = z.object({
  start: z
    .number()
    .int()
    .refine((ms) => ms % BUCKET_MS === 0),
  requests: z.number().int().nonnegative(),
  byClass: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  latency: z.array(z.number().int().nonnegative()).length(emptyMinute(0).latency.length),
  memoryBytes: z.number().nonnegative().nullable(),
  restarts: z.number().int().nonnegative(),
});
