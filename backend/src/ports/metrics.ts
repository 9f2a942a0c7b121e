import type { AppHealth, AppMetrics } from '@cloudsmith/client';

/**
 * The last hour of an app's traffic and runtime readings, as the API serves them. The composition root picks one
 * source per mode: the proxy's and runtime's own registry when they run in this process (embedded), else the
 * readings other processes publish on the bus (`app.metrics`).
 */
export interface AppMetricsView {
  snapshot(app: string): AppMetrics;
  /** `unknown` when no readings of the app are held. */
  health(app: string): AppHealth;
}
