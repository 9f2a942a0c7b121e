import { PHASES, type Phases } from './phases';

/** One stack's measurements, all in ms. */
export interface StackResult {
  label: string;
  /** How many rounds each column is the median of. */
  rounds: number;
  bareCold: number;
  platformCold: number;
  platformWarm: number;
  coldPhases: Phases;
  warmPhases: Phases;
}

export interface BenchResult {
  stacks: StackResult[];
  /** POST /rollback to the runtime routing traffic to the previous release again. */
  rollbackMs?: number;
  /** POST /rollback to the rollback deployment reported live (after the replaced release was stopped). */
  rollbackLiveMs?: number;
  /** POST /deployments to the first log line on the deployment's socket, one per sample. */
  firstLogMs: number[];
  /** Of that, the POST's own answer, one per sample. */
  postMs: number[];
}

export const TARGETS = {
  coldRatio: 1.1,
  warmRatio: 0.4,
  rollbackMs: 2000,
  firstLogP99Ms: 100,
};

const s = (ms: number) => (ms / 1000).toFixed(1);

/** The nearest-rank percentile (p in 0..100); NaN for no samples. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)];
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

/**
 * The bench's one table (markdown, so the README can carry it as printed): per stack the bare and platform times,
 * the ratios, and where the platform's own time went in the cold and the warm deploy; then each target with
 * PASS or FAIL. Returns the lines and whether every target passed.
 */
export function renderReport(result: BenchResult): { lines: string[]; pass: boolean } {
  const phaseCells = (p: Phases) =>
    PHASES.filter((k) => p[k] > 0)
      .map((k) => `${k} ${s(p[k])}`)
      .join(', ');
  const rows = result.stacks.map((r) => [
    r.label,
    String(r.rounds),
    s(r.bareCold),
    s(r.platformCold),
    s(r.platformWarm),
    (r.platformCold / r.bareCold).toFixed(2),
    (r.platformWarm / r.bareCold).toFixed(2),
    phaseCells(r.coldPhases),
    phaseCells(r.warmPhases),
  ]);
  const lines = table(
    [
      'stack',
      'rounds',
      'bare cold (s)',
      'platform cold (s)',
      'platform warm (s)',
      'cold / bare',
      'warm / bare cold',
      'platform cold: where the time goes (s)',
      'platform warm: where the time goes (s)',
    ],
    rows,
  );
  const checks: Array<[string, boolean]> = [];
  for (const r of result.stacks) {
    checks.push([
      `${r.label}: cold ${(r.platformCold / r.bareCold).toFixed(2)}x bare (target <= ${TARGETS.coldRatio}x)`,
      r.platformCold <= TARGETS.coldRatio * r.bareCold,
    ]);
    checks.push([
      `${r.label}: warm ${(r.platformWarm / r.bareCold).toFixed(2)}x bare cold (target <= ${TARGETS.warmRatio}x)`,
      r.platformWarm <= TARGETS.warmRatio * r.bareCold,
    ]);
  }
  if (result.rollbackMs !== undefined) {
    checks.push([
      `rollback to the previous release serving: ${s(result.rollbackMs)} s${result.rollbackLiveMs === undefined ? '' : `, reported live after ${s(result.rollbackLiveMs)} s`} (target < ${s(TARGETS.rollbackMs)} s)`,
      result.rollbackMs < TARGETS.rollbackMs,
    ]);
  }
  if (result.firstLogMs.length) {
    const p99 = percentile(result.firstLogMs, 99);
    checks.push([
      `first streamed log line after POST: p99 ${p99} ms, median ${percentile(result.firstLogMs, 50)} ms over ${result.firstLogMs.length} deploys${result.postMs.length ? ` (the POST's answer: median ${percentile(result.postMs, 50)} ms)` : ''} (target p99 < ${TARGETS.firstLogP99Ms} ms)`,
      p99 < TARGETS.firstLogP99Ms,
    ]);
  }
  lines.push('', ...checks.map(([what, ok]) => `${verdict(ok)}  ${what}`));
  return { lines, pass: checks.every(([, ok]) => ok) };
}
