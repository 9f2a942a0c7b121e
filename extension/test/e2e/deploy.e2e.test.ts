import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { freePort } from '../../../backend/src/health/health';
import { fetchApp } from '../../../backend/test/helpers/appFetch';
import { World } from '../../../backend/test/helpers/world';
import { missingPeer } from '../../../backend/test/peers';
import { packageFakeAuth, startCodeServer, type CodeServer } from './codeServer';
import { until, Workbench } from './workbench';

const EXTENSION_DIR = resolve(__dirname, '..', '..');
const SCREENSHOTS = resolve(EXTENSION_DIR, 'media', 'screenshots');
const SITE = 'alice/static-site';
const BROKEN = 'alice/failing-build';
const SLOW = 'alice/slow-build';
const URL_PATTERN = /http:\/\/[a-z0-9-]+\.localhost:\d+/;

interface Deployment {
  id: string;
  app: string;
  repo: string;
  status: string;
  url: string | null;
  rollbackOf?: string | null;
}

/**
 * The extension in a real VS Code (code-server) driven by headless Chromium, against the real backend in embedded
 * mode, the GitHub stand-in and the test git server, as a user meets it: first run and Sign In, the Launchboard's
 * env rows across repositories, rollback, the backend going away and coming back, a failing build, cancel,
 * sign out. Every step waits for a condition (never a fixed time) and repeats idempotent UI moves, because
 * code-server on a loaded machine swallows keys, hides toasts and sometimes reloads the window.
 */
