import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Limits one sandbox (a build step or a live app) runs under; each applies only where the controller exists. */
export interface SandboxLimits {
  memoryMb?: number;
  /** CPU time as a number of cores (0.5 = half a core). */
  cpus?: number;
  /** Most processes and threads at once: a fork bomb stops here instead of taking the machine. */
  pids?: number;
}

const ROOT = '/sys/fs/cgroup';
const CPU_PERIOD_US = 100_000;

/**
 * One sandbox's cgroup: a directory per controller (cgroup v1) or one directory (v2). Processes join it
 * before they exec the sandbox (see Sandbox.prepare), so nothing they fork can start outside it.
 */
export class Cgroup {
  constructor(
    readonly version: 'v1' | 'v2',
    /** Directories whose cgroup.procs a process writes itself into. */
    readonly dirs: string[],
  ) {}

  get procsFiles(): string[] {
    return this.dirs.map((d) => join(d, 'cgroup.procs'));
  }

  pids(): number[] {
    const seen = new Set<number>();
    for (const dir of this.dirs) for (const pid of readPids(dir)) seen.add(pid);
    return [...seen];
  }

  /** How often the kernel's OOM killer fired inside: the memory limit, not the program, ended it. */
  oomKills(): number {
    for (const dir of this.dirs) {
      for (const file of ['memory.events', 'memory.oom_control']) {
        const match = /^oom_kill (\d+)$/m.exec(readOr(join(dir, file), ''));
        if (match) return Number(match[1]);
      }
    }
    return 0;
  }

  /** SIGKILLs everything inside, including processes that left their session or process group. */
  kill(): void {
    killCgroupDirs(this.dirs);
  }

  /** Kills what is left and removes the directories; a cgroup with live processes cannot be removed. */
  async destroy(): Promise<void> {
    this.kill();
    for (const dir of this.dirs) await removeCgroupDir(dir);
  }
}

/**
 * Creates cgroups under a parent named for the platform's data dir, and records that parent in the data dir
 * so that after a crash (kill -9) the next start finds and kills whatever the previous run left behind.
 */
export class CgroupManager {
  private constructor(
    readonly version: 'v1' | 'v2',
    /** Per controller (v1) or the single v2 directory: the parent all sandboxes of this platform live under. */
    private readonly parents: string[],
    private readonly registry: string,
  ) {}

  /** The controllers this process may create children under, or undefined (no cgroups, read-only, not ours). */
  static detect(tag: string, registry: string): CgroupManager | undefined {
    const own = ownCgroups();
    if (existsSync(join(ROOT, 'memory', 'cgroup.procs'))) {
      const parents: string[] = [];
      for (const controller of ['memory', 'pids', 'cpu']) {
        if (!existsSync(join(ROOT, controller, 'cgroup.procs'))) continue;
        const path = own.get(controller) ?? own.get(controller === 'cpu' ? 'cpu,cpuacct' : controller) ?? '/';
        const parent = join(ROOT, controller, path, `cloudsmith-${tag}-${OWNER}`);
        if (!tryMkdir(parent)) continue;
        parents.push(parent);
      }
      if (!parents.some((p) => p.includes('/memory/'))) return undefined;
      return new CgroupManager('v1', parents, registry);
    }
    if (existsSync(join(ROOT, 'cgroup.controllers'))) {
      const parent = join(ROOT, own.get('') ?? '/', `cloudsmith-${tag}-${OWNER}`);
      if (!tryMkdir(parent)) return undefined;
      // v2 hands controllers down only where the parent enables them; a cgroup that holds processes itself cannot.
      try {
        writeFileSync(join(dirname(parent), 'cgroup.subtree_control'), '+memory +pids +cpu');
        writeFileSync(join(parent, 'cgroup.subtree_control'), '+memory +pids +cpu');
      } catch {
        return undefined;
      }
      return new CgroupManager('v2', [parent], registry);
    }
    return undefined;
  }

  /**
   * Kills every process in the cgroups that earlier platform processes on this data dir created and that
   * are gone now (crashed, killed -9), then removes those cgroups. Cgroups of platform processes still
   * running (other services of a distributed platform sharing the data dir) are left alone.
   */
  static async reap(registry: string): Promise<number> {
    let killed = 0;
    const keep: string[] = [];
    for (const line of readOr(registry, '').split('\n').filter(Boolean)) {
      const [parent, owner] = line.split('\t');
      if (!parent.startsWith(`${ROOT}/`) || !existsSync(parent)) continue;
      if (owner && ownerAlive(owner)) {
        keep.push(line);
        continue;
      }
      for (const child of subdirs(parent)) {
        const dir = join(parent, child);
        killed += readPids(dir).length;
        killCgroupDirs([dir]);
        await removeCgroupDir(dir);
      }
      await removeCgroupDir(parent);
    }
    if (existsSync(registry)) writeFileSync(registry, keep.map((l) => `${l}\n`).join(''), { mode: 0o600 });
    return killed;
  }

