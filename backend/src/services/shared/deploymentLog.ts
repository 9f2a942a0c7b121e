import { TERMINAL_STATUSES, type Deployment, type DeploymentStatus, type Stage } from '../../domain/deployment';
import { now, stageEventId } from '../../domain/events';
import type { EventBus } from '../../ports/bus';
import type { DeploymentPatch, NewLogLine, Store } from '../../ports/store';
import { LogIntake } from '../../logs/logIntake';

const FLUSH_MS = 40;
const MAX_BATCH = 200;
const RETRY_MS = 1000;

interface Pending {
  lines: NewLogLine[];
  timer?: NodeJS.Timeout;
  /** Serialises flushes and status events so a deployment's stream stays in order. */
  chain: Promise<void>;
  /** Masking (multi-line secrets too) and per-stage output budgets, before a line is queued. */
  intake: LogIntake;
  /** When the last batch left: a line after a quiet spell goes out at once, a burst at most every FLUSH_MS. */
  flushedAt: number;
}

/**
 * Writes a deployment's log lines to the store (which assigns seq) and then to the bus, batched, with
 * secrets masked; and records status changes, publishing them in the same ordered stream.
 */
export class DeploymentLog {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
  ) {}

  /** Values to mask in this deployment's lines (app env values, the caller's token). */
  addSecrets(deploymentId: string, secrets: string[]): void {
    this.entry(deploymentId).intake.addSecrets(secrets);
  }

  /** Queues text (one or more lines); false once `stage` has used up its output budget for this deployment. */
  write(deploymentId: string, stage: Stage, text: string): boolean {
    const entry = this.entry(deploymentId);
    entry.lines.push(...entry.intake.accept(stage, text));
    if (entry.lines.length >= MAX_BATCH) this.flushInBackground(deploymentId);
    else
      entry.timer ??= setTimeout(
        () => {
          this.flushInBackground(deploymentId);
        },
        Math.max(0, entry.flushedAt + FLUSH_MS - Date.now()),
      );
    return entry.intake.within(stage);
  }

  /** A background flush that fails (store or broker briefly away) is retried by the next flush; nothing is dropped. */
  private flushInBackground(deploymentId: string): void {
    this.flushQueued(deploymentId).catch(() => {
      const entry = this.entry(deploymentId);
      entry.timer ??= setTimeout(() => {
        this.flushInBackground(deploymentId);
      }, RETRY_MS);
    });
  }

  /** Persists and publishes pending lines, including any held back as a possible secret's start; resolves once they are on the bus. */
  flush(deploymentId: string): Promise<void> {
    const entry = this.entry(deploymentId);
    entry.lines.push(...entry.intake.release());
    return this.flushQueued(deploymentId);
  }

  private flushQueued(deploymentId: string): Promise<void> {
    const entry = this.entry(deploymentId);
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.flushedAt = Date.now();
    const batch = entry.lines.splice(0);
    // Nothing new: an earlier failure is not this caller's (its lines were re-queued or are in the store).
    if (batch.length === 0) return settled(entry.chain);
    entry.chain = settled(entry.chain).then(async () => {
      const lines = await this.store.appendLogs(deploymentId, batch).catch((err: unknown) => {
        entry.lines.unshift(...batch);
        throw err;
      });
      await this.bus.publish('deployment.logs', {
        eventId: stageEventId('deployment.logs', deploymentId, `lines:${lines[0]?.seq}`),
        deploymentId,
        at: now(),
        kind: 'lines',
        lines,
      });
    });
    return entry.chain;
  }

  /**
   * Moves the deployment (the store refuses backward moves) and announces the new status after every
   * line written before it. Returns the updated deployment, or undefined when the move was refused.
   */
  async moveTo(
    deploymentId: string,
    status: DeploymentStatus,
    patch: DeploymentPatch = {},
  ): Promise<Deployment | undefined> {
    await this.flush(deploymentId);
    const intake = this.entry(deploymentId).intake;
    const masked = patch.error === undefined ? patch : { ...patch, error: intake.mask(patch.error) };
    const updated = await this.store.transition(deploymentId, status, masked);
    if (updated) await this.announce(updated);
    if (updated && TERMINAL_STATUSES.includes(status)) this.pending.delete(deploymentId);
    return updated;
  }

  private async announce(d: Deployment): Promise<void> {
    const entry = this.entry(d.id);
    entry.chain = settled(entry.chain).then(() =>
      this.bus.publish('deployment.logs', {
        eventId: stageEventId('deployment.logs', d.id, `status:${d.status}`),
        deploymentId: d.id,
        at: now(),
        kind: 'status',
        status: d.status,
        url: d.url,
        error: d.error,
      }),
    );
    await entry.chain;
  }

  private entry(deploymentId: string): Pending {
    let entry = this.pending.get(deploymentId);
    if (!entry) {
      entry = { lines: [], chain: Promise.resolve(), intake: new LogIntake(), flushedAt: 0 };
      this.pending.set(deploymentId, entry);
    }
    return entry;
  }
}

/** A failed flush must not poison every later one: the failure is reported to its own caller only. */
function settled(chain: Promise<void>): Promise<void> {
  return chain.catch(() => undefined);
}
