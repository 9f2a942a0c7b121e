import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * Host pids of running processes whose command line and environment pass `match`. Sandboxed builds and apps
 * live in PID namespaces of their own, so the pids they print are not host pids: tests find them by what
 * they run and the HOME (inside the test's data dir) they run with.
 */
export function pidsWhere(match: (p: { cmdline: string; environ: string }) => boolean): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1');
      const environ = readFileSync(`/proc/${name}/environ`, 'latin1');
      if (match({ cmdline, environ }) && alive(Number(name))) found.push(Number(name));
    } catch {
      // Gone between listing and reading.
    }
  }
  return found;
}

/** A process's command line, its NUL separators as spaces; '' once the process has gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8')
      .replace(/\0/g, ' ')
      .trim();
  } catch {
    return '';
  }
}

/** Every process below `root`, found through /proc's parent links (builds run in their own process groups). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may contain spaces and parentheses; the fields after its closing paren are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone between listing and reading.
    }
  }
  const found: number[] = [];
  const queue = [root];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
