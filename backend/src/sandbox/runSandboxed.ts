import { runCommand, type Command, type RunOptions } from './run';
import type { Sandbox, SandboxSpec } from './sandbox';

export interface SandboxedRunOptions extends Omit<RunOptions, 'sandbox' | 'maxMemoryMb' | 'cwd'> {
  sandbox: Sandbox;
  spec: SandboxSpec;
}

/**
 * Runs one command (a build step) in a fresh sandbox with its own cgroup, and removes the cgroup after:
 * the command, everything it started (setsid included) and its limits live and die together.
 */
export async function runSandboxed(cmd: Command, opts: SandboxedRunOptions): Promise<void> {
  const { sandbox, spec, ...run } = opts;
  const prepared = await sandbox.prepare(spec);
  try {
    await runCommand(cmd, { ...run, cwd: spec.cwd, maxMemoryMb: spec.limits.memoryMb, sandbox: prepared });
  } finally {
    await prepared.dispose();
  }
}
