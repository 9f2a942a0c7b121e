import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { World } from '../../../backend/test/helpers/world';
import { keepFailureEvidence, startSession, type E2ESession } from './harness';
import { until } from './workbench';

const SITE = 'alice/static-site';

interface Deployment {
  id: string;
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
    assert.equal(deployment.ref, sha, 'exactly the pushed commit');
    await wb.waitForOutput(new RegExp(`Pushed main at ${sha.slice(0, 7)}: deploying ${SITE}`), 30_000);
    const header = new RegExp(`━━━ ${SITE} · deployment ${deployment.id.slice(0, 8)} ━━━`);
    await wb.waitForOutput(header, 60_000);
    assert.equal((await world.waitFor(world.alice, deployment.id)).status, 'live');
    const log = await wb.waitForOutput(/✔ live at http:\/\/[a-z0-9-]+\.localhost:\d+/, 60_000);
    assert.match(log.slice(log.search(header)), /── (Fetch source|Build|Deploy) ──/, 'stage lines streamed');
    assert.equal((await list()).length, 1, 'the push deployed once');
    lap('the deployment went live; its log is in the output channel');
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
