import type { NewRuntimeLogLine, RuntimeStream } from '../domain/runtimeLog';
import { now, stageEventId } from '../domain/events';
import { errorMessage } from '../domain/errors';
import type { EventBus } from '../ports/bus';
import type { RuntimeOutput } from '../ports/runtime';
import type { Store } from '../ports/store';
import type { Logger } from '../lib/logger';
import { LineStreamMasker } from '../security/masker';

const MIB = 1024 * 1024;
/** What an app's runtime log keeps, counted like every stored log (text plus per-line overhead). */
export const RUNTIME_LOG_KEEP_BYTES = MIB;
/** Output an app may log per second; beyond it lines are counted, not kept, so a flood cannot keep the platform busy. */
export const RUNTIME_LOG_RATE_BYTES = 256 * 1024;
const MAX_LINE = 4096;
const FLUSH_MS = 200;
const MAX_BATCH = 500;
/** Lines waiting while the store is away; beyond it the oldest go (the app keeps running, its log has a gap). */
const MAX_PENDING = 5_000;
const RETRY_MS = 1_000;

interface AppLog {
  lines: NewRuntimeLogLine[];
  timer?: NodeJS.Timeout;
  chain: Promise<void>;
  window: { second: number; bytes: number; dropped: number; deploymentId: string };
}

export interface RuntimeLogWriterOptions {
  store: Store;
  bus: EventBus;
  logger: Logger;
  keepBytes?: number;
  rateBytesPerSecond?: number;
}

/**
 * The way into apps' runtime logs: a release's output is masked with its app's secrets, long lines are cut, each app's
 * rate is capped, and lines are stored in batches (the store keeps the newest `keepBytes` per app) and then published
 * on `app.logs` for the API's live streams. Runs where the runtime runs (Docksage).
 */
export class RuntimeLogWriter {
  private readonly apps = new Map<string, AppLog>();
  private readonly keepBytes: number;
  private readonly rate: number;

  constructor(private readonly opts: RuntimeLogWriterOptions) {
    this.keepBytes = opts.keepBytes ?? RUNTIME_LOG_KEEP_BYTES;
    this.rate = opts.rateBytesPerSecond ?? RUNTIME_LOG_RATE_BYTES;
  }

  /** The sink for one release's output; `secrets` (the app's env values) are masked in every line. */
  sink(app: string, deploymentId: string, secrets: readonly string[]): (line: RuntimeOutput) => void {
    const streams = new Map<RuntimeStream, { masker: LineStreamMasker; release?: NodeJS.Timeout }>();
    const keep = (stream: RuntimeStream, texts: string[]) => {
      for (const text of texts) this.accept(app, { at: now(), deploymentId, stream, text: cut(text) });
    };
    return (line) => {
      let state = streams.get(line.stream);
      if (!state) {
        state = { masker: new LineStreamMasker() };
        state.masker.setSecrets(secrets);
        streams.set(line.stream, state);
      }
      const { masker } = state;
      clearTimeout(state.release);
      keep(line.stream, masker.push(line.text));
      // Lines held as the possible start of a multi-line secret are released (masked) when the output pauses.
      if (masker.holding)
        state.release = setTimeout(() => {
          keep(line.stream, masker.end());
        }, FLUSH_MS);
    };
  }

  /** Stores and publishes what is queued for the app; resolves once it is on the bus. */
  flush(app: string): Promise<void> {
    const log = this.apps.get(app);
    if (!log) return Promise.resolve();
    if (log.timer) clearTimeout(log.timer);
    log.timer = undefined;
    const batch = log.lines.splice(0);
    if (batch.length === 0) return log.chain.catch(() => undefined);
    log.chain = log.chain
      .catch(() => undefined)
      .then(async () => {
        const stored = await this.opts.store.appendRuntimeLogs(app, batch, this.keepBytes).catch((err: unknown) => {
          log.lines.unshift(...batch);
          if (log.lines.length > MAX_PENDING) log.lines.splice(0, log.lines.length - MAX_PENDING);
          throw err;
        });
        const last = stored[stored.length - 1];
        await this.opts.bus.publish('app.logs', {
          eventId: stageEventId('app.logs', last.deploymentId, `${app}:${stored[0].seq}`),
          deploymentId: last.deploymentId,
          at: now(),
          app,
          lines: stored,
        });
      });
    return log.chain;
  }

  /** The app is gone: its queued lines and its stored log go too. */
  async remove(app: string): Promise<void> {
    const log = this.apps.get(app);
    if (log?.timer) clearTimeout(log.timer);
    this.apps.delete(app);
    await log?.chain.catch(() => undefined);
    await this.opts.store.deleteRuntimeLogs(app);
  }

  async close(): Promise<void> {
    await Promise.all([...this.apps.keys()].map((app) => this.flush(app).catch(() => undefined)));
  }

  private accept(app: string, line: NewRuntimeLogLine): void {
    const log = this.entry(app);
    if (line.stream !== 'event' && !this.withinRate(app, log, line)) return;
    this.queue(app, log, line);
  }

  private queue(app: string, log: AppLog, line: NewRuntimeLogLine): void {
    log.lines.push(line);
    if (log.lines.length >= MAX_BATCH) this.flushInBackground(app);
    else
      log.timer ??= setTimeout(() => {
        this.flushInBackground(app);
      }, FLUSH_MS);
  }

  /** Counts the app's output per second; what a second dropped is said in one event line once it is over. */
  private withinRate(app: string, log: AppLog, line: NewRuntimeLogLine): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (log.window.second !== second) {
      this.reportDrops(app, log);
      log.window = { second, bytes: 0, dropped: 0, deploymentId: line.deploymentId };
    }
    log.window.bytes += Buffer.byteLength(line.text) + 1;
    if (log.window.bytes <= this.rate) return true;
    if (log.window.dropped++ === 0) {
      // Said even when the app prints nothing more after its flood.
      setTimeout(
        () => {
          this.reportDrops(app, log);
        },
        1_050 - (Date.now() % 1_000),
      ).unref();
    }
    return false;
  }

  private reportDrops(app: string, log: AppLog): void {
    const { dropped, deploymentId } = log.window;
    if (dropped === 0) return;
    log.window.dropped = 0;
    this.queue(app, log, {
      at: now(),
      deploymentId,
      stream: 'event',
      text: `[cloudsmith] ${dropped} lines not kept: the app wrote more than ${Math.round(this.rate / 1024)} KiB/s`,
    });
  }

  private flushInBackground(app: string): void {
    this.flush(app).catch((err: unknown) => {
      this.opts.logger.warn('could not store runtime log lines; retrying', { app, error: errorMessage(err) });
      const log = this.apps.get(app);
      if (log)
        log.timer ??= setTimeout(() => {
          this.flushInBackground(app);
        }, RETRY_MS);
    });
  }

  private entry(app: string): AppLog {
    let log = this.apps.get(app);
    if (!log) {
      log = { lines: [], chain: Promise.resolve(), window: { second: 0, bytes: 0, dropped: 0, deploymentId: '' } };
      this.apps.set(app, log);
    }
    return log;
  }
}

/** Long lines are cut, and what is not text (a binary dump) is shown as replacement characters, not stored raw. */
function cut(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is being replaced
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd');
  return clean.length > MAX_LINE ? `${clean.slice(0, MAX_LINE)} …[line cut]` : clean;
}
