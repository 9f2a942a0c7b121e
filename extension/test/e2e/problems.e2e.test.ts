import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentView } from '@cloudsmith/client';
import { fetchApp } from '../../../backend/test/helpers/appFetch';
import type { World } from '../../../backend/test/helpers/world';
import { keepFailureEvidence, SCREENSHOTS, startSession, type E2ESession } from './harness';
import { norm, until, type Workbench } from './workbench';

const REPO = 'alice/ts-type-error';
const TS_ERROR = "Type 'string' is not assignable to type 'number'.";
const BROKEN_LINE = "const port: number = process.env.PORT ?? '3000';";
const FIXED_LINE = "const port = Number(process.env.PORT ?? '3000');";
const APP_LOGS = 'CloudSmith: App Logs (ts-type-error-alice)';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=E2E', '-c', 'user.email=e2e@cloudsmith.test', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();

/**
 * The editor side of issue 19 in a real VS Code (code-server), as a user meets it: the workspace is a clone of the
 * repository, a deploy fails on a TypeScript error and the Problems panel shows it on the right file and line under
 * "CloudSmith"; the fix is committed, pushed and deployed, the error goes away, and the live app's own output
 * streams into its "CloudSmith: App Logs" channel. Every step waits for a
 * condition with a generous deadline and repeats idempotent UI moves (a loaded machine swallows keys and reloads).
 */
