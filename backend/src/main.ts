import { parseArgs } from 'node:util';
import { loadConfig } from './config';
import { errorMessage } from './domain/errors';
import { banner } from './banner';
import { ROLES, startPlatform, type Role } from './compose/platform';

/**
 * `npm start` (= `node dist/main.js` once compiled, see bin/build.js): the whole platform in one process (embedded).
 * `npm start -- --service buildrelay`: one service of the distributed platform (repeat or comma-separate for more).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { service: { type: 'string', multiple: true } } });
  const requested = (values.service ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = requested.filter((s) => !(ROLES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`unknown service ${unknown.join(', ')}; choose from ${ROLES.join(', ')}`);
  let stop: (reason: string) => void = (reason) => {
    // Not started yet: nothing to close.
    process.stderr.write(`cloudsmith: ${reason} during start-up\n`);
    process.exit(1);
  };
  watchParent(() => {
    stop('parent exited');
  });
  const config = loadConfig();
  const roles = requested.length > 0 ? (requested as Role[]) : undefined;
  const platform = await startPlatform({ config, roles });
  process.stdout.write(banner(config, roles ?? ROLES, platform.url, platform.port));
  let stopping = false;
  stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping CloudSmith\n`);
    platform.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
}

/**
 * `npm start` leaves npm as this process's parent. A supervisor that kills npm with SIGKILL gives npm no chance
 * to pass the signal on, so the service notices its parent is gone (it is re-parented) and stops itself: one
 * `kill -9` of the documented process stops the service. Started by anything else, it watches nothing.
 */
function watchParent(onGone: () => void): void {
  if (process.env.npm_lifecycle_event !== 'start') return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, 500);
  timer.unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`cloudsmith: ${errorMessage(err)}\n`);
  process.exit(1);
});
