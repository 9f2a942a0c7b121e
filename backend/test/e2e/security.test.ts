import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { TEST_SECRET_KEY } from '../helpers/sourceHost';
import { World } from '../helpers/world';
import type { DeploymentView, ErrorBody } from '@cloudsmith/client';

describe('e2e: authentication, isolation, bad input and secrets', function () {
  let world: World;
  let liveId: string;
  let app: string;

  before(async () => {
    world = await World.start();
    await world.addRepo('alice/private-site', 'static-site', { private: true });
    const live = await world.waitFor(
      world.alice,
      (await world.deploy(world.alice, { repo: 'alice/private-site', env: { API_KEY: 'sk_live_supersecret_value' } }))
        .id,
    );
    assert.equal(live.status, 'live', live.error ?? undefined);
    liveId = live.id;
    app = live.app;
  });
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
  });

  it('answers /healthz without a token and nothing else', async () => {
    assert.equal((await world.api(undefined, 'GET', '/healthz')).status, 200);
    for (const [method, path] of [
      ['GET', '/api/apps'],
      ['GET', '/api/deployments'],
      ['POST', '/api/deployments'],
      ['GET', `/api/deployments/${liveId}`],
    ] as const) {
      const res = await world.api<ErrorBody>(
        undefined,
        method,
        path,
        method === 'POST' ? { repo: 'alice/private-site' } : undefined,
      );
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.body.error.code, 'unauthorized');
    }
    const bad = await world.api({ login: 'x', token: 'ghp_not_a_real_token_000000000000000000' }, 'GET', '/api/apps');
    assert.equal(bad.status, 401);
  });

  it("refuses a second user everything of the first user's", async () => {
    const bob = world.bob;
    assert.deepEqual((await world.api(bob, 'GET', '/api/apps')).body, []);
    assert.deepEqual((await world.api(bob, 'GET', '/api/deployments')).body, []);
    assert.equal((await world.api(bob, 'GET', `/api/deployments/${liveId}`)).status, 404);
    assert.equal((await world.api(bob, 'GET', `/api/deployments/${liveId}/logs`)).status, 404);
    assert.equal((await world.api(bob, 'POST', `/api/deployments/${liveId}/cancel`)).status, 404);
    assert.equal((await world.api(bob, 'POST', `/api/deployments/${liveId}/redeploy`)).status, 404);
    assert.equal((await world.api(bob, 'POST', `/api/apps/${app}/rollback`, { deploymentId: liveId })).status, 404);
    assert.equal((await world.api(bob, 'GET', `/api/apps/${app}/env`)).status, 404);
    assert.equal((await world.api(bob, 'PUT', `/api/apps/${app}/env`, { env: { X: 'y' } })).status, 404);
    // The private repo does not exist as far as Bob's token can tell.
    assert.equal((await world.api(bob, 'POST', '/api/deployments', { repo: 'alice/private-site' })).status, 404);
    const ws = await openLogSocket(world, bob.token, liveId);
    assert.equal(ws.status, 404);
  });

  it('rejects bad input with a clear 4xx and changes nothing', async () => {
    const before = (await world.api<DeploymentView[]>(world.alice, 'GET', '/api/deployments')).body.length;
    const cases: Array<[unknown, number, RegExp]> = [
      [{ repo: 'alice/does-not-exist' }, 404, /not found/],
      [{ repo: 'alice/private-site', ref: 'no-such-branch' }, 400, /unknown ref/],
      [{ repo: 'alice/private-site; rm -rf /' }, 400, /repo/],
      [{ repo: '$(whoami)/x' }, 400, /repo/],
      [{ repo: 'alice/private-site', ref: '--upload-pack=touch /tmp/pwned' }, 400, /ref/],
      [{ repo: 'alice/private-site', rootDir: '../../etc' }, 400, /rootDir/],
      [{ repo: 'alice/private-site', env: { 'BAD-NAME': 'x' } }, 400, /env/],
      [{ repo: 'alice/private-site', unexpected: true }, 400, /unexpected|Unrecognized/i],
      [{}, 400, /repo/],
      ['{not json', 400, /JSON/],
      [{ repo: 'alice/private-site', env: { BIG: 'x'.repeat(300 * 1024) } }, 413, /larger/],
    ];
    for (const [body, status, message] of cases) {
      const res = await world.api<ErrorBody>(world.alice, 'POST', '/api/deployments', body);
      assert.equal(res.status, status, JSON.stringify(body).slice(0, 80));
      assert.match(res.body.error.message, message);
    }
    assert.equal((await world.api(world.alice, 'GET', '/api/deployments/not-a-uuid')).status, 400);
    assert.equal((await world.api<DeploymentView[]>(world.alice, 'GET', '/api/deployments')).body.length, before);
  });

  it('never lets the token or a platform secret into a build, its logs or a URL', async () => {
    await world.addRepo('alice/snoop', 'print-env');
    const done = await world.waitFor(
      world.alice,
      (await world.deploy(world.alice, { repo: 'alice/snoop', env: { VISIBLE_SETTING: 'plain-visible-value' } })).id,
    );
    const log = await world.logText(world.alice, done.id);
    assert.match(log, /CI=1/, 'the build printed its environment');
    assert.doesNotMatch(log, new RegExp(world.alice.token));
    assert.doesNotMatch(log, new RegExp(TEST_SECRET_KEY));
    assert.doesNotMatch(log, /GITHUB_API_URL|CLOUDSMITH_/);
    assert.doesNotMatch(log, /plain-visible-value/, 'app env values are masked in logs');
    for (const request of world.git.requests) assert.ok(!request.url.includes(world.alice.token));
  });

  it('streams logs over WebSocket: replay, since, final status; 401 without a token', async () => {
    const unauthorized = await openLogSocket(world, undefined, liveId);
    assert.equal(unauthorized.status, 401);
    const all = await collectLogs(world, world.alice.token, liveId, 0);
    assert.ok(all.lines.length > 3);
    assert.deepEqual(
      all.lines.map((l) => l.seq),
      all.lines.map((_l, i) => i + 1),
    );
    assert.equal(all.end.status, 'live');
    const tail = await collectLogs(world, world.alice.token, liveId, 2);
    assert.equal(tail.lines[0]?.seq, 3);
    assert.equal(tail.lines.length, all.lines.length - 2);
  });

  it('streams a deployment live, from POST to its end', async () => {
    await world.addRepo('alice/live-stream', 'node-express');
    const queued = await world.deploy(world.alice, { repo: 'alice/live-stream' });
    const streamed = await collectLogs(world, world.alice.token, queued.id, 0);
    assert.equal(streamed.end.status, 'live');
    assert.deepEqual(
      streamed.lines.map((l) => l.seq),
      streamed.lines.map((_l, i) => i + 1),
    );
    const stored = (await world.logText(world.alice, queued.id)).split('\n');
    assert.deepEqual(
      streamed.lines.map((l) => l.text),
      stored,
    );
  });
});

function openLogSocket(world: World, token: string | undefined, id: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${world.url.replace('http', 'ws')}/api/deployments/${id}/logs`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101 });
    });
    ws.on('error', reject);
  });
}

interface Streamed {
  lines: Array<{ seq: number; text: string }>;
  end: { status: string };
}

function collectLogs(world: World, token: string, id: string, since: number): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${world.url.replace('http', 'ws')}/api/deployments/${id}/logs?since=${since}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const lines: Streamed['lines'] = [];
    ws.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString()) as
        ({ type: 'log' } & Streamed['lines'][number]) | ({ type: 'end' } & Streamed['end']);
      if (message.type === 'log') lines.push(message);
      if (message.type === 'end') resolve({ lines, end: message });
    });
    ws.on('error', reject);
    ws.on('close', (code) => {
      if (code !== 1000) reject(new Error(`log socket closed with ${code}`));
    });
  });
}
