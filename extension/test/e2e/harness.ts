import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { freePort } from '../../../backend/src/health/health';
import { World } from '../../../backend/test/helpers/world';
import { missingPeer } from '../../../backend/test/peers';
import { packageFakeAuth, startCodeServer, type CodeServer } from './codeServer';
import { Workbench } from './workbench';

export const EXTENSION_DIR = resolve(__dirname, '..', '..');
export const SCREENSHOTS = resolve(EXTENSION_DIR, 'media', 'screenshots');

/** One e2e suite's peers: the backend (World), code-server with the built extension, and headless Chromium. */
export interface E2ESession {
  world: World;
  codeServer: CodeServer;
  wb: Workbench;
  close(): Promise<void>;
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Starts everything an extension e2e needs, in a `before` hook: `prepare` adds repositories and fills the workspace
 * folder before VS Code opens it. Whatever started is stopped again when a later step fails.
 */
export async function startSession(
  ctx: Mocha.Context,
  options: { workspace: string; prepare: (world: World) => Promise<void>; log: (m: string) => void },
): Promise<E2ESession> {
  if (!process.env.CLOUDSMITH_TEST_VSCODE) {
    missingPeer(
      ctx,
      'vscode-e2e',
      'CLOUDSMITH_TEST_VSCODE is unset: run `bash scripts/vscode-e2e.sh up`, then `eval "$(bash scripts/vscode-e2e.sh env)"`',
    );
  }
  let world: World | undefined;
  let codeServer: CodeServer | undefined;
  let browser: BrowserContext | undefined;
  const browserDir = mkdtempSync(join(tmpdir(), 'cloudsmith-chromium-'));
  const close = async () => {
    await browser?.close().catch(() => undefined);
    await codeServer?.stop();
    await world?.close();
    rmSync(browserDir, { recursive: true, force: true });
  };
  try {
    world = await World.start();
    await options.prepare(world);
    options.log(`backend up at ${world.url}`);
    const vsixDir = mkdtempSync(join(tmpdir(), 'cloudsmith-vsix-'));
    const fakeAuth = packageFakeAuth(vsixDir);
    codeServer = await startCodeServer({
      vsixes: [join(EXTENSION_DIR, 'dist', 'cloudsmith.vsix'), fakeAuth],
      workspace: options.workspace,
      port: await freePort(),
      env: {
        CLOUDSMITH_API_URL: world.url,
        GITHUB_API_URL: world.github.url,
        FAKE_GITHUB_TOKEN: world.alice.token,
        FAKE_GITHUB_LOGIN: world.alice.login,
      },
    });
    rmSync(vsixDir, { recursive: true, force: true });
    options.log(`code-server up at ${codeServer.url}`);
    browser = await chromium.launchPersistentContext(browserDir, {
      executablePath: process.env.CLOUDSMITH_TEST_CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(30_000);
    const wb = new Workbench(page, codeServer.userData);
    await wb.open(`${codeServer.url}/?folder=${encodeURIComponent(options.workspace)}`);
    options.log('workbench loaded');
    return { world, codeServer, wb, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** In `afterEach`: a failed test leaves a screenshot and the output channel's tail for diagnosis. */
export async function keepFailureEvidence(
  ctx: Mocha.Context,
  session: E2ESession | undefined,
  name: string,
): Promise<void> {
  if (ctx.currentTest?.state !== 'failed' || !session) return;
  const shot = join(process.env.CLOUDSMITH_TEST_VSCODE ?? tmpdir(), `${name}-failure.png`);
  await session.wb.screenshot(shot).then(
    () => {
      console.log(`      failure screenshot: ${shot}; code-server log: ${session.codeServer.logFile}`);
      console.log(`      output channel (tail): ${session.wb.outputLog().slice(-1500)}`);
    },
    () => undefined,
  );
}
