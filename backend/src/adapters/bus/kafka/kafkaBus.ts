// Long on purpose: publishing, consumer groups, fan-out resume points, dead-lettering and reconnects are one
// lifecycle around one kafkajs client; the bus contract suite and the Kafka fault tests test it whole.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Consumer, type EachMessagePayload, type Producer } from 'kafkajs';
import { errorMessage } from '../../../domain/errors';
import type { Topic, TopicEvents } from '../../../domain/events';
import type { EventBus, EventHandler, SubscribeOptions } from '../../../ports/bus';
import type { Logger } from '../../../lib/logger';
import {
  asError,
  backoffMs,
  kafkaLogCreator,
  OffsetCommitter,
  sleep,
  topicNames,
  type DeadLetterRecord,
} from './kafkaSupport';
import { Lazy } from '../../../lib/lazy';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** Partitions per topic: the most instances of one service that can work at once. */
  partitions: number;
  replicationFactor: number;
  /** Prepended to every topic and consumer group, so several platforms (or test runs) share a cluster. */
  topicPrefix: string;
  /** In-process attempts of a failing handler before its event goes to the dead-letter topic. */
  retry?: { attempts: number; baseMs: number };
  /** How long the group waits for a silent member (a killed process) before handing its partitions on. */
  sessionTimeoutMs?: number;
  logger?: Logger;
}

type DeadLetterHandler = (topic: Topic, event: TopicEvents[Topic], error: Error) => Promise<void>;

/** Where a consumer's handled events are recorded: committed to the group, or (fan-out groups) held in memory. */
interface Progress {
  done(topic: string, partition: number, offset: string): void;
}

/**
 * A fan-out group's positions. It commits nothing (it is deleted at close, so nobody would read its offsets); instead
 * the next offset of every partition is held here and sought whenever the consumer (re)joins its group. A consumer
 * that crashed and restarted (a broker still warming up, say) thus resumes where it was instead of at "latest",
 * and the first join starts exactly at the end offsets read when subscribe() began.
 */
class ResumePoints implements Progress {
  private readonly next = new Map<number, string>();

  constructor(start: Array<{ partition: number; high: string }>) {
    for (const { partition, high } of start) this.next.set(partition, high);
  }

  done(_topic: string, partition: number, offset: string): void {
    this.next.set(partition, (BigInt(offset) + 1n).toString());
  }

  seekAll(consumer: Consumer, topic: string): void {
    for (const [partition, offset] of this.next) consumer.seek({ topic, partition, offset });
  }
}

interface Subscription {
  consumer: Consumer;
  /** Absent for fan-out groups: they are deleted at close, so their offsets would never be read. */
  committer?: OffsetCommitter;
  groupId: string;
  /** Fan-out groups are per instance and die with it; durable groups keep their offsets. */
  ephemeral: boolean;
}

const HEARTBEAT_MS = 3_000;
const JOIN_WAIT_MS = 30_000;

/**
 * EventBus on Apache Kafka (kafkajs). Message key = deployment id, so one deployment's events share a
 * partition and keep their order; a consumer group per subscription group splits partitions between
 * instances. Offsets are committed only after the handler resolved (or its event was dead-lettered), so a
 * process killed mid-handler has its event redelivered to another instance: at-least-once, and the
 * handlers de-duplicate by event id.
 */
export class KafkaBus implements EventBus {
  private readonly kafka: Kafka;
  private readonly names: ReturnType<typeof topicNames>;
  private readonly retry: { attempts: number; baseMs: number };
  private readonly sessionTimeoutMs: number;
  private readonly subscriptions: Subscription[] = [];
  private readonly deadLetterHandlers: DeadLetterHandler[] = [];
  private readonly producer = new Lazy(() => this.connectProducer());
  private readonly admin = new Lazy(async () => {
    const admin = this.kafka.admin();
    await admin.connect();
    return admin;
  });
  /** Every topic (and the dead-letter topic) exists with the configured partitions before first use. */
  private readonly topics = new Lazy(() => this.createTopics());
  private readonly inflight = new Set<Promise<void>>();
  private closing = false;
  private closed = false;

