import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';

/** Selectors and moves that work on code-server's workbench (see the vscode-e2e recipe). */
export const norm = (s: string | null | undefined) => (s ?? '').replace(/\u00a0/g, ' ').trim();

/** The whole label ("CloudSmith: Deploy" but not "CloudSmith: Cancel Deployment"). */
const exactly = (label: string) => new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `check` returns a value (not undefined/false), polling; on a loaded machine every wait here is
 * generous, and the error says what was last seen.
 */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    await sleep(everyMs);
  }
}

export class Workbench {
  /** Called after code-server reloaded the window (the page lost its marker): sign in again, reopen views. */
  onReload: (() => Promise<void>) | undefined;

  constructor(
    readonly page: Page,
    private readonly userData: string,
  ) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url, { waitUntil: 'domcontentloaded', timeout: 90_000 });
    await this.ready();
  }

  /** The workbench is drawn; marks the window so a later reload is noticed. */
  async ready(): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    await this.page.locator('#workbench\\.parts\\.statusbar').waitFor({ timeout: 60_000 });
    await this.page.evaluate(() => {
      (window as unknown as { __cloudsmithE2E?: boolean }).__cloudsmithE2E = true;
    });
  }

  /** True when the window was reloaded since ready() (code-server does that now and then under load). */
  async reloaded(): Promise<boolean> {
    return this.page
      .evaluate(() => !(window as unknown as { __cloudsmithE2E?: boolean }).__cloudsmithE2E)
      .catch(() => true);
  }

  /** After a reload: wait for the new window, then let the test restore its state (session, views). */
  async recoverIfReloaded(): Promise<boolean> {
    if (!(await this.reloaded())) return false;
    console.log('      (the window reloaded: recovering)');
    await this.ready();
    await this.onReload?.();
    return true;
  }

  /**
   * Does `action` until `done` holds: an idempotent UI move (a palette command, a click) that a reload or a busy
   * renderer may swallow is simply made again.
   */
  async retry<T>(
    what: string,
    action: () => Promise<void>,
    done: () => Promise<T | undefined | false>,
    options: { attempts?: number; waitMs?: number } = {},
  ): Promise<T> {
    const attempts = options.attempts ?? 4;
    let last: unknown;
    for (let i = 1; i <= attempts; i++) {
      try {
        await action();
        return await until(what, done, options.waitMs ?? 30_000);
      } catch (err) {
        last = err;
        console.log(`      (attempt ${i}/${attempts} at ${what} failed: ${(err as Error).message.split('\n')[0]})`);
        await this.page.keyboard.press('Escape').catch(() => undefined);
        await this.recoverIfReloaded();
      }
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  /** Runs a palette command; retried because a fresh profile lists contributed commands only once extensions are scanned. */
  async command(label: string, attempts = 20): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.page.keyboard.press('Escape');
        await this.page.keyboard.press('F1');
        const input = this.page.locator('.quick-input-widget .quick-input-box input');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill(`>${label}`);
        // Fuzzy matching lists similar commands too (and recently used ones first): accept the exact one.
        await this.accept(label, 4_000);
        return;
      } catch (err) {
        const rows = await this.page
          .locator('.quick-input-widget .monaco-list-row')
          .allTextContents()
          .catch(() => []);
        await this.page.keyboard.press('Escape').catch(() => undefined);
        if (i >= attempts)
          throw new Error(
            `palette command "${label}" not found (rows: ${JSON.stringify(rows.slice(0, 5))}): ${(err as Error).message}`,
          );
        await this.recoverIfReloaded();
        await this.page.waitForTimeout(500);
      }
    }
  }

  /** Accepts the quick pick row with this label (the extension's QuickPick). */
  async pick(label: string, timeoutMs = 30_000): Promise<void> {
    await this.accept(label, timeoutMs);
  }

  /** Moves the quick input's focus to the row with this label by keyboard, then Enter: as a user would. */
  private async accept(label: string, timeoutMs: number): Promise<void> {
    // A row's text runs its label into its description ("CloudSmith: Deploysimilar commands"): match the label element.
    const row = this.page
      .locator('.quick-input-widget .monaco-list-row', {
        has: this.page.locator('.label-name', { hasText: exactly(label) }),
      })
      .first();
    await row.waitFor({ state: 'visible', timeout: timeoutMs });
    const target = Number(await row.getAttribute('data-index'));
    for (let i = 0; i < 50; i++) {
      const focused = Number(
        await this.page
          .locator('.quick-input-widget .monaco-list-row.focused')
          .first()
          .getAttribute('data-index', { timeout: 2_000 })
          .catch(() => '0'),
      );
      if (focused === target) break;
      await this.page.keyboard.press(focused < target ? 'ArrowDown' : 'ArrowUp');
    }
    const title = await this.quickInputTitle();
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('Enter');
      const accepted = await row.waitFor({ state: 'hidden', timeout: 3_000 }).then(
        () => true,
        () => false,
      );
      // An Enter pressed while the widget still wires itself up is lost (seen once in CI): press it again, but only
      // while the same step still shows this row focused, so that a next step is never answered by mistake.
      if (accepted || attempt === 3 || (await this.quickInputTitle()) !== title) return;
      if (!(await row.evaluate((el) => el.classList.contains('focused')).catch(() => false))) return;
    }
  }

  /** The visible quick input's title bar text (title and "n/m" step count), or undefined when none is open. */
  async quickInputTitle(): Promise<string | undefined> {
    const widget = this.page.locator('.quick-input-widget');
    if (!(await widget.isVisible().catch(() => false))) return undefined;
    return norm(await this.page.locator('.quick-input-widget .quick-input-titlebar').innerText({ timeout: 2_000 }));
  }

  async waitForQuickInput(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    return until(
      `a quick input titled ${pattern}`,
      async () => {
        const title = await this.quickInputTitle();
        return title && pattern.test(title) ? title : undefined;
      },
      timeoutMs,
    );
  }

  /** The quick input's Back button (a multi-step input after its first step). */
  async back(): Promise<void> {
    await this.page
      .locator('.quick-input-widget .quick-input-titlebar .action-label[aria-label^="Back"]')
      .first()
      .click({ timeout: 10_000 });
  }

  /** The "Allow" consent dialog shown the first time an extension asks for a GitHub session. */
  async allowAuthIfAsked(timeoutMs = 10_000): Promise<boolean> {
    const allow = this.page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Allow$/ }).first();
    const shown = await allow.waitFor({ timeout: timeoutMs }).then(
      () => true,
      () => false,
    );
    if (shown) await allow.click();
    return shown;
  }

  /** A modal dialog whose message matches: returns its text and clicks `button`. */
  async answerDialog(pattern: RegExp, button: string, timeoutMs = 30_000): Promise<string> {
    const box = this.page.locator('.monaco-dialog-box', { hasText: pattern }).first();
    await box.waitFor({ state: 'visible', timeout: timeoutMs });
    const text = norm(await box.innerText());
    await box
      .locator('.monaco-button', { hasText: exactly(button) })
      .first()
      .click();
    await box.waitFor({ state: 'hidden', timeout: 15_000 });
    return text;
  }

  /**
   * The whole output channel (by default "CloudSmith"), read from the file VS Code writes it to: unlike the
   * editor, which renders only the lines in view, the file holds every line. After a reload the window writes a
   * new file, so the newest one is read.
   */
  outputLog(channel = 'CloudSmith'): string {
    // VS Code names the file `<n>-<channel name without \/:*?"<>|>.log`.
    const suffix = `-${channel.replace(/[\\/:*?"<>|]/g, '')}.log`;
    const files: Array<{ path: string; mtime: number }> = [];
    const walk = (dir: string, depth: number) => {
      if (depth > 6) return;
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of entries) {
        const path = join(dir, name);
        let st;
        try {
          st = statSync(path);
        } catch {
          continue;
        }
        if (st.isDirectory()) walk(path, depth + 1);
        else if (name.endsWith(suffix)) files.push({ path, mtime: st.mtimeMs });
      }
    };
    walk(join(this.userData, 'logs'), 0);
    files.sort((a, b) => b.mtime - a.mtime);
    const newest = files.at(0);
    return newest ? readFileSync(newest.path, 'utf8') : '';
  }

  async waitForOutput(pattern: RegExp, timeoutMs: number, channel = 'CloudSmith'): Promise<string> {
    return until(
      `the ${channel} output channel to show ${pattern}`,
      async () => {
        const text = this.outputLog(channel);
        return pattern.test(text) ? text : undefined;
      },
      timeoutMs,
    );
  }

  /** Whether the panel shows the CloudSmith output channel. */
  async outputPanelShows(pattern: RegExp): Promise<boolean> {
    const text = await this.page
      .evaluate(() => document.querySelector('.part.panel .monaco-editor .view-lines')?.textContent ?? '')
      .catch(() => '');
    return pattern.test(norm(text));
  }

  async statusItems(): Promise<string[]> {
    return (await this.page.locator('#workbench\\.parts\\.statusbar .statusbar-item').allInnerTexts()).map(norm);
  }

  async waitForStatus(pattern: RegExp, timeoutMs: number): Promise<string> {
    return until(
      `a status bar item matching ${pattern} (it shows ${JSON.stringify(await this.statusItems().catch(() => []))})`,
      async () => (await this.statusItems()).find((t) => pattern.test(t)),
      timeoutMs,
    );
  }

  /** The CloudSmith status bar item (by its id), for clicks. */
  cloudsmithStatusItem(): Locator {
    return this.page.locator('[id="cloudsmith.cloudsmith.cloudsmith.status"], [id$="cloudsmith.status"]').first();
  }

  /**
   * A notification whose message matches: a toast, else (toasts hide after a while) the notification center.
   * Returns its list item, so its buttons can be clicked.
   */
  async notification(pattern: RegExp, timeoutMs: number): Promise<Locator> {
    const inToasts = this.page.locator('.notifications-toasts .notification-list-item', {
      has: this.page.locator('.notification-list-item-message', { hasText: pattern }),
    });
    const inCenter = this.page.locator('.notifications-center .notification-list-item', {
      has: this.page.locator('.notification-list-item-message', { hasText: pattern }),
    });
    let centerOpened = false;
    const started = Date.now();
    return until(
      `a notification matching ${pattern}`,
      async () => {
        if (await inToasts.first().isVisible()) return inToasts.first();
        if (await inCenter.first().isVisible()) return inCenter.first();
        if (!centerOpened && Date.now() - started > Math.min(10_000, timeoutMs / 3)) {
          centerOpened = true;
          await this.command('Notifications: Show Notifications', 3).catch(() => undefined);
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  /** Clicks a button of a notification (its list item). */
  async clickNotificationButton(item: Locator, button: string): Promise<void> {
    await item.hover().catch(() => undefined);
    await item
      .locator('.monaco-button', { hasText: exactly(button) })
      .first()
      .click({ timeout: 10_000 });
  }

  async notificationButtons(item: Locator): Promise<string[]> {
    return (await item.locator('.monaco-button').allInnerTexts()).map(norm);
  }

  /** Clears toasts and the center, so the next step's notification is its own. */
  async clearNotifications(): Promise<void> {
    await this.command('Notifications: Clear All Notifications', 3).catch(() => undefined);
    await this.page.keyboard.press('Escape').catch(() => undefined);
  }

  /** Shows the CloudSmith view container (its Repositories view). */
  async showCloudSmithView(): Promise<void> {
    const visible = await this.page
      .locator('.pane-header', { hasText: /Repositories/i })
      .first()
      .isVisible()
      .catch(() => false);
    if (visible) return;
    await this.command('View: Show CloudSmith', 3).catch(async () => {
      await this.page.locator('.activitybar .action-item a[aria-label^="CloudSmith"]').first().click();
    });
  }

  treeRow(text: string | RegExp): Locator {
    return this.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row', { hasText: text }).first();
  }

  /** The active webview's content frame (webviews are an iframe inside an iframe). */
  webview(): FrameLocator {
    return this.page.locator('iframe.webview.ready').last().contentFrame().locator('#active-frame').contentFrame();
  }

  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path });
  }
}
