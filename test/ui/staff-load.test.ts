/**
 * Loading results from the staff screen: one message at a time, a load abandoned at its tray
 * leaving the officer's list, and an armful loaded at once with each item's outcome.
 */
import t from 'tap';
import type { Page } from 'playwright-core';
import { STAFF_TOKEN, type TestLocker } from '../helpers/controller.js';
import { door } from '../helpers/citizens.js';
import { noBrowser, screenshot, startUiLocker } from '../helpers/browser.js';

async function signInToLoading(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/staff`);
  await page.getByRole('tab', { name: 'Mã truy cập' }).click();
  await page.getByLabel('Mã truy cập (bearer token)').fill(STAFF_TOKEN);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByRole('tab', { name: 'Đưa kết quả vào máy' }).click();
}

/** Loads one result from the single form; returns its tray. */
async function loadOne(page: Page, dossierCode: string, phone = '0987 111 222'): Promise<number> {
  await page.getByLabel('Số điện thoại người nhận').fill(phone);
  await page.getByLabel('Thủ tục').selectOption('HT-KS');
  await page.getByLabel('Mã hồ sơ').fill(dossierCode);
  await page.getByLabel('Mã hồ sơ').press('Enter');
  const opened = page.getByText(new RegExp(`Khay số \\d+ đã mở: đặt kết quả ${dossierCode}`));
  await opened.waitFor();
  return Number(/Khay số (\d+)/.exec((await opened.textContent())!)![1]);
}

async function timeoutPasses(locker: TestLocker): Promise<void> {
  locker.controller.clock.advance(61_000);
  await locker.controller.trays.settled();
  await locker.controller.flowTimers.tick();
  await locker.controller.staffTimersUnit.tick();
}

t.test('every new answer replaces the old message: no green "tray open" beside a new error', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page({ width: 1280, height: 900 });
  // What is checked here is words and lists, not speed: a loaded machine may take seconds to load a tray.
  page.setDefaultTimeout(15_000);
  await signInToLoading(page, locker.url);
  await loadOne(page, 'HCM-2025-000601');
  t.equal(await page.locator('.notice, .error').count(), 1, 'the tray-open message');

  await page.getByLabel('Số điện thoại người nhận').fill('12345');
  await page.getByLabel('Mã hồ sơ').fill('HCM-2025-000602');
  await page.getByLabel('Mã hồ sơ').press('Enter');
  await page.locator('.error').waitFor();
  t.equal(await page.locator('.notice, .error').count(), 1, 'one message at a time');
  t.equal(await page.getByText(/Khay số \d+ đã mở/).count(), 0, 'the old tray-open message is gone');
  await screenshot(page, 'staff-load-one-message');

  // And the next success replaces the error.
  await loadOne(page, 'HCM-2025-000603');
  t.equal(await page.locator('.notice, .error').count(), 1);
  t.equal(await page.locator('.error').count(), 0, 'the error is gone');
  t.same(page.errors, []);
});

t.test("a load abandoned at its tray leaves the officer's list, and the screen says why", { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page({ width: 1280, height: 900 });
  // What is checked here is words and lists, not speed: a loaded machine may take seconds to load a tray.
  page.setDefaultTimeout(15_000);
  await signInToLoading(page, locker.url);
  const left = await loadOne(page, 'HCM-2025-000611');
  const kept = await loadOne(page, 'HCM-2025-000612');
  const list = page.getByRole('region', { name: /Đưa vào trong phiên này/ });
  await list.getByRole('heading', { name: 'Đưa vào trong phiên này (2)' }).waitFor();
  await list.getByRole('row').filter({ hasText: 'HCM-2025-000611' }).getByText('Đang đưa vào, chờ đóng cửa').waitFor();

  // The second one goes in; the first tray's door is never opened. The officer looks at another
  // tab meanwhile: the list is kept, and followed again when she comes back.
  await page.getByRole('tab', { name: 'Kết quả chưa nhận' }).click();
  await door(locker, kept, true);
  await door(locker, kept, false);
  await timeoutPasses(locker);
  await page.getByRole('tab', { name: 'Đưa kết quả vào máy' }).click();

  await page
    .getByText(`Khay số ${left}: cửa không được mở nên việc đưa kết quả HCM-2025-000611 vào máy đã hủy.`, { exact: false })
    .waitFor();
  await list.getByRole('heading', { name: 'Đưa vào trong phiên này (1)' }).waitFor();
  t.equal(await list.getByRole('row').filter({ hasText: 'HCM-2025-000611' }).count(), 0, 'the abandoned load left the list');
  await list.getByRole('row').filter({ hasText: 'HCM-2025-000612' }).getByText('Đã nhắn tin, chờ người dân nhận').waitFor();
  await screenshot(page, 'staff-load-abandoned');
  t.same(page.errors, []);
});

t.test('an armful at 8:00: the batch form loads several results and shows what became of each', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page({ width: 1280, height: 900 });
  // What is checked here is words and lists, not speed: a loaded machine may take seconds to load a tray.
  page.setDefaultTimeout(15_000);
  await signInToLoading(page, locker.url);
  await page.getByRole('button', { name: 'Nhiều kết quả cùng lúc' }).click();

  const rows: [string, string, string][] = [
    ['HCM-2025-000621', '0987 000 621', 'HT-KS'],
    ['HCM-2025-000622', '12345', 'HT-KS'],
    ['HCM-2025-000623', '0987 000 623', 'CT-BS'],
    ['x', '0987 000 624', 'CT-BS'],
  ];
  // Three rows to start with; a fourth added.
  t.equal(await page.getByLabel(/^Mã hồ sơ, dòng \d+$/).count(), 3, 'three rows to start with');
  await page.getByRole('button', { name: 'Thêm dòng' }).click();
  for (const [i, [dossierCode, phone, procedureCode]] of rows.entries()) {
    await page.getByLabel(`Mã hồ sơ, dòng ${i + 1}`).fill(dossierCode);
    await page.getByLabel(`Số điện thoại, dòng ${i + 1}`).fill(phone);
    await page.getByLabel(`Thủ tục, dòng ${i + 1}`).selectOption(procedureCode);
  }
  // A scanner ends each code with Enter: it moves on, it does not send the batch.
  await page.getByLabel('Mã hồ sơ, dòng 1').press('Enter');
  t.ok(await page.getByLabel('Số điện thoại, dòng 1').evaluate((el) => el === document.activeElement), 'Enter moves to the next field');
  await page.getByRole('button', { name: 'Mở khay cho 4 kết quả' }).click();

  const outcome = page.getByRole('region', { name: 'Lô vừa gửi' });
  await outcome.getByRole('listitem').first().waitFor();
  const items = outcome.getByRole('listitem');
  t.equal(await items.count(), 4, 'one line per item');
  t.match(await items.nth(0).textContent(), /HCM-2025-000621: khay số \d+ đã mở/);
  t.match(await items.nth(1).textContent(), /HCM-2025-000622: chưa đưa vào được\. Số điện thoại chưa đúng/);
  t.match(await items.nth(2).textContent(), /HCM-2025-000623: khay số \d+ đã mở/);
  t.match(await items.nth(3).textContent(), /x: chưa đưa vào được\. Mã hồ sơ: thiếu hoặc chưa đúng dạng/);
  await page.getByText('Đã mở 2 khay; 2 hồ sơ chưa đưa vào được (xem từng dòng).').waitFor();
  t.equal(await page.locator('.notice, .error').count(), 1, 'one message');

  // The loaded ones join the officer's list; the refused ones stay in the form, to be put right.
  const list = page.getByRole('region', { name: /Đưa vào trong phiên này/ });
  await list.getByRole('heading', { name: 'Đưa vào trong phiên này (2)' }).waitFor();
  t.equal(await page.getByLabel(/^Mã hồ sơ, dòng \d+$/).count(), 2, 'the two refused rows stay');
  t.equal(await page.getByLabel('Mã hồ sơ, dòng 1').inputValue(), 'HCM-2025-000622');
  t.equal(await page.getByLabel('Mã hồ sơ, dòng 2').inputValue(), 'x');
  await screenshot(page, 'staff-load-batch', true);

  await page.getByLabel('Số điện thoại, dòng 1').fill('0987 000 622');
  await page.getByLabel('Mã hồ sơ, dòng 2').fill('HCM-2025-000624');
  await page.getByRole('button', { name: 'Mở khay cho 2 kết quả' }).click();
  await page.getByText('Đã mở 2 khay: đặt từng kết quả vào khay của nó và đóng cửa.').waitFor();
  await list.getByRole('heading', { name: 'Đưa vào trong phiên này (4)' }).waitFor();
  t.same(page.errors, []);
});
