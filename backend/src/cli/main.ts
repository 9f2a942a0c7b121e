import { parseArgs } from 'node:util';
import { isEntryModule } from './entry';
import {
  ApiError,
  CloudSmithClient,
  streamLogs,
  type DeploymentView,
  type LogMessage,
  type RuntimeLogLine,
} from '@cloudsmith/client';

const USAGE = `usage: cloudsmith <command> [options]

  deploy <owner/name> [--ref R] [--root-dir D] [--env K=V]... [--install-command C]
         [--build-command C] [--start-command C] [--output-dir D] [--no-follow]
                              deploy a repo, stream its logs, print the URL (exit 1 if it fails)
  ls [--repo owner/name]      your apps, or a repo's deployment history
  logs <deployment-id> [--follow]
  logs --app <app> [--follow]  the app's own output (stdout, stderr, and its starts, crashes, restarts)
  cancel <deployment-id>
  redeploy <deployment-id>
  rollback <app> [deployment-id]
                              release an earlier build again (default: the previous live one)
  env <app> [K=V ...]         show the app's env (masked), or replace it
  rm <app>                    stop and delete an app (its history stays)
  previews <app>              the app's previews (one per pull request or branch) and their URLs
  hooks <app> [--enable] [--production-branch B] [--deploy-on-push on|off] [--previews on|off]
        [--register] [--disable]
                              push-to-deploy settings; --enable prints the webhook secret once,
                              --register adds the hook to the GitHub repo (or says what to add by hand)

environment: CLOUDSMITH_API_URL (default http://127.0.0.1:8080), GITHUB_TOKEN (required)`;

class UsageError extends Error {}

const out = (line = '') => process.stdout.write(`${line}\n`);

function parseEnv(pairs: string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env expects KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function printLog(message: LogMessage): void {
  if (message.type === 'log') out(`[${message.stage}] ${message.text}`);
  else if (message.type === 'status') out(`── ${message.status}`);
}

async function follow(client: CloudSmithClient, token: string, deployment: DeploymentView): Promise<number> {
  const result = await streamLogs({
    baseUrl: client.baseUrl,
    token: () => token,
    deploymentId: deployment.id,
    onMessage: printLog,
    onReconnect: (info) =>
      process.stderr.write(`connection lost (${info.reason}); resuming after line ${info.since}\n`),
  });
  if (result.status === 'live') {
    out(`\nLive: ${result.url}`);
    return 0;
  }
  out(`\nDeployment ${result.status}${result.error ? `: ${result.error}` : ''}`);
  return 1;
}

function printRuntimeLine(line: RuntimeLogLine): void {
  out(`${line.at} ${line.stream === 'event' ? '──' : line.stream} ${line.text}`);
}

/** Prints the app's stored runtime log; with follow, then streams new lines until Ctrl-C. */
async function runtimeLogs(client: CloudSmithClient, app: string, follow: boolean): Promise<number> {
  const lines = await client.runtimeLogs(app);
  lines.forEach(printRuntimeLine);
  if (!follow) return 0;
  return new Promise((resolve) => {
    const follower = client.followRuntimeLogs(app, {
      since: lines.at(-1)?.seq ?? 0,
      onLine: printRuntimeLine,
      onError: (err) => {
        process.stderr.write(`cloudsmith: ${err.message}\n`);
        resolve(1);
      },
    });
    process.once('SIGINT', () => {
      follower.close();
      resolve(0);
    });
  });
}

function onOff(flag: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'on' && value !== 'off') throw new UsageError(`${flag} expects on or off, got "${value}"`);
  return value === 'on';
}

