import type { Topic, TopicEvents } from '../domain/events';

export type EventHandler<T extends Topic> = (event: TopicEvents[T]) => Promise<void>;

export interface SubscribeOptions {
  /**
   * Consumer group. Instances sharing a group split the work (each event to one of them);
   * a group unique to the instance receives every event (log fan-out, cancel broadcast).
   */
  group: string;
  /** Only events published after subscribing (fan-out groups); otherwise the group resumes from its committed offset. */
  latestOnly?: boolean;
}

/**
 * At-least-once delivery, ordered per deployment id. A handler that throws is retried with backoff;
 * after the last attempt the event goes to the dead-letter handler. A subscription's handler runs one
 * event at a time per deployment.
 */
export interface EventBus {
  publish<T extends Topic>(topic: T, event: TopicEvents[T]): Promise<void>;
  subscribe<T extends Topic>(topic: T, options: SubscribeOptions, handler: EventHandler<T>): Promise<void>;
  /** Called once retries are exhausted; the composition root records the failure on the deployment. */
  onDeadLetter(handler: (topic: Topic, event: TopicEvents[Topic], error: Error) => Promise<void>): void;
  /** Stops consuming, lets in-flight handlers finish (or hands their events back), then disconnects. */
  close(): Promise<void>;
}