describe('extension e2e: CloudSmith in VS Code', function () {
  let world: World | undefined;
  let codeServer: CodeServer | undefined;
  let browser: BrowserContext | undefined;
  let browserDir = '';
  let workspace = '';
  let wb: Workbench;
  let siteUrl = '';
  const started = Date.now();
  const lap = (m: string) => {
    console.log(`      [${((Date.now() - started) / 1000).toFixed(1)} s] ${m}`);
  };
  const W = (): World => {
    if (!world) throw new Error('the backend did not start');
    return world;
  };
  const deployments = async (repo: string) =>
    (await W().api<Deployment[]>(W().alice, 'GET', `/api/deployments?repo=${repo}`)).body;

  /** Signs in through the palette (used again if a reload lost the session). */
  const signIn = async () => {
    await wb.retry(
      'sign-in',
      async () => {
        await wb.command('CloudSmith: Sign In');
        await wb.allowAuthIfAsked(5_000);
      },
      async () => !(await wb.statusItems()).some((t) => /CloudSmith: Sign in/.test(t)) && signedInTree(),
      { waitMs: 30_000 },
    );
  };
  const signedInTree = async () => {
    await wb.showCloudSmithView();
    return wb.treeRow(SITE).isVisible();
  };

  /**
   * Opens the Launchboard on a repository until `selector` shows there: selecting a repository shows its latest
   * deployment, so this also works after a reload closed the board.
   */
  const showOnBoard = async (repo: string, selector: string) => {
    const view = wb.webview();
    await wb.retry(
      `the Launchboard showing ${selector}`,
      async () => {
        if (
          !(await view
            .locator('#repo')
            .isVisible()
            .catch(() => false))
        )
          await wb.command('CloudSmith: Open Launchboard');
        await view.locator(`#repo option[value="${repo}"]`).waitFor({ state: 'attached', timeout: 20_000 });
        if ((await view.locator('#repo').inputValue()) !== repo) await view.locator('#repo').selectOption(repo);
      },
      () => view.locator(selector).isVisible(),
      { waitMs: 60_000 },
    );
    return view;
  };

  before(async function () {
    if (!process.env.CLOUDSMITH_TEST_VSCODE) {
      missingPeer(
        this,
        'vscode-e2e',
        'CLOUDSMITH_TEST_VSCODE is unset: run `bash scripts/vscode-e2e.sh up`, then `eval "$(bash scripts/vscode-e2e.sh env)"`',
      );
    }
    this.timeout(400_000);
    world = await World.start();
    await world.addRepo(SITE, 'static-site');
    await world.addRepo(BROKEN, 'failing-build');
    await world.addRepo(SLOW, 'slow-build');
    // A first release of the site, so there is an earlier deployment to roll back to.
    const first = (await world.deploy(world.alice, { repo: SITE })) as Deployment;
    assert.equal(((await world.waitFor(world.alice, first.id)) as Deployment).status, 'live');
    lap(`backend up at ${world.url}; ${SITE} has a first release`);
    workspace = mkdtempSync(join(tmpdir(), 'cloudsmith-ws-'));
    mkdirSync(SCREENSHOTS, { recursive: true });
    const vsixDir = mkdtempSync(join(tmpdir(), 'cloudsmith-vsix-'));
    const fakeAuth = packageFakeAuth(vsixDir);
    codeServer = await startCodeServer({
      vsixes: [join(EXTENSION_DIR, 'dist', 'cloudsmith.vsix'), fakeAuth],
      workspace,
      port: await freePort(),
      env: {
        CLOUDSMITH_API_URL: world.url,
        GITHUB_API_URL: world.github.url,
        FAKE_GITHUB_TOKEN: world.alice.token,
        FAKE_GITHUB_LOGIN: world.alice.login,
      },
    });
    rmSync(vsixDir, { recursive: true, force: true });
    lap(`code-server up at ${codeServer.url}`);
    browserDir = mkdtempSync(join(tmpdir(), 'cloudsmith-chromium-'));
    browser = await chromium.launchPersistentContext(browserDir, {
      executablePath: process.env.CLOUDSMITH_TEST_CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
      viewport: { width: 1440, height: 900 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(30_000);
    wb = new Workbench(page, codeServer.userData);
    await wb.open(`${codeServer.url}/?folder=${encodeURIComponent(workspace)}`);
    lap('workbench loaded');
  });

  afterEach(async function () {
    // wb is unset when `before` failed before the browser started.
    if (this.currentTest?.state === 'failed' && (wb as Workbench | undefined)) {
      const shot = join(process.env.CLOUDSMITH_TEST_VSCODE ?? tmpdir(), 'e2e-failure.png');
      await wb.screenshot(shot).then(
        () => {
          console.log(`      failure screenshot: ${shot}; code-server log: ${codeServer?.logFile}`);
          console.log(`      output channel (tail): ${wb.outputLog().slice(-1500)}`);
        },
        () => undefined,
      );
    }
  });

  after(async function () {
    this.timeout(90_000);
    await browser?.close().catch(() => undefined);
    await codeServer?.stop();
    await world?.close();
    if (browserDir) rmSync(browserDir, { recursive: true, force: true });
    if (workspace) rmSync(workspace, { recursive: true, force: true });
    lap('stopped everything');
  });

  it('first run: the welcome view has a real Sign In button, and the title actions wait for sign-in', async function () {
    this.timeout(180_000);
    const sidebar = wb.page.locator('#workbench\\.parts\\.sidebar');
    const welcomeButton = sidebar.locator('.welcome-view-content .monaco-button', { hasText: /^Sign In$/ }).first();
    await wb.retry(
      'the welcome view',
      () => wb.showCloudSmithView(),
      () => welcomeButton.isVisible(),
      { waitMs: 45_000 },
    );
    assert.match(await sidebar.locator('.welcome-view-content').first().innerText(), /Sign in with GitHub/);
    assert.equal(await sidebar.locator('[aria-label^="Open Launchboard"]').count(), 0, 'Launchboard hidden');
    assert.equal(await sidebar.locator('[aria-label^="Refresh"]').count(), 0, 'Refresh hidden');
    assert.equal(await sidebar.locator('[aria-label^="Filter Repositories"]').count(), 0, 'Filter hidden');
    await wb.screenshot(join(SCREENSHOTS, 'first-run.png'));
    wb.onReload = signIn;
    await wb.retry(
      'sign-in from the welcome button',
      async () => {
        if (await welcomeButton.isVisible()) await welcomeButton.click();
        await wb.allowAuthIfAsked(10_000);
      },
      () => wb.treeRow(SITE).isVisible(),
      { waitMs: 45_000 },
    );
    await until(
      'the title actions',
      async () => (await sidebar.locator('[aria-label^="Refresh"]').count()) > 0,
      30_000,
    );
    lap('signed in from the welcome view; title actions shown');
  });

  it('Launchboard: env rows belong to the repository they were typed for; Deploy names its app and says why not', async function () {
    this.timeout(300_000);
    const view = wb.webview();
    await wb.retry(
      'the Launchboard',
      () => wb.command('CloudSmith: Open Launchboard'),
      () =>
        view
          .locator(`#repo option[value="${SITE}"]`)
          .count()
          .then((n) => n > 0),
      { waitMs: 45_000 },
    );
    const select = async (repo: string) => {
      await view.locator('#repo').selectOption(repo);
      if (repo) await view.locator(`#branch option[value="main"]`).waitFor({ state: 'attached', timeout: 30_000 });
    };
    // Deploy with no repository says why it does nothing.
    await select('');
    await view.locator('#deploy').click();
    assert.match(await view.locator('#error').innerText(), /Choose a repository first/);

    await select(SITE);
    const app = (await deployments(SITE))[0].app;
    await until(
      'the target app beside Deploy',
      async () => (await view.locator('#target').innerText()) === `Deploys to app ${app}`,
      30_000,
    );
    // "+ Add" puts the cursor in the new row; each input has its own name.
    await view.locator('#add-env').click();
    await view.locator('.env-row .env-key:focus').waitFor({ timeout: 10_000 });
    await view.locator('.env-key').last().fill('GREETING');
    await view.locator('.env-value').last().fill('typed-for-the-site');
    await view.locator('#add-env').click();
    const labels = await view
      .locator('.env-row input')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    assert.deepEqual(labels, ['Variable 1 name', 'Variable 1 value', 'Variable 2 name', 'Variable 2 value']);
    await view.locator('.env-remove').last().click();

    // Another repository: the rows typed for the site are gone, and the form says so.
    await select(BROKEN);
    await until('env rows cleared', async () => (await view.locator('.env-row').count()) === 0, 10_000);
    assert.match(await view.locator('#status').innerText(), /Cleared 1 environment variable \(GREETING\)/);
    assert.equal(await view.locator('#target').innerText(), `Creates a new app for ${BROKEN}`);
    await select(SITE);
    assert.equal(await view.locator('.env-row').count(), 0, 'going back does not bring them back');
    // The live region is one status line, not the page.
    assert.equal(await view.locator('[aria-live]').count(), 1);
    assert.equal(await view.locator('#status[role="status"][aria-live="polite"]').count(), 1);

    // Deploy the site with its own variable: focus lands on Cancel while it runs.
    await view.locator('#add-env').click();
    await view.locator('.env-key').last().fill('GREETING');
    await view.locator('.env-value').last().fill('hello-from-e2e');
    const before = (await deployments(SITE)).map((d) => d.id);
    await view.locator('#cancel').evaluate((el) => {
      el.addEventListener('focus', () => {
        el.setAttribute('data-e2e-focused', '1');
      });
    });
    await view.locator('#deploy').click();
    const mine = await until(
      'the Launchboard deployment',
      async () => (await deployments(SITE)).find((d) => !before.includes(d.id)),
      60_000,
    );
    lap(`deploy clicked in the Launchboard (deployment ${mine.id.slice(0, 8)})`);
    await view.locator(`#result[data-status="live"][data-deployment-id="${mine.id}"]`).waitFor({ timeout: 240_000 });
    assert.equal(await view.locator('#cancel').getAttribute('data-e2e-focused'), '1', 'focus moved to Cancel');
    assert.deepEqual(
      await view.locator('#timeline li').evaluateAll((els) => els.map((e) => e.getAttribute('data-state'))),
      ['done', 'done', 'done', 'done', 'done'],
    );
    assert.equal(await view.locator('#timeline li[data-stage="live"]').getAttribute('aria-current'), 'step');
    siteUrl = await view.locator('#url').innerText();
    assert.match(siteUrl, URL_PATTERN);
    assert.equal((await fetchApp(siteUrl)).status, 200);
    // The variable went to this app, and only the name comes back.
    const env = await W().api<{ env: Record<string, string> }>(W().alice, 'GET', `/api/apps/${app}/env`);
    assert.ok('GREETING' in env.body.env, JSON.stringify(env.body));
    assert.equal((await deployments(BROKEN)).length, 0, 'nothing was deployed to the other repository');
    await wb.waitForStatus(URL_PATTERN, 60_000);
    await wb.screenshot(join(SCREENSHOTS, 'launchboard.png'));
    lap('Launchboard deploy live; env stayed with its repository');
  });

  it('rolls back after a confirmation; the timeline says nothing was fetched or built', async function () {
    this.timeout(240_000);
    const [live, earlier] = await until(
      'the first release to be superseded',
      async () => {
        const list = await deployments(SITE);
        return list[1]?.status === 'superseded' ? list : undefined;
      },
      60_000,
    );
    await wb.retry(
      'the roll back pick',
      () => wb.command('CloudSmith: Roll Back'),
      () => wb.waitForQuickInput(/Roll Back/, 20_000),
    );
    await wb.pick(`${SITE}@main`);
    const asked = await wb.answerDialog(/Roll .* back to main/, 'Roll Back');
    assert.match(asked, new RegExp(`Roll ${live.app} back`));
    const rollback = await until(
      'the rollback deployment',
      async () => (await deployments(SITE)).find((d) => d.rollbackOf === earlier.id && d.status === 'live'),
      120_000,
    );
    const view = await showOnBoard(SITE, `#result[data-status="live"][data-deployment-id="${rollback.id}"]`);
    const stages = await view
      .locator('#timeline li')
      .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-stage')}:${e.textContent}`));
    assert.deepEqual(stages.slice(1, 3), [
      'fetching:Fetchingnot needed (rollback)',
      'building:Buildingnot needed (rollback)',
    ]);
    await wb.waitForStatus(URL_PATTERN, 60_000);
    lap('rolled back after confirming');
  });

  it('offline: checked before the picks with Retry, no URL in the status bar, the tree comes back expanded', async function () {
    this.timeout(300_000);
    await wb.clearNotifications();
    await wb.showCloudSmithView();
    // Expand the site's Branches folder: it must still be open after the outage.
    const repoRow = wb.treeRow(SITE);
    await repoRow.waitFor({ timeout: 30_000 });
    await wb.retry(
      'the branches folder expanded',
      async () => {
        if ((await repoRow.getAttribute('aria-expanded')) !== 'true') await repoRow.click();
        const branches = wb.treeRow(/^Branches$/);
        await branches.waitFor({ timeout: 15_000 });
        if ((await branches.getAttribute('aria-expanded')) !== 'true') await branches.click();
      },
      () => wb.treeRow(/^main\s*default/).isVisible(),
    );
    await W().platform.close();
    lap('backend stopped');
    // Refresh asks at once (the probe would notice within 15 s anyway).
    await wb.retry(
      'the offline state',
      () => wb.command('CloudSmith: Refresh'),
      async () => {
        const items = await wb.statusItems();
        return items.some((t) => /CloudSmith: offline/.test(t)) && !items.some((t) => URL_PATTERN.test(t));
      },
    );
    await wb.treeRow(/backend unreachable/).waitFor({ timeout: 30_000 });
    // Deploy checks the backend before asking anything, and offers Retry.
    const offline = await wb.retry(
      'the offline message',
      () => wb.command('CloudSmith: Deploy'),
      () => wb.notification(/does not answer, so nothing was changed/, 20_000),
    );
    assert.equal(await wb.quickInputTitle(), undefined, 'no pick was shown');
    assert.deepEqual(await wb.notificationButtons(offline), ['Retry', 'Open Settings']);
    await wb.screenshot(join(SCREENSHOTS, 'offline.png'));
    lap('offline shown');

    await W().restart();
    lap('backend restarted');
    await wb.clickNotificationButton(offline, 'Retry');
    await wb.waitForQuickInput(/repository.*1\s*\/\s*2/, 60_000);
    await wb.page.keyboard.press('Escape');
    await wb.waitForStatus(URL_PATTERN, 90_000);
    await wb.treeRow(SITE).waitFor({ timeout: 60_000 });
    await until('the branches folder to come back open', () => wb.treeRow(/^main\s*default/).isVisible(), 60_000);
    // Rows read a short name first: the branch and the state, the deployment's id only in the tooltip.
    const row = wb.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row[aria-label^="main, live (serving), "]');
    await row.first().waitFor({ timeout: 30_000 });
    assert.doesNotMatch((await row.first().getAttribute('aria-label')) ?? '', /[0-9a-f]{8}-[0-9a-f]{4}/);
    await wb.screenshot(join(SCREENSHOTS, 'repositories-tree.png'));
    lap('recovered: URL back, tree still expanded');
  });

  it('a failed deploy: first error line, Redeploy and Show Logs, output opened once, red stage, marked repo row', async function () {
    this.timeout(300_000);
    await wb.clearNotifications();
    // The palette's Deploy: two numbered steps, with Back from the branch to the repository.
    await wb.retry(
      'the repository step',
      () => wb.command('CloudSmith: Deploy'),
      () => wb.waitForQuickInput(/repository.*1\s*\/\s*2/, 20_000),
    );
    await wb.pick(SITE);
    await wb.waitForQuickInput(/static-site.*branch.*2\s*\/\s*2/);
    await wb.back();
    await wb.waitForQuickInput(/repository.*1\s*\/\s*2/);
    await wb.pick(BROKEN);
    await wb.waitForQuickInput(/failing-build.*branch.*2\s*\/\s*2/);
    await wb.pick('main');
    const failure = await wb.notification(/deploy of alice\/failing-build@main failed: BUILD_ERROR_MARKER/, 180_000);
    assert.deepEqual(await wb.notificationButtons(failure), ['Redeploy', 'Show Logs']);
    await until('the output panel', () => wb.outputPanelShows(/failed/), 30_000);
    await wb.screenshot(join(SCREENSHOTS, 'failure.png'));
    await wb.waitForOutput(/BUILD_ERROR_MARKER/, 30_000);
    lap('failure message with its first error line; output opened');

    // Redeploy from the message builds the same commit again (and fails again, with the same message).
    await wb.clickNotificationButton(failure, 'Redeploy');
    const again = await until(
      'the redeploy to fail too',
      async () => {
        const list = await deployments(BROKEN);
        return list.length === 2 && list[0].status === 'failed' ? list[0] : undefined;
      },
      180_000,
    );
    const second = await wb.notification(/deploy of alice\/failing-build@main failed: BUILD_ERROR_MARKER/, 60_000);
    // Show Logs (the message's button, the status bar) reveals the channel: the log is not printed again.
    const header = new RegExp(`━━━ ${BROKEN} · deployment ${again.id.slice(0, 8)}`, 'g');
    await wb.waitForOutput(header, 30_000);
    await wb.clickNotificationButton(second, 'Show Logs');
    await wb.cloudsmithStatusItem().click();
    await wb.page.waitForTimeout(1_000); // nothing to wait for: asserting that no second copy appears
    assert.equal(wb.outputLog().match(header)?.length, 1, 'the log is in the channel once');
    lap('Redeploy ran; Show Logs did not print the log twice');

    // The repo row is marked; the Launchboard marks the failed stage in words and with aria-current.
    await wb.showCloudSmithView();
    await until(
      'the marked repo row',
      async () => /last deploy failed/.test(await wb.treeRow(BROKEN).innerText()),
      60_000,
    );
    const view = await showOnBoard(BROKEN, `#result[data-status="failed"][data-deployment-id="${again.id}"]`);
    const build = view.locator('#timeline li[data-stage="building"]');
    assert.equal(await build.getAttribute('data-state'), 'failed');
    assert.equal(await build.getAttribute('aria-current'), 'step');
    assert.match(await build.innerText(), /failed/);
    assert.match(await view.locator('#failure').innerText(), /BUILD_ERROR_MARKER/);
    lap('red stage in words, marked repo row');
  });

  it('cancel: says when nothing runs, names and confirms the one it stops', async function () {
    this.timeout(240_000);
    await wb.clearNotifications();
    await wb.retry(
      'the nothing-running message',
      () => wb.command('CloudSmith: Cancel Deployment'),
      () => wb.notification(/No deployment is running/, 15_000),
    );
    const slow = (await W().deploy(W().alice, { repo: SLOW })) as Deployment;
    await W().waitFor(W().alice, slow.id, ['building'], 120_000);
    await wb.retry(
      'the cancel confirmation',
      () => wb.command('CloudSmith: Cancel Deployment'),
      () =>
        wb.page.locator('.monaco-dialog-box', { hasText: /Stop the deployment of alice\/slow-build@main/ }).isVisible(),
    );
    await wb.answerDialog(/Stop the deployment of alice\/slow-build@main \(building/, 'Stop Deployment');
    assert.equal(((await W().waitFor(W().alice, slow.id, ['cancelled'], 120_000)) as Deployment).status, 'cancelled');
    lap('cancelled after confirming');
  });

  it('signs out: the welcome view and its Sign In button come back', async function () {
    this.timeout(120_000);
    wb.onReload = undefined;
    await wb.retry(
      'sign-out',
      () => wb.command('CloudSmith: Sign Out'),
      () =>
        wb.page
          .locator('#workbench\\.parts\\.sidebar .welcome-view-content .monaco-button', { hasText: /^Sign In$/ })
          .first()
          .isVisible(),
    );
    await wb.waitForStatus(/CloudSmith: Sign in/, 30_000);
    lap('signed out');
  });
});
