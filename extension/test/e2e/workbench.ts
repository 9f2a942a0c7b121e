import type { FrameLocator, Page } from 'playwright-core';

/** Selectors and moves that work on code-server's workbench (see the vscode-e2e recipe). */
export const norm = (s: string | null | undefined) => (s ?? '').replace(/\u00a0/g, ' ').trim();

/** The whole label ("CloudSmith: Deploy" but not "CloudSmith: Cancel Deployment"). */
const exactly = (label: string) => new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);

export class Workbench {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await this.page.locator('#workbench\\.parts\\.statusbar').waitFor({ timeout: 60_000 });
  }

  /** Runs a palette command; retried because a fresh profile lists contributed commands only once extensions are scanned. */
  async command(label: string, attempts = 20): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.page.keyboard.press('F1');
        const input = this.page.locator('.quick-input-widget .quick-input-box input');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill(`>${label}`);
        // Fuzzy matching lists similar commands too (and recently used ones first): click the exact one.
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
    await this.page.keyboard.press('Enter');
  }

  async quickPickTitle(timeoutMs = 30_000): Promise<string> {
    const title = this.page.locator('.quick-input-widget .quick-input-title');
    await title.waitFor({ state: 'visible', timeout: timeoutMs });
    return norm(await title.innerText());
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

  async outputText(): Promise<string> {
    return norm(
      await this.page.evaluate(
        () => document.querySelector('.part.panel .monaco-editor .view-lines')?.textContent ?? '',
      ),
    );
  }

  /**
   * Waits until the output channel's visible text matches. The editor renders only the lines in view, so every
   * distinct snapshot seen on the way is returned too (what scrolled past while it streamed).
   */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<{ text: string; seen: string[] }> {
    const deadline = Date.now() + timeoutMs;
    const seen: string[] = [];
    for (;;) {
      const text = await this.outputText();
      if (text && seen[seen.length - 1] !== text) seen.push(text);
      if (pattern.test(text)) return { text, seen };
      if (Date.now() > deadline)
        throw new Error(`output channel never matched ${pattern}; it shows: ${text.slice(-800)}`);
      await this.page.waitForTimeout(100);
    }
  }

  async statusItems(): Promise<string[]> {
    return (await this.page.locator('#workbench\\.parts\\.statusbar .statusbar-item').allInnerTexts()).map(norm);
  }

  async waitForStatus(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = (await this.statusItems()).find((t) => pattern.test(t));
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(`status bar never matched ${pattern}; it shows: ${JSON.stringify(await this.statusItems())}`);
      await this.page.waitForTimeout(250);
    }
  }

  async waitForNotification(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const texts = (
        await this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts()
      ).map(norm);
      const hit = texts.find((t) => pattern.test(t));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no notification matched ${pattern}; shown: ${JSON.stringify(texts)}`);
      await this.page.waitForTimeout(250);
    }
  }

  async clearNotifications(): Promise<void> {
    await this.command('Notifications: Clear All Notifications', 3).catch(() => undefined);
  }

  /** The active webview's content frame (webviews are an iframe inside an iframe). */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
  }

  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path });
  }
}