describe('extension e2e: build errors in the Problems panel, runtime logs in their channel', function () {
  let session: E2ESession | undefined;
  let workspace = '';
  let bareRepo = '';
  let liveUrl = '';
  const started = Date.now();
  const lap = (m: string) => {
    console.log(`      [${((Date.now() - started) / 1000).toFixed(1)} s] ${m}`);
  };
  const S = (): E2ESession => {
    if (!session) throw new Error('the e2e session did not start');
    return session;
  };
  const W = (): World => S().world;
  const wb = (): Workbench => S().wb;
  const deployments = async () =>
    (await W().api<DeploymentView[]>(W().alice, 'GET', `/api/deployments?repo=${REPO}`)).body;

  const signIn = async () => {
    await wb().retry(
      'sign-in',
      async () => {
        await wb().command('CloudSmith: Sign In');
        // A fresh profile asks once; on a loaded machine the dialog can take a while (Escape would refuse it).
        await wb().allowAuthIfAsked(20_000);
      },
      async () => {
        await wb().showCloudSmithView();
        return wb().treeRow(REPO).isVisible();
      },
      { waitMs: 30_000 },
    );
  };

  /** Deploys the workspace's repository from the palette (no question asked: the workspace is a clone). */
  const deployFromPalette = async (): Promise<DeploymentView> => {
    const before = new Set((await deployments()).map((d) => d.id));
    // Retried only while no new deployment exists, so a slow first attempt never deploys twice.
    return wb().retry(
      'the palette deploy',
      async () => {
        if ((await deployments()).some((d) => !before.has(d.id))) return;
        await wb().command('CloudSmith: Deploy');
      },
      async () => (await deployments()).find((d) => !before.has(d.id)),
      { waitMs: 60_000 },
    );
  };

  /** The Problems panel's rows as the user reads them. */
  const problemRows = async () =>
    (await wb().page.locator('.markers-panel .monaco-list-row').allInnerTexts()).map((t) => norm(t));
  const showProblems = async () => {
    await wb()
      .command('View: Focus Problems (Errors, Warnings, Infos)', 3)
      .catch(() => wb().page.keyboard.press('Control+Shift+M'));
  };

  before(async function () {
    this.timeout(300_000);
    workspace = mkdtempSync(join(tmpdir(), 'cloudsmith-ws-problems-'));
    session = await startSession(this, {
      workspace,
      log: lap,
      prepare: async (world) => {
        await world.addRepo(REPO, 'ts-type-error');
        const meta = world.git.repo(REPO);
        assert.ok(meta, `${REPO} is on the git server`);
        bareRepo = meta.gitDir;
        git(workspace, 'clone', '-q', bareRepo, '.');
        // The remote a GitHub clone has, on the GitHub stand-in's host: how the extension knows the workspace's repo.
        git(workspace, 'remote', 'set-url', 'origin', `${world.github.url}/${REPO}.git`);
        // Only CloudSmith's diagnostics: without node_modules VS Code's own TypeScript check would report
        // unresolved imports in the same panel.
        mkdirSync(join(workspace, '.vscode'));
        writeFileSync(join(workspace, '.vscode', 'settings.json'), '{ "typescript.validate.enable": false }\n');
      },
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
    wb().onReload = signIn;
  });

  afterEach(async function () {
    await keepFailureEvidence(this, session, 'problems');
  });

  after(async function () {
    this.timeout(90_000);
    await session?.close();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
    lap('stopped everything');
  });

  it('a failed deploy puts the tsc error on src/server.ts line 4 in the Problems panel, under CloudSmith', async function () {
    this.timeout(300_000);
    await signIn();
    lap('signed in');
    const deployment = await deployFromPalette();
    assert.equal(deployment.repo, REPO);
    const failed = await W().waitFor(W().alice, deployment.id, undefined, 240_000);
    assert.equal(failed.status, 'failed', failed.error ?? '');
    assert.equal(failed.commitSha, git(workspace, 'rev-parse', 'HEAD'), 'the workspace is at the deployed commit');
    lap(`deploy ${deployment.id.slice(0, 8)} failed`);

    const rows = await wb().retry(
      'the CloudSmith error in the Problems panel',
      showProblems,
      async () => {
        const all = await problemRows();
        return all.some((r) => r.includes(TS_ERROR)) ? all : undefined;
      },
      { waitMs: 60_000 },
    );
    const marker = rows.find((r) => r.includes(TS_ERROR)) ?? '';
    assert.match(marker, /CloudSmith/, `the source is CloudSmith: ${marker}`);
    assert.match(marker, /TS2322/);
    assert.match(marker, /\[Ln 4, Col 7\]/, `line 4, column 7: ${marker}`);
    assert.ok(
      rows.some((r) => /^server\.ts\s*src\b/.test(r)),
      `a file row for src/server.ts: ${JSON.stringify(rows)}`,
    );
    lap('the error is in the Problems panel');

    // Clicking it opens the file at the error, as any diagnostic does.
    await wb().retry(
      'the editor at the error',
      () => wb().page.locator('.markers-panel .monaco-list-row', { hasText: TS_ERROR }).first().click(),
      // The diagnostic's one-character range is selected: the cursor ends after it.
      async () => (await wb().statusItems()).some((t) => /Ln 4, Col (7|8 \(1 selected\))/.test(t)),
    );
    await until(
      'the editor tab of server.ts',
      () => wb().page.locator('.tabs-container .tab.active', { hasText: 'server.ts' }).isVisible(),
      30_000,
    );
    await wb().screenshot(join(SCREENSHOTS, 'problems.png'));
    lap('clicked: server.ts open at line 4; screenshot taken');
  });

  it('the fix, committed, pushed and deployed, goes live and clears the CloudSmith diagnostics', async function () {
    this.timeout(300_000);
    const file = join(workspace, 'src', 'server.ts');
    const source = readFileSync(file, 'utf8');
    assert.ok(source.includes(BROKEN_LINE), 'the fixture still has its error');
    writeFileSync(file, source.replace(BROKEN_LINE, FIXED_LINE));
    git(workspace, 'commit', '-q', '-am', 'PORT is a number');
    git(workspace, 'push', '-q', bareRepo, 'HEAD:main');
    const head = git(workspace, 'rev-parse', 'HEAD');

    const deployment = await deployFromPalette();
    const live = await W().waitFor(W().alice, deployment.id, undefined, 240_000);
    assert.equal(live.status, 'live', live.error ?? '');
    assert.equal(live.commitSha, head, 'the deployed commit is the pushed fix');
    liveUrl = live.url ?? '';
    lap(`the fix is live (${deployment.id.slice(0, 8)})`);

    await wb().retry(
      'the Problems panel without CloudSmith errors',
      showProblems,
      async () => {
        if (!(await wb().page.locator('.markers-panel').first().isVisible())) return false;
        const text = norm(await wb().page.locator('.markers-panel').first().innerText());
        return !text.includes(TS_ERROR) && !text.includes('CloudSmith');
      },
      { waitMs: 60_000 },
    );
    lap('the diagnostics cleared');
  });

  it("streams the live app's runtime logs into its App Logs channel, the runtime's start as a line of its own", async function () {
    this.timeout(180_000);
    assert.ok(liveUrl, 'the previous test left the app live');
    // The workspace's app: the palette asks nothing.
    await wb().retry(
      'the App Logs channel',
      () => wb().command('CloudSmith: Show App Logs'),
      async () => /runtime logs \(following\)/.test(wb().outputLog(APP_LOGS)),
      { waitMs: 30_000 },
    );
    // The backlog: the app's start, by the runtime and by the app itself.
    await wb().waitForOutput(/ts-type-error listening on \d+/, 60_000, APP_LOGS);
    assert.match(wb().outputLog(APP_LOGS), /▶ ━━ started/, 'the runtime says it started the app');
    // Live: a request made now shows up while the channel follows.
    const marker = `/e2e-${Date.now().toString(36)}`;
    await until(
      'the request line in the App Logs channel',
      async () => {
        if (!wb().outputLog(APP_LOGS).includes(`served GET ${marker}`)) {
          assert.equal((await fetchApp(liveUrl, marker)).status, 200);
          await new Promise((r) => setTimeout(r, 3_000));
        }
        return wb().outputLog(APP_LOGS).includes(`served GET ${marker}`);
      },
      60_000,
    );
    await until('the channel shown in the panel', () => wb().outputPanelShows(/served GET|listening/), 30_000);
    lap('runtime logs streamed into their channel');
  });

  it("charts the live app's last hour on the Launchboard: requests, p95 latency, memory, restarts", async function () {
    this.timeout(120_000);
    const view = wb().webview();
    const health = view.locator('#health[data-app="ts-type-error-alice"]');
    await wb().retry(
      'the health charts',
      async () => {
        if (
          !(await view
            .locator('#repo')
            .isVisible()
            .catch(() => false))
        )
          await wb().command('CloudSmith: Open Launchboard');
        await view.locator(`#repo option[value="${REPO}"]`).waitFor({ state: 'attached', timeout: 20_000 });
        if ((await view.locator('#repo').inputValue()) !== REPO) await view.locator('#repo').selectOption(REPO);
      },
      // The requests the previous test made are counted (the board redraws every 30 s).
      async () =>
        /^Requests [1-9]\d* in 60 min/.test(
          norm(await health.locator('[data-chart="requests"] figcaption').innerText()),
        ),
      { waitMs: 60_000 },
    );
    assert.deepEqual(
      await health.locator('figure.chart').evaluateAll((els) => els.map((e) => e.getAttribute('data-chart'))),
      ['requests', 'latency', 'memory', 'restarts'],
    );
    const line = await health.locator('[data-chart="requests"] path[data-series="2xx"]').getAttribute('d');
    assert.match(line ?? '', /^M0 /, 'the 2xx series is drawn');
    assert.match(norm(await health.locator('[data-chart="latency"] figcaption').innerText()), /\d+ ms now/);
    await health.scrollIntoViewIfNeeded();
    await wb().screenshot(join(SCREENSHOTS, 'health.png'));
    lap('health charts on the Launchboard');
  });
});
