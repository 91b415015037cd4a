/**
 * Browser tests: Debian's Chromium driven by playwright-core against the whole controller
 * listening on a loopback port. Screenshots go to test/artifacts/ui/ (git-ignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestLocker, type TestLocker } from './controller.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A reason to skip, only when no Chromium is installed; false when the browser tests can run. */
export const noBrowser: string | false = existsSync(CHROMIUM_PATH)
  ? false
  : `no Chromium at ${CHROMIUM_PATH}: install it with "apt-get install chromium" to run the browser tests`;

const ARTIFACTS = new URL('../artifacts/ui/', import.meta.url);

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface UiLocker extends TestLocker {
  url: string;
  browser: Browser;
  /** A new page at 1280×1024 (the kiosk's touchscreen), with console errors collected. */
  page(size?: { width: number; height: number }): Promise<Page & { errors: string[] }>;
}

/** Chromium, closed at teardown, and a way to open pages on it with console errors collected. */
export async function launchBrowser(t: Teardown): Promise<Pick<UiLocker, 'browser' | 'page'>> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  t.teardown(() => browser.close());
  return {
    browser,
    async page(size = { width: 1280, height: 1024 }) {
      const context = await browser.newContext({ viewport: size, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh', acceptDownloads: true });
      const page = (await context.newPage()) as Page & { errors: string[] };
      page.errors = [];
      page.on('pageerror', (err) => page.errors.push(String(err)));
      page.on('console', (msg) => {
        // A refused API call is logged by the browser as a failed resource; the screens handle those.
        if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) page.errors.push(msg.text());
      });
      page.setDefaultTimeout(5_000);
      return page;
    },
  };
}

export async function startUiLocker(t: Teardown, overrides: Record<string, any> = {}): Promise<UiLocker> {
  const locker = await startTestLocker(t, overrides);
  // Through the controller: what listens for real also tells the simulated bank where its webhook is.
  const url = await locker.controller.listen();
  return { ...locker, url, ...(await launchBrowser(t)) };
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = new URL(`${name}.png`, ARTIFACTS).pathname;
  await page.screenshot({ path, fullPage });
  return path;
}

/** Presses the on-screen keys one by one, as a citizen would. */
export async function tap(page: Page, keys: string): Promise<void> {
  // A mark (".", "-") has a spoken name of its own: found by the key it types.
  for (const key of keys) {
    await page
      .getByRole('button', { name: key, exact: true })
      .or(page.locator(`.keypad button[data-key="${key}"]`))
      .first()
      .click();
  }
}
