import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Memory an app uses, in bytes: its cgroup's charge when it runs in one (v1 memory.usage_in_bytes, v2 memory.current:
 * every process of the app, page cache included), else the resident set of its leading process (/proc/<pid>/status
 * VmRSS). Undefined when neither can be read.
 */
export function readMemoryBytes(where: { cgroupDirs?: readonly string[]; pid?: number }): number | undefined {
  for (const dir of where.cgroupDirs ?? []) {
    for (const file of ['memory.usage_in_bytes', 'memory.current']) {
      const text = readOr(join(dir, file)).trim();
      if (text !== '' && Number.isFinite(Number(text))) return Number(text);
    }
  }
  if (where.pid === undefined) return undefined;
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readOr(`/proc/${where.pid}/status`));
  return match ? Number(match[1]) * 1024 : undefined;
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