  /** Kills what is left in this platform's cgroups and removes them, its parents included. */
  async close(): Promise<void> {
    for (const parent of this.parents) {
      for (const child of subdirs(parent)) {
        killCgroupDirs([join(parent, child)]);
        await removeCgroupDir(join(parent, child));
      }
      await removeCgroupDir(parent);
    }
  }

  create(name: string, limits: SandboxLimits): Cgroup {
    const dirs = this.parents.map((p) => join(p, name));
    for (const dir of dirs) {
      mkdirSync(dir, { recursive: true });
      this.record(dirname(dir));
    }
    const cgroup = new Cgroup(this.version, dirs);
    for (const dir of dirs) this.limit(dir, limits);
    return cgroup;
  }

  private limit(dir: string, limits: SandboxLimits): void {
    const set = (file: string, value: string) => {
      try {
        writeFileSync(join(dir, file), value);
      } catch {
        // The controller is not in this directory (v1 keeps one per hierarchy).
      }
    };
    if (limits.memoryMb !== undefined) {
      const bytes = String(limits.memoryMb * 1024 * 1024);
      if (this.version === 'v1') {
        set('memory.limit_in_bytes', bytes);
        // Without swap accounting this file is absent; with it, swap must not extend the limit.
        set('memory.memsw.limit_in_bytes', bytes);
      } else {
        set('memory.max', bytes);
        set('memory.swap.max', '0');
      }
    }
    if (limits.pids !== undefined) set('pids.max', String(limits.pids));
    if (limits.cpus !== undefined) {
      const quota = String(Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US)));
      if (this.version === 'v1') {
        set('cpu.cfs_period_us', String(CPU_PERIOD_US));
        set('cpu.cfs_quota_us', quota);
      } else set('cpu.max', `${quota} ${CPU_PERIOD_US}`);
    }
  }

  private readonly recorded = new Set<string>();
  private record(parent: string): void {
    if (this.recorded.has(parent)) return;
    this.recorded.add(parent);
    mkdirSync(dirname(this.registry), { recursive: true });
    appendFileSync(this.registry, `${parent}\t${OWNER}\n`, { mode: 0o600 });
  }
}

/** This platform process, as `<pid>-<start time>`: a pid alone may be reused by an unrelated process. */
const OWNER = `${process.pid}-${startTime(process.pid) ?? 0}`;

function startTime(pid: number): string | undefined {
  const stat = readOr(`/proc/${pid}/stat`, '');
  // Field 22, counted after the command name (which is in parentheses and may contain spaces).
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] : undefined;
}

function ownerAlive(owner: string): boolean {
  const [pid, started] = owner.split('-');
  return startTime(Number(pid)) === started;
}

/** This process's cgroup path per controller ('' for the v2 unified hierarchy), from /proc/self/cgroup. */
function ownCgroups(): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of readOr('/proc/self/cgroup', '').split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    for (const controller of match[1].split(',')) map.set(controller, match[2]);
  }
  return map;
}

function killCgroupDirs(dirs: string[]): void {
  if (dirs.length === 1 && existsSync(join(dirs[0], 'cgroup.kill'))) {
    try {
      writeFileSync(join(dirs[0], 'cgroup.kill'), '1');
      return;
    } catch {
      // Fall back to signalling each process.
    }
  }
  // A process may fork while we read the list: repeat until a pass finds nothing (the pids limit bounds it).
  for (let pass = 0; pass < 50; pass++) {
    const pids = new Set(dirs.flatMap(readPids));
    if (pids.size === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

async function removeCgroupDir(dir: string): Promise<void> {
  for (const child of subdirs(dir)) await removeCgroupDir(join(dir, child));
  // A killed process leaves the cgroup when it is reaped, a moment after SIGKILL.
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') return;
      killCgroupDirs([dir]);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

function readPids(dir: string): number[] {
  return readOr(join(dir, 'cgroup.procs'), '')
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function tryMkdir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
