import * as assert from 'node:assert/strict';
import { SqliteStore } from '../../src/adapters/store/sqlite/sqliteStore';
import type { App } from '../../src/domain/deployment';
import { pruneLogs } from '../../src/logs/retention';
import { deployment as storedDeployment } from '../contracts/store.contract';

describe('log retention', () => {
  it('keeps the logs of an app’s newest deployments and drops older ones, leaving the deployments', async () => {
    const store = new SqliteStore(':memory:');
    await store.init();
    const app: App = {
      name: 'web-alice',
      ownerId: 'u1',
      ownerLogin: 'alice',
      repo: 'alice/web',
      createdAt: new Date(0).toISOString(),
    };
    await store.putApp(app);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const at = new Date(1_000 * (i + 1)).toISOString();
      const deployment = storedDeployment(app.ownerId, {
        id: `dep-${i}`,
        app: app.name,
        repo: app.repo,
        createdAt: at,
        updatedAt: at,
      });
      await store.createDeployment(deployment);
      await store.appendLogs(deployment.id, [{ ts: at, stage: 'build', text: `build ${i}` }]);
      ids.push(deployment.id);
    }
    assert.equal(await pruneLogs(store, app, 3), 5);
    for (const [i, id] of ids.entries()) {
      const kept = (await store.readLogs(id, 0)).length > 0;
      assert.equal(kept, i >= 5, `deployment ${i} keeps its log: ${kept}`);
      assert.ok(await store.getDeployment(id), 'the deployment itself stays');
    }
    assert.equal(await pruneLogs(store, app, 3), 5, 'a second pass finds the same old deployments, already empty');
  });
});
