/**
 * Browser tests: Debian's Chromium driven by playwright-core against the whole controller
 * listening on a loopback port. Screenshots go to test/artifacts/ui/ (git-ignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { OffsetClock } from '../../src/domain/clock.js';
import { startTestLocker, type TestLocker } from './controller.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A reason to skip, only when no Chromium is installed; false when the browser tests can run. */
export const noBrowser: string | false = existsSync(CHROMIUM_PATH)
  ? false
  : `no Chromium at ${CHROMIUM_PATH}: install it with "apt-get install chromium" to run the browser tests`;

const ARTIFACTS = new URL('../artifacts/ui/', import.meta.url);

/**
 * The moment the browser tests start at, on the daemon and in the browser alike: Tuesday 8
 * December 2026, 05:00 in Ho Chi Minh City, a working day hours before the 8:00 round.
 *
 * What the screens show depends on the hour: from 7:45 the 8:00 round's manifest is drawn and a
 * new deposit waits for the 13:30 round, so a test that deposits and then looks at the staff
 * screen would see the tray at 5:00 and not at 7:50. Both clocks start here and run on at their
 * real pace; a test moves the daemon's with `controller.clock` (`setOffset` is then counted from
 * this moment) and the page's with `page.clock`.
 */
export const UI_TEST_START = new Date('2026-12-08T05:00:00+07:00');

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface UiLocker extends TestLocker {
  url: string;
  browser: Browser;
  /** A new page at 1280×1024 (the kiosk's touchscreen), with console errors collected. */
  page(size?: { width: number; height: number }): Promise<Page & { errors: string[] }>;
}

/**
 * Chromium, closed at teardown, and a way to open pages on it with console errors collected. Each
 * page's clock is installed `shiftMs` from the system's (0: beside a daemon on the system's clock;
 * `startUiLocker` gives its daemon's shift) and runs on from there; a test moves it on with
 * `page.clock.fastForward`.
 */
export async function launchBrowser(t: Teardown, shiftMs = 0): Promise<Pick<UiLocker, 'browser' | 'page'>> {
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
      await context.clock.install({ time: Date.now() + shiftMs });
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

/** The whole controller listening on a loopback port, its clock and the browser's at `UI_TEST_START`. */
export async function startUiLocker(t: Teardown, overrides: Record<string, any> = {}): Promise<UiLocker> {
  const shiftMs = UI_TEST_START.getTime() - Date.now();
  const base = { now: () => new Date(Date.now() + shiftMs), monotonicMs: () => performance.now() };
  const locker = await startTestLocker(t, overrides, { clock: new OffsetClock(base) });
  // Through the controller: what listens for real also tells the simulated bank where its webhook is.
  const url = await locker.controller.listen();
  return { ...locker, url, ...(await launchBrowser(t, shiftMs)) };
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
