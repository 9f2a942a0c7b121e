import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorMessage } from '../domain/errors';
import { cacheAppName } from './appName';
import { computeKey, mismatch, type CacheKey } from './key';
import { copyTree, dirBytes, discard, makeParents, mb, moveDir, plainPath, seconds } from './fsops';
import { readManifest, storedDir, writeManifest, type ManifestBody } from './manifest';
import type { SharedCacheTier } from './sharedTier';
import type { CacheSpec } from './stacks';
import { allUsage, readUsage, totalBytes, writeUsage } from './usage';

export interface BuildCacheOptions {
  /** On the same filesystem as the builds' source trees: restore and save are renames. */
  dir: string;
  maxAppBytes: number;
  maxTotalBytes: number;
  /**
   * Keys the hash of an app's env in cache keys, so a stored key says nothing about a value. Derived from the
   * platform key (Sealer.derive): the same on every builder sharing a cache, and for Jenkins's.
   */
  salt: Buffer;
  /** A copy of each app's cache off this disk (S3 beside the artifacts), for builders that come and go. */
  shared?: SharedCacheTier;
}

/** One build's hold on its app's cache, from restore (before install) to save (after packaging). */
export interface CacheLease {
  /** Points the package managers' stores into the app's store; for install and build steps. */
  env: Record<string, string>;
  /** Directories the build's sandbox must mount writable: the app's own store, never another app's. */
  mounts: string[];
  /** Directories of the platform's the build's sandbox must see read-only (the spec's preload script). */
  readOnly: string[];
  /** Dirs copied from another app's cache (a preview's production app): the platform made them, the app must own them. */
  seeded: string[];
  /** The install step may be skipped: its output came back from a build with the same key. */
  installRestored: boolean;
  /**
   * After a successful build: the dirs go back into the cache (renamed out of the tree, which is done with). Those in
   * `movedAway` left the tree already (a dependency layer handed to the runtime as built): they are copied from where
   * they are now after the build, off its critical path, and the app's next build waits for that copy.
   */
  save(log: (line: string) => void, movedAway?: MovedAway[]): Promise<void>;
  /** After a failed build: what was restored unchanged by an install goes back, so the next build is still warm. */
  abandon(): Promise<void>;
}

/** A cache dir (its path in the tree) that the build's tree no longer holds, where it went, and its bytes. */
export interface MovedAway {
  path: string;
  now: string;
  bytes: number;
}

/** `--require=<script>`, quoted as NODE_OPTIONS reads quotes (Next.js re-parses it for its workers the same way). */
function nodeRequire(script: string): string {
  return `--require=${/[\s"]/.test(script) ? JSON.stringify(script) : script}`;
}

/** Longer than any build may run (CLOUDSMITH_BUILD_TIMEOUT_MS defaults to 15 min): older leftovers are a crash's. */
const STALE_MS = 2 * 60 * 60 * 1000;

const NO_CACHE = 'no cache yet';

interface Restored {
  /** Dirs now in the tree, with their bytes as saved. */
  dirs: { path: string; bytes: number }[];
  /** Why the cache did not fit this build (wholly: no entry, corrupt; or its dependencies: a changed key). */
  why?: string;
  /** The store this build uses in place, as big as the last save found it; 0 when it starts cold. */
  storeBytes: number;
  /** The app whose cache was copied, when it was another's (a preview's production app). */
  from?: string;
  /** The dirs came from the shared tier: the platform unpacked them, the app must own them. */
  pulled?: boolean;
}

/**
 * Per-app build caches on disk: `apps/<app>/store` (package managers' stores, used in place by that app's
 * builds only) and `apps/<app>/entry` (node_modules, .venv, .next/cache of its last good build, with a manifest
 * of the key they were built under). An entry is claimed by renaming it away, so two builds never share one;
 * saves are made in tmp/ and renamed into place complete. Caps: an app over maxAppBytes is trimmed; past
 * maxTotalBytes the least recently used apps go.
 */
