import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildCache } from '../../src/cache/buildCache';
import type { CacheSpec } from '../../src/cache/stacks';

const MiB = 1024 * 1024;
const SALT = Buffer.alloc(32, 7);

const spec: CacheSpec = {
  lockfiles: ['deps.lock'],
  toolchain: 'tool 1.0',
  commands: 'install: x\nbuild: y',
  dirs: [
    { path: 'deps', exact: true },
    { path: 'fw/cache', exact: false },
  ],
  installReusable: true,
  storeEnv: (store) => ({ STORE: store }),
};

/**
 * The cache on its own, with a made-up stack: restore/save round trip, what invalidates it, corrupt and
 * half-written entries, and the caps. The real stacks and the sandbox are in sandbox.test.ts and redeploy.test.ts.
 */
describe('build cache: restore, save, invalidation, corruption, caps', () => {
  let base: string;
  let trees = 0;

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'cloudsmith-cache-'));
  });
  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  function cache(caps: { app?: number; total?: number } = {}): BuildCache {
    return new BuildCache({
      dir: join(base, 'cache'),
      maxAppBytes: caps.app ?? 100 * MiB,
      maxTotalBytes: caps.total ?? 1000 * MiB,
      salt: SALT,
    });
  }

  /** A fresh source tree, as a fetch makes one: the lockfile, and no installed dirs. */
  function tree(lock = 'v1'): string {
    const root = join(base, `tree-${++trees}`);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'deps.lock'), lock);
    return root;
  }

  /** What an install and a build write. */
  function build(root: string, bytes = 1024): void {
    mkdirSync(join(root, 'deps', 'pkg'), { recursive: true });
    writeFileSync(join(root, 'deps', 'pkg', 'index.js'), 'x'.repeat(bytes));
    mkdirSync(join(root, 'fw', 'cache'), { recursive: true });
    writeFileSync(join(root, 'fw', 'cache', 'chunk'), 'compiled');
  }

  async function open(c: BuildCache, app: string, root: string, env: Record<string, string> = {}) {
    const lines: string[] = [];
    const lease = await c.open(app, spec, root, env, (l) => lines.push(l));
    return { lease, lines };
  }

  async function saveBuild(c: BuildCache, app: string, lock = 'v1', bytes = 1024): Promise<string[]> {
    const root = tree(lock);
    const { lease, lines } = await open(c, app, root);
    if (!lease.installRestored) build(root, bytes);
    await lease.save((l) => lines.push(l));
    return lines;
  }

  it('round trip: a cold build saves, the next one gets its dirs back and may skip install', async () => {
    const c = cache();
    const first = await saveBuild(c, 'web');
    assert.deepEqual(first[0], 'cache not restored: no cache yet');
    assert.match(first[1], /^cache saved \(\d+\.\d MB, \d+\.\d\d s\)$/);

    const root = tree();
    const { lease, lines } = await open(c, 'web', root);
    assert.match(lines[0], /^cache restored \(\d+\.\d MB, \d+\.\d\d s\): deps, fw\/cache/);
    assert.equal(lease.installRestored, true);
    assert.equal(readFileSync(join(root, 'deps', 'pkg', 'index.js'), 'utf8').length, 1024);
    assert.equal(readFileSync(join(root, 'fw', 'cache', 'chunk'), 'utf8'), 'compiled');
    assert.deepEqual(lease.mounts, [c.storeDir('web')]);
    assert.equal(lease.env.STORE, c.storeDir('web'));
    await lease.save(() => undefined);
    // Saved again by rename: the tree no longer has them, the cache does.
    assert.equal(existsSync(join(root, 'deps')), false);
    assert.equal((await open(c, 'web', tree())).lease.installRestored, true);
  });

  it('a dir that left the tree (a layer handed to the runtime) is copied in after the build; the next build waits for it', async () => {
    const c = cache();
    const root = tree();
    const { lease, lines } = await open(c, 'web', root);
    build(root);
    // As the handoff does: the tree's deps move to where the runtime keeps its layers.
    const layer = join(base, 'layers', 'web', 'sha', 'deps');
    mkdirSync(join(base, 'layers', 'web', 'sha'), { recursive: true });
    renameSync(join(root, 'deps'), layer);
    await lease.save((l) => lines.push(l), [{ path: 'deps', now: layer, bytes: 1024 }]);
    assert.match(
      lines[1],
      /^cache saved \(\d+\.\d MB, \d+\.\d\d s; deps copied in from its release's layer after the build, off the deploy's path\)$/,
    );

    const next = tree();
    const again = await open(c, 'web', next);
    assert.match(again.lines[0], /^cache restored \(\d+\.\d MB, \d+\.\d\d s\): deps, fw\/cache/);
    assert.equal(again.lease.installRestored, true);
    assert.equal(readFileSync(join(next, 'deps', 'pkg', 'index.js'), 'utf8').length, 1024);
    // A copy: the runtime's layer is untouched.
    assert.equal(readFileSync(join(layer, 'pkg', 'index.js'), 'utf8').length, 1024);
    await again.lease.save(() => undefined);
  });

  it('a handed-off dir gone before its copy (the layer was pruned): nothing is saved, the next build is cold', async () => {
    const c = cache();
    const root = tree();
    const { lease } = await open(c, 'web', root);
    build(root);
    rmSync(join(root, 'deps'), { recursive: true });
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (line: string) => warnings.push(line);
    try {
      await lease.save(() => undefined, [{ path: 'deps', now: join(base, 'layers', 'gone'), bytes: 1024 }]);
      await c.flush();
    } finally {
      console.warn = warn;
    }
    assert.match(warnings.join('\n'), /web's cache was not saved/);
    assert.equal((await open(c, 'web', tree())).lines[0], 'cache not restored: no cache yet');
  });

  it('a changed lockfile, toolchain, command or env makes dependencies cold; the framework cache still comes back', async () => {
    const c = cache();
    await saveBuild(c, 'web');
    const changed = tree('v2');
    const { lease, lines } = await open(c, 'web', changed);
    assert.match(lines[0], /^cache restored \(.*\): fw\/cache.*; lockfile changed$/);
    assert.equal(lease.installRestored, false);
    assert.equal(existsSync(join(changed, 'deps')), false);
    build(changed);
    await lease.save(() => undefined);

    const envTree = tree('v2');
    const withEnv = await open(c, 'web', envTree, { NPM_CONFIG_REGISTRY: 'http://mirror' });
    assert.match(withEnv.lines[0], /environment changed/);
    assert.equal(withEnv.lease.installRestored, false);
    build(envTree);
    await withEnv.lease.save(() => undefined);

    const otherTool = new BuildCache({
      dir: join(base, 'cache'),
      maxAppBytes: MiB * 100,
      maxTotalBytes: MiB * 1000,
      salt: SALT,
    });
    const toolLines: string[] = [];
    const lease2 = await otherTool.open('web', { ...spec, toolchain: 'tool 2.0' }, tree('v2'), {}, (l) =>
      toolLines.push(l),
    );
    assert.match(toolLines[0], /toolchain changed \(tool 1\.0 → tool 2\.0\)/);
    assert.equal(lease2.installRestored, false);
  });

  it('a corrupt or half-written cache is discarded, the build goes on cold and saves a good one', async () => {
    const c = cache();
    await saveBuild(c, 'web');
    const manifest = join(c.appDir('web'), 'entry', 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"tool 1.0"', '"tool 1.1"'));
    const root = tree();
    const { lease, lines } = await open(c, 'web', root);
    assert.equal(lines[0], 'cache not restored: corrupt cache discarded: manifest checksum mismatch');
    assert.equal(lease.installRestored, false);
    assert.equal(existsSync(join(c.appDir('web'), 'entry')), false);
    build(root);
    await lease.save(() => undefined);
    assert.equal((await open(c, 'web', tree())).lease.installRestored, true);

    // A save that stopped before its manifest; then one whose dependencies lost files.
    rmSync(join(c.appDir('web'), 'entry'), { recursive: true, force: true });
    await saveBuild(c, 'web');
    rmSync(manifest);
    assert.equal(
      (await open(c, 'web', tree())).lines[0],
      'cache not restored: corrupt cache discarded: its manifest is missing (a save did not finish)',
    );
    await saveBuild(c, 'web');
    rmSync(join(c.appDir('web'), 'entry', 'd', '0', 'pkg'), { recursive: true });
    assert.equal(
      (await open(c, 'web', tree())).lines[0],
      'cache not restored: corrupt cache discarded: deps is not as it was saved',
    );
  });

  it('a failed build that had its dependencies back gives them back', async () => {
    const c = cache();
    await saveBuild(c, 'web');
    const { lease } = await open(c, 'web', tree());
    assert.equal(lease.installRestored, true);
    await lease.abandon();
    assert.equal((await open(c, 'web', tree())).lease.installRestored, true);
  });

  it('caps: an app over its cap is not saved; past the total, least recently used apps are evicted', async () => {
    const small = cache({ app: 0.5 * MiB });
    const over = await saveBuild(small, 'big', 'v1', MiB);
    assert.match(over[1], /^cache not saved: 1\.0 MB is over the per-app cap of 0\.5 MB$/);
    assert.equal(existsSync(join(small.appDir('big'), 'entry')), false);

    const c = cache({ total: 2.5 * MiB });
    await saveBuild(c, 'a', 'v1', MiB);
    await saveBuild(c, 'b', 'v1', MiB);
    // `a` is used again, so `b` is now the least recently used.
    const again = await open(c, 'a', tree());
    await again.lease.save(() => undefined);
    const third = await saveBuild(c, 'c', 'v1', MiB);
    assert.match(third.at(-1) ?? '', /^cache: evicted 1\.0 MB of least recently used caches \(total cap 2\.5 MB\)$/);
    assert.equal(existsSync(c.appDir('b')), false);
    assert.equal(existsSync(join(c.appDir('a'), 'entry')), true);
    assert.equal(existsSync(join(c.appDir('c'), 'entry')), true);
  });

  it('a symlink in the tree never makes the cache move files outside it', async () => {
    const c = cache();
    const outside = join(base, 'outside');
    mkdirSync(join(outside, 'cache'), { recursive: true });
    writeFileSync(join(outside, 'cache', 'precious'), 'keep');
    // The build leaves `fw` pointing outside: saving must not take outside/cache.
    const root = tree();
    const { lease } = await open(c, 'web', root);
    build(root);
    rmSync(join(root, 'fw'), { recursive: true });
    symlinkSync(outside, join(root, 'fw'));
    await lease.save(() => undefined);
    assert.equal(readFileSync(join(outside, 'cache', 'precious'), 'utf8'), 'keep');

    // A repo whose `fw` points outside gets nothing restored through it.
    await saveBuild(c, 'web');
    const hostile = tree();
    rmSync(join(outside, 'cache'), { recursive: true });
    symlinkSync(outside, join(hostile, 'fw'));
    const again = await open(c, 'web', hostile);
    assert.match(again.lines[0], /^cache restored \(.*\): deps, package store$/);
    assert.equal(existsSync(join(outside, 'cache')), false);
  });

  it("a preview's first build is seeded with a copy of its production app's cache, which it cannot change", async () => {
    const c = cache();
    await saveBuild(c, 'web');
    const root = tree();
    const lines: string[] = [];
    const lease = await c.open('web-pr-1', spec, root, {}, (l) => lines.push(l), 'web');
    assert.match(lines[0], /^cache restored from web \(\d+\.\d MB, \d+\.\d\d s\): deps, fw\/cache$/);
    assert.equal(lease.installRestored, true);
    assert.deepEqual(lease.seeded, [join(root, 'deps'), join(root, 'fw/cache')]);
    writeFileSync(join(root, 'deps', 'pkg', 'index.js'), 'poisoned');
    await lease.save(() => undefined);

    const prod = tree();
    const { lease: prodLease } = await open(c, 'web', prod);
    assert.equal(prodLease.installRestored, true);
    assert.equal(readFileSync(join(prod, 'deps', 'pkg', 'index.js'), 'utf8').length, 1024);
    // Once the preview has its own cache, it uses that one.
    const second: string[] = [];
    await c.open('web-pr-1', spec, tree(), {}, (l) => second.push(l), 'web');
    assert.match(second[0], /^cache restored \(/);
  });

  it("builds run at the app's one stable path (absolute-path caches hit), or in place when it is taken", async () => {
    const c = cache();
    const first = tree();
    const placed = await c.placeTree('web', first);
    assert.equal(placed.dir, join(base, 'cache', 'trees', 'web'));
    assert.equal(existsSync(first), false);
    assert.equal(readFileSync(join(placed.dir, 'deps.lock'), 'utf8'), 'v1');
    // A second build of the app, in this process or in another on the same data dir, builds where it is.
    const second = tree();
    assert.equal((await c.placeTree('web', second)).dir, second);
    assert.equal((await cache().placeTree('web', second)).dir, second);
    await placed.release();
    assert.equal(readFileSync(join(first, 'deps.lock'), 'utf8'), 'v1');
    assert.equal(existsSync(placed.dir), false);
  });

  it('refuses app names that are not plain directory names', () => {
    assert.throws(() => cache().appDir('../etc'), /invalid app name/);
  });
});
