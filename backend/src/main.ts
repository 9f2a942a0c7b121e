import { parseArgs } from 'node:util';
import { loadConfig } from './config';
import { errorMessage } from './domain/errors';
import { ROLES, startPlatform, type Role } from './compose/platform';

/**
 * `npm start`: the whole platform in one process (embedded).
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
  const config = loadConfig();
  const roles = requested.length > 0 ? (requested as Role[]) : undefined;
  const platform = await startPlatform({ config, roles });
  if (!roles) {
    process.stdout.write(
      `CloudSmith is running (embedded) at ${platform.url}\n` +
        `  apps are served at http://<app>.${config.appDomain}:${platform.port}\n` +
        `  state: ${config.dataDir}\n` +
        `  deploy: GITHUB_TOKEN=... npx cloudsmith deploy owner/repo   (or the VS Code extension)\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
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
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`cloudsmith: ${errorMessage(err)}\n`);
  process.exit(1);
});