export class BuildCache {
  private readonly inUse = new Set<string>();
  /** Apps whose tree this process has at their stable build path. */
  private readonly placed = new Set<string>();
  /** Copies to the shared tier still under way, by app. */
  private readonly pushes = new Map<string, Promise<void>>();
  /** Saves finishing after their build (see CacheLease.save), by app: the app's next build starts after. */
  private readonly saving = new Map<string, Promise<void>>();
  private ready?: Promise<void>;

  constructor(private readonly opts: BuildCacheOptions) {}

  appDir(app: string): string {
    return join(this.opts.dir, 'apps', cacheAppName(app));
  }

  storeDir(app: string): string {
    return join(this.appDir(app), 'store');
  }

  /** Drops the app's whole cache (the app was deleted: a later app of that name must not inherit it). */
  async remove(app: string): Promise<void> {
    await this.init();
    await this.saving.get(app);
    await this.pushes.get(app);
    await discard(this.appDir(app), this.trash());
    await this.opts.shared?.remove(app);
  }

  /** Restores what fits this build into `root` (the app's rootDir, before install) and logs what it did and why. */
  async open(
    app: string,
    spec: CacheSpec,
    root: string,
    appEnv: Record<string, string>,
    log: (line: string) => void,
    /** A preview's production app: its cache is copied (never moved or written) when this app has none yet. */
    seedFrom?: string,
  ): Promise<CacheLease> {
    await this.init();
    await this.saving.get(app);
    const { salt, shared } = this.opts;
    const started = Date.now();
    const appDir = this.appDir(app);
    const store = this.storeDir(app);
    await mkdir(store, { recursive: true, mode: 0o700 });
    this.inUse.add(app);
    const key = await computeKey(spec, root, appEnv, salt);
    let restored = await this.restore(appDir, spec, key, root);
    if (shared && restored.why === NO_CACHE) restored = await this.pull(shared, app, spec, key, root, log);
    if (seedFrom && restored.why?.startsWith(NO_CACHE))
      restored = (await this.seed(seedFrom, spec, key, root)) ?? restored;
    const took = seconds(Date.now() - started);
    const size = mb(restored.storeBytes + restored.dirs.reduce((sum, d) => sum + d.bytes, 0));
    const what = [...restored.dirs.map((d) => d.path), ...(restored.storeBytes ? ['package store'] : [])];
    if (what.length === 0) log(`cache not restored: ${restored.why ?? 'nothing cached'}`);
    else
      log(
        `cache restored${restored.from ? ` from ${restored.from}` : ''} (${size} MB, ${took} s): ${what.join(', ')}${restored.why ? `; ${restored.why}` : ''}`,
      );
    const exactBack = spec.dirs.filter((d) => d.exact).every((d) => restored.dirs.some((r) => r.path === d.path));
    const installRestored = spec.installReusable && restored.why === undefined && exactBack;
    let done = false;
    const finish = async (write: boolean, logLine: (line: string) => void, movedAway: MovedAway[] = []) => {
      if (done) return;
      done = true;
      try {
        if (write) await this.save(app, spec, key, root, { restored, installRestored, movedAway }, logLine);
      } finally {
        if (!this.saving.has(app)) this.inUse.delete(app);
      }
    };
    const { preload } = spec;
    return {
      env: {
        ...spec.storeEnv(store),
        ...spec.stableEnv?.(app, salt),
        // The app's env cannot set NODE_OPTIONS (reserved), so there is nothing of its own to keep.
        ...(preload ? { NODE_OPTIONS: nodeRequire(preload.script), ...preload.env(root) } : {}),
      },
      mounts: [store],
      readOnly: preload ? [dirname(preload.script)] : [],
      seeded: restored.from || restored.pulled ? restored.dirs.map((d) => join(root, d.path)) : [],
      installRestored,
      save: (logLine, movedAway) => finish(true, logLine, movedAway),
      abandon: () => finish(installRestored, () => undefined),
    };
  }

