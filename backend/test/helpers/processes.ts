import { readFileSync } from 'node:fs';

/**
 * Whether `pid` is a running process. A zombie (state Z) or dying one (X) counts as gone: it has exited and
 * only waits for its parent to reap it, which `process.kill(pid, 0)` would still report as alive.
 */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may itself contain ") ".
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
