import { mkdirSync } from 'node:fs';
import type { Logger } from '../lib/logger';

/**
 * Creates the data directory (the key and the database in it are 0600 each; the directory itself stays reachable
 * for sandboxed apps, which run from their release directory inside it). A platform running as root is
 * said loudly: whatever it runs where the sandbox cannot drop privileges would run as root too.
 */
export function securePlatformDirs(dataDir: string, logger: Logger, uid = process.getuid?.()): void {
  mkdirSync(dataDir, { recursive: true });
  if (uid === 0) {
    logger.warn(
      'the platform is running as root: run it as an unprivileged user (builds and apps must not inherit root)',
      { uid },
    );
  }
}
