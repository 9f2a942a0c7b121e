import type { Stage } from '../domain/deployment';
import { UserFacingError } from '../domain/errors';

/**
 * Stops work whose output has used up its log budget: a flood (`yes` as a build or start command) is cut at the
 * budget instead of being read, split and dropped line by line for as long as it runs, which would keep the
 * platform's event loop busy.
 */
export function guardOutput(
  signal: AbortSignal,
  write: (text: string, stage: Stage) => boolean,
  reason: string,
): { signal: AbortSignal; log(text: string, stage: Stage): void; rethrow(err: unknown): never } {
  const over = new AbortController();
  return {
    signal: AbortSignal.any([signal, over.signal]),
    log(text, stage) {
      if (!write(text, stage) && !over.signal.aborted) over.abort(new UserFacingError(reason));
    },
    rethrow(err) {
      throw over.signal.aborted ? (over.signal.reason as Error) : err;
    },
  };
}
