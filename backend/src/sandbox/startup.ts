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
 * isolated the platform refuses to start, loudly, unless CLOUDSMITH_ALLOW_UNSANDBOXED=1 says this machine
 * has a single user who trusts every repo they deploy.
 */
export async function startSandbox(config: Config, logger: Logger): Promise<Sandbox> {
  const sandbox = await Sandbox.create({ dataDir: config.dataDir });
  if (!sandbox.isolated) {
    const why = sandbox.unavailableReason ?? 'unknown';
    const risk =
      'builds and apps would run as the platform user, able to read its data directory (secret key, database, ' +
      "every app's env and tokens) and each other's files";
    if (!config.allowUnsandboxed) {
      throw new Error(
        `CloudSmith cannot sandbox builds and apps on this machine (${why}): ${risk}. Install bubblewrap ` +
          '(`apt-get install bubblewrap`, or `bash scripts/sandbox.sh up`), or, for a single-user machine that ' +
          'trusts every repo it deploys, start with CLOUDSMITH_ALLOW_UNSANDBOXED=1',
      );
    }
    logger.warn(
      `UNSANDBOXED: ${why}; ${risk}. Allowed by CLOUDSMITH_ALLOW_UNSANDBOXED: do not let other users deploy here`,
    );
  }
  if (!sandbox.limited) {
    logger.warn(
      'no writable cgroup hierarchy: build memory is sampled instead of enforced, and apps run without memory, CPU or process limits',
    );
  }
  return sandbox;
}
