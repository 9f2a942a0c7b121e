import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppView, HookSettingsView } from '@cloudsmith/client';
import { sign } from '../../../backend/src/api/webhooks/signature';
import type { World } from '../../../backend/test/helpers/world';
import { keepFailureEvidence, startSession, type E2ESession } from './harness';
import { until } from './workbench';

const SITE = 'alice/static-site';

interface Deployment {
  id: string;
  app: string;
  ref: string;
  commitSha: string | null;
  status: string;
}

/**
 * Deploy on Push as a user meets it: the workspace is a clone of a repository on the test git server, whose origin
 * names the GitHub host (the stand-in) as a real clone names github.com; the user turns Deploy on Push on, commits
 * and runs `git push` in the workspace, and the deployment of exactly that commit streams into the CloudSmith
 * output channel. Git authenticates with a credential helper reading the token from the environment (never argv,
 * URL or a file), like a desktop credential manager.
 */
describe('extension e2e: Deploy on Push', function () {
  let session: E2ESession | undefined;
  const home = mkdtempSync(join(tmpdir(), 'cloudsmith-push-home-'));
  const workspace = mkdtempSync(join(tmpdir(), 'cloudsmith-push-ws-'));
  const started = Date.now();
  const lap = (m: string) => {
    console.log(`      [${((Date.now() - started) / 1000).toFixed(1)} s] ${m}`);
  };
  const S = (): E2ESession => {
    if (!session) throw new Error('the session did not start');
    return session;
  };
  let git: (...args: string[]) => Promise<string> = () => Promise.resolve('');

  before(async function () {
    this.timeout(400_000);
    session = await startSession(this, {
      workspace,
      log: lap,
      prepare: async (world: World) => {
        await world.addRepo(SITE, 'static-site');
        world.git.allowPush(world.alice.token, SITE);
        git = gitIn(workspace, home, world.alice.token);
        await git('clone', '-q', world.git.cloneUrl(SITE), '.');
        await git('config', 'user.name', 'Alice');
        await git('config', 'user.email', 'alice@example.test');
        // The origin a GitHub clone has (on the GitHub host), fetched and pushed through the git server.
        await git('remote', 'set-url', 'origin', `${world.github.url}/${SITE}.git`);
        await git('config', `url.${world.git.url}/.insteadOf`, `${world.github.url}/`);
        await git('config', 'credential.helper', CREDENTIAL_HELPER);
      },
    });
  });

  afterEach(async function () {
    await keepFailureEvidence(this, session, 'push');
  });

  after(async function () {
    this.timeout(90_000);
    await session?.close();
    rmSync(workspace, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it('a git push from the workspace with Deploy on Push on deploys that commit; its log streams into the output', async function () {
    this.timeout(300_000);
    const { wb, world } = S();
    // Also after a reload (code-server does that now and then under load): the new window's channel is a new file.
    const signIn = async () => {
      await wb.retry(
        'sign-in',
        async () => {
          await wb.command('CloudSmith: Sign In');
          await wb.allowAuthIfAsked(5_000);
        },
        // The consent dialog may come after the action stopped waiting for it: answered while waiting too.
        async () => {
          await wb.allowAuthIfAsked(200);
          return /Signed in to GitHub as alice/.test(wb.outputLog());
        },
        { waitMs: 30_000 },
      );
    };
    await signIn();
    wb.onReload = signIn;
    lap('signed in');

    // The command waits for the Git extension to open the workspace's repository before it says "on".
    const on = new RegExp(`Deploy on push is on for ${SITE}: a push of main deploys that commit`);
    await wb.retry(
      'Deploy on Push turned on',
      async () => {
        if (!on.test(wb.outputLog())) await wb.command('CloudSmith: Toggle Deploy on Push');
      },
      async () => on.test(wb.outputLog()),
      { waitMs: 90_000 },
    );
    await wb.showCloudSmithView();
    const repoRow = wb.treeRow(SITE);
    const toggleRow = wb.treeRow(/Deploy on push/);
    await wb.retry(
      'the Deploy on push row',
      async () => {
        await repoRow.waitFor({ timeout: 30_000 });
        if ((await repoRow.getAttribute('aria-expanded')) !== 'true') await repoRow.click();
      },
      async () => /on · main/.test(await toggleRow.innerText()),
      { waitMs: 30_000 },
    );
    lap('Deploy on Push is on; the tree says so');

    writeFileSync(join(workspace, 'pushed.txt'), `pushed at ${new Date().toISOString()}\n`);
    await git('add', 'pushed.txt');
    await git('commit', '-q', '-m', 'Deploy me on push');
    const sha = await git('rev-parse', 'HEAD');
    await git('push', '-q', 'origin', 'main');
    assert.equal((await world.git.gitIn(SITE, ['rev-parse', 'main'])).trim(), sha, 'the git server has the commit');
    lap(`pushed ${sha.slice(0, 7)}`);

    const list = async () =>
      (await world.api<Deployment[]>(world.alice, 'GET', `/api/deployments?repo=${SITE}`)).body.filter(
        (d) => d.commitSha === sha,
      );
    let nudged = false;
    const pushedAt = Date.now();
    const deployment = await until(
      'a deployment of the pushed commit',
      async () => {
        const found = (await list()).at(0);
        // The Git extension notices a terminal push through its file watcher; a loaded machine may delay it.
        if (!found && !nudged && Date.now() - pushedAt > 30_000) {
          nudged = true;
          console.log('      (no deployment 30 s after the push: running Git: Refresh)');
          await wb.command('Git: Refresh', 3).catch(() => undefined);
        }
        return found;
      },
      120_000,
      500,
    );
    lap(`deployment ${deployment.id.slice(0, 8)} started`);
    assert.equal(deployment.ref, 'main', 'recorded under its branch');
    await wb.waitForOutput(new RegExp(`Pushed main at ${sha.slice(0, 7)}: deploying ${SITE}`), 30_000);
    const header = new RegExp(`━━━ ${SITE} · deployment ${deployment.id.slice(0, 8)} ━━━`);
    await wb.waitForOutput(header, 60_000);
    assert.equal((await world.waitFor(world.alice, deployment.id)).status, 'live');
    const log = await wb.waitForOutput(/✔ live at http:\/\/[a-z0-9-]+\.localhost:\d+/, 60_000);
    assert.match(log.slice(log.search(header)), /── (Fetch source|Build|Deploy) ──/, 'stage lines streamed');
    assert.equal((await list()).length, 1, 'the push deployed once');
    lap('the deployment went live; its log is in the output channel');
  });

  it('a pull request preview is listed under its app with its URL; a push of another branch deploys nothing', async function () {
    this.timeout(240_000);
    const { wb, world } = S();
    await git('checkout', '-q', '-b', 'feature');
    writeFileSync(join(workspace, 'feature.txt'), 'a feature\n');
    await git('add', 'feature.txt');
    await git('commit', '-q', '-m', 'A feature');
    await git('push', '-q', '-u', 'origin', 'feature');
    const sha = await git('rev-parse', 'HEAD');

    // The pull request GitHub would deliver, signed with the app's hook secret.
    const app = (await world.api<AppView[]>(world.alice, 'GET', '/api/apps')).body.find((a) => a.repo === SITE);
    assert.ok(app, 'the push deployed an app');
    const hook = await world.api<HookSettingsView>(world.alice, 'POST', `/api/apps/${app.name}/hooks`, {
      previews: true,
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const raw = JSON.stringify({
      action: 'opened',
      number: 1,
      pull_request: { number: 1, head: { ref: 'feature', sha, repo: { full_name: SITE } } },
      repository: { full_name: SITE },
    });
    const delivered = await fetch(hook.body.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'pull_request',
        'x-github-delivery': `push-e2e-${sha}`,
        'x-hub-signature-256': sign(hook.body.secret ?? '', raw),
      },
      body: raw,
    });
    assert.equal(delivered.status, 202, await delivered.text());
    const preview = await until(
      'the preview to go live',
      async () => {
        const list = (await world.api<AppView[]>(world.alice, 'GET', `/api/apps/${app.name}/previews`)).body;
        return list.find((p) => p.url && p.liveDeploymentId);
      },
      180_000,
      500,
    );
    lap(`preview ${preview.name} live at ${preview.url ?? ''}`);

    const previewsRow = wb.treeRow(/^Previews/);
    const prRow = wb.treeRow(/PR #1/);
    await wb.retry(
      'the preview row with its URL',
      async () => {
        await wb.command('CloudSmith: Refresh');
        await wb.showCloudSmithView();
        const repoRow = wb.treeRow(SITE);
        await repoRow.waitFor({ timeout: 20_000 });
        if ((await repoRow.getAttribute('aria-expanded')) !== 'true') await repoRow.click();
        await previewsRow.waitFor({ timeout: 20_000 });
        if ((await previewsRow.getAttribute('aria-expanded')) !== 'true') await previewsRow.click();
      },
      async () => (await prRow.innerText()).includes(preview.url ?? '-'),
      { waitMs: 30_000 },
    );
    const deployments = (await world.api<Deployment[]>(world.alice, 'GET', `/api/deployments?repo=${SITE}`)).body;
    assert.deepEqual(
      deployments.filter((d) => d.commitSha === sha && d.app === app.name),
      [],
      'the push of feature deployed nothing to the production app',
    );
    lap('the tree lists the preview with its URL');
  });
});

/** Git's credential protocol: the token comes from the environment of whoever runs git (VS Code's or the test's). */
const CREDENTIAL_HELPER =
  '!f() { test "$1" = get && printf "username=x-access-token\\npassword=%s\\n" "$FAKE_GITHUB_TOKEN"; }; f';

/**
 * git in the workspace, isolated from the machine's config, with the token only in the environment. Async: the git
 * server runs in this process, so a synchronous child would block the server it talks to.
 */
function gitIn(cwd: string, home: string, token: string) {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(home, '.gitconfig'),
    GIT_TERMINAL_PROMPT: '0',
    FAKE_GITHUB_TOKEN: token,
    // The clone itself runs before the workspace has the helper.
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'credential.helper',
    GIT_CONFIG_VALUE_0: CREDENTIAL_HELPER,
  };
  return (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile('git', args, { cwd, env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`git ${args[0]} failed: ${stderr || err.message}`));
        else resolve(stdout.trim());
      });
    });
}
