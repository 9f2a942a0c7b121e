import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheSpec } from './stacks';

/**
 * What a cache was built from. Only hashes are kept (never the app's env values, which may be secrets), and the
 * parts are compared one by one so the log can say which of them changed.
 */
export interface CacheKey {
  lockfiles: string;
  toolchain: string;
  commands: string;
  env: string;
}

function sha256(parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

/**
 * The key of a build of `root` now: the present lockfiles' contents, the toolchain, the commands and the app's
 * env, whose hash is keyed with the cache's own secret `salt` so a stored key says nothing about a secret's value.
 */
export async function computeKey(
  spec: CacheSpec,
  root: string,
  appEnv: Record<string, string>,
  salt: Buffer,
): Promise<CacheKey> {
  const files: (string | Buffer)[] = [];
  for (const name of spec.lockfiles) {
    const content = await readFile(join(root, name)).catch(() => undefined);
    if (content) files.push(name, content);
  }
  // The app's env reaches install scripts (npm_config_*, PIP_INDEX_URL...): a changed value may change what installs.
  const env = createHmac('sha256', salt);
  for (const [name, value] of Object.entries(appEnv).sort(([a], [b]) => a.localeCompare(b)))
    env.update(name).update('\0').update(value).update('\0');
  return {
    lockfiles: sha256(files),
    toolchain: spec.toolchain,
    commands: sha256([spec.commands]),
    env: env.digest('hex'),
  };
}

/** Why a cache made under `saved` does not fit a build with `now`, or undefined when it does. */
export function mismatch(saved: CacheKey, now: CacheKey): string | undefined {
  if (saved.toolchain !== now.toolchain) return `toolchain changed (${saved.toolchain} → ${now.toolchain})`;
  if (saved.lockfiles !== now.lockfiles) return 'lockfile changed';
  if (saved.commands !== now.commands) return 'install or build command changed';
  if (saved.env !== now.env) return 'environment changed';
  return undefined;
}

/** What Sealer.derive is given for the salt of env hashes in cache keys: every builder of the platform uses it. */
export const BUILD_CACHE_SALT = 'build cache: env hash';
