/**
 * The staff screen's words: plain Vietnamese by default, English on a switch; the API's error codes
 * and the dossiers' statuses in words; never a code, a JSON text or a raw status on the screen.
 */
import t from 'tap';
import type { Page } from 'playwright-core';
import { STAFF_TOKEN } from '../helpers/controller.js';
import { door } from '../helpers/citizens.js';
import { until } from '../helpers/mqtt.js';
import { noBrowser, screenshot, startUiLocker } from '../helpers/browser.js';

/** What must never show on a staff screen: an error code, JSON, a raw status. */
const RAW = /[A-Z]{2,}_[A-Z_]{2,}|[{}"]|\b(loading|loaded|notified|expired|picked_up|to_check|returned_to_counter)\b/;
/** In English, "loaded" and "expired" are words: a raw status is a cell that is nothing else. */
const RAW_EN = /[A-Z]{2,}_[A-Z_]{2,}|[{}"]|\b(picked_up|to_check|returned_to_counter)\b/;
const RAW_CELL = /^\s*(loading|loaded|notified|expired|cancelled)\s*$/;

/** The screen's text, or what in it looks raw, with what surrounds it. */
async function screenText(page: Page, raw = RAW): Promise<string> {
  const text = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
  const m = raw.exec(text);
  return m ? `${m[0]} in …${text.slice(Math.max(0, m.index - 80), m.index + 80)}…` : text;
}

t.test(
  'the staff screen speaks plain Vietnamese, with an English switch; no code, no JSON, no raw status',
  { skip: noBrowser },
  async (t) => {
    const locker = await startUiLocker(t);
    const page = await locker.page({ width: 1280, height: 900 });
    // What is checked here is words and lists, not speed: a loaded machine may take seconds to load a tray.
    page.setDefaultTimeout(15_000);
    await page.goto(`${locker.url}/staff`);
    t.equal(await page.evaluate(() => document.documentElement.lang), 'vi');

    // A wrong token: plain words.
    await page.getByRole('tab', { name: 'Mã truy cập' }).click();
    await page.getByLabel('Mã truy cập (bearer token)').fill('not-a-valid-token-000000000');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByText('Sai tên, mã PIN, mã xác thực hoặc mã truy cập.').waitFor();
    await page.getByLabel('Mã truy cập (bearer token)').fill(STAFF_TOKEN);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('heading', { name: /Lượt thu/ }).waitFor();

    // The catalogue slow to come: the form says so and sends nothing (no procedure to send yet).
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const asked: string[] = [];
    await page.route('**/api/procedures?result=true', async (route) => {
      await released;
      await route.continue();
    });
    page.on('request', (r) => r.method() === 'POST' && asked.push(new URL(r.url()).pathname));
    await page.getByRole('tab', { name: 'Đưa kết quả vào máy' }).click();
    const code = page.getByLabel('Mã hồ sơ');
    await page.getByLabel('Số điện thoại người nhận').fill('0987 111 222');
    await code.fill('HCM-2025-000501');
    await code.press('Enter');
    const waiting = page.getByRole('button', { name: 'Đang tải danh mục thủ tục…' });
    t.ok(await waiting.isDisabled(), 'no load before the procedures are known');
    t.same(asked, [], 'nothing sent');
    release();
    await page.getByLabel('Thủ tục').selectOption('HT-KS');

    // A result loaded, then the same result again: refused in words, with its tray.
    await code.press('Enter');
    const opened = page.getByText(/Khay số \d+ đã mở: đặt kết quả/);
    await opened.waitFor();
    const tray = Number(/Khay số (\d+)/.exec((await opened.textContent())!)![1]);
    await code.fill('HCM-2025-000501');
    await code.press('Enter');
    await page.getByText(`Kết quả này đã có trong máy, ở khay ${tray} (đang đưa vào, chờ đóng cửa).`).waitFor();
    t.notMatch(await screenText(page), RAW, 'no code, JSON or raw status after a refusal');

    // A number that is not a Vietnamese mobile.
    await page.getByLabel('Số điện thoại người nhận').fill('+1 202 555 0143');
    await code.fill('HCM-2025-000502');
    await code.press('Enter');
    await page.getByText('Đây không phải số di động Việt Nam: số di động bắt đầu bằng 03, 05, 07, 08 hoặc 09.').waitFor();
    t.notMatch(await screenText(page), RAW);
    await screenshot(page, 'staff-words-refused');

    // The result is put in and its door closed: the unclaimed list says where it stands in words.
    await door(locker, tray, true);
    await door(locker, tray, false);
    await until(
      async () => (await locker.staff.get('/api/staff/results/unclaimed')).json().find((r: any) => r.status === 'notified'),
      'the citizen texted',
    );
    await page.getByRole('tab', { name: 'Kết quả chưa nhận' }).click();
    const row = page.getByRole('row').filter({ hasText: 'HCM-2025-000501' });
    await row.getByRole('cell', { name: 'Đã nhắn tin, chờ người dân nhận' }).waitFor();
    t.notMatch(await screenText(page), RAW, 'no raw status in the unclaimed list');

    // English, on the switch: the screen, the statuses, the refusals.
    await page.getByRole('button', { name: 'Switch to English' }).click();
    t.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await row.getByRole('cell', { name: 'Texted, waiting for the citizen' }).waitFor();
    await page.getByRole('heading', { name: 'Results not collected' }).waitFor();
    await page.getByRole('tab', { name: 'Load results' }).click();
    // The phone number and the procedure stay for the next result, across a visit to another tab.
    t.equal(await page.getByLabel('Recipient phone number').inputValue(), '+1 202 555 0143', 'the last phone number kept');
    t.equal(await page.getByLabel('Procedure').inputValue(), 'HT-KS', 'the procedure kept');
    await page.getByLabel('Recipient phone number').fill('0987 111 222');
    await page.getByLabel('Dossier code').fill('HCM-2025-000501');
    await page.getByLabel('Dossier code').press('Enter');
    // Found by its start, its status read after: a failure then says what the screen said.
    const already = page.getByText(`This result is already in the machine, in tray ${tray}`);
    await already.waitFor();
    t.equal(
      await already.textContent(),
      `This result is already in the machine, in tray ${tray} (texted, waiting for the citizen).`,
      'refused in words, with its tray and status',
    );
    t.notMatch(await screenText(page, RAW_EN), RAW_EN);
    t.equal(await page.getByRole('cell', { name: RAW_CELL }).count(), 0, 'no raw status in a cell');
    // The session's list, kept across the tabs, says where the result stands.
    await page
      .getByRole('region', { name: /Loaded in this session/ })
      .getByRole('row')
      .filter({ hasText: 'HCM-2025-000501' })
      .getByText('Texted, waiting for the citizen')
      .waitFor();
    await screenshot(page, 'staff-words-english');
    await page.getByRole('tab', { name: 'Collection round' }).click();
    await page.getByRole('heading', { name: /Collection round \d\d:\d\d/ }).waitFor();
    await page.getByRole('heading', { name: 'Dossiers to collect (0)' }).waitFor();

    // Signed out, the sign-in speaks English too; back to Vietnamese.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Staff sign-in' }).waitFor();
    await page.getByRole('button', { name: 'Chuyển sang tiếng Việt' }).click();
    await page.getByRole('heading', { name: 'Đăng nhập cán bộ' }).waitFor();
    t.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
    t.same(page.errors, [], 'no script errors');
  },
);
