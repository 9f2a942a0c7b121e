import type { Stage } from '../domain/deployment';
import type { NewLogLine } from '../ports/store';
import { LINE_OVERHEAD_BYTES } from '../adapters/store/logChunks';
import { LineStreamMasker, maskSecrets } from '../security/masker';

const MAX_LINE = 8192;
const MIB = 1024 * 1024;

/**
 * What one deployment may keep of the output of code the platform did not write, per stage, counted as stored
 * bytes (text plus per-line overhead, so a flood of one-character lines is bounded too). The runtime's budget
 * covers the app's output before its health check passes; once live, its output stays in the runtime's ring buffer.
 */
export const OUTPUT_BUDGET_BYTES: Partial<Record<Stage, number>> = { build: 8 * MIB, runtime: 2 * MIB, fetch: MIB };

export function budgetMiB(stage: Stage): number {
  return (OUTPUT_BUDGET_BYTES[stage] ?? 0) / MIB;
}

/**
 * The way into a deployment's stored log: lines are masked as one raw stream (multi-line secrets included) before
 * anything else sees them, long lines are cut, and each stage's output stops being kept at its budget with one line
 * saying so. Platform stages (deploy, system) are written by the platform itself and are never cut.
 */
export class LogIntake {
  private readonly masker = new LineStreamMasker();
  private secrets: string[] = [];
  private heldStage?: Stage;
  private readonly spent = new Map<Stage, number>();

  addSecrets(secrets: readonly string[]): void {
    this.secrets.push(...secrets.filter(Boolean));
    this.masker.setSecrets(this.secrets);
  }

  /** Masks a value leaving the platform outside the log (a deployment's `error`, a status message). */
  mask(text: string): string {
    return maskSecrets(text, this.secrets);
  }

  /** Takes text (one or more lines) written by `stage`; returns the lines to store, in order. */
  accept(stage: Stage, text: string): NewLogLine[] {
    const out = this.heldStage !== stage ? this.release() : [];
    this.heldStage = stage;
    // A flood past its budget costs a comparison per write, not a masking pass per line.
    if (this.exhausted(stage)) return out;
    for (const raw of text.split(/\r?\n/)) {
      for (const line of this.masker.push(raw)) this.keep(out, stage, line);
    }
    return out;
  }

  /** Lines held back as the possible start of a secret: released (masked) when the stream pauses for a status change. */
  release(): NewLogLine[] {
    const out: NewLogLine[] = [];
    if (this.heldStage) for (const line of this.masker.end()) this.keep(out, this.heldStage, line);
    return out;
  }

  /** Whether `stage` may still write: false once its output budget is used up. */
  within(stage: Stage): boolean {
    return !this.exhausted(stage);
  }

  private exhausted(stage: Stage): boolean {
    const budget = OUTPUT_BUDGET_BYTES[stage];
    return budget !== undefined && (this.spent.get(stage) ?? 0) > budget;
  }

  private keep(out: NewLogLine[], stage: Stage, line: string): void {
    const text = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)} …[line cut]` : line;
    const budget = OUTPUT_BUDGET_BYTES[stage];
    if (budget !== undefined) {
      const spent = this.spent.get(stage) ?? 0;
      if (spent > budget) return;
      const next = spent + Buffer.byteLength(text) + LINE_OVERHEAD_BYTES;
      this.spent.set(stage, next);
      if (next > budget) {
        out.push({
          ts: stamp(),
          stage,
          text: `[cloudsmith] ${stage} output beyond ${budget / MIB} MiB is not kept for this deployment`,
        });
        return;
      }
    }
    out.push({ ts: stamp(), stage, text });
  }
}

let stampedMs = 0;
let stampedIso = '';

/** Now as ISO text, formatted once per millisecond: a flood writes thousands of lines in one. */
function stamp(): string {
  const ms = Date.now();
  if (ms !== stampedMs) {
    stampedMs = ms;
    stampedIso = new Date(ms).toISOString();
  }
  return stampedIso;
}