  /**
   * Moves the fetched tree to the app's one build path for the build, and back after: caches that record absolute
   * paths (webpack's persistent cache in .next/cache) only hit when every build of the app runs at the same path.
   * When that path is taken (another build of the app, here or in another process on this data dir) it builds in place.
   */
  async placeTree(app: string, sourceDir: string): Promise<{ dir: string; release(): Promise<void> }> {
    await this.init();
    const stable = join(this.opts.dir, 'trees', cacheAppName(app));
    const inPlace = { dir: sourceDir, release: () => Promise.resolve() };
    if (this.placed.has(app)) return inPlace;
    this.placed.add(app);
    try {
      await mkdir(join(this.opts.dir, 'trees'), { recursive: true, mode: 0o700 });
      // rename(2) refuses a non-empty target: a tree some other build holds stays where it is.
      await rename(sourceDir, stable);
    } catch {
      this.placed.delete(app);
      return inPlace;
    }
    return {
      dir: stable,
      release: async () => {
        try {
          await rename(stable, sourceDir);
        } finally {
          this.placed.delete(app);
        }
      },
    };
  }

  /** Makes the directories, and clears what a crash left (half-written saves, trees). */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(join(this.opts.dir, 'apps'), { recursive: true, mode: 0o700 });
      for (const dir of ['tmp', 'trash', 'trees']) await this.clearStale(join(this.opts.dir, dir));
    })();
    return this.ready;
  }

  /** Only what no build can still hold: another platform process on this data dir may be mid-build. */
  private async clearStale(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(dir)) {
      const info = await lstat(join(dir, name)).catch(() => undefined);
      if (info && Date.now() - info.ctimeMs > STALE_MS) await rm(join(dir, name), { recursive: true, force: true });
    }
  }

  private tmp(what: string): string {
    return join(this.opts.dir, 'tmp', `${what}-${randomBytes(6).toString('hex')}`);
  }

  private trash(): string {
    return join(this.opts.dir, 'trash');
  }

  private async restore(appDir: string, spec: CacheSpec, key: CacheKey, root: string): Promise<Restored> {
    // Claiming by rename: a concurrent build of the same app finds no entry and builds cold.
    const claimed = this.tmp('claim');
    if (!(await moveDir(join(appDir, 'entry'), claimed))) return { dirs: [], why: NO_CACHE, storeBytes: 0 };
    try {
      const manifest = await readManifest(claimed);
      if (!manifest.ok) return { dirs: [], why: `corrupt cache discarded: ${manifest.why}`, storeBytes: 0 };
      const why = mismatch(manifest.body.key, key);
      const dirs: Restored['dirs'] = [];
      for (const [i, saved] of manifest.body.dirs.entries()) {
        const wanted = spec.dirs.find((d) => d.path === saved.path);
        if (!wanted || (wanted.exact && why) || !(await plainPath(root, saved.path))) continue;
        // A dir the repo itself has (a committed node_modules) wins over the cache's.
        await makeParents(root, saved.path);
        if (await moveDir(storedDir(claimed, i), join(root, saved.path)).catch(() => false))
          dirs.push({ path: saved.path, bytes: saved.bytes });
      }
      return { dirs, why, storeBytes: (await readUsage(appDir)).storeBytes };
    } finally {
      await discard(claimed, this.trash());
    }
  }

  /** This disk has no cache of the app: the shared tier's copy is brought here, then restored like a local one. */
  private async pull(
    shared: SharedCacheTier,
    app: string,
    spec: CacheSpec,
    key: CacheKey,
    root: string,
    log: (line: string) => void,
  ): Promise<Restored> {
    const started = Date.now();
    const pulled = await shared.pull(app, this.appDir(app));
    if (!pulled.ok) return { dirs: [], why: `${NO_CACHE}; ${pulled.why}`, storeBytes: 0 };
    log(`cache fetched from the shared store (${mb(pulled.bytes)} MB, ${seconds(Date.now() - started)} s)`);
    return { ...(await this.restore(this.appDir(app), spec, key, root)), pulled: true };
  }

  /** Waits for the saves and the copies to the shared tier under way (tests, and a builder shutting down). */
  async flush(): Promise<void> {
    await Promise.all(this.saving.values());
    await Promise.all(this.pushes.values());
  }

  /**
   * Copies the app's saved cache to the shared tier after the build, off its critical path. A copy that fails (the
   * next build of the app claimed the entry meanwhile, the store is unreachable) leaves the older shared copy.
   */
  private push(app: string): void {
    const shared = this.opts.shared;
    if (!shared) return;
    const previous = this.pushes.get(app) ?? Promise.resolve();
    const next = previous
      .then(() => shared.push(app, this.appDir(app)))
      .catch((err: unknown) => {
        console.warn(`build cache: the shared copy of ${app}'s cache was not updated: ${errorMessage(err)}`);
      })
      .finally(() => {
        if (this.pushes.get(app) === next) this.pushes.delete(app);
      });
    this.pushes.set(app, next);
  }

  /** Copies what fits from `from`'s saved entry, read in place: a concurrent build of `from` makes the copy fail, and this one cold. */
  private async seed(from: string, spec: CacheSpec, key: CacheKey, root: string): Promise<Restored | undefined> {
    const entry = join(this.appDir(from), 'entry');
    const manifest = await readManifest(entry);
    if (!manifest.ok) return undefined;
    const why = mismatch(manifest.body.key, key);
    const dirs: Restored['dirs'] = [];
    for (const [i, saved] of manifest.body.dirs.entries()) {
      const wanted = spec.dirs.find((d) => d.path === saved.path);
      const target = join(root, saved.path);
      if (!wanted || (wanted.exact && why) || existsSync(target) || !(await plainPath(root, saved.path))) continue;
      try {
        await makeParents(root, saved.path);
        await copyTree(storedDir(entry, i), target);
        dirs.push({ path: saved.path, bytes: saved.bytes });
      } catch {
        await rm(target, { recursive: true, force: true });
      }
    }
    return dirs.length ? { dirs, why, storeBytes: 0, from } : undefined;
  }

  private async save(
    app: string,
    spec: CacheSpec,
    key: CacheKey,
    root: string,
    build: { restored: Restored; installRestored: boolean; movedAway: MovedAway[] },
    log: (line: string) => void,
  ): Promise<void> {
    const started = Date.now();
    const entry = this.tmp('save');
    const body: ManifestBody = { version: 1, key, dirs: [], bytes: 0, savedAt: new Date().toISOString() };
    const later: { index: number; away: MovedAway }[] = [];
    let deferred = false;
    try {
      for (const dir of spec.dirs) {
        const i = body.dirs.length;
        const away = build.movedAway.find((m) => m.path === dir.path);
        if (away) {
          later.push({ index: i, away });
          body.dirs.push({ path: dir.path, entries: 0, bytes: 0 });
          continue;
        }
        // Only real directories: the build may have left a symlink where node_modules or .next was.
        const source = join(root, dir.path);
        if (!(await plainPath(root, dir.path)) || !(await lstat(source).catch(() => undefined))?.isDirectory())
          continue;
        if (!(await moveDir(source, storedDir(entry, i)))) continue;
        // Dependencies that came back and were not reinstalled are as big as they were.
        const same = build.installRestored && dir.exact && build.restored.dirs.find((r) => r.path === dir.path);
        body.dirs.push({ path: dir.path, entries: 0, bytes: 0 });
        await this.measure(body, i, entry, same ? same.bytes : undefined);
      }
      if (later.length === 0) {
        await this.commit(app, spec, entry, body, build, log, started);
        return;
      }
      // The tree is released now; the copies need only the entry, which stays this save's until it is renamed in.
      deferred = true;
      const paths = later.map((l) => body.dirs[l.index].path).join(', ');
      const bytes = body.bytes + later.reduce((sum, l) => sum + l.away.bytes, 0);
      log(
        `cache saved (${mb(bytes)} MB, ${seconds(Date.now() - started)} s; ${paths} copied in from its release's layer after the build, off the deploy's path)`,
      );
      const copyIn = async (): Promise<void> => {
        for (const { index, away } of later) {
          await copyTree(away.now, storedDir(entry, index));
          await this.measure(body, index, entry);
        }
        await this.commit(app, spec, entry, body, build, () => undefined, started);
      };
      // After any save of the app still copying (builds of one app may overlap): the newest save wins.
      const finishing: Promise<void> = (this.saving.get(app) ?? Promise.resolve())
        .then(copyIn)
        .catch((err: unknown) => {
          // The layer went meanwhile (the app was removed, a release pruned it): the next build installs cold.
          console.warn(`build cache: ${app}'s cache was not saved: ${errorMessage(err)}`);
        })
        .finally(async () => {
          await discard(entry, this.trash());
          if (this.saving.get(app) !== finishing) return;
          this.saving.delete(app);
          this.inUse.delete(app);
        });
      this.saving.set(app, finishing);
    } finally {
      if (!deferred) await discard(entry, this.trash());
    }
  }

  /** Records dir `i` of the entry in its manifest body: its entry count and bytes (`bytes` when known already). */
  private async measure(body: ManifestBody, i: number, entry: string, bytes?: number): Promise<void> {
    const dir = body.dirs[i];
    dir.entries = (await readdir(storedDir(entry, i))).length;
    dir.bytes = bytes ?? (await dirBytes(storedDir(entry, i)));
    body.bytes += dir.bytes;
  }

  /** Puts a complete save in place of the app's entry, within its caps, and logs it (`log` gets nothing when late). */
  private async commit(
    app: string,
    spec: CacheSpec,
    entry: string,
    body: ManifestBody,
    build: { restored: Restored; installRestored: boolean },
    log: (line: string) => void,
    started: number,
  ): Promise<void> {
    const appDir = this.appDir(app);
    const storeBytes =
      build.installRestored && spec.dirs.length ? build.restored.storeBytes : await dirBytes(this.storeDir(app));
    if (body.bytes > this.opts.maxAppBytes) {
      log(`cache not saved: ${mb(body.bytes)} MB is over the per-app cap of ${mb(this.opts.maxAppBytes)} MB`);
      return;
    }
    let keptStore = storeBytes;
    if (body.bytes + storeBytes > this.opts.maxAppBytes) {
      await discard(this.storeDir(app), this.trash());
      keptStore = 0;
      log(`cache: package store dropped (${mb(storeBytes)} MB would pass the per-app cap)`);
    }
    await mkdir(entry, { recursive: true });
    await writeManifest(entry, body);
    // A concurrent build of this app may have saved meanwhile: the newest save wins.
    await discard(join(appDir, 'entry'), this.trash());
    await rename(entry, join(appDir, 'entry'));
    await writeUsage(appDir, { entryBytes: body.bytes, storeBytes: keptStore, usedAt: Date.now() });
    log(`cache saved (${mb(body.bytes + keptStore)} MB, ${seconds(Date.now() - started)} s)`);
    // Dependencies and store restored and not reinstalled are what the shared copy holds already.
    const unchanged = build.installRestored && spec.dirs.every((d) => d.exact);
    if (!unchanged) this.push(app);
    await this.evict(app, log);
  }

  /** Past the total cap, whole caches of the least recently used other apps go (never one a build holds). */
  private async evict(current: string, log: (line: string) => void): Promise<void> {
    const apps = await allUsage(join(this.opts.dir, 'apps'));
    let total = apps.reduce((sum, a) => sum + totalBytes(a.usage), 0);
    let freed = 0;
    for (const { app, usage } of apps) {
      if (total <= this.opts.maxTotalBytes) break;
      if (app === current || this.inUse.has(app)) continue;
      await discard(join(this.opts.dir, 'apps', app), this.trash());
      total -= totalBytes(usage);
      freed += totalBytes(usage);
    }
    // Other apps' names are theirs: the log says only how much went.
    if (freed > 0)
      log(`cache: evicted ${mb(freed)} MB of least recently used caches (total cap ${mb(this.opts.maxTotalBytes)} MB)`);
  }
}
