import type { AppMetrics, AppView } from '@cloudsmith/client';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/adapters/bus/memory/memoryBus';
import type { App } from '../../src/domain/deployment';
import { MetricsRegistry } from '../../src/metrics/appMetrics';
import { MetricsPublisher } from '../../src/metrics/metricsPublisher';
import { eventually } from '../helpers/eventually';
import { World } from '../helpers/world';
import type { Logger } from '../../src/lib/logger';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Distributed mode on the in-process bus: an API-only platform answers metrics and AppView.health from the
 * `app.metrics` reports of the processes that run the proxy and the runtime (here their registries and publishers,
 * as Docksage composes them), summing the two sources.
 */
describe('e2e: metrics of an API-only platform come from app.metrics reports', function () {
  this.timeout(120_000);
  const bus = new MemoryBus();
  let world: World;
  let app: App;

  before(async function () {
    world = await World.start({ roles: ['api'], bus });
    const me = await fetch(`${world.github.url}/user`, { headers: { authorization: `token ${world.alice.token}` } });
    const { id } = (await me.json()) as { id: number };
    const at = new Date().toISOString();
    app = { name: 'metered', ownerId: String(id), ownerLogin: 'alice', repo: 'alice/metered', createdAt: at };
    const live = { id: 'dep-metered', app: app.name, ownerId: app.ownerId, repo: app.repo, ref: 'main' };
    await world.platform.store.createDeployment({
      ...live,
      status: 'live',
      overrides: {},
      timings: {},
      createdAt: at,
      updatedAt: at,
    });
    await world.platform.store.putApp({ ...app, liveDeploymentId: live.id });
  });

  after(async function () {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
  });

  it('sums the reports of two runtime-owning sources into the buckets and the health the API serves', async () => {
    const sources = ['docksage-a', 'docksage-b'].map((source) => {
      const registry = new MetricsRegistry();
      return { registry, publisher: new MetricsPublisher({ registry, bus, source, logger: quiet }) };
    });
    for (let i = 0; i < 10; i++) sources[i % 2].registry.recordRequest(app.name, i < 6 ? 503 : 200, 4);
    sources[1].registry.recordMemory(app.name, 64 * 1024 * 1024);
    for (const { publisher } of sources) await publisher.publish();

    const metrics = await eventually('both reports in the API', async () => {
      const res = await world.api<AppMetrics>(world.alice, 'GET', `/api/apps/${app.name}/metrics`);
      assert.equal(res.status, 200);
      const total = res.body.buckets.reduce((sum, b) => sum + b.requests, 0);
      return total === 10 && res.body;
    });
    assert.equal(
      metrics.buckets.reduce((sum, b) => sum + b.status5xx, 0),
      6,
    );
    assert.ok(metrics.buckets.some((b) => b.memoryMb === 64));
    assert.equal(metrics.health.state, 'erroring');
    const apps = await world.api<AppView[]>(world.alice, 'GET', '/api/apps');
    assert.equal(apps.body.find((a) => a.name === app.name)?.health?.state, 'erroring');

    sources[0].registry.setDown(app.name, 'stopped answering');
    await sources[0].publisher.publish();
    await eventually('the runtime verdict', async () => {
      const res = await world.api<AppMetrics>(world.alice, 'GET', `/api/apps/${app.name}/metrics`);
      return res.body.health.state === 'crashing' && res.body.health.reason === 'stopped answering';
    });
  });

  it('refuses the reports of an app to another user (404)', async () => {
    const res = await world.api(world.bob, 'GET', `/api/apps/${app.name}/metrics`);
    assert.equal(res.status, 404);
  });
});
