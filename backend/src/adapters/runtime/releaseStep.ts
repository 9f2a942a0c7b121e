import { UserFacingError } from '../../domain/errors';
import type { RunPlan } from '../../domain/deployment';
import { describeCommand, runCommand, type RunOptions } from '../../sandbox/run';

/** A release step (migrations) gets this long and this much output before it is stopped. */
export const RELEASE_TIMEOUT_MS = 10 * 60_000;
export const RELEASE_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

export interface ReleaseStepOptions extends Pick<RunOptions, 'cwd' | 'env' | 'signal' | 'sandbox'> {
  log(line: string): void;
}

/**
 * Runs the plan's release command (Procfile `release:`) once, in the new release's directory with the
 * app's env, before the release starts; through the same spawn path (and sandbox) as everything else.
 * A failure fails the deploy, so the previous release keeps serving.
 */
export async function runReleaseStep(plan: RunPlan, opts: ReleaseStepOptions): Promise<void> {
  if (!plan.release?.length) return;
  const cmd = { argv: plan.release };
  opts.log(`Running the release step: ${releaseLabel(plan.release)}`);
  const started = Date.now();
  try {
    await runCommand(cmd, {
      cwd: opts.cwd,
      env: opts.env,
      timeoutMs: RELEASE_TIMEOUT_MS,
      maxOutputBytes: RELEASE_MAX_OUTPUT_BYTES,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.sandbox ? { sandbox: opts.sandbox } : {}),
      onLine: (line) => {
        opts.log(line);
      },
    });
  } catch (err) {
    throw releaseFailed(err instanceof Error ? err.message.replace(/^build timed out/, 'timed out') : String(err));
  }
  opts.log(releaseFinished(started));
}

/** The release command as the user wrote it (a Procfile line runs as `sh -c <line>`). */
export function releaseLabel(argv: string[]): string {
  return (argv[0] === 'sh' || argv[0] === '/bin/sh') && argv[1] === '-c' ? (argv[2] ?? '') : describeCommand({ argv });
}

export function releaseFailed(why: string): UserFacingError {
  return new UserFacingError(`the release step failed (${why}); the previous release keeps serving`);
}

export function releaseFinished(started: number): string {
  return `Release step finished in ${((Date.now() - started) / 1000).toFixed(1)} s`;
}
