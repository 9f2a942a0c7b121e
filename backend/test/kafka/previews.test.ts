import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { HookSettingsView } from '@cloudsmith/client';
import { join } from 'node:path';
import { sign } from '../../src/api/webhooks/signature';
import { fetchApp } from '../helpers/appFetch';
import { KAFKA_HOW_TO, missingPeer } from '../peers';
import { eventually } from '../helpers/eventually';
import { Cluster, TEST_FIXTURES } from './cluster';

const brokers = (process.env.CLOUDSMITH_TEST_KAFKA ?? '')
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);

/**
 * Previews in distributed mode: the delivery reaches one API replica, the stages run in their own processes on
 * Kafka, and the report back to GitHub (the stand-in, test/helpers/githubWrites.ts) comes from the status changes
 * on the bus, whichever replica consumes them.
 */
describe('distributed platform on a real Kafka broker: previews', function () {
  this.timeout(300_000);
  let cluster: Cluster;
  const repo = 'alice/distpreview';
  const app = 'distpreview-alice';

  before(async function () {
    if (brokers.length === 0) missingPeer(this, 'kafka', KAFKA_HOW_TO);
    cluster = await Cluster.start(brokers);
    await cluster.addRepo(repo, join(TEST_FIXTURES, 'static-site'));
    // One after the other: on two cores, TypeScript processes started together only queue.
    await cluster.spawn('api1', 'api');
    await cluster.spawn('api2', 'api');
    await cluster.spawn('gitpulse', 'gitpulse');
    await cluster.spawn('buildrelay', 'buildrelay');
    await cluster.spawn('docksage', 'docksage');
  });

  afterEach(function () {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    if (this.currentTest?.state === 'failed' && cluster) console.error(cluster.report());
  });

  after(async function () {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await cluster?.close();
  });

  let secret = '';

  async function openPullRequest(replica: string, number: number, branch: string, sha: string) {
    const raw = JSON.stringify({
      action: 'opened',
      number,
      pull_request: { number, head: { ref: branch, sha, repo: { full_name: repo } } },
      repository: { full_name: repo },
    });
    const res = await fetch(`${cluster.service(replica).url}/api/webhooks/github?app=${app}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'pull_request',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': sign(secret, raw),
      },
      body: raw,
    });
    return { status: res.status, body: (await res.json()) as { app?: string; deploymentId?: string } };
  }

  it('a pull request opened through one replica: preview live, its URL in one comment, a success status', async () => {
    const first = await cluster.deploy('api1', repo);
    assert.equal((await cluster.waitFor('api1', first.id)).status, 'live');
    const hook = await cluster.api<HookSettingsView>('api1', 'POST', `/api/apps/${app}/hooks`, { previews: true });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));

    const sha = await cluster.host.git.commit(repo, { 'index.html': '<p>distributed preview</p>\n' }, { branch: 'pr' });
    cluster.host.github.writes.openPullRequest(repo, 7);
    secret = hook.body.secret ?? '';
    // The URL GitHub was given names api1; api2 is just as good a door (a load balancer picks either).
    const { status, body } = await openPullRequest('api2', 7, 'pr', sha);
    assert.equal(status, 202, JSON.stringify(body));
    assert.equal(body.app, `${app}-pr-7`);
    const live = await cluster.waitFor('api1', body.deploymentId ?? '');
    assert.equal(live.status, 'live', live.error);
    assert.match((await fetchApp(live.url ?? null)).body, /distributed preview/);

    await eventually('the comment with the URL and a success status', async () => {
      const comments = cluster.host.github.writes.comments(repo, 7);
      assert.ok(comments.length <= 1, 'one comment, edited');
      return (
        comments[0]?.body.includes(live.url ?? '?') &&
        cluster.host.github.writes.statuses(repo, sha).some((s) => s.state === 'success')
      );
    });
  });

  it('pull requests opened at the same instant through both replicas: every preview is kept in the index', async () => {
    const numbers = [11, 12, 13, 14];
    const shas: string[] = [];
    for (const n of numbers)
      shas.push(await cluster.host.git.commit(repo, { 'index.html': `<p>pr ${n}</p>\n` }, { branch: `pr-${n}` }));
    const opened = await Promise.all(
      numbers.map((n, i) => openPullRequest(i % 2 ? 'api2' : 'api1', n, `pr-${n}`, shas[i])),
    );
    for (const o of opened) assert.equal(o.status, 202, JSON.stringify(o.body));
    for (const o of opened) assert.equal((await cluster.waitFor('api1', o.body.deploymentId ?? '')).status, 'live');
    const listed = await cluster.api<Array<{ name: string }>>('api2', 'GET', `/api/apps/${app}/previews`);
    assert.deepEqual(listed.body.map((p) => p.name).sort(), [7, ...numbers].map((n) => `${app}-pr-${n}`).sort());
  });
});
