import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { RuntimeOutput } from '../../../ports/runtime';
import { awsErrorName } from '../../aws/clients';

const MAX_PAGES = 5;

/**
 * Follows an app's CloudWatch log streams (the awslogs driver writes `<app>/<container>/<task id>`) into its runtime log:
 * polls FilterLogEvents from the last event seen, skipping events already delivered (same millisecond). The awslogs
 * driver does not keep stdout and stderr apart, so every line is reported as stdout.
 */
export class CloudWatchTail {
  private timer?: NodeJS.Timeout;
  private since = Date.now() - 60_000;
  private seen = new Set<string>();
  private stopped = false;

  constructor(
    private readonly client: CloudWatchLogsClient,
    private readonly logGroup: string,
    private readonly app: string,
    private readonly onOutput: (line: RuntimeOutput) => void,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poll()
        .catch(() => undefined)
        .finally(() => {
          this.schedule();
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    let nextToken: string | undefined;
    const fresh: Array<{ id: string; at: number; text: string }> = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.client
        .send(
          new FilterLogEventsCommand({
            logGroupName: this.logGroup,
            logStreamNamePrefix: `${this.app}/`,
            startTime: this.since,
            nextToken,
          }),
        )
        .catch((err: unknown) => {
          if (awsErrorName(err) === 'ResourceNotFoundException') return { events: [], nextToken: undefined };
          throw err;
        });
      for (const e of res.events ?? []) {
        // The prefix is checked again here: moto ignores logStreamNamePrefix and returns the whole group.
        if (!e.logStreamName?.startsWith(`${this.app}/`)) continue;
        const id = e.eventId ?? `${e.logStreamName}:${e.timestamp}:${e.message}`;
        if (!this.seen.has(id)) fresh.push({ id, at: e.timestamp ?? 0, text: e.message ?? '' });
      }
      nextToken = res.nextToken;
      if (!nextToken) break;
    }
    fresh.sort((a, b) => a.at - b.at);
    for (const e of fresh) this.onOutput({ stream: 'stdout', text: e.text.replace(/\n$/, '') });
    const last = fresh.at(-1)?.at;
    if (last === undefined) return;
    // The next poll starts at the newest event's millisecond: only events of that millisecond need remembering.
    if (last > this.since) this.seen = new Set();
    this.since = Math.max(this.since, last);
    for (const e of fresh) if (e.at === this.since) this.seen.add(e.id);
  }
}
