import type { LogMessage, LogStage } from '@cloudsmith/client';

// Partial: a newer backend may send a stage this extension does not know yet.
const STAGE_TITLE: Partial<Record<LogStage, string>> = {
  system: 'CloudSmith',
  fetch: 'Fetch source',
  build: 'Build',
  deploy: 'Deploy',
  runtime: 'App',
};

/**
 * Turns a deployment's messages into output-channel lines: a header whenever the stage changes, the log
 * text, and a closing line. Holds only the current stage, so it can resume after a reconnect.
 */
export class LogPrinter {
  private stage: LogStage | undefined;

  constructor(
    private readonly deploymentId: string,
    private readonly repo: string,
  ) {}

  header(): string[] {
    return ['', `━━━ ${this.repo} · deployment ${this.deploymentId.slice(0, 8)} ━━━`];
  }

  lines(message: LogMessage): string[] {
    if (message.type === 'log') {
      const out: string[] = [];
      if (message.stage !== this.stage) {
        this.stage = message.stage;
        out.push(`── ${STAGE_TITLE[message.stage] ?? message.stage} ──`);
      }
      for (const text of message.text.split(/\r?\n/)) out.push(`  ${text}`);
      return out;
    }
    if (message.type === 'end') {
      if (message.status === 'live') return [`✔ live at ${message.url ?? '(no URL)'}`];
      if (message.status === 'failed') return [`✖ failed: ${message.error ?? 'unknown reason'}`];
      return [`■ ${message.status}`];
    }
    return [];
  }

  /**
   * One line per interruption: the stream retries every few seconds while the backend is down, and a line per
   * retry would bury the log (attempt counts up from 1 until a message arrives again).
   */
  reconnecting(since: number, reason: string, attempt = 1): string[] {
    if (attempt > 1) return [];
    return [`  (log stream interrupted: ${reason}; reconnecting, will resume after line ${since})`];
  }
}
