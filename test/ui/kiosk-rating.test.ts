/**
 * The satisfaction rating on the kiosk (issue 12): four faces after a deposit and after a pickup,
 * one touch for the first two, reasons for the last two, "Bỏ qua", the English switch, the idle
 * time kept; and the figure on /admin.
 */
import t from 'tap';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, type TestLocker } from '../helpers/controller.js';
import { codeFor, door, loadResult } from '../helpers/citizens.js';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';
import { until } from '../helpers/mqtt.js';

const FACES_VI = ['Rất hài lòng', 'Hài lòng', 'Bình thường', 'Không hài lòng'];
const FACES_EN = ['Very satisfied', 'Satisfied', 'Neutral', 'Dissatisfied'];

/** A deposit on the kiosk, from the start screen to the receipt. */
async function depositToReceipt(locker: TestLocker, page: Page, phone: string): Promise<void> {
  await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
  await page
    .getByRole('button', { name: /Đăng ký khai sinh/ })
    .first()
    .click();
  await tap(page, phone);
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
  await tap(page, await codeFor(locker, phone));
  await page.getByRole('button', { name: 'Xác nhận' }).click();
  const open = page.getByRole('heading', { name: /Khay số \d+ đã mở/ });
  await open.waitFor();
  const tray = Number(/Khay số (\d+)/.exec((await open.textContent())!)![1]);
  await door(locker, tray, true);
  await door(locker, tray, false);
  await page.getByRole('heading', { name: 'Đã nhận hồ sơ' }).waitFor();
}

async function ratings(locker: TestLocker): Promise<{ service: string; rating: string; reasons: string[] }[]> {
  const { rows } = await locker.controller.database.query(
    `SELECT service, rating, reasons FROM ratings WHERE locker_id = $1 ORDER BY rating`,
    [locker.lockerId],
  );
  return rows;
}

const face = (page: Page, name: string) =>
  page.getByRole('group', { name: /Mức độ hài lòng|How satisfied/ }).getByRole('button', { name, exact: true });

t.test('a rating after a deposit, one touch, and its figure on /admin', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await depositToReceipt(locker, page, '0912345611');

  const rating = page.getByRole('region', { name: 'Ông/Bà có hài lòng với dịch vụ không?' });
  await rating.waitFor();
  t.ok(await page.getByTestId('dossier-code').isVisible(), 'the receipt stays above the rating');
  for (const name of FACES_VI) t.ok(await face(page, name).isVisible(), `the face "${name}"`);
  t.ok(await rating.getByRole('button', { name: 'Bỏ qua' }).isVisible(), 'skippable');
  t.equal(await rating.getByRole('group', { name: 'Lý do' }).count(), 0, 'no reasons before a face of the last two');
  await screenshot(page, 'kiosk-rating-deposit', true);

  // The English switch translates it, and back.
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await page.getByRole('region', { name: 'How satisfied are you with the service?' }).waitFor();
  for (const name of FACES_EN) t.ok(await face(page, name).isVisible(), `in English: "${name}"`);
  t.ok(await page.getByRole('button', { name: 'Skip', exact: true }).isVisible());
  await page.getByRole('button', { name: 'Chuyển sang tiếng Việt' }).click();
  await rating.waitFor();

  // One touch sends "Hài lòng".
  await face(page, 'Hài lòng').click();
  await page.getByRole('status').getByText('Cảm ơn Ông/Bà đã đánh giá!').waitFor();
  t.equal(await rating.count(), 0, 'the faces are gone: one rating per visit');
  t.same(await ratings(locker), [{ service: 'deposit', rating: 'satisfied', reasons: [] }], 'stored at once');
  await screenshot(page, 'kiosk-rating-thanks');
  await page.getByRole('button', { name: 'Xong' }).click();
  await page.getByRole('heading', { name: 'Xin chào! Ông/Bà cần làm gì?' }).waitFor();
  t.same(page.errors, [], 'no script errors on the kiosk');

  const admin = await locker.page({ width: 1440, height: 1000 });
  await admin.goto(`${locker.url}/admin`);
  await admin.getByLabel('Mã truy cập (bearer token)').fill(ADMIN_TOKEN);
  await admin.getByRole('button', { name: 'Đăng nhập' }).click();
  const panel = admin.getByRole('region', { name: 'Mức độ hài lòng của người dân' });
  const stats = (await locker.admin.get('/api/admin/stats')).json();
  const month = stats.satisfaction.at(-1).month;
  const deposits = panel.locator(`tr[data-month="${month}"][data-service="deposit"]`);
  await deposits.waitFor();
  t.equal(await deposits.locator('[data-face="satisfied"]').textContent(), '1', 'one "Hài lòng" this month');
  t.equal(await deposits.locator('[data-face="dissatisfied"]').textContent(), '0');
  t.equal(await deposits.locator('[data-share]').textContent(), '100%', 'every rating satisfied');
  t.match(await deposits.innerText(), /Nộp hồ sơ/, 'named by its service');
  const pickups = panel.locator(`tr[data-month="${month}"][data-service="pickup"]`);
  t.equal(await pickups.locator('[data-total]').textContent(), '0', 'no pickup rated');
  t.equal(await pickups.locator('[data-share]').textContent(), '–', 'no share without a rating');
  await screenshot(admin, 'admin-satisfaction', true);
  t.same(admin.errors, [], 'no script errors on /admin');
});

