import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A file of runtime-assets/, the plain JavaScript the platform puts beside code it did not write (a static
 * server in artifacts, a preload in builds). The directory sits at the backend package root; it is found by
 * walking up, so it works from src/ (tsx) and from a compiled dist/.
 */
export function runtimeAsset(name: string): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'runtime-assets', name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`runtime-assets/${name} not found above ${__dirname}`);
    dir = parent;
  }
}
