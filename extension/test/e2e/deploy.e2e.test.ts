import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { fetchApp } from '../../../backend/test/helpers/appFetch';
import { World } from '../../../backend/test/helpers/world';
import { missingPeer } from '../../../backend/test/peers';
import { freePort } from '../../../backend/src/runtime/health';
import { packageFakeAuth, startCodeServer, type CodeServer } from './codeServer';
import { Workbench } from './workbench';

const EXTENSION_DIR = resolve(__dirname, '..', '..');
const SCREENSHOTS = resolve(EXTENSION_DIR, '..', 'docs', 'screenshots');
const REPO = 'alice/static-site';

/**
 * The extension in a real VS Code (code-server) driven by headless Chromium, against the real backend in
 * embedded mode, the GitHub stand-in and the test git server: sign in, deploy from the palette, watch logs,
 * open the URL, deploy again from the Launchboard.
 */
describe('extension e2e: deploy from VS Code', function () {
  let world: World | undefined;
  let codeServer: CodeServer | undefined;
  let browser: BrowserContext | undefined;
  let browserDir = '';
  let workspace = '';
  let wb: Workbench;
  let firstUrl = '';
  let activationMs = -1;
  const started = Date.now();
  const lap = (m: string) => console.log(`      [${((Date.now() - started) / 1000).toFixed(1)} s] ${m}`);

  before(async function () {
    if (!process.env.CLOUDSMITH_TEST_VSCODE) {
      missingPeer(
        this,
        'vscode-e2e',
        'CLOUDSMITH_TEST_VSCODE is unset: run `bash scripts/vscode-e2e.sh up`, then `eval "$(bash scripts/vscode-e2e.sh env)"`',
      );
    }
    this.timeout(300_000);
    world = await World.start();
    await world.addRepo(REPO, 'static-site');
    lap(`backend up at ${world.url}`);
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
    wb = new Workbench(page);
    await wb.open(`${codeServer.url}/?folder=${encodeURIComponent(workspace)}`);
    lap('workbench loaded');
  });

  after(async function () {
    this.timeout(60_000);
    if (this.currentTest?.state === 'failed' && wb) {
      const shot = join(process.env.CLOUDSMITH_TEST_VSCODE ?? tmpdir(), 'e2e-failure.png');
      await wb.screenshot(shot).then(
        () => console.log(`      failure screenshot: ${shot}; code-server log: ${codeServer?.logFile}`),
        () => undefined,
      );
    }
    await browser?.close().catch(() => undefined);
    await codeServer?.stop();
    await world?.close();
    if (browserDir) rmSync(browserDir, { recursive: true, force: true });
    if (workspace) rmSync(workspace, { recursive: true, force: true });
    lap('stopped everything');
    if (activationMs >= 0)
      console.log(
        `      extension activation: ${activationMs} ms; e2e total ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
  });

  it('signs in with the GitHub account', async function () {
    this.timeout(90_000);
    await wb.command('CloudSmith: Sign In');
    // A fresh profile asks once whether CloudSmith may use the GitHub account.
    const asked = await wb.allowAuthIfAsked(20_000);
    await wb.waitForNotification(/CloudSmith: signed in as alice/, 20_000);
    lap(`signed in${asked ? ' (allowed access to the GitHub account)' : ''}`);
  });

  it('runs CloudSmith: Deploy from the palette, picking the repository and then the branch', async function () {
    this.timeout(90_000);
    await wb.command('CloudSmith: Deploy', 2);
    assert.match(await wb.quickPickTitle(), /repository/);
    await wb.pick(REPO);
    await wb.page.waitForFunction(
      () => /branch/.test(document.querySelector('.quick-input-widget .quick-input-title')?.textContent ?? ''),
      null,
      { timeout: 30_000 },
    );
    await wb.pick('main');
    lap('deploy requested');
  });

  it('streams log lines into the CloudSmith output channel, with stage headers', async function () {
    this.timeout(180_000);
    const { text, seen } = await wb.waitForOutput(/live at http:\/\//, 150_000);
    assert.match(text, /── Deploy ──/);
    assert.match(text, /Healthy; static-site-alice now serves deployment/);
    assert.match(seen.join('\n'), /── (CloudSmith|Fetch source|Build) ──/);
    // The top of the channel: activation time, then this deployment's header and its first stages.
    await wb.page
      .locator('.part.panel .monaco-editor')
      .first()
      .click({ position: { x: 200, y: 30 } });
    await wb.page.keyboard.press('Control+Home');
    const top = (await wb.waitForOutput(/CloudSmith activated in \d+ ms/, 10_000)).text;
    assert.match(top, new RegExp(`${REPO} · deployment [0-9a-f]{8}`));
    assert.match(top, /── Fetch source ──/);
    activationMs = Number(/CloudSmith activated in (\d+) ms/.exec(top)![1]);
    await wb.page.keyboard.press('Control+End');
    lap(
      `logs streamed (${seen.length} distinct views of the channel) up to the live line; activation took ${activationMs} ms`,
    );
  });

  it('shows the live URL in the status bar, and that URL serves the app', async function () {
    this.timeout(60_000);
    const item = await wb.waitForStatus(/http:\/\/[a-z0-9-]+\.localhost:\d+/, 30_000);
    firstUrl = /(http:\/\/\S+)/.exec(item)![1]!;
    const page = await fetchApp(firstUrl);
    assert.equal(page.status, 200);
    assert.match(page.body, /static-site ok/);
    await wb.screenshot(join(SCREENSHOTS, 'deploy-finished.png'));
    lap(`status bar shows ${firstUrl}; it serves the site`);
  });

  it('lists the repository with its deployments in the Repositories view', async function () {
    this.timeout(60_000);
    await wb.clearNotifications();
    await wb.command('CloudSmith: Focus on Repositories View').catch(async () => {
      await wb.page.locator('.activitybar .action-item a[aria-label^="CloudSmith"]').first().click();
    });
    const repoRow = wb.page.locator('.monaco-list-row', { hasText: REPO }).first();
    await repoRow.waitFor({ timeout: 30_000 });
    await repoRow.click();
    await wb.page.locator('.monaco-list-row', { hasText: 'Deployments' }).first().waitFor({ timeout: 20_000 });
    await wb.page
      .locator('.monaco-list-row', { hasText: /live \(serving\)/ })
      .first()
      .waitFor({ timeout: 20_000 });
    await wb.screenshot(join(SCREENSHOTS, 'repositories-tree.png'));
    lap('tree shows the live deployment');
  });

  it('deploys again from the Launchboard webview', async function () {
    this.timeout(240_000);
    await wb.command('CloudSmith: Open Launchboard');
    const view = wb.webview();
    const repoSelect = view.locator('#repo');
    await repoSelect.waitFor({ timeout: 30_000 });
    await view.locator(`#repo option[value="${REPO}"]`).waitFor({ state: 'attached', timeout: 30_000 });
    await repoSelect.selectOption(REPO);
    await view.locator('#branch option[value="main"]').waitFor({ state: 'attached', timeout: 30_000 });
    await view.locator('#add-env').click();
    await view.locator('.env-key').last().fill('GREETING');
    await view.locator('.env-value').last().fill('hello-from-e2e');
    // The board opens showing the last deployment (the palette's, live): wait for a different one to go live.
    const previous = (await view.locator('#result').getAttribute('data-deployment-id')) ?? '';
    await view.locator('#deploy').click();
    lap('deploy clicked in the webview');
    const done = view.locator(`#result[data-status="live"]:not([data-deployment-id="${previous}"])`);
    await done.waitFor({ timeout: 180_000 });
    const link = done.locator('#url');
    const url = await link.innerText();
    assert.equal(url, firstUrl, 'the same app keeps its URL');
    assert.match(await view.locator('#log').innerText(), /\S/);
    const page = await fetchApp(url);
    assert.equal(page.status, 200);
    await wb.waitForStatus(/http:\/\/[a-z0-9-]+\.localhost:\d+/, 30_000);
    await wb.screenshot(join(SCREENSHOTS, 'launchboard.png'));
    // The first release is retired right after the second goes live: allow it a moment.
    let statuses: string[] = [];
    for (let i = 0; i < 50; i++) {
      const deployments = await world!.api<Array<{ status: string }>>(
        world!.alice,
        'GET',
        `/api/deployments?repo=${REPO}`,
      );
      statuses = deployments.body.map((d) => d.status);
      if (statuses[1] === 'superseded') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(statuses, ['live', 'superseded']);
    lap('second deploy live from the webview');
  });

  it('signs out: the tree and the status bar offer Sign In again', async function () {
    this.timeout(60_000);
    await wb.command('CloudSmith: Sign Out');
    await wb.waitForStatus(/CloudSmith: Sign in/, 20_000);
    await wb.page
      .locator('.monaco-list-row', { hasText: 'Sign in with GitHub to see your repositories' })
      .first()
      .waitFor({ timeout: 20_000 });
    lap('signed out');
  });
});
