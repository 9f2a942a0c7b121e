import type { HealthReport, Runtime, RuntimeOutput } from '../ports/runtime';
import type { MetricsRegistry } from '../metrics/appMetrics';
import type { RuntimeLogWriter } from './runtimeLogWriter';

const SAMPLE_MS = 15_000;

/**
 * What Docksage tells about live apps besides their status: their output and the runtime's events into the runtime
 * log, restarts and down/up verdicts into the metrics (when this process holds them), memory sampled from the runtime.
 */
export class AppTelemetry {
  private sampler?: NodeJS.Timeout;

  constructor(
    private readonly runtimeLogs: RuntimeLogWriter,
    private readonly metrics?: MetricsRegistry,
  ) {}

  /** The sink for one release's output (ReleaseContext.onOutput). */
  output(app: string, deploymentId: string, secrets: readonly string[]): (line: RuntimeOutput) => void {
    const write = this.runtimeLogs.sink(app, deploymentId, secrets);
    return (line) => {
      write(line);
      if (line.stream !== 'event') return;
      if (line.event === 'restarted') this.metrics?.recordRestart(app);
      if (line.event === 'gave-up') this.metrics?.setDown(app, line.text);
    };
  }

  health(app: string, report: HealthReport): void {
    this.metrics?.setDown(app, report.healthy ? undefined : report.reason);
  }

  /** A new release of the app went live. */
  released(app: string): void {
    this.metrics?.released(app);
  }

  async removed(app: string): Promise<void> {
    this.metrics?.forget(app);
    await this.runtimeLogs.remove(app);
  }

  /** Reads the runtime's memory use now (and every 15 s until close). */
  async sample(runtime: Runtime): Promise<void> {
    if (!this.metrics || !runtime.usage) return;
    for (const { app, memoryBytes } of await runtime.usage()) this.metrics.recordMemory(app, memoryBytes);
  }

  startSampling(runtime: Runtime): void {
    this.sampler = setInterval(() => void this.sample(runtime).catch(() => undefined), SAMPLE_MS);
    this.sampler.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.sampler);
    await this.runtimeLogs.close();
  }
}
