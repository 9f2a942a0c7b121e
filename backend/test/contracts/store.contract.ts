import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App, Deployment, DeploymentStatus } from '../../src/domain/deployment';
import { runtimeLineBytes, type NewRuntimeLogLine, type RuntimeStream } from '../../src/domain/runtimeLog';
import type { Store } from '../../src/ports/store';
import { PreviewRegistry } from '../../src/previews/previewRegistry';

export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
}

const uid = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
let clock = Date.parse('2026-01-01T00:00:00Z');
/** Strictly increasing timestamps, so "newest first" has one right answer. */
const tick = (): string => new Date((clock += 1000)).toISOString();

/** A queued deployment with fresh ids, newer than every one made before; for adapter-specific tests too. */
export function deployment(ownerId: string, overrides: Partial<Deployment> = {}): Deployment {
  const at = tick();
  return {
    id: uid('dep'),
    app: uid('app'),
    ownerId,
    repo: `${ownerId}/repo`,
    ref: 'main',
    status: 'queued',
    overrides: {},
    timings: {},
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

/**
 * What every Store adapter must do. The factory returns a store before init(); the suite calls it. Each test uses fresh ids (owner, app, deployment), so adapters backed by
 * shared services (DynamoDB tables) may reuse one store across tests without cross-talk.
 */
export function describeStoreContract(name: string, factory: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, function () {
    this.timeout(60_000);
    let fx: StoreFixture;
    let store: Store;

    beforeEach(async function () {
      fx = await factory();
      store = fx.store;
      await store.init();
    });
    afterEach(async function () {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeEach() failed
      await fx?.cleanup();
    });

    const app = (ownerId: string, overrides: Partial<App> = {}): App => ({
      name: uid('app'),
      ownerId,
      ownerLogin: `login-${ownerId}`,
      repo: `${ownerId}/repo`,
      createdAt: tick(),
      ...overrides,
    });

    /** Walks a fresh deployment forward to `status` through allowed moves. */
    const deploymentAt = async (status: DeploymentStatus, ownerId = uid('owner')): Promise<Deployment> => {
      const d = deployment(ownerId);
      await store.createDeployment(d);
      const path: Record<DeploymentStatus, DeploymentStatus[]> = {
        queued: [],
        fetching: ['fetching'],
        building: ['fetching', 'building'],
        deploying: ['fetching', 'building', 'deploying'],
        live: ['fetching', 'building', 'deploying', 'live'],
        crashed: ['fetching', 'building', 'deploying', 'live', 'crashed'],
        failed: ['failed'],
        cancelled: ['cancelled'],
        superseded: ['fetching', 'building', 'deploying', 'live', 'superseded'],
      };
      let current: Deployment | undefined = d;
      for (const s of path[status]) {
        current = await store.transition(d.id, s);
        assert.ok(current, `moving to ${s}`);
      }
      return current;
    };

    describe('apps', function () {
      it('creates, reads, updates, lists by owner and deletes apps', async function () {
        const alice = uid('owner');
        const bob = uid('owner');
        const a1 = app(alice);
        const a2 = app(alice);
        const b1 = app(bob);
        for (const a of [a1, a2, b1]) await store.putApp(a);
        assert.deepEqual(await store.getApp(a1.name), a1);
        assert.deepEqual((await store.listApps(alice)).map((a) => a.name).sort(), [a1.name, a2.name].sort());
        assert.deepEqual(
          (await store.listApps(bob)).map((a) => a.name),
          [b1.name],
        );
        assert.deepEqual(await store.listApps(uid('owner')), []);

        const updated = { ...a1, liveDeploymentId: uid('dep'), url: 'http://x.localhost:8080' };
        await store.putApp(updated);
        assert.deepEqual(await store.getApp(a1.name), updated);

        await store.deleteApp(a1.name);
        assert.equal(await store.getApp(a1.name), undefined);
        assert.deepEqual(
          (await store.listApps(alice)).map((a) => a.name),
          [a2.name],
        );
        assert.equal(await store.getApp(uid('missing')), undefined);
      });

      it('claims app names atomically, for one owner and repo, and never hands them on', async function () {
        const alice = uid('owner');
        const bob = uid('owner');
        const name = uid('app');
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.claimAppName(name, i % 2 ? alice : bob, `${i % 2 ? alice : bob}/web`),
          ),
        );
        const winner = results[1] ? alice : bob;
        const loser = winner === alice ? bob : alice;
        results.forEach((won, i) => {
          assert.equal(won, (i % 2 ? alice : bob) === winner, `claim ${i}`);
        });
        assert.equal(
          await store.claimAppName(name, winner, `${winner}/WEB`),
          true,
          'the holder again: same repo, any case',
        );
        assert.equal(
          await store.claimAppName(name, winner, `${winner}/other`),
          false,
          'not for another repo of theirs',
        );
        assert.equal(await store.claimAppName(name, loser, `${loser}/web`), false);
        await store.putApp(app(winner, { name, repo: `${winner}/web` }));
        await store.deleteApp(name);
        assert.equal(await store.claimAppName(name, loser, `${loser}/web`), false, 'a deleted app keeps its name');
        assert.ok(!(await store.listApps(winner)).some((a) => a.name.includes(name)), 'claims are not apps');
        assert.ok(!(await store.listLiveApps()).some((a) => a.name.includes(name)));
      });

      it('lists apps with a live release', async function () {
        const owner = uid('owner');
        const live = app(owner, { liveDeploymentId: uid('dep'), url: 'http://live.localhost' });
        const idle = app(owner);
        await store.putApp(live);
        await store.putApp(idle);
        const names = (await store.listLiveApps()).map((a) => a.name);
        assert.ok(names.includes(live.name));
        assert.ok(!names.includes(idle.name));
      });
    });

    describe('deployments', function () {
      it('creates and reads a deployment with every field intact', async function () {
        const d = deployment(uid('owner'), {
          overrides: { rootDir: 'apps/web', buildCommand: 'npm run build' },
          sourceDeploymentId: uid('dep'),
          commitSha: 'a'.repeat(40),
        });
        await store.createDeployment(d);
        assert.deepEqual(await store.getDeployment(d.id), d);
        assert.equal(await store.getDeployment(uid('missing')), undefined);
      });

      it('lists newest first, filtered by owner, repo and app, with a limit', async function () {
        const owner = uid('owner');
        const other = uid('owner');
        const created: Deployment[] = [];
        for (let i = 0; i < 5; i++) {
          const d = deployment(owner, {
            repo: i % 2 ? `${owner}/odd` : `${owner}/even`,
            app: i % 2 ? 'odd-app' : 'even-app',
          });
          created.push(d);
          await store.createDeployment(d);
        }
        await store.createDeployment(deployment(other, { repo: `${owner}/even` }));
        const ids = (ds: Deployment[]): string[] => ds.map((d) => d.id);
        const newestFirst = [...created].reverse();
        assert.deepEqual(ids(await store.listDeployments({ ownerId: owner })), ids(newestFirst));
        assert.deepEqual(
          ids(await store.listDeployments({ ownerId: owner, repo: `${owner}/even` })),
          ids(newestFirst.filter((d) => d.repo === `${owner}/even`)),
        );
        assert.deepEqual(
          ids(await store.listDeployments({ ownerId: owner, app: 'odd-app' })),
          ids(newestFirst.filter((d) => d.app === 'odd-app')),
        );
        assert.deepEqual(ids(await store.listDeployments({ ownerId: owner, limit: 2 })), ids(newestFirst.slice(0, 2)));
        assert.deepEqual(await store.listDeployments({ ownerId: uid('owner') }), []);
      });

      it('moves forward through the pipeline, recording patches and merging timings', async function () {
        const d = deployment(uid('owner'));
        await store.createDeployment(d);
        const fetching = await store.transition(d.id, 'fetching', {
          commitSha: 'b'.repeat(40),
          timings: { fetchMs: 10 },
        });
        assert.equal(fetching?.status, 'fetching');
        assert.equal(fetching.commitSha, 'b'.repeat(40));
        await store.transition(d.id, 'building', { timings: { buildMs: 20 } });
        const artifact = { kind: 'tarball' as const, key: 'artifacts/x.tar.gz', sha256: 'c'.repeat(64), size: 42 };
        const plan = { kind: 'node' as const, start: ['npm', 'start'], workdir: '.', healthPath: '/' };
        await store.transition(d.id, 'deploying', { artifact, plan });
        const live = await store.transition(d.id, 'live', {
          url: 'http://a.localhost:8080',
          timings: { deployMs: 30 },
        });
        assert.equal(live?.status, 'live');
        assert.equal(live.url, 'http://a.localhost:8080');
        assert.deepEqual(live.artifact, artifact);
        assert.deepEqual(live.plan, plan);
        assert.deepEqual(live.timings, { fetchMs: 10, buildMs: 20, deployMs: 30 });
        assert.deepEqual(await store.getDeployment(d.id), live);
      });

      it('refuses backward and sideways moves (returns undefined, changes nothing)', async function () {
        const live = await deploymentAt('live');
        assert.equal(await store.transition(live.id, 'building'), undefined, 'live → building');
        assert.equal(await store.transition(live.id, 'failed', { error: 'late' }), undefined, 'live → failed');
        assert.equal(await store.transition(live.id, 'live'), undefined, 'live → live');
        const after = await store.getDeployment(live.id);
        assert.equal(after?.status, 'live');
        assert.equal(after.error, undefined);

        const failed = await deploymentAt('failed');
        assert.equal(await store.transition(failed.id, 'live'), undefined, 'failed → live');
        assert.equal(await store.transition(failed.id, 'fetching'), undefined, 'failed → fetching');
        const cancelled = await deploymentAt('cancelled');
        assert.equal(await store.transition(cancelled.id, 'failed'), undefined, 'cancelled → failed');

        const building = await deploymentAt('building');
        assert.equal(await store.transition(building.id, 'fetching'), undefined, 'building → fetching');
        assert.equal(await store.transition(uid('missing'), 'fetching'), undefined, 'unknown id');
      });

      it('allows live → superseded and in-flight → failed/cancelled', async function () {
        const live = await deploymentAt('live');
        assert.equal((await store.transition(live.id, 'superseded'))?.status, 'superseded');
        const building = await deploymentAt('building');
        const failed = await store.transition(building.id, 'failed', { error: 'the build failed' });
        assert.equal(failed?.status, 'failed');
        assert.equal(failed.error, 'the build failed');
        const queued = await deploymentAt('queued');
        assert.equal((await store.transition(queued.id, 'cancelled'))?.status, 'cancelled');
      });

      it('marks a live release crashed, live again when it recovers, and superseded from either', async function () {
        const live = await deploymentAt('live');
        const crashed = await store.transition(live.id, 'crashed', { error: 'the app crashed 4 times in a row' });
        assert.equal(crashed?.status, 'crashed');
        assert.equal(crashed.error, 'the app crashed 4 times in a row');
        assert.equal(await store.transition(live.id, 'crashed'), undefined, 'crashed → crashed');
        assert.equal(await store.transition(live.id, 'failed'), undefined, 'crashed → failed');
        assert.equal((await store.transition(live.id, 'live'))?.status, 'live', 'recovered');
        assert.equal((await store.transition(live.id, 'crashed'))?.status, 'crashed');
        assert.equal((await store.transition(live.id, 'superseded'))?.status, 'superseded');
        const building = await deploymentAt('building');
        assert.equal(await store.transition(building.id, 'crashed'), undefined, 'only a live release crashes');
        const deploying = await deploymentAt('deploying');
        assert.equal(
          (await store.transition(deploying.id, 'superseded'))?.status,
          'superseded',
          'a deployment that lost to a newer live one',
        );
        const ids = new Set((await store.listInFlight()).map((d) => d.id));
        assert.ok(!ids.has(live.id));
      });

      it('lets exactly one of several concurrent transitions win', async function () {
        for (let round = 0; round < 5; round++) {
          const d = await deploymentAt('building');
          const targets: DeploymentStatus[] = ['deploying', 'failed', 'cancelled', 'deploying', 'failed', 'cancelled'];
          const results = await Promise.all(targets.map((to) => store.transition(d.id, to)));
          const winners = results.filter((r) => r !== undefined);
          // deploying may be followed by failed/cancelled (both legal); what must never happen is two final states.
          const finals = winners.filter((w) => w.status === 'failed' || w.status === 'cancelled');
          assert.ok(finals.length <= 1, `at most one final state wins, got ${finals.map((f) => f.status).join(', ')}`);
          assert.ok(winners.filter((w) => w.status === 'deploying').length <= 1, 'deploying entered at most once');
        }
        const d = await deploymentAt('deploying');
        const results = await Promise.all(Array.from({ length: 10 }, () => store.transition(d.id, 'live')));
        assert.equal(results.filter(Boolean).length, 1, 'exactly one deploying → live');
      });

      it('updates fields without touching the status', async function () {
        const d = await deploymentAt('building');
        const u = await store.updateDeployment(d.id, { error: 'note', timings: { buildMs: 5 } });
        assert.equal(u?.status, 'building');
        assert.equal(u.error, 'note');
        assert.equal(u.timings.buildMs, 5);
        assert.equal(await store.updateDeployment(uid('missing'), { error: 'x' }), undefined);
      });

      it('lists in-flight deployments only', async function () {
        const owner = uid('owner');
        const inFlight = await Promise.all(
          (['queued', 'fetching', 'building', 'deploying'] as const).map((s) => deploymentAt(s, owner)),
        );
        const done = await Promise.all(
          (['live', 'failed', 'cancelled', 'superseded'] as const).map((s) => deploymentAt(s, owner)),
        );
        const ids = new Set((await store.listInFlight()).map((d) => d.id));
        for (const d of inFlight) assert.ok(ids.has(d.id), `${d.status} is in flight`);
        for (const d of done) assert.ok(!ids.has(d.id), `${d.status} is not in flight`);
      });
    });

    describe('logs', function () {
      const lines = (n: number, tag: string) =>
        Array.from({ length: n }, (_, i) => ({
          ts: new Date().toISOString(),
          stage: 'build' as const,
          text: `${tag} ${i}`,
        }));

      it('numbers lines consecutively from 1 across calls and reads them since a seq', async function () {
        const id = uid('dep');
        const first = await store.appendLogs(id, lines(3, 'a'));
        assert.deepEqual(
          first.map((l) => l.seq),
          [1, 2, 3],
        );
        assert.deepEqual(await store.appendLogs(id, []), []);
        const second = await store.appendLogs(id, lines(2, 'b'));
        assert.deepEqual(
          second.map((l) => l.seq),
          [4, 5],
        );
        const all = await store.readLogs(id, 0);
        assert.deepEqual(
          all.map((l) => l.text),
          ['a 0', 'a 1', 'a 2', 'b 0', 'b 1'],
        );
        assert.deepEqual(all[0], first[0]);
        assert.deepEqual(
          (await store.readLogs(id, 3)).map((l) => l.seq),
          [4, 5],
        );
        assert.deepEqual(
          (await store.readLogs(id, 1, 2)).map((l) => l.seq),
          [2, 3],
        );
        assert.deepEqual(await store.readLogs(id, 5), []);
        assert.deepEqual(await store.readLogs(uid('dep'), 0), []);
      });

      it('keeps seq consecutive and unique under concurrent appends', async function () {
        const id = uid('dep');
        const other = uid('dep');
        const batches = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.appendLogs(i % 4 === 0 ? other : id, lines(1 + (i % 3), `c${i}`))),
        );
        const mine = batches.filter((_, i) => i % 4 !== 0).flat();
        const seqs = mine.map((l) => l.seq).sort((a, b) => a - b);
        assert.deepEqual(
          seqs,
          Array.from({ length: seqs.length }, (_, i) => i + 1),
        );
        for (const b of batches)
          for (let i = 1; i < b.length; i++)
            assert.equal(b[i].seq, b[i - 1].seq + 1, 'one call gets a contiguous range');
        const stored = await store.readLogs(id, 0);
        assert.deepEqual(
          stored.map((l) => l.seq),
          seqs,
        );
        const otherSeqs = (await store.readLogs(other, 0)).map((l) => l.seq);
        assert.deepEqual(
          otherSeqs,
          Array.from({ length: otherSeqs.length }, (_, i) => i + 1),
        );
      });
      it('stores a long log in chunks and reads any window of it, across chunk boundaries', async function () {
        const id = uid('dep');
        // Long lines too: chunks are cut by bytes as well as by count.
        const batch = Array.from({ length: 1000 }, (_, i) => ({
          ts: new Date().toISOString(),
          stage: 'runtime' as const,
          text: i % 100 === 0 ? `long ${i} ${'x'.repeat(20_000)}` : `line ${i}`,
        }));
        const written = await store.appendLogs(id, batch);
        assert.equal(written[999]?.seq, 1000);
        const all = await store.readLogs(id, 0);
        assert.equal(all.length, 1000);
        assert.deepEqual(
          all.map((l) => l.text),
          batch.map((l) => l.text),
        );
        assert.deepEqual(
          (await store.readLogs(id, 199, 3)).map((l) => l.text),
          ['line 199', long(200), 'line 201'],
        );
        assert.deepEqual(
          (await store.readLogs(id, 997)).map((l) => l.seq),
          [998, 999, 1000],
        );
        function long(i: number): string {
          return `long ${i} ${'x'.repeat(20_000)}`;
        }
      });

      it("deletes a deployment's log (retention) without reusing its seq numbers", async function () {
        const id = uid('dep');
        const kept = uid('dep');
        await store.appendLogs(id, lines(300, 'old'));
        await store.appendLogs(kept, lines(2, 'kept'));
        await store.deleteLogs(id);
        assert.deepEqual(await store.readLogs(id, 0), []);
        assert.equal((await store.readLogs(kept, 0)).length, 2, 'other deployments keep theirs');
        assert.deepEqual(
          (await store.appendLogs(id, lines(1, 'new'))).map((l) => l.seq),
          [301],
        );
        await store.deleteLogs(uid('dep'));
      });
    });

    describe('runtime logs', function () {
      const rt = (n: number, text: string, stream: RuntimeStream = 'stdout'): NewRuntimeLogLine[] =>
        Array.from({ length: n }, (_, i) => ({ at: tick(), deploymentId: 'dep-1', stream, text: `${text} ${i + 1}` }));
      const MIB = 1024 * 1024;

      it("numbers an app's lines from 1, keeps stream and deployment, and reads since a seq", async function () {
        const name = uid('app');
        const first = await store.appendRuntimeLogs(name, rt(2, 'out'), MIB);
        const second = await store.appendRuntimeLogs(name, rt(1, 'crashed', 'event'), MIB);
        assert.deepEqual(
          [...first, ...second].map((l) => l.seq),
          [1, 2, 3],
        );
        const read = await store.readRuntimeLogs(name, 1);
        assert.deepEqual(
          read.map((l) => [l.seq, l.stream, l.deploymentId, l.text]),
          [
            [2, 'stdout', 'dep-1', 'out 2'],
            [3, 'event', 'dep-1', 'crashed 1'],
          ],
        );
        assert.deepEqual(
          (await store.readRuntimeLogs(name, 0, 1)).map((l) => l.seq),
          [1],
        );
        assert.deepEqual(await store.readRuntimeLogs(uid('app'), 0), [], 'other apps have none');
      });

      it('keeps only the newest bytes of a flood, without reusing seq numbers', async function () {
        const name = uid('app');
        const keep = 300_000;
        const big = 'y'.repeat(2_000);
        for (let i = 0; i < 10; i++) await store.appendRuntimeLogs(name, rt(100, big), keep);
        const kept = await store.readRuntimeLogs(name, 0);
        const bytes = kept.reduce((sum, l) => sum + runtimeLineBytes(l), 0);
        assert.ok(bytes <= keep, `kept ${bytes} bytes of a ${keep}-byte budget`);
        assert.ok(bytes >= keep / 2, `kept only ${bytes} bytes`);
        assert.equal(kept[kept.length - 1].seq, 1000, 'the newest line is kept');
        assert.deepEqual(
          kept.map((l) => l.seq),
          kept.map((_l, i) => kept[0].seq + i),
          'what is kept is consecutive',
        );
        await store.deleteRuntimeLogs(name);
        assert.deepEqual(await store.readRuntimeLogs(name, 0), []);
        assert.deepEqual(
          (await store.appendRuntimeLogs(name, rt(1, 'again'), keep)).map((l) => l.seq),
          [1001],
        );
      });
    });

    describe('env and processed events', function () {
      it('round-trips sealed env per app and replaces it on put', async function () {
        const a = uid('app');
        assert.deepEqual(await store.getEnv(a), {});
        await store.putEnv(a, { API_KEY: 'sealed:1', MODE: 'sealed:2' });
        assert.deepEqual(await store.getEnv(a), { API_KEY: 'sealed:1', MODE: 'sealed:2' });
        await store.putEnv(a, { MODE: 'sealed:3' });
        assert.deepEqual(await store.getEnv(a), { MODE: 'sealed:3' });
        assert.deepEqual(await store.getEnv(uid('app')), {});
      });

      it('patches single env entries, setting, replacing and removing them and keeping the rest', async function () {
        const a = uid('app');
        await store.patchEnv(a, { GONE: null });
        assert.deepEqual(await store.getEnv(a), {}, 'removing from no map makes none');
        await store.patchEnv(a, { 'feature.x': 'sealed:1', 'a"b': 'sealed:2' });
        assert.deepEqual(await store.getEnv(a), { 'feature.x': 'sealed:1', 'a"b': 'sealed:2' }, 'keys taken literally');
        await store.patchEnv(a, { 'feature.x': 'sealed:3', MODE: 'sealed:4', 'a"b': null, NEVER: null });
        assert.deepEqual(await store.getEnv(a), { 'feature.x': 'sealed:3', MODE: 'sealed:4' });
        await store.putEnv(a, {});
        await store.patchEnv(a, { MODE: 'sealed:5' });
        assert.deepEqual(await store.getEnv(a), { MODE: 'sealed:5' }, 'an emptied map takes patches');
      });

      it('loses no entry when many patches of one map race, the first ones creating it', async function () {
        const a = uid('app');
        const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
        await Promise.all(keys.map((k) => store.patchEnv(a, { [k]: `sealed:${k}` })));
        assert.deepEqual(Object.keys(await store.getEnv(a)).sort(), [...keys].sort());
        // Removals and additions racing each other: each touches only its own entry.
        await Promise.all(
          keys.map((k, i) => store.patchEnv(a, i % 2 ? { [k]: null } : { [k]: 'v2', [`${k}b`]: 'v2' })),
        );
        const even = keys.filter((_, i) => i % 2 === 0);
        assert.deepEqual(Object.keys(await store.getEnv(a)).sort(), [...even, ...even.map((k) => `${k}b`)].sort());
      });

      it('keeps every preview when many are registered for one app at once, and forgets only the one removed', async function () {
        const registry = new PreviewRegistry(store);
        const of = uid('app');
        const names = Array.from({ length: 30 }, (_, i) => `${of}-pr-${i + 1}`);
        await Promise.all(
          names.map((name, i) => registry.put({ name, of, kind: 'pr', ref: `b${i}`, pr: i + 1, createdAt: tick() })),
        );
        assert.deepEqual((await registry.list(of)).map((r) => r.name).sort(), [...names].sort());
        await Promise.all([
          registry.forget(names[0]),
          registry.forget(names[1]),
          registry.put({ name: `${of}-late`, of, kind: 'branch', ref: 'late', createdAt: tick() }),
        ]);
        const left = (await registry.list(of)).map((r) => r.name);
        assert.equal(left[0], `${of}-late`, 'newest first');
        assert.deepEqual([...left].sort(), [...names.slice(2), `${of}-late`].sort());
        assert.equal(await registry.get(names[0]), undefined);
        assert.equal((await registry.get(names[2]))?.of, of);
      });

      it('marks an event processed once per consumer', async function () {
        const e = uid('event');
        assert.equal(await store.markProcessed('gitpulse', e), true);
        assert.equal(await store.markProcessed('gitpulse', e), false);
        assert.equal(await store.markProcessed('buildrelay', e), true, 'consumers are independent');
        const results = await Promise.all(Array.from({ length: 8 }, () => store.markProcessed('docksage', e)));
        assert.equal(results.filter(Boolean).length, 1, 'concurrent marks: one wins');
      });
    });
  });
}
