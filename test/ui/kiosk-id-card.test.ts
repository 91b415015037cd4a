/**
 * A deposit made with a scanned citizen ID card (docs/id-card.md): a keyboard-wedge scanner's burst
 * fills "Người nộp" (the same text typed slowly does not), the simulator's scanner pushes its card
 * to the kiosk, and the officer's round screen names the depositor.
 */
import t from 'tap';
import type { Page } from 'playwright-core';
import { SAMPLE_CARD_QR } from '../../src/domain/citizen-id.js';
import { STAFF_TOKEN } from '../helpers/controller.js';
import { codeFor, door } from '../helpers/citizens.js';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';
import { until } from '../helpers/mqtt.js';

const HOLDER_LINE = 'Người nộp: NGUYỄN THỊ MINH ANH · ••••••••2345';

/**
 * Types `text` then Enter as a keyboard-wedge scanner does: one key press per character, `delayMs`
 * apart. Characters beyond the US layout (Vietnamese letters) come as a key press whose `key` is
 * the letter itself, as a scanner in Unicode mode sends them.
 */
async function wedge(page: Page, text: string, delayMs: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  for (const ch of text) {
    if (/^[\x20-\x7e]$/.test(ch)) {
      await page.keyboard.press(ch);
    } else {
      await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key: ch, text: ch, unmodifiedText: ch });
      await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: ch });
    }
    await page.waitForTimeout(delayMs);
  }
  await page.keyboard.press('Enter');
  await cdp.detach();
}

async function toPhoneStep(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
  await page
    .getByRole('button', { name: /Đăng ký khai sinh/ })
    .first()
    .click();
  await page.getByRole('heading', { name: 'Nhập số điện thoại di động' }).waitFor();
}

t.test('a keyboard-wedge burst fills the depositor; the same text typed slowly does not', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await toPhoneStep(page, locker.url);
  await page.getByText('Quét mặt sau thẻ căn cước để ghi tên người nộp (không bắt buộc)').waitFor();

  // A person typing: 120 ms between keys. Nothing is scanned, nothing typed elsewhere.
  await wedge(page, SAMPLE_CARD_QR.slice(0, 40), 120);
  await page.waitForTimeout(300);
  t.equal(await page.getByText(/Người nộp:/).count(), 0, 'slow typing is not a scan');
  t.equal(await page.getByLabel('Số điện thoại').inputValue(), '', 'and typed into nothing');

  // The scanner: ~5 ms between keys.
  await wedge(page, SAMPLE_CARD_QR, 5);
  await page.getByText(HOLDER_LINE).waitFor();
  t.equal(await page.getByLabel('Số điện thoại').inputValue(), '', "the burst's keys went nowhere else");
  t.equal(await page.locator('[role=alert] .error').count(), 0, 'no error shown');
  await screenshot(page, 'kiosk-id-card-scanned');

  // "Bỏ" forgets it; a card that is no card says so.
  await page.getByRole('button', { name: 'Bỏ tên người nộp' }).click();
  await page.getByText('Quét mặt sau thẻ căn cước để ghi tên người nộp (không bắt buộc)').waitFor();
  await wedge(page, SAMPLE_CARD_QR.replace('079301', '999301'), 5);
  await page.getByRole('alert').getByText('Không đọc được thẻ căn cước. Vui lòng quét lại mặt sau có mã QR.').waitFor();

  // Scanned again with the phone number's field focused: its digits (079301012345 reads as a mobile
  // number) must not land there, nor its Enter send a code to that stranger.
  await page.getByLabel('Số điện thoại').click();
  await wedge(page, SAMPLE_CARD_QR, 5);
  await page.getByText(HOLDER_LINE).waitFor();
  t.equal(await page.getByLabel('Số điện thoại').inputValue(), '', 'the focused field keeps nothing of the burst');
  t.ok(await page.getByRole('heading', { name: 'Nhập số điện thoại di động' }).isVisible(), 'and its Enter sent nothing');
  t.same((await locker.anonymous.get('/api/sim/sms')).json(), [], 'no code texted to anyone');
  await tap(page, '0912345678');
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
  // A scan on the code's screen (which takes no card) presses nothing and types nothing.
  await wedge(page, SAMPLE_CARD_QR, 5);
  await page.waitForTimeout(300);
  t.ok(await page.getByRole('heading', { name: 'Nhập mã OTP' }).isVisible(), 'still at the code');
  t.equal(
    await page
      .getByRole('alert')
      .getByText(/mã OTP/i)
      .count(),
    0,
    'no code tried',
  );
  await tap(page, await codeFor(locker, '0912345678'));
  await page.getByRole('button', { name: 'Xác nhận' }).click();
  const open = page.getByRole('heading', { name: /Khay số \d+ đã mở/ });
  await open.waitFor();
  const tray = Number(/Khay số (\d+)/.exec((await open.textContent())!)![1]);
  await door(locker, tray, true);
  await door(locker, tray, false);
  await page.getByRole('heading', { name: 'Đã nhận hồ sơ' }).waitFor();
  const { rows } = await locker.controller.database.query(
    `SELECT holder_enc FROM dossiers WHERE kind = 'deposit' AND tray = $1 AND status = 'deposited'`,
    [tray],
  );
  t.type(rows[0]?.holder_enc, 'string', 'the deposit keeps its holder, sealed');

  // The officer's round screen names the depositor.
  const staff = await locker.page({ width: 1280, height: 900 });
  await staff.goto(`${locker.url}/staff`);
  await staff.getByRole('tab', { name: 'Mã truy cập' }).click();
  await staff.getByLabel('Mã truy cập (bearer token)').fill(STAFF_TOKEN);
  await staff.getByRole('button', { name: 'Đăng nhập' }).click();
  const row = staff.locator(`tr[data-tray="${tray}"]`);
  await row.locator('[data-holder]').getByText('Người nộp: Nguyễn Thị Minh Anh · ••••••••2345').waitFor();
  await screenshot(staff, 'staff-round-depositor', true);
  t.same(page.errors, [], 'no script errors on the kiosk');
  t.same(staff.errors, [], 'no script errors on the staff screen');
});

t.test("the simulator's scanner: a card presented shows on the kiosk", { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await toPhoneStep(page, locker.url);
  // The stream is open once the phone step shows; a card presented then is pushed to it.
  await until(
    async () => {
      await locker.anonymous.post('/api/sim/id-card', {});
      return (await page.getByText(HOLDER_LINE).count()) > 0;
    },
    'the presented card on the kiosk',
    5_000,
  );
  // The panel's own button does the same.
  await page.getByRole('button', { name: 'Bỏ tên người nộp' }).click();
  const sim = await locker.page();
  await sim.goto(`${locker.url}/sim`);
  await sim.getByRole('button', { name: 'Present the sample card' }).click();
  await page.getByText(HOLDER_LINE).waitFor();
  t.same(page.errors, [], 'no script errors');
});
