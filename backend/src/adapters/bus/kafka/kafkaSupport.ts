import { logLevel, type logCreator } from 'kafkajs';
import { TOPICS, type Topic } from '../../../domain/events';
import type { Logger } from '../../../lib/logger';

/** The Kafka topic names for a prefix: one per event topic plus the dead-letter topic. */
export function topicNames(prefix: string): { events: Record<Topic, string>; deadLetter: string } {
  const events = Object.fromEntries(TOPICS.map((t) => [t, `${prefix}${t}`])) as Record<Topic, string>;
  return { events, deadLetter: `${prefix}dead-letter` };
}

/** What a dead-letter record carries: enough to see what failed, where, and to replay it by hand. */
export interface DeadLetterRecord {
  topic: Topic;
  group: string;
  event: unknown;
  error: string;
  attempts: number;
  at: string;
  /** Where the failed event sits in its own topic. */
  source: { topic: string; partition: number; offset: string };
}

/**
 * kafkajs logs a line per connection attempt while a broker restarts; only warnings and errors are worth
 * keeping, and they go to the platform's JSON logger instead of kafkajs' own console format.
 */
export function kafkaLogCreator(logger: Logger | undefined): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      if (!logger) return;
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const entry = { source: 'kafkajs', namespace, ...pickPrintable(fields) };
      // kafkajs reports each retried request as an error (a coordinator still loading, a broker restarting);
      // only a consumer crash is one for the platform.
      if (level === logLevel.ERROR && /crash/i.test(message)) logger.error(message, entry);
      else if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(message, entry);
    };
}

/** kafkajs attaches whole request objects to some entries; keep the scalar fields that explain the line. */
function pickPrintable(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
  }
  return out;
}

/** Exponential backoff with full jitter, capped: spreads retries of many consumers after a shared failure. */
export function backoffMs(attempt: number, baseMs: number, maxMs = 5_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Commits a consumer's offsets after its handlers resolved, coalescing: while one commit request is out,
 * later offsets wait and go in the next request. A group catching up on a backlog then commits a few times
 * instead of once per event, and a handler never waits for a commit before the next event starts. An
 * offset not yet committed when a process dies only means a redelivery, which handlers absorb.
 */
export class OffsetCommitter {
  private readonly pending = new Map<string, { topic: string; partition: number; offset: string }>();
  private running?: Promise<void>;

  constructor(
    private readonly commit: (offsets: Array<{ topic: string; partition: number; offset: string }>) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Marks `offset` as handled; the committed position becomes offset + 1. */
  done(topic: string, partition: number, offset: string): void {
    this.pending.set(`${topic}\0${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once everything marked so far has been sent. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending.values()];
      this.pending.clear();
      await this.commit(batch).catch(this.onError);
    }
  }
}
