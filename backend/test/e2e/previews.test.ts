import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppView, DeploymentView, HookRegistration, HookSettingsView } from '@cloudsmith/client';
import { sign } from '../../src/api/webhooks/signature';
import { fetchApp } from '../helpers/appFetch';
import { eventually } from '../helpers/eventually';
import { pidsWhere } from '../helpers/processes';
import { World } from '../helpers/world';

interface Delivery {
  status: number;
  body: { deployed?: boolean; app?: string; deploymentId?: string; removed?: string; reason?: string };
}

/** A node app whose build hangs while mode.txt says "slow": an older commit is surely still building when a newer one comes. */
const APP_FILES: Record<string, string> = {
  'package.json': JSON.stringify({
    name: 'previewed',
    private: true,
    scripts: { build: 'node build.js', start: 'node server.js' },
  }),
  'build.js': [
    "const fs = require('node:fs');",
    "if (fs.readFileSync('mode.txt', 'utf8').trim() === 'slow') { console.log('slow build'); setTimeout(() => {}, 600000); }",
  ].join('\n'),
  'server.js': [
    "const fs = require('node:fs');",
    "const text = fs.readFileSync(__dirname + '/message.txt', 'utf8') + ' ' + (process.env.GREETING || '');",
    "require('node:http').createServer((_q, r) => r.end(text)).listen(Number(process.env.PORT || 3000));",
  ].join('\n'),
  'mode.txt': 'fast\n',
  'message.txt': 'production\n',
};

/**
 * Previews end to end: signed pull_request/push/delete deliveries through the real API, the real git server, real
 * builds and processes; what is written back lands in the GitHub stand-in (test/helpers/githubWrites.ts), which
 * stands in for GitHub's hooks, statuses and comments endpoints because no GitHub is reachable from CI.
 */