t.test('after a pickup, in English: a face of the last two, its reasons, then send', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  await loadResult(locker, '+84987654311', 44);
  const page = await locker.page();
  await page.goto(`${locker.url}/?lang=en`);
  await page.getByRole('button', { name: /Pick up a result/ }).click();
  await tap(page, '0987654311');
  await page.getByRole('button', { name: 'Send the code' }).click();
  await page.getByRole('heading', { name: 'Enter the code' }).waitFor();
  await tap(page, await codeFor(locker, '0987654311'));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('heading', { name: 'Tray 44 is open. Take your result and close the door.' }).waitFor();
  t.equal(await page.getByRole('region', { name: 'How satisfied are you with the service?' }).count(), 0, 'not while the tray is open');
  await door(locker, 44, true);
  await door(locker, 44, false);
  await page.getByRole('heading', { name: 'You have collected everything. Thank you!' }).waitFor();
  const rating = page.getByRole('region', { name: 'How satisfied are you with the service?' });
  await rating.waitFor();

  await face(page, 'Dissatisfied').click();
  const reasons = rating.getByRole('group', { name: 'Reasons' });
  await reasons.waitFor();
  t.same(
    await reasons.getByRole('button').allInnerTexts(),
    ['Long wait', 'Machine fault', 'Unclear instructions', 'Staff attitude', 'Other'],
    'the reason chips',
  );
  t.equal(await face(page, 'Dissatisfied').getAttribute('aria-pressed'), 'true', 'the face chosen is shown');
  t.same(await ratings(locker), [], 'nothing sent yet: the reasons may follow');
  await reasons.getByRole('button', { name: 'Staff attitude' }).click();
  await reasons.getByRole('button', { name: 'Long wait' }).click();
  await reasons.getByRole('button', { name: 'Other' }).click();
  await reasons.getByRole('button', { name: 'Other' }).click();
  t.equal(await reasons.getByRole('button', { name: 'Other' }).getAttribute('aria-pressed'), 'false', 'a second touch takes it back');
  // The Vietnamese words follow the switch too.
  await page.getByRole('button', { name: 'Chuyển sang tiếng Việt' }).click();
  const reasonsVi = page.getByRole('group', { name: 'Lý do' });
  t.same(
    await reasonsVi.getByRole('button').allInnerTexts(),
    ['Chờ lâu', 'Máy lỗi', 'Hướng dẫn khó hiểu', 'Thái độ cán bộ', 'Khác'],
    'the chips in Vietnamese',
  );
  t.equal(await reasonsVi.getByRole('button', { name: 'Thái độ cán bộ' }).getAttribute('aria-pressed'), 'true', 'still chosen');
  await screenshot(page, 'kiosk-rating-reasons', true);
  await page.getByRole('button', { name: 'Gửi đánh giá' }).click();
  await page.getByRole('status').getByText('Cảm ơn Ông/Bà đã đánh giá!').waitFor();
  t.same(await ratings(locker), [{ service: 'pickup', rating: 'dissatisfied', reasons: ['waiting', 'staff'] }]);
  t.same(page.errors, []);
});

t.test('"Bỏ qua" sends nothing; a face chosen and left is sent; the idle time still ends the session', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  // The page's clock runs on (test/helpers/browser.ts), and the test moves it on: the shipped idle time (60 s) is used.
  await page.goto(`${locker.url}/`);

  await depositToReceipt(locker, page, '0912345612');
  await page.getByRole('button', { name: 'Bỏ qua' }).click();
  await page.getByRole('region', { name: /Ông\/Bà có hài lòng/ }).waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Xong' }).click();
  await page.getByRole('heading', { name: 'Xin chào! Ông/Bà cần làm gì?' }).waitFor();
  t.same(await ratings(locker), [], 'skipped: nothing stored');

  await depositToReceipt(locker, page, '0912345613');
  await face(page, 'Bình thường').click();
  await page.getByRole('group', { name: 'Lý do' }).waitFor();
  // No touch: the prompt, then the start screen, as on any other screen.
  await page.clock.fastForward(46_000);
  await page.getByRole('alertdialog', { name: 'Cần thêm thời gian?' }).waitFor();
  await page.clock.fastForward(21_000);
  await page.getByRole('heading', { name: /Xin chào!/ }).waitFor();
  const stored = await until(async () => {
    const rows = await ratings(locker);
    return rows.length ? rows : null;
  }, 'the rating sent on leaving');
  t.same(stored, [{ service: 'deposit', rating: 'neutral', reasons: [] }], 'the face chosen was counted when the screen went home');
  t.same(page.errors, []);
});
