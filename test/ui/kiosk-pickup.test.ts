import t from 'tap';
import { codeFor, door, loadResult } from '../helpers/citizens.js';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';

t.test('a citizen picks up a result with the code from the SMS', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const { code: dossierCode } = await loadResult(locker, '+84987654321', 44);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('button', { name: /Nhận kết quả/ }).click();
  await page.getByRole('heading', { name: 'Nhập số điện thoại di động' }).waitFor();
  await tap(page, '0987654321');
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
  const code = await codeFor(locker, '0987654321');
  await tap(page, code);
  await screenshot(page, 'kiosk-pickup-otp');
  await page.getByRole('button', { name: 'Xác nhận' }).click();
  await page.getByRole('heading', { name: 'Khay số 44 đã mở. Lấy kết quả và đóng cửa.' }).waitFor();
  t.ok(await page.getByText(dossierCode).isVisible(), 'the result is named by its dossier code');
  await screenshot(page, 'kiosk-pickup-open');
  await door(locker, 44, true);
  await door(locker, 44, false);
  await page.getByRole('heading', { name: 'Ông/Bà đã nhận đủ kết quả. Xin cảm ơn!' }).waitFor();
  await screenshot(page, 'kiosk-pickup-done');

  // Lookup by the dossier code typed on the code keypad.
  await page.getByRole('button', { name: 'Xong' }).click();
  await page.getByRole('button', { name: /Tra cứu hồ sơ/ }).click();
  await tap(page, dossierCode.replace('-', ''));
  await page.getByRole('button', { name: 'Tra cứu', exact: true }).click();
  await page.getByRole('status').getByText('Đã nhận kết quả.').waitFor();
  await screenshot(page, 'kiosk-lookup');
  t.same(page.errors, []);
});

t.test('a citizen with nothing waiting gets a code all the same, and is told so by the right one', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('button', { name: /Nhận kết quả/ }).click();
  await tap(page, '0987650000');
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await page.getByText(/Mã gồm 8 chữ số vừa được gửi tới số/).waitFor();
  const code = await codeFor(locker, '0987650000');
  await tap(page, code);
  await page.getByRole('button', { name: 'Xác nhận' }).click();
  await page.getByRole('heading', { name: /Chưa có kết quả nào chờ số điện thoại này/ }).waitFor();
  await screenshot(page, 'kiosk-pickup-nothing');
  t.equal(locker.controller.cabinet!.pulses().length, 0, 'no tray opened');
  t.same(page.errors, []);
});

t.test('the code screen says the same with or without a result waiting, and what it says is true', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  await loadResult(locker, '+84987654323', 46);
  const hints: string[] = [];
  for (const phone of ['0987654323', '0987650002']) {
    const page = await locker.page();
    await page.goto(`${locker.url}/`);
    await page.getByRole('button', { name: /Nhận kết quả/ }).click();
    await tap(page, phone);
    await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
    await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
    hints.push((await page.locator('.step').innerText()).replace(/\d{4} \d{3} \d{3}/, '<phone>'));
    // The sentence says a code was sent: one was, results waiting or not.
    t.match(await codeFor(locker, phone), /^\d{8}$/, `${phone}: a code did arrive`);
    t.same(page.errors, []);
  }
  t.equal(hints[0], hints[1], `the same words either way: "${hints[0]}"`);
});

t.test('the kiosk in English after the switch, and back', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await page.getByRole('heading', { name: 'Hello! What would you like to do?' }).waitFor();
  t.equal(await page.getAttribute('html', 'lang'), 'en');
  t.ok(await page.getByRole('button', { name: /Drop off a dossier/ }).isVisible());
  await screenshot(page, 'kiosk-home-en');
  await page.getByRole('button', { name: /Drop off a dossier/ }).click();
  await page.getByRole('heading', { name: 'Choose the procedure' }).waitFor();
  await page.getByRole('button', { name: 'Civil status', exact: true }).click();
  await page.getByRole('button', { name: /^Birth registration/ }).click();
  await page.getByRole('heading', { name: 'Enter your mobile number' }).waitFor();
  await tap(page, '0112345678');
  await page.getByRole('button', { name: 'Send the code' }).click();
  await page
    .getByRole('alert')
    .getByText('That is not a Vietnamese mobile number. Mobile numbers start with 03, 05, 07, 08 or 09.')
    .waitFor();
  await screenshot(page, 'kiosk-phone-en');
  await page.getByRole('button', { name: 'Chuyển sang tiếng Việt' }).click();
  await page.getByRole('heading', { name: 'Nhập số điện thoại di động' }).waitFor();
  t.equal(await page.getAttribute('html', 'lang'), 'vi', 'back in Vietnamese, on the same step');
  t.same(page.errors, []);
});

t.test('back to the start after the idle time', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/?idleSec=5`);
  await page.getByRole('button', { name: /Tra cứu hồ sơ/ }).click();
  await page.getByRole('heading', { name: 'Tra cứu hồ sơ' }).waitFor();
  await page.getByRole('alertdialog', { name: 'Cần thêm thời gian?' }).waitFor({ timeout: 5_000 });
  const start = page.getByRole('heading', { name: 'Xin chào! Ông/Bà cần làm gì?' });
  await start.waitFor({ timeout: 7_000 });
  t.ok(await start.isVisible(), 'back at the start');
  t.equal(await page.getByRole('heading', { name: 'Tra cứu hồ sơ' }).count(), 0, 'the lookup screen is gone');
});
