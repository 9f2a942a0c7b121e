import type { ReconnectInfo, RuntimeLogLine } from '@cloudsmith/client';

// eslint-disable-next-line no-control-regex -- ANSI colour codes are control characters by definition
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Local wall-clock time of a line, as the channel shows it. */
export function clock(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? '--:--:--' : at.toTimeString().slice(0, 8);
}

/** The runtime's own events get a mark of their own, so a crash never reads like the app's output. */
function eventMark(text: string): string {
  if (/crash|exit|killed|unhealthy/i.test(text)) return '✖';
  if (/stop/i.test(text)) return '■';
  return '▶';
}

/**
 * The "CloudSmith: App Logs" channel's text for one app: the app's stdout and stderr lines with their time,
 * stderr marked, the runtime's events (started, crashed, restarted, stopped) as lines of their own, a rule when
 * another release starts writing, and one line per interruption of the stream.
 */
export class AppLogPrinter {
  private release: string | undefined;
  private lastSeq = 0;

  constructor(private readonly app: string) {}

  header(): string[] {
    return [`━━━ ${this.app} · runtime logs (following) ━━━`];
  }

  lines(line: RuntimeLogLine): string[] {
    const out: string[] = [];
    if (this.lastSeq > 0 && line.seq > this.lastSeq + 1)
      out.push(`  … ${line.seq - this.lastSeq - 1} older lines are no longer kept (bounded retention)`);
    this.lastSeq = Math.max(this.lastSeq, line.seq);
    if (line.deploymentId !== this.release) {
      this.release = line.deploymentId;
      out.push(`── release of deployment ${line.deploymentId.slice(0, 8)} ──`);
    }
    const time = clock(line.at);
    const texts = line.text.replace(ANSI, '').replace(/\r/g, '').replace(/\n$/, '').split('\n');
    for (const text of texts) {
      if (line.stream === 'event') out.push(`[${time}] ${eventMark(text)} ━━ ${text} ━━`);
      else if (line.stream === 'stderr') out.push(`[${time}] stderr │ ${text}`);
      else out.push(`[${time}]        │ ${text}`);
    }
    return out;
  }

  /** Said once per interruption (the client retries with backoff): where the stream resumes. */
  reconnecting(info: Pick<ReconnectInfo, 'attempt' | 'since' | 'reason'>): string[] {
    if (info.attempt !== 1) return [];
    return [`  ⋯ the log stream dropped (${info.reason}); resuming after line ${info.since}`];
  }

  stopped(reason: string): string[] {
    return [`  ⋯ stopped following ${this.app}: ${reason}. Run "CloudSmith: Show App Logs" to follow again.`];
  }
}
