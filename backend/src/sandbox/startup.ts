import type { Config } from '../config';
import type { Logger } from '../lib/logger';
import { Sandbox } from './sandbox';

/** The roles and adapters that run other people's code on this machine: the local builder and the process runtime. */
export function runsUserCodeHere(config: Config, roles: ReadonlySet<string>, customBuilder: boolean): boolean {
  return (
    (roles.has('buildrelay') && config.builder === 'local' && !customBuilder) ||
    (roles.has('docksage') && config.runtime === 'process')
  );
}

/**
 * The platform's sandbox, after killing what a previous run left behind. Where builds and apps cannot be
 * isolated the platform still starts (a fresh laptop must run `npm start`), says so loudly, and admits only its
 * first user (`singleUser`), unless CLOUDSMITH_ALLOW_UNSANDBOXED=1 says every user is trusted.
 */
export async function startSandbox(config: Config, logger: Logger): Promise<Sandbox> {
  const sandbox = await Sandbox.create({ dataDir: config.dataDir });
  if (!sandbox.isolated) {
    const why = sandbox.unavailableReason ?? 'unknown';
    const risk =
      'builds and apps would run as the platform user, able to read its data directory (secret key, database, ' +
      "every app's env and tokens) and each other's files";
    logger.warn(
      config.allowUnsandboxed
        ? `UNSANDBOXED: ${why}; ${risk}. Every user is admitted (CLOUDSMITH_ALLOW_UNSANDBOXED)`
        : `UNSANDBOXED: ${why}; ${risk}. Only the first GitHub user to sign in may use this platform; install ` +
            'bubblewrap (`bash scripts/sandbox.sh up`) to sandbox builds and admit others',
    );
  }
  if (!sandbox.limited) {
    logger.warn(
      'no writable cgroup hierarchy: build memory is sampled instead of enforced, and apps run without memory, CPU or process limits',
    );
  }
  return sandbox;
}
