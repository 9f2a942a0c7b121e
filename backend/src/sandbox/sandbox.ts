import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { appUid } from './appUids';
import { Cgroup, CgroupManager, type SandboxLimits } from './cgroup';

export type { SandboxLimits } from './cgroup';

/** What one sandboxed run (a build step, or a live app with its restarts) may see and use. */
export interface SandboxSpec {
  /** The tenant: its uid, HOME and package-manager caches follow it, never shared with another app. */
  app: string;
  /** Names the run's cgroup, e.g. `build-<deploymentId>`; [A-Za-z0-9._-] only. */
  label: string;
  cwd: string;
  /** Directories the run may write (the build's source tree, the release), bound at their own paths. */
  writable: string[];
  /** Extra directories it may read (a toolchain outside /usr, a read-only shared cache). */
  readOnly?: string[];
  limits: SandboxLimits;
}

/** A sandbox ready to run commands: put `prefix` before the command's argv and spawn it with `detached: true`. */
export interface PreparedSandbox {
  prefix: string[];
  /** Present when limits are enforced by the kernel (cgroups); otherwise the caller polls memory itself. */
  cgroup?: Cgroup;
  /** SIGKILLs every process of the run, wherever it moved (new session, new process group). */
  kill(): void;
  /** The memory limit, not the program, ended the run. */
  oomKilled(): boolean;
  /** Kills what is left and removes the cgroup. */
  dispose(): Promise<void>;
}

export interface SandboxOptions {
  dataDir: string;
  /** Use bubblewrap when it works here (default); `off` runs commands unisolated (tests of the fallback). */
  isolation?: 'auto' | 'off';
  /** First uid handed to apps when the platform runs as root; each app gets its own, remembered in the data dir. */
  uidBase?: number;
}

const SAFE_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$/;
const DEFAULT_UID_BASE = 3_000_000;
/** Joins the cgroups given before `--`, then execs the rest: the run is inside its limits before its first instruction. */
const JOIN_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/**
 * The one way the platform runs code it did not write (build steps and app processes). With bubblewrap:
 * a mount view of the system read-only plus only the run's own directories writable (the data directory,
 * the secret key, the database and other apps are not there at all), its own /proc and PID namespace (so
 * `setsid` cannot escape and killing the sandbox kills everything in it), its own IPC and UTS namespaces,
 * a uid per app when the platform is root (else an unprivileged user namespace), a HOME per app, and a
 * cgroup per run for memory, CPU and process limits. The network is shared: builds install packages and
 * apps serve on a loopback port behind the proxy.
 */
export class Sandbox {
  private constructor(
    private readonly opts: SandboxOptions,
    private readonly bwrap: string | undefined,
    private readonly cgroups: CgroupManager | undefined,
    /** Why isolation is unavailable, for the platform's startup warning. */
    readonly unavailableReason: string | undefined,
  ) {}

  /** Probes bubblewrap and cgroups, and first kills whatever a previous run of this platform left running. */
  static async create(opts: SandboxOptions): Promise<Sandbox> {
    const dir = join(opts.dataDir, 'sandbox');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const registry = join(dir, 'cgroups');
    await CgroupManager.reap(registry);
    const tag = createHash('sha256').update(realpathSync(opts.dataDir)).digest('hex').slice(0, 12);
    const cgroups = CgroupManager.detect(tag, registry);
    if (opts.isolation === 'off') return new Sandbox(opts, undefined, cgroups, 'isolation is turned off');
    const probe = probeBwrap(isRoot() ? (opts.uidBase ?? DEFAULT_UID_BASE) : undefined);
    return new Sandbox(opts, probe.path, cgroups, probe.error);
  }

  /** At shutdown, after the runtime stopped its apps: whatever is still inside dies, and the cgroups go. */
  async close(): Promise<void> {
    await this.cgroups?.close();
  }

  /** Whether runs are isolated (bubblewrap works here). */
  get isolated(): boolean {
    return this.bwrap !== undefined;
  }

  /** Whether memory, CPU and process limits are enforced by the kernel. */
  get limited(): boolean {
    return this.cgroups !== undefined;
  }

  /** The app's own HOME (npm, pip, go caches live under it), shared by its builds and its processes only. */
  homeFor(app: string): string {
    assertLabel(app);
    return join(this.opts.dataDir, 'sandbox', 'homes', app);
  }

  /** The uid the app's code runs as, or undefined when the platform cannot switch users (not root). */
  uidFor(app: string): number | undefined {
    if (!isRoot() || !this.bwrap) return undefined;
    assertLabel(app);
    return appUid(join(this.opts.dataDir, 'sandbox'), app, this.opts.uidBase ?? DEFAULT_UID_BASE);
  }

  /** Gives the app's uid a directory the platform wrote (fetched source, unpacked release, HOME). */
  async handOver(app: string, dir: string): Promise<void> {
    const uid = this.uidFor(app);
    if (uid === undefined) return;
    await new Promise<void>((resolvePromise, reject) => {
      // -h: a symlink in the tree is re-owned itself, never the file it points to.
      const child = spawn('chown', ['-R', '-h', `${uid}:${uid}`, '--', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolvePromise();
        else reject(new Error(`chown ${dir} failed: ${stderr.trim()}`));
      });
    });
  }

