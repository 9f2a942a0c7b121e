import { WebSocket } from 'ws';
import { TERMINAL_STATUSES, type DeploymentStatus } from '../domain/deployment';

export interface StatusNote {
  status: DeploymentStatus;
  url?: string;
  error?: string;
}

export interface SessionLimits {
  /** Sending pauses while more than this is queued for the client... */
  highWaterBytes: number;
  /** ...and resumes once the queue is below this. */
  lowWaterBytes: number;
  /** A client that reads nothing for this long is closed with a resumable close code. */
  stallMs: number;
  pageLines: number;
}

export const DEFAULT_LIMITS: SessionLimits = {
  highWaterBytes: 512 * 1024,
  lowWaterBytes: 64 * 1024,
  stallMs: 10_000,
  pageLines: 500,
};

/** Close code for a consumer that stopped reading: it should reconnect with `since` set to its last seq. */
export const SLOW_CONSUMER_CLOSE = 4000;
const DRAIN_POLL_MS = 50;
/** After the close frame, how long a client that reads nothing keeps its socket before it is cut. */
const TERMINATE_AFTER_MS = 1000;

/** Where a session reads what it sends: a deployment's log (with its status) or an app's runtime log (no status). */
export interface SessionSource<L extends { seq: number }> {
  readLogs(sinceSeq: number, limit: number): Promise<L[]>;
  readStatus?(): Promise<StatusNote | undefined>;
  /** The line as the client receives it. */
  view(line: L): object;
}

/**
 * One WebSocket subscriber of one log (a deployment's, or an app's runtime log). The store is the source of truth: the session sends live lines
 * straight from the bus while the client keeps up, and whenever it falls behind (its send queue above the high-water
 * mark) it stops taking lines from the bus and later catches up from the store, page by page, pausing on the queue.
 * A client that reads nothing for `stallMs` is closed with SLOW_CONSUMER_CLOSE; memory per client stays about
 * `highWaterBytes` however fast the deployment logs.
 */
export class LogSession<L extends { seq: number }> {
  private lastSeq: number;
  /** Lines may exist in the store that were not sent: the pump must read them. */
  private behind = true;
  /** A lines event arrived while the pump was reading: read again before trusting "caught up". */
  private dirty = false;
  private pumping = false;
  private status?: StatusNote;
  private ended = false;

  constructor(
    private readonly ws: WebSocket,
    since: number,
    private readonly source: SessionSource<L>,
    private readonly onError: (err: unknown) => void,
    private readonly limits: SessionLimits = DEFAULT_LIMITS,
  ) {
    this.lastSeq = since;
  }

  /** Replays what is stored after `since`, then the current status (and the end, when the deployment is done). */
  async start(): Promise<void> {
    this.status = await this.source.readStatus?.();
    this.kick();
  }

  onStatus(note: StatusNote): void {
    if (this.ended) return;
    this.status = note;
    this.kick();
  }

  /** Live lines from the bus, in seq order; the store has them too, so any that cannot be sent now are read later. */
  onLines(lines: readonly L[]): void {
    if (this.ended) return;
    if (this.behind || this.pumping) {
      this.dirty = true;
      this.behind = true;
      this.kick();
      return;
    }
    for (const line of lines) {
      if (line.seq <= this.lastSeq) continue;
      if (line.seq > this.lastSeq + 1 || this.congested()) {
        // A gap (lines on another path) or a full queue: the store has them, the pump will send them.
        this.behind = true;
        this.kick();
        return;
      }
      this.sendLine(line);
    }
  }

  private kick(): void {
    if (!this.pumping && !this.ended) void this.pump().catch(this.onError);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (;;) {
        if (this.ended || this.ws.readyState !== WebSocket.OPEN) return;
        if (this.congested()) {
          if (!(await this.drained())) return;
          continue;
        }
        if (this.behind) {
          this.dirty = false;
          const page = await this.source.readLogs(this.lastSeq, this.limits.pageLines);
          let sent = 0;
          for (const line of page) {
            if (line.seq <= this.lastSeq) continue;
            if (this.congested()) break;
            this.sendLine(line);
            sent++;
          }
          // `dirty` may have been set by an event while the page was read.
          if (sent === page.length && page.length < this.limits.pageLines && !this.wasDirty()) this.behind = false;
          // One page per turn of the event loop: a long replay must not starve other requests.
          if (this.behind) await yieldToLoop();
          continue;
        }
        if (this.status) {
          const note = this.status;
          this.status = undefined;
          this.send({ type: 'status', ...note });
          if (TERMINAL_STATUSES.includes(note.status)) {
            this.ended = true;
            await this.finish(note);
            return;
          }
          continue;
        }
        return;
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Lines published on another partition path may trail the final status; the store has them all. */
  private async finish(note: StatusNote): Promise<void> {
    for (;;) {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      if (this.congested() && !(await this.drained())) return;
      const page = await this.source.readLogs(this.lastSeq, this.limits.pageLines);
      for (const line of page) if (line.seq > this.lastSeq) this.sendLine(line);
      if (page.length < this.limits.pageLines) break;
      await yieldToLoop();
    }
    this.send({ type: 'end', status: note.status, url: note.url, error: note.error });
    this.ws.close(1000, note.status);
  }

  /** Waits for the client to read its queue below the low-water mark; false when it was closed as too slow. */
  private async drained(): Promise<boolean> {
    const since = Date.now();
    while (this.ws.readyState === WebSocket.OPEN && this.ws.bufferedAmount > this.limits.lowWaterBytes) {
      if (Date.now() - since > this.limits.stallMs) {
        this.closeSlow();
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    return this.ws.readyState === WebSocket.OPEN;
  }

  private closeSlow(): void {
    this.ended = true;
    this.ws.close(SLOW_CONSUMER_CLOSE, `too slow: reconnect with since=${this.lastSeq}`);
    setTimeout(() => {
      this.ws.terminate();
    }, TERMINATE_AFTER_MS).unref();
  }

  private wasDirty(): boolean {
    return this.dirty;
  }

  private congested(): boolean {
    return this.ws.bufferedAmount > this.limits.highWaterBytes;
  }

  private sendLine(line: L): void {
    this.send(this.source.view(line));
    this.lastSeq = line.seq;
  }

  private send(message: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
