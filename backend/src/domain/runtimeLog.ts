import { LINE_OVERHEAD_BYTES } from '../adapters/store/logChunks';

/** Where a line of a live app came from; "event" lines are the runtime's own (started, crashed, restarted, stopped). */
export type RuntimeStream = 'stdout' | 'stderr' | 'event';

export interface NewRuntimeLogLine {
  at: string;
  deploymentId: string;
  stream: RuntimeStream;
  text: string;
}

/** One line of an app's runtime log; seq is per app, from 1, never reused. */
export interface RuntimeLogLine extends NewRuntimeLogLine {
  seq: number;
}

/** What one line costs against the app's retention: its text plus the per-line overhead the stores count everywhere. */
export function runtimeLineBytes(line: { text: string }): number {
  return Buffer.byteLength(line.text) + LINE_OVERHEAD_BYTES;
}