  /** Sets up the run's HOME and cgroup and returns the argv prefix that enters the sandbox. */
  async prepare(spec: SandboxSpec): Promise<PreparedSandbox> {
    assertLabel(spec.label);
    const home = this.homeFor(spec.app);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    // Whoever created it (cleanEnv makes it too), it must be the app's before the app's code runs.
    const uid = this.uidFor(spec.app);
    if (uid !== undefined && statSync(home).uid !== uid) await this.handOver(spec.app, home);
    const cgroup = this.cgroups?.create(`${spec.label}-${randomBytes(3).toString('hex')}`, spec.limits);
    const prefix: string[] = [];
    if (cgroup) prefix.push('/bin/sh', '-c', JOIN_CGROUPS, 'cloudsmith-sandbox', ...cgroup.procsFiles, '--');
    if (this.bwrap) prefix.push(this.bwrap, ...bwrapArgs({ ...spec, writable: [home, ...spec.writable] }, uid));
    return {
      prefix,
      cgroup,
      kill: () => cgroup?.kill(),
      oomKilled: () => (cgroup?.oomKills() ?? 0) > 0,
      dispose: async () => {
        await cgroup?.destroy();
      },
    };
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Root's bubblewrap sets the sandbox up without a user namespace, keeping only the capabilities to change
 * user; setpriv then becomes the app's uid (which drops those too) before the command runs. The app's
 * processes are plain unprivileged processes of their own uid, on the host as inside.
 */
function dropToUid(uid: number): string[] {
  return [
    '--cap-add',
    'CAP_SETUID',
    '--cap-add',
    'CAP_SETGID',
    '--',
    '/usr/bin/setpriv',
    `--reuid=${uid}`,
    `--regid=${uid}`,
    '--clear-groups',
    '--no-new-privs',
    '--',
  ];
}

function assertLabel(value: string): void {
  if (!SAFE_LABEL.test(value) || value.includes('..')) throw new Error(`invalid sandbox label "${value}"`);
}

/** Top-level system directories some distributions make symlinks into /usr (merged /usr) and others real. */
const SYSTEM_ROOTS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The mount view: /usr, /etc and the Node toolchain read-only, a fresh /tmp, /proc of its own PID namespace
 * and a minimal /dev. Nothing else of the host (the data directory, /root, /home, the platform's checkout)
 * exists inside, except the run's HOME and writable directories, and extra read-only ones.
 */
function bwrapArgs(spec: SandboxSpec, uid: number | undefined): string[] {
  const args = [
    '--die-with-parent',
    '--new-session',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    'sandbox',
    '--ro-bind',
    '/usr',
    '/usr',
    '--ro-bind',
    '/etc',
    '/etc',
  ];
  for (const root of SYSTEM_ROOTS) {
    const kind = lstatOrUndefined(root);
    if (kind?.isSymbolicLink()) args.push('--symlink', readlinkSync(root), root);
    else if (kind?.isDirectory()) args.push('--ro-bind', root, root);
  }
  // resolv.conf often points here (systemd-resolved); installs need DNS.
  args.push('--ro-bind-try', '/run/systemd/resolve', '/run/systemd/resolve');
  const nodePrefix = resolve(dirname(process.execPath), '..');
  if (!nodePrefix.startsWith('/usr/') && nodePrefix !== '/usr') args.push('--ro-bind', nodePrefix, nodePrefix);
  args.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--tmpfs', '/tmp');
  args.push('--perms', '1777', '--tmpfs', '/var/tmp');
  const binds = [
    ...(spec.readOnly ?? []).map((dir) => ['--ro-bind', dir]),
    ...spec.writable.map((dir) => ['--bind', dir]),
  ];
  // Directories bubblewrap creates on the way to a bind are root's and private by default: the app's uid must pass.
  const ancestors = new Set<string>();
  for (const [, dir] of binds) {
    for (let up = dirname(dir); up !== '/' && !ancestors.has(up); up = dirname(up)) ancestors.add(up);
  }
  for (const dir of [...ancestors].sort((a, b) => a.length - b.length)) {
    if (!isSystemPath(dir)) args.push('--perms', '0755', '--dir', dir);
  }
  for (const [flag, dir] of binds) args.push(flag, dir, dir);
  args.push('--chdir', spec.cwd);
  if (uid !== undefined) args.push(...dropToUid(uid));
  else args.push('--');
  return args;
}

/** Paths already in the view read-only (bubblewrap cannot create directories inside them). */
function isSystemPath(dir: string): boolean {
  return ['/usr', '/etc', ...SYSTEM_ROOTS].some((root) => dir === root || dir.startsWith(`${root}/`));
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Runs `true` in a sandbox like the real ones (as an app uid when root): bubblewrap may exist yet be refused user namespaces. */
function probeBwrap(uid: number | undefined): { path?: string; error?: string } {
  const path = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'].find((p) => existsSync(p));
  if (!path) return { error: 'bubblewrap (bwrap) is not installed' };
  const argv = [path, ...bwrapArgs({ app: 'probe', label: 'probe', cwd: '/', writable: [], limits: {} }, uid), 'true'];
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  if (result.status === 0) return { path };
  const detail = (result.stderr || result.error?.message || `exit ${String(result.status)}`).trim();
  return { error: `bubblewrap cannot create a sandbox here: ${detail}` };
}