describe('e2e: previews of pull requests and branches', function () {
  let world: World;
  let secret = '';
  let hookUrl = '';
  let appDir = '';
  const repo = 'alice/previewed';
  const app = 'previewed-alice';

  async function deliver(event: string, payload: unknown, delivery = randomUUID()): Promise<Delivery> {
    const raw = JSON.stringify(payload);
    const res = await fetch(hookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': delivery,
        'x-hub-signature-256': sign(secret, raw),
      },
      body: raw,
    });
    return { status: res.status, body: (await res.json()) as Delivery['body'] };
  }

  const pullRequest = (action: string, number: number, branch: string, sha: string) => ({
    action,
    number,
    pull_request: { number, head: { ref: branch, sha, repo: { full_name: repo } } },
    repository: { full_name: repo },
  });
  const push = (branch: string, after: string) => ({
    ref: `refs/heads/${branch}`,
    after,
    repository: { full_name: repo },
  });

  async function previews(): Promise<AppView[]> {
    const res = await world.api<AppView[]>(world.alice, 'GET', `/api/apps/${app}/previews`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  async function live(id: string): Promise<DeploymentView> {
    const done = await world.waitFor(world.alice, id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    return done;
  }

  /** GitHub shows a commit's newest status per context (the stand-in lists newest first). */
  const currentStatus = (sha: string, context: string) =>
    world.github.writes.statuses(repo, sha).find((s) => s.context === context);

  /** A status change of a deployment as another producer would put it on the bus. */
  const announce = (deploymentId: string, status: 'building' | 'cancelled') =>
    world.platform.bus.publish('deployment.logs', {
      eventId: randomUUID(),
      deploymentId,
      at: new Date().toISOString(),
      kind: 'status',
      status,
    });

  const serverOf = (name: string) => () =>
    pidsWhere((p) => p.cmdline.includes('server.js') && p.environ.includes(`/${name}\0`));

  before(async () => {
    world = await World.start({ env: { CLOUDSMITH_MAX_PREVIEWS: '2' } });
    appDir = mkdtempSync(join(tmpdir(), 'previewed-'));
    for (const [name, text] of Object.entries(APP_FILES)) writeFileSync(join(appDir, name), text);
    await world.host.addRepo(repo, appDir);
    await live((await world.deploy(world.alice, { repo, env: { GREETING: 'inherited' } })).id);
    const res = await world.api<HookSettingsView>(world.alice, 'POST', `/api/apps/${app}/hooks`, { previews: true });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    secret = res.body.secret ?? '';
    hookUrl = res.body.url;
  });
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  });

  it('keeps the auto-deploy settings per app, owner-only', async () => {
    const read = await world.api<HookSettingsView>(world.alice, 'GET', `/api/apps/${app}/hooks`);
    assert.equal(read.status, 200);
    assert.deepEqual(
      { ...read.body, url: undefined },
      {
        url: undefined,
        contentType: 'application/json',
        events: ['push', 'pull_request', 'delete'],
        branch: 'main',
        productionBranch: 'main',
        deployOnPush: true,
        previews: true,
        maxPreviews: 2,
        hookId: null,
      },
    );
    const off = await world.api<HookSettingsView>(world.alice, 'PUT', `/api/apps/${app}/hooks`, {
      deployOnPush: false,
    });
    assert.equal(off.body.deployOnPush, false);
    const sha = await world.git.commit(repo, { 'message.txt': 'not deployed\n' });
    const ignored = await deliver('push', push('main', sha));
    assert.equal(ignored.body.deployed, false, JSON.stringify(ignored));
    assert.match(ignored.body.reason ?? '', /deploy on push is off/);
    assert.equal((await world.api(world.alice, 'PUT', `/api/apps/${app}/hooks`, { deployOnPush: true })).status, 200);
    assert.equal((await world.api(world.bob, 'PUT', `/api/apps/${app}/hooks`, { previews: false })).status, 404);
    assert.equal((await world.api(world.bob, 'GET', `/api/apps/${app}/previews`)).status, 404);
    assert.equal((await world.api(world.alice, 'PUT', `/api/apps/${app}/hooks`, { nope: 1 })).status, 400);

    // A fork's pull request would run its code with the app's env vars: never previewed. Other actions: ignored.
    const fork = {
      ...pullRequest('opened', 9, 'evil', sha),
      pull_request: { number: 9, head: { ref: 'evil', sha, repo: { full_name: 'mallory/previewed' } } },
    };
    const forked = await deliver('pull_request', fork);
    assert.equal(forked.status, 202);
    assert.match(forked.body.reason ?? '', /fork/);
    assert.match((await deliver('pull_request', pullRequest('labeled', 9, 'x', sha))).body.reason ?? '', /not handled/);
    assert.deepEqual(await previews(), []);
  });

  it('registers the hook on the repo with the owner’s token, or says how to add it by hand', async () => {
    const res = await world.api<HookRegistration>(world.alice, 'POST', `/api/apps/${app}/hooks/register`);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(res.body.registered);
    const { hookId } = res.body;
    const onRepo = world.github.writes.hooks(repo);
    assert.equal(onRepo.length, 1);
    assert.equal(onRepo[0].config.url, hookUrl);
    assert.equal(onRepo[0].config.content_type, 'json');
    assert.equal(onRepo[0].config.secret, secret);
    assert.deepEqual(onRepo[0].events, ['push', 'pull_request', 'delete']);
    assert.equal((await world.api<HookSettingsView>(world.alice, 'GET', `/api/apps/${app}/hooks`)).body.hookId, hookId);

    // Enabling again rotates the secret and keeps the settings; registering again updates the same hook on the repo.
    const again = await world.api<HookSettingsView>(world.alice, 'POST', `/api/apps/${app}/hooks`, {});
    assert.equal(again.body.previews, true);
    assert.notEqual(again.body.secret, secret);
    secret = again.body.secret ?? '';
    const reRegistered = await world.api<HookRegistration>(world.alice, 'POST', `/api/apps/${app}/hooks/register`);
    assert.deepEqual(reRegistered.body, { registered: true, hookId });
    assert.equal(world.github.writes.hooks(repo).length, 1);
    assert.equal(world.github.writes.hooks(repo)[0].config.secret, secret);

    // Alice may push to carol's repo but is no admin of it: GitHub answers 404, and the API says what to enter.
    world.github.addUser('carol', 'ghp_carol_0123456789abcdefghijklmnopqrstu');
    await world.host.addRepo('carol/shared', appDir, { owner: { login: 'carol', token: '' } });
    world.github.grant('alice', 'carol/shared', { admin: false });
    await live((await world.deploy(world.alice, { repo: 'carol/shared' })).id);
    const shared = 'shared-carol';
    const enabled = await world.api<HookSettingsView>(world.alice, 'POST', `/api/apps/${shared}/hooks`, {});
    assert.equal(enabled.status, 201, JSON.stringify(enabled.body));
    const manual = await world.api<HookRegistration>(world.alice, 'POST', `/api/apps/${shared}/hooks/register`);
    assert.equal(manual.status, 200);
    assert.ok(!manual.body.registered);
    assert.match(manual.body.reason, /404/);
    assert.deepEqual(manual.body.manual, {
      payloadUrl: enabled.body.url,
      contentType: 'application/json',
      secret: enabled.body.secret,
      events: ['push', 'pull_request', 'delete'],
    });
    assert.equal(world.github.writes.hooks('carol/shared').length, 0);
  });

  it('PR opened → preview live with the production env, one comment with its URL, statuses pending → success', async () => {
    const sha = await world.git.commit(repo, { 'message.txt': 'preview one\n' }, { branch: 'feature' });
    world.github.writes.openPullRequest(repo, 1);
    const opened = await deliver('pull_request', pullRequest('opened', 1, 'feature', sha));
    assert.equal(opened.status, 202, JSON.stringify(opened.body));
    assert.equal(opened.body.app, `${app}-pr-1`);
    const done = await live(opened.body.deploymentId ?? '');
    assert.equal(done.commitSha, sha);
    assert.match((await fetchApp(done.url)).body, /preview one\s+inherited/);

    const [preview] = await previews();
    assert.deepEqual(preview.preview, { of: app, kind: 'pr', ref: 'feature', pr: 1 });
    assert.equal(preview.url, done.url);
    const comment = await eventually('the comment to show the URL', async () => {
      const comments = world.github.writes.comments(repo, 1);
      return comments.length === 1 && comments[0].body.includes(done.url ?? '?') && comments[0];
    });
    assert.equal(comment.author, 'alice');
    const statuses = await eventually('a success status', async () => {
      const all = world.github.writes.statuses(repo, sha);
      return all.some((s) => s.state === 'success') && all;
    });
    assert.ok(statuses.some((s) => s.state === 'pending'));
    assert.ok(
      statuses.some(
        (s) => s.state === 'success' && s.target_url === done.url && s.context === `cloudsmith/${app}-pr-1`,
      ),
      JSON.stringify(statuses),
    );
  });

  it('synchronize → the older build is cancelled, the newer goes live, the same comment is edited', async () => {
    const slow = await world.git.commit(
      repo,
      { 'mode.txt': 'slow\n', 'message.txt': 'slow two\n' },
      { branch: 'feature' },
    );
    const first = await deliver('pull_request', pullRequest('synchronize', 1, 'feature', slow));
    assert.equal(first.status, 202, JSON.stringify(first.body));
    await world.waitFor(world.alice, first.body.deploymentId ?? '', ['building']);
    const fast = await world.git.commit(
      repo,
      { 'mode.txt': 'fast\n', 'message.txt': 'fast three\n' },
      { branch: 'feature' },
    );
    const second = await deliver('pull_request', pullRequest('synchronize', 1, 'feature', fast));
    assert.equal(second.body.app, `${app}-pr-1`);

    const older = await world.waitFor(world.alice, first.body.deploymentId ?? '');
    assert.equal(older.status, 'cancelled');
    const newer = await live(second.body.deploymentId ?? '');
    assert.match((await fetchApp(newer.url)).body, /fast three/);
    await eventually('the comment to name the newest commit', async () => {
      const comments = world.github.writes.comments(repo, 1);
      assert.equal(comments.length, 1, 'one comment, edited');
      return comments[0].body.includes(fast.slice(0, 7)) && comments[0].body.includes(newer.url ?? '?');
    });
    const context = `cloudsmith/${app}-pr-1`;
    const final = await eventually('the cancelled commit to show a final status', async () => {
      const current = currentStatus(slow, context);
      return current?.state === 'error' && current;
    });
    assert.equal(final.description, `CloudSmith: cancelled: superseded by ${fast.slice(0, 7)}, a newer commit`);
    // Buildrelay's announcement of the stage it had started may reach the reporter after the API's cancel (two
    // producers): it must not turn the commit back to pending. A redelivered cancel behind it shows it was handled.
    const shown = world.github.writes.statuses(repo, slow).length;
    await announce(older.id, 'building');
    await announce(older.id, 'cancelled');
    await eventually(
      'both late events to be handled',
      async () => world.github.writes.statuses(repo, slow).length > shown,
    );
    assert.deepEqual(
      world.github.writes
        .statuses(repo, slow)
        .slice(0, 2)
        .map((s) => s.state),
      ['error', 'error'],
      'no pending after the cancel',
    );
    // GitHub also sends the branch's push: the pull request's preview already deploys it.
    const pushed = await deliver('push', push('feature', fast));
    assert.equal(pushed.body.deployed, false);
    assert.match(pushed.body.reason ?? '', /previewed as pull request #1/);
  });

  it('an older build that finishes after a newer commit went live is superseded, and its commit says by which', async () => {
    const name = `${app}-pr-1`;
    const [preview] = await previews();
    const newer = await world.platform.store.getDeployment(preview.liveDeploymentId ?? '');
    assert.ok(newer?.commitSha && newer.artifact && newer.plan, 'the preview has a live build');
    // Deployed by hand (no cancel), requested before the live one, its build done only now: what Docksage sees.
    const late = await world.git.commit(repo, { 'message.txt': 'late\n' }, { branch: 'late-build' });
    const at = new Date(Date.parse(newer.createdAt) - 1000).toISOString();
    const id = randomUUID();
    const store = world.platform.store;
    await store.createDeployment({
      ...newer,
      id,
      ref: 'late-build',
      commitSha: late,
      status: 'queued',
      url: undefined,
      error: undefined,
      artifact: undefined,
      plan: undefined,
      timings: {},
      createdAt: at,
      updatedAt: at,
    });
    await store.transition(id, 'fetching');
    await store.transition(id, 'building');
    await world.platform.bus.publish('build.completed', {
      eventId: randomUUID(),
      deploymentId: id,
      at: new Date().toISOString(),
      artifact: newer.artifact,
      plan: newer.plan,
    });
    const superseded = await world.waitFor(world.alice, id);
    assert.equal(superseded.status, 'superseded');
    const status = await eventually('the late commit to show a final status', async () => {
      const current = currentStatus(late, `cloudsmith/${name}`);
      return current?.state === 'error' && current;
    });
    assert.equal(status.description, `CloudSmith: superseded by ${newer.commitSha.slice(0, 7)}`);
    assert.equal(currentStatus(newer.commitSha, `cloudsmith/${name}`)?.state, 'success', 'the live commit keeps its');
    assert.match((await fetchApp(preview.url)).body, /fast three/);
  });

  it('closed → the preview is gone and its process stopped; the comment says so', async () => {
    const name = `${app}-pr-1`;
    const url = (await previews())[0].url;
    assert.ok(serverOf(name)().length > 0, 'the preview runs');
    const closed = await deliver('pull_request', pullRequest('closed', 1, 'feature', '0'.repeat(40)));
    assert.equal(closed.body.removed, name);
    assert.deepEqual(await previews(), []);
    await eventually('the preview process to stop', async () => serverOf(name)().length === 0);
    await eventually('the URL to stop serving', async () => (await fetchApp(url)).status === 404);
    assert.match(world.github.writes.comments(repo, 1)[0].body, /Removed: pull request #1 was closed/);

    // Reopened: the preview comes back and the pull request's one comment is edited again, not repeated.
    const sha = await world.git.commit(repo, { 'message.txt': 'reopened\n' }, { branch: 'feature' });
    const reopened = await deliver('pull_request', pullRequest('reopened', 1, 'feature', sha));
    const back = await live(reopened.body.deploymentId ?? '');
    await eventually('the comment to show the URL again', async () => {
      const comments = world.github.writes.comments(repo, 1);
      assert.equal(comments.length, 1, 'one comment per pull request');
      return comments[0].body.includes(back.url ?? '?');
    });
    assert.equal((await deliver('pull_request', pullRequest('closed', 1, 'feature', sha))).body.removed, name);
  });

  it('a push to a branch previews it; deleting the branch removes it; beyond the cap the oldest goes', async () => {
    const before = (await world.api<DeploymentView[]>(world.alice, 'GET', '/api/deployments?limit=200')).body.length;
    const replay = randomUUID();
    const shas: string[] = [];
    for (const branch of ['fix/a', 'fix-b', 'c'])
      shas.push(await world.git.commit(repo, { 'message.txt': `${branch}\n` }, { branch }));
    const a = await deliver('push', push('fix/a', shas[0]), replay);
    assert.equal(a.status, 202, JSON.stringify(a.body));
    assert.match(a.body.app ?? '', /^previewed-alice-fix-a-[0-9a-f]{6}$/, 'a lossy slug gets a hash');
    await live(a.body.deploymentId ?? '');
    assert.equal((await deliver('push', push('fix/a', shas[0]), replay)).status, 200, 'a replay does nothing');
    const b = await deliver('push', push('fix-b', shas[1]));
    assert.equal(b.body.app, `${app}-fix-b`);
    await live(b.body.deploymentId ?? '');
    const c = await deliver('push', push('c', shas[2]));
    await live(c.body.deploymentId ?? '');
    assert.deepEqual(
      (await previews()).map((p) => p.name),
      [`${app}-c`, `${app}-fix-b`],
      'the cap of 2 removed the oldest',
    );
    await eventually('the evicted preview to stop', async () => serverOf(a.body.app ?? '?')().length === 0);

    const gone = await deliver('delete', { ref: 'fix-b', ref_type: 'branch', repository: { full_name: repo } });
    assert.equal(gone.body.removed, `${app}-fix-b`);
    assert.deepEqual(
      (await previews()).map((p) => p.name),
      [`${app}-c`],
    );
    const after = (await world.api<DeploymentView[]>(world.alice, 'GET', '/api/deployments?limit=200')).body.length;
    assert.equal(after - before, 3, 'one deployment per branch, none for the replay');
  });

  it('deleting the production app removes its previews', async () => {
    assert.equal((await world.api(world.alice, 'DELETE', `/api/apps/${app}`)).status, 204);
    assert.equal((await world.api(world.alice, 'GET', `/api/apps/${app}-c`)).status, 404);
    await eventually('the preview process to stop', async () => serverOf(`${app}-c`)().length === 0);
  });
});
