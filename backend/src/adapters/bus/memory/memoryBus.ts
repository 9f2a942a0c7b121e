import type { Topic, TopicEvents } from '../../../domain/events';
import { errorMessage } from '../../../domain/errors';
import type { EventBus, EventHandler, SubscribeOptions } from '../../../ports/bus';

export interface MemoryBusOptions {
  /** Handler attempts per event before it goes to the dead-letter handler. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Where failures without a dead-letter handler are reported. */
  onError?: (message: string) => void;
}

type AnyEvent = TopicEvents[Topic];
type AnyHandler = (event: AnyEvent) => Promise<void>;
type DeadLetterHandler = (topic: Topic, event: AnyEvent, error: Error) => Promise<void>;

/** One deployment's pending events within a group: handled strictly one after another. */
interface Lane {
  queue: AnyEvent[];
}

interface Group {
  topic: Topic;
  members: AnyHandler[];
  lanes: Map<string, Lane>;
}

/** FNV-1a: a stable key → member mapping, the way Kafka maps keys to partitions. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The in-process event bus of the embedded mode, with Kafka's delivery semantics so services behave the
 * same on both: every group gets every event published after it subscribed; within a group, one
 * deployment's events are handled in order, one at a time, by the member its key hashes to, while
 * different deployments run concurrently; a failing handler is retried with exponential backoff, then the
 * event goes to the dead-letter handler and the deployment's later events carry on.
 */
export class MemoryBus implements EventBus {
  private readonly groups = new Map<string, Group>();
  private readonly deadLetters: DeadLetterHandler[] = [];
  private readonly running = new Set<Promise<void>>();
  /** Aborts backoff sleeps at close: a retry that has not started yet is handed back (dropped). */
  private readonly closing = new AbortController();
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly onError: (message: string) => void;

  constructor(options: MemoryBusOptions = {}) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.onError =
      options.onError ??
      ((m) => {
        console.error(m);
      });
  }

  async publish<T extends Topic>(topic: T, event: TopicEvents[T]): Promise<void> {
    // Handlers finishing during close may still publish their next stage; like unconsumed Kafka messages
    // those events are not handled by this process (nothing in memory outlives it).
    if (this.closing.signal.aborted) return;
    // A JSON copy per publish, as a broker would deliver: no handler sees another's mutations or non-JSON values.
    const payload = JSON.stringify(event);
    for (const group of this.groups.values()) {
      if (group.topic !== topic || group.members.length === 0) continue;
      const key = event.deploymentId;
      const lane = group.lanes.get(key);
      const copy = JSON.parse(payload) as AnyEvent;
      if (lane) {
        lane.queue.push(copy);
        continue;
      }
      const fresh: Lane = { queue: [copy] };
      group.lanes.set(key, fresh);
      this.track(this.drain(group, key, fresh));
    }
  }

  async subscribe<T extends Topic>(topic: T, options: SubscribeOptions, handler: EventHandler<T>): Promise<void> {
    if (this.closing.signal.aborted) throw new Error('event bus is closed');
    const id = `${topic}\0${options.group}`;
    let group = this.groups.get(id);
    if (!group) {
      group = { topic, members: [], lanes: new Map() };
      this.groups.set(id, group);
    }
    // Handlers are keyed by topic at subscription, so the event reaching it has TopicEvents[T]'s shape.
    group.members.push(handler as unknown as AnyHandler);
  }

  onDeadLetter(handler: DeadLetterHandler): void {
    this.deadLetters.push(handler);
  }

  async close(): Promise<void> {
    this.closing.abort();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    this.groups.clear();
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private async drain(group: Group, key: string, lane: Lane): Promise<void> {
    // Yield first so publish returns before any handler runs.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (lane.queue.length > 0 && !this.closing.signal.aborted) {
        const event = lane.queue[0];
        const member = group.members[hashKey(key) % group.members.length];
        await this.deliver(group.topic, member, event);
        lane.queue.shift();
      }
    } finally {
      group.lanes.delete(key);
    }
  }

  private async deliver(topic: Topic, handler: AnyHandler, event: AnyEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(event);
        return;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(errorMessage(err));
        if (attempt >= this.maxAttempts) {
          await this.deadLetter(topic, event, error);
          return;
        }
        const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempt - 1));
        if (!(await this.sleep(delay))) return;
      }
    }
  }

  private async deadLetter(topic: Topic, event: AnyEvent, error: Error): Promise<void> {
    if (this.deadLetters.length === 0) {
      this.onError(`event ${event.eventId} on ${topic} failed ${this.maxAttempts} times: ${error.message}`);
      return;
    }
    for (const h of this.deadLetters) {
      try {
        await h(topic, event, error);
      } catch (dlErr) {
        this.onError(`dead-letter handler failed for event ${event.eventId} on ${topic}: ${errorMessage(dlErr)}`);
      }
    }
  }

  /** Resolves false when the bus closes first. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.closing.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
