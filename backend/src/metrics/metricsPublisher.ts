import { errorMessage } from '../domain/errors';
import { freshEventId } from '../domain/events';
import type { Logger } from '../lib/logger';
import type { EventBus } from '../ports/bus';
import type { MetricsRegistry } from './appMetrics';

/** How often changed minutes are reported: the API's view lags the proxy by at most this. */
export const PUBLISH_MS = 10_000;

/**
 * Reports this process's metrics to the API processes (`app.metrics`): every PUBLISH_MS, the minutes of apps that had
 * activity since the last report, cumulative per minute, so a lost report is repaired by the next one of that minute.
 */
export class MetricsPublisher {
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: { registry: MetricsRegistry; bus: EventBus; source: string; logger: Logger }) {}

  start(intervalMs = PUBLISH_MS): void {
    this.timer = setInterval(() => void this.publish(), intervalMs);
    this.timer.unref();
  }

  async publish(): Promise<void> {
    const at = new Date().toISOString();
    for (const delta of this.opts.registry.drain()) {
      await this.opts.bus
        .publish('app.metrics', {
          eventId: freshEventId(),
          deploymentId: `app:${delta.app}`,
          at,
          source: this.opts.source,
          ...delta,
        })
        .catch((err: unknown) => {
          // The minutes stay in the registry; only this report is lost, the next one of a minute carries its totals.
          this.opts.logger.warn('metrics report not published', { app: delta.app, error: errorMessage(err) });
        });
    }
  }

  /** The bus closes first at shutdown, so what changed since the last report stays unsent (in-memory metrics end here anyway). */
  stop(): void {
    clearInterval(this.timer);
  }
}