function table(rows: string[][]): void {
  const widths = rows[0].map((_c, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const row of rows)
    out(
      row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
}

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ref: { type: 'string' },
      'root-dir': { type: 'string' },
      env: { type: 'string', multiple: true },
      'install-command': { type: 'string' },
      'build-command': { type: 'string' },
      'start-command': { type: 'string' },
      'output-dir': { type: 'string' },
      'no-follow': { type: 'boolean' },
      follow: { type: 'boolean' },
      app: { type: 'string' },
      repo: { type: 'string' },
      enable: { type: 'boolean' },
      disable: { type: 'boolean' },
      register: { type: 'boolean' },
      'production-branch': { type: 'string' },
      'deploy-on-push': { type: 'string' },
      previews: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  // Asked for: success. A bare `cloudsmith`: the usage, as an error.
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (!command) {
    out(USAGE);
    return 2;
  }
  const token = env.GITHUB_TOKEN;
  if (!token)
    throw new UsageError('set GITHUB_TOKEN to a GitHub token (it is sent only to the CloudSmith API, as a header)');
  const client = new CloudSmithClient({
    baseUrl: env.CLOUDSMITH_API_URL || 'http://127.0.0.1:8080',
    token: () => token,
  });
  const need = (name: string) => {
    const value = args.shift();
    if (!value) throw new UsageError(`${command} needs <${name}>`);
    return value;
  };

  switch (command) {
    case 'deploy': {
      const deployment = await client.deploy({
        repo: need('owner/name'),
        ref: values.ref,
        rootDir: values['root-dir'],
        env: values.env ? parseEnv(values.env) : undefined,
        installCommand: values['install-command'],
        buildCommand: values['build-command'],
        startCommand: values['start-command'],
        outputDir: values['output-dir'],
      });
      out(`Deployment ${deployment.id} queued for ${deployment.app} (${deployment.repo}@${deployment.ref})`);
      return values['no-follow'] ? 0 : follow(client, token, deployment);
    }
    case 'ls': {
      if (values.repo) {
        const history = await client.listDeployments(values.repo);
        table([
          ['ID', 'STATUS', 'COMMIT', 'CREATED', 'URL'],
          ...history.map((d) => [d.id, d.status, d.commitSha?.slice(0, 7) ?? '', d.createdAt, d.url ?? '']),
        ]);
      } else {
        const apps = await client.listApps();
        table([
          ['APP', 'REPO', 'URL', 'LIVE DEPLOYMENT'],
          ...apps.map((a) => [a.name, a.repo, a.url ?? '', a.liveDeploymentId ?? '']),
        ]);
      }
      return 0;
    }
    case 'logs': {
      if (values.app !== undefined) return runtimeLogs(client, values.app, values.follow === true);
      const id = need('deployment-id');
      if (values.follow) return follow(client, token, await client.getDeployment(id));
      for (const line of await client.logs(id)) printLog(line);
      return 0;
    }
    case 'cancel': {
      const d = await client.cancel(need('deployment-id'));
      out(`Deployment ${d.id} ${d.status}`);
      return 0;
    }
    case 'redeploy': {
      const d = await client.redeploy(need('deployment-id'));
      out(`Deployment ${d.id} queued`);
      return values['no-follow'] ? 0 : follow(client, token, d);
    }
    case 'rollback': {
      const app = need('app');
      let target = args.shift();
      if (!target) {
        const history = await client.listDeployments(undefined, 200);
        target = history.find((d) => d.app === app && d.status === 'superseded')?.id;
        if (!target) throw new UsageError(`${app} has no earlier release to roll back to`);
      }
      const d = await client.rollback(app, target);
      out(`Rolling back ${app} to ${target}: deployment ${d.id}`);
      return values['no-follow'] ? 0 : follow(client, token, d);
    }
    case 'env': {
      const app = need('app');
      const current = args.length > 0 ? await client.putEnv(app, parseEnv(args)) : await client.getEnv(app);
      for (const [key, value] of Object.entries(current)) out(`${key}=${value}`);
      return 0;
    }
    case 'rm': {
      const app = need('app');
      await client.deleteApp(app);
      out(`Deleted ${app}`);
      return 0;
    }
    case 'previews': {
      const previews = await client.previews(need('app'));
      table([
        ['PREVIEW', 'OF', 'URL'],
        ...previews.map((p) => [
          p.name,
          p.preview?.pr ? `#${p.preview.pr} (${p.preview.ref})` : (p.preview?.ref ?? ''),
          p.url ?? '',
        ]),
      ]);
      return 0;
    }
    case 'hooks': {
      const app = need('app');
      if (values.disable) {
        await client.disableHook(app);
        out(`Push hook of ${app} disabled`);
        return 0;
      }
      const settings = {
        productionBranch: values['production-branch'],
        deployOnPush: onOff('--deploy-on-push', values['deploy-on-push']),
        previews: onOff('--previews', values.previews),
      };
      let hook = values.enable
        ? await client.enableHook(app, { ...settings, productionBranch: undefined, branch: settings.productionBranch })
        : Object.values(settings).some((v) => v !== undefined)
          ? await client.putHookSettings(app, settings)
          : await client.hookSettings(app);
      if (values.register) {
        const registration = await client.registerHook(app);
        if (!registration.registered) {
          const m = registration.manual;
          out(`Not registered (${registration.reason}). Add it in the repo's Settings → Webhooks:`);
          table([
            ['Payload URL', m.payloadUrl],
            ['Content type', m.contentType],
            ['Secret', m.secret],
            ['Events', m.events.join(', ')],
          ]);
          return 1;
        }
        hook = await client.hookSettings(app);
      }
      table([
        ['Payload URL', hook.url],
        ['Content type', hook.contentType],
        ['Events', hook.events.join(', ')],
        ['Production branch', hook.productionBranch],
        ['Deploy on push', hook.deployOnPush ? 'on' : 'off'],
        ['Previews', `${hook.previews ? 'on' : 'off'} (at most ${hook.maxPreviews})`],
        ['On GitHub', hook.hookId === null ? 'not registered by CloudSmith' : `hook ${hook.hookId}`],
        ...(hook.secret ? [['Secret (shown once)', hook.secret]] : []),
      ]);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

/** The command line's exit: usage errors are 2, everything else that went wrong 1. */
export function main(argv: string[] = process.argv.slice(2)): void {
  run(argv, process.env).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) process.stderr.write(`cloudsmith: ${err.message}\n`);
      else if (err instanceof ApiError) process.stderr.write(`cloudsmith: ${err.message} (HTTP ${err.status})\n`);
      else process.stderr.write(`cloudsmith: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}

// `node dist/cli/main.js` runs the command directly; bin/cloudsmith.js (what npx runs through the
// node_modules/.bin symlink) calls main() itself, so importing this module never runs anything.
if (isEntryModule(__filename)) main();