  constructor(private readonly options: KafkaBusOptions) {
    if (options.brokers.length === 0) throw new Error('KafkaBus needs at least one broker (KAFKA_BROKERS)');
    this.names = topicNames(options.topicPrefix);
    this.retry = options.retry ?? { attempts: 5, baseMs: 200 };
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 20_000;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(options.logger),
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      retry: this.clientRetry(),
    });
  }

  /**
   * A broker restart takes seconds: keep trying with a capped backoff instead of giving up, and let
   * consumers that still crash restart themselves (restartOnFailure) rather than stop for good.
   */
  private clientRetry() {
    return { initialRetryTime: 300, maxRetryTime: 5_000, retries: 20, restartOnFailure: async () => !this.closing };
  }

  async publish<T extends Topic>(topic: T, event: TopicEvents[T]): Promise<void> {
    // Handlers still finishing during close() may publish their next stage: the producer stays up until they are done.
    if (this.closed) throw new Error(`bus closed: cannot publish ${topic}`);
    await this.send(this.names.events[topic], event.deploymentId, JSON.stringify(event), { 'event-id': event.eventId });
  }

  async subscribe<T extends Topic>(topic: T, options: SubscribeOptions, handler: EventHandler<T>): Promise<void> {
    if (this.closing) throw new Error(`bus closed: cannot subscribe to ${topic}`);
    await this.patiently('creating topics', () => this.topics.get());
    const kafkaTopic = this.names.events[topic];
    const ephemeral = !!options.latestOnly;
    // A fan-out group must be this instance's alone, or two replicas would split the stream between them.
    const groupId = `${this.options.topicPrefix}${options.group}${ephemeral ? `.${randomUUID().slice(0, 8)}` : ''}`;
    // The end of the topic now: a fan-out group starts exactly there, so it sees every event published
    // after subscribe() returns and none before (kafkajs' own "latest" is read later, at the first fetch).
    const endOffsets = ephemeral ? await this.patiently('reading end offsets', () => this.endOffsets(kafkaTopic)) : [];
    const resume = ephemeral ? new ResumePoints(endOffsets) : undefined;

    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: this.sessionTimeoutMs,
      heartbeatInterval: HEARTBEAT_MS,
      allowAutoTopicCreation: false,
      // A shorter long-poll than the 5 s default: close() waits for the poll in progress.
      maxWaitTimeInMs: 1_000,
      retry: this.clientRetry(),
    });
    const committer = ephemeral
      ? undefined
      : new OffsetCommitter(
          (offsets) => consumer.commitOffsets(offsets),
          // The position is also held in memory and the next commit covers it; after a rebalance or a
          // restart the event comes again and the handler's de-duplication absorbs it.
          (err) =>
            this.options.logger?.warn('kafka offset commit failed; events may be redelivered', {
              groupId,
              error: errorMessage(err),
            }),
        );
    this.subscriptions.push({ consumer, groupId, ephemeral, committer });
    const joined = new Promise<void>((resolve) => {
      const stop = consumer.on(consumer.events.GROUP_JOIN, () => {
        stop();
        resolve();
      });
    });
    // Emitted inside the join, before the first fetch: the seeks are queued and applied by that fetch.
    if (resume)
      consumer.on(consumer.events.GROUP_JOIN, () => {
        resume.seekAll(consumer, kafkaTopic);
      });
    const start = async () => {
      await consumer.connect();
      await consumer.subscribe({ topic: kafkaTopic, fromBeginning: !ephemeral });
      await consumer.run({
        autoCommit: false,
        // Partitions run side by side; within one, messages (one deployment's events) stay sequential.
        partitionsConsumedConcurrently: Math.max(1, this.options.partitions),
        eachMessage: (payload) => this.track(this.deliver(topic, options.group, committer ?? resume, payload, handler)),
      });
    };
    // kafkajs restarts a consumer after a retriable crash by itself; after any other crash it stays stopped for good.
    // A service must never be left deaf while its process looks healthy, so that case starts it again here.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.closing) return;
      this.options.logger?.warn('kafka consumer stopped after an error; starting it again', {
        groupId,
        error: errorMessage(payload.error),
      });
      void this.patiently(`restarting consumer ${groupId}`, start).catch(() => undefined);
    });
    await this.patiently(`joining consumer group ${groupId}`, start);
    // Returning once the group has formed means an event published next is already ours to receive, and a
    // second instance joining later does not interrupt work that started before it.
    const waited = await Promise.race([joined.then(() => true), sleep(JOIN_WAIT_MS).then(() => false)]);
    if (!waited) this.options.logger?.warn('kafka consumer has not joined its group yet; continuing', { groupId });
  }

  onDeadLetter(handler: DeadLetterHandler): void {
    this.deadLetterHandlers.push(handler);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // Handlers already running finish (deliver() starts no new one once closing, and commits nothing
    // that finished after close began, so that work is handed back to the group); then what finished
    // before is committed while the consumers are still members, and only then do they leave.
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    await Promise.allSettled(this.subscriptions.map((s) => s.committer?.drain() ?? Promise.resolve()));
    await Promise.allSettled(this.subscriptions.map((s) => s.consumer.disconnect()));
    const ephemeral = this.subscriptions.filter((s) => s.ephemeral).map((s) => s.groupId);
    if (ephemeral.length > 0 && this.admin.started) {
      await this.admin
        .get()
        .then((admin) => admin.deleteGroups(ephemeral))
        .catch((err: unknown) =>
          this.options.logger?.warn('could not delete fan-out consumer groups', { error: errorMessage(err) }),
        );
    }
    this.closed = true;
    const producer = this.producer.take();
    const admin = this.admin.take();
    await Promise.allSettled([producer?.then((p) => p.disconnect()), admin?.then((a) => a.disconnect())]);
  }

  /** Runs the handler with retries, dead-letters it when they run out, and only then commits. */
  private async deliver<T extends Topic>(
    topic: T,
    group: string,
    progress: Progress | undefined,
    payload: EachMessagePayload,
    handler: EventHandler<T>,
  ): Promise<void> {
    // Events fetched before close() are handed back untouched.
    if (this.closing) return;
    // Without a background heartbeat, a build longer than the session timeout would look like a dead
    // member and its partition would be given to another instance mid-build.
    const { topic: kafkaTopic, partition, message } = payload;
    const beat = setInterval(() => {
      payload.heartbeat().catch(() => undefined);
    }, HEARTBEAT_MS);
    try {
      let event: TopicEvents[T] | undefined;
      let failure: Error | undefined;
      let attempts = 0;
      try {
        event = JSON.parse(message.value?.toString('utf8') ?? '') as TopicEvents[T];
      } catch (err) {
        failure = new Error(`unreadable message: ${errorMessage(err)}`);
      }
      while (event && attempts < this.retry.attempts) {
        attempts += 1;
        try {
          await handler(event);
          failure = undefined;
          break;
        } catch (err) {
          failure = asError(err);
          if (attempts < this.retry.attempts) await sleep(backoffMs(attempts, this.retry.baseMs));
          if (this.isClosing()) return;
        }
      }
      // Closing: leave the offset where it was, so the group redelivers this event to a live instance.
      if (this.isClosing()) return;
      if (failure)
        await this.deadLetter(topic, group, event, failure, attempts, {
          topic: kafkaTopic,
          partition,
          offset: message.offset,
        });
      progress?.done(kafkaTopic, partition, message.offset);
    } finally {
      clearInterval(beat);
    }
  }

  /**
   * Runs a start-up step until it succeeds: a broker that just started answers "the coordinator is loading" and the
   * like for a while, and a service waits that out (saying so) rather than exit. Only close() ends the waiting.
   */
  private async patiently<R>(what: string, work: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (this.closing) throw err;
        const waitMs = backoffMs(attempt, 500, 5_000);
        this.options.logger?.warn(`kafka is not ready (${what}); trying again`, { error: errorMessage(err), waitMs });
        await sleep(waitMs);
      }
    }
  }

  /** A call, not a field read: the compiler would take the field for unchanged across the handler's awaits. */
  private isClosing(): boolean {
    return this.closing;
  }

  private track(work: Promise<void>): Promise<void> {
    this.inflight.add(work);
    return work.finally(() => this.inflight.delete(work));
  }

  private async deadLetter<T extends Topic>(
    topic: T,
    group: string,
    event: TopicEvents[T] | undefined,
    error: Error,
    attempts: number,
    source: DeadLetterRecord['source'],
  ): Promise<void> {
    this.options.logger?.error('event dead-lettered', {
      topic,
      group,
      deploymentId: event?.deploymentId,
      error: error.message,
      attempts,
    });
    const record: DeadLetterRecord = {
      topic,
      group,
      event,
      error: error.message,
      attempts,
      at: new Date().toISOString(),
      source,
    };
    // If this publish fails the error escapes: the offset stays uncommitted and the event comes again.
    await this.send(this.names.deadLetter, event?.deploymentId ?? null, JSON.stringify(record), {
      'source-topic': topic,
    });
    if (!event) return;
    for (const notify of this.deadLetterHandlers) {
      await notify(topic, event, error).catch((err: unknown) =>
        this.options.logger?.error('dead-letter handler failed', {
          topic,
          deploymentId: event.deploymentId,
          error: errorMessage(err),
        }),
      );
    }
  }

  private async send(topic: string, key: string | null, value: string, headers: Record<string, string>): Promise<void> {
    await this.topics.get();
    const producer = await this.producer.get();
    await producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
  }

  private async connectProducer(): Promise<Producer> {
    // Idempotent: a send retried across a broker restart is written once, in order.
    const producer = this.kafka.producer({
      idempotent: true,
      // Idempotence needs unlimited retries (kafkajs warns otherwise); the capped backoff keeps them gentle.
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return producer;
  }

  private async createTopics(): Promise<void> {
    const admin = await this.admin.get();
    const wanted = [...Object.values(this.names.events), this.names.deadLetter];
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: this.options.partitions,
        replicationFactor: this.options.replicationFactor,
      })),
    });
  }

  /** Right after creation a partition's leader may still be loading it; that answer is worth a few retries. */
  private async endOffsets(topic: string): Promise<Array<{ partition: number; high: string }>> {
    const admin = await this.admin.get();
    for (let attempt = 1; ; attempt++) {
      try {
        return await admin.fetchTopicOffsets(topic);
      } catch (err) {
        if (attempt >= 20 || this.closing) throw err;
        await sleep(backoffMs(attempt, 100, 1_000));
      }
    }
  }
}
