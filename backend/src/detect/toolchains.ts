import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A language toolchain found on the platform's PATH: its absolute path (builds get a clean PATH) and version. */
export interface Toolchain {
  path: string;
  version: string;
}

const PROBE_TIMEOUT_MS = 15_000;
const found = new Map<string, Toolchain | null>();

function onPath(name: string): string[] {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .filter((file) => existsSync(file));
}

/** Runs the platform's own toolchain binary (never the app's code) to learn its version. */
function probe(file: string, args: string[]): string | undefined {
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      timeout: PROBE_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

function cached<T extends Toolchain>(name: string, find: () => T | undefined): T | undefined {
  if (!found.has(name)) found.set(name, find() ?? null);
  // Each name is only ever stored by its own finder, so the entry has that finder's type.
  return (found.get(name) as T | null | undefined) ?? undefined;
}

export interface PythonToolchain extends Toolchain {
  /** The interpreter's own pip when it can install into another environment (`pip --python`, pip >= 22.3). */
  pipTargets: boolean;
}

// -s: the build's HOME is not the platform's, so a pip in the platform user's site-packages would not be there.
const PYTHON_PROBE = [
  'import sys, ensurepip, venv',
  'print("%d.%d.%d" % sys.version_info[:3]); print(sys.executable)',
  'try:\n import pip; print(pip.__version__)\nexcept ImportError: print("")',
].join('\n');

/**
 * A Python 3 that can make virtualenvs (Debian's python3 without python3-venv cannot). Asking the
 * interpreter for sys.executable also sees through version-manager shims such as pyenv's.
 */
export function findPython(): PythonToolchain | undefined {
  return cached('python', () => {
    for (const candidate of onPath('python3')) {
      const out = probe(candidate, ['-s', '-c', PYTHON_PROBE]);
      // No pip: the last line is empty, and trim() takes it away.
      const [version, path, pip = ''] = out?.trim().split('\n') ?? [];
      const [major, minor] = pip.split('.').map(Number);
      if (version && path) return { version, path, pipTargets: major > 22 || (major === 22 && minor >= 3) };
    }
    return undefined;
  });
}

export function findGo(): Toolchain | undefined {
  return cached('go', () => {
    for (const candidate of onPath('go')) {
      const version = probe(candidate, ['env', 'GOVERSION'])?.trim().replace(/^go/, '');
      if (version) return { version, path: candidate };
    }
    return undefined;
  });
}

/** The host's Node: it runs every Node app (there is no per-app Node version switching). */
export function nodeVersion(): string {
  return process.version.replace(/^v/, '');
}
