import t from 'tap';
import { formatDossierCode, newDossierCode } from '../../src/domain/dossier-code.js';
import { STAFF_TOKEN } from '../helpers/controller.js';
import { codeFor, door, inbox } from '../helpers/citizens.js';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';
import { until } from '../helpers/mqtt.js';

/** A number the city's online system gives (ADR 0029). */
const NUMBER = '000.00.22.H29-251120-0042';
const TILE = /Hồ sơ đã nộp trực tuyến \(có số hồ sơ\)/;

t.test(
  'a dossier filed online: the tile, the number on the keypad, the phone, the receipt with the number unchanged',
  { skip: noBrowser },
  async (t) => {
    const locker = await startUiLocker(t);
    const page = await locker.page();
    await page.goto(`${locker.url}/`);
    await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
    await page.getByRole('heading', { name: 'Chọn thủ tục' }).waitFor();
    const tile = page.getByRole('button', { name: TILE });
    await tile.waitFor();
    await page
      .getByRole('button', { name: /Đăng ký khai sinh/ })
      .first()
      .waitFor();
    const first = await page.locator('button.procedure').first().innerText();
    t.match(first, TILE, 'the first tile of the list');
    t.equal(await page.getByRole('button', { name: /^Hồ sơ đã nộp trực tuyến$/ }).count(), 0, 'not listed again as a procedure');
    await screenshot(page, 'kiosk-online-tile');
    await tile.click();

    // The number on the code keypad; one of the machine's own codes is not one.
    await page.getByRole('heading', { name: 'Nhập số hồ sơ trực tuyến' }).waitFor();
    const entry = page.getByRole('textbox', { name: 'Số hồ sơ trực tuyến' });
    const own = formatDossierCode(newDossierCode());
    await tap(page, own);
    await page.getByRole('button', { name: 'Tiếp tục' }).click();
    await page
      .getByRole('alert')
      .getByText(/không phải số hồ sơ trực tuyến/)
      .waitFor();
    await page.getByRole('button', { name: 'Xóa', exact: true }).click();
    await tap(page, NUMBER);
    t.equal(await entry.inputValue(), NUMBER, 'shown exactly as typed');
    await screenshot(page, 'kiosk-online-number');
    await page.getByRole('button', { name: 'Tiếp tục' }).click();

    // The phone step as usual, naming the number; "Quay lại" keeps what was typed.
    await page.getByRole('heading', { name: 'Nhập số điện thoại di động' }).waitFor();
    t.equal(await page.getByTestId('online-number').innerText(), NUMBER, 'the phone step names the number');
    t.equal(await page.getByRole('alert').innerText(), '', 'the earlier refusal is gone');
    await page.getByRole('button', { name: /Quay lại/ }).click();
    await page.getByRole('heading', { name: 'Nhập số hồ sơ trực tuyến' }).waitFor();
    t.equal(await entry.inputValue(), NUMBER, 'back: the number is still there');
    await page.getByRole('button', { name: 'Tiếp tục' }).click();
    await page.getByRole('heading', { name: 'Nhập số điện thoại di động' }).waitFor();
    await tap(page, '0912666010');
    await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
    await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
    await tap(page, await codeFor(locker, '0912666010'));
    await page.getByRole('button', { name: 'Xác nhận' }).click();

    const open = page.getByRole('heading', { name: /Khay số \d+ đã mở\. Đặt hồ sơ vào khay và đóng cửa\./ });
    await open.waitFor();
    const tray = Number(/Khay số (\d+)/.exec((await open.textContent())!)![1]);
    await door(locker, tray, true);
    await door(locker, tray, false);

    await page.getByRole('heading', { name: 'Đã nhận hồ sơ' }).waitFor();
    t.equal(await page.getByTestId('dossier-code').innerText(), NUMBER, 'the receipt shows the number exactly');
    t.ok(await page.getByRole('group', { name: 'Số hồ sơ trực tuyến' }).isVisible(), 'named as the online number');
    await screenshot(page, 'kiosk-online-receipt');
    const sms = await until(async () => (await inbox(locker, '0912666010')).find((m) => m.kind === 'deposit_receipt'), 'receipt SMS');
    t.ok(sms.text.includes(` ${NUMBER} `), `the SMS carries it unchanged: ${sms.text}`);

    // Looked up from the keypad by the same number.
    await page.getByRole('button', { name: 'Xong' }).click();
    await page.getByRole('button', { name: /Tra cứu hồ sơ/ }).click();
    await page.getByRole('heading', { name: 'Tra cứu hồ sơ' }).waitFor();
    await tap(page, NUMBER);
    await page.getByRole('button', { name: 'Tra cứu', exact: true }).click();
    await page
      .getByRole('status')
      .getByText(/Đã nộp vào máy/)
      .waitFor();
    t.ok(await page.getByRole('status').getByText(NUMBER).isVisible(), 'found under the number, unchanged');
    t.same(page.errors, [], 'no script errors');

    // The officer's round screen lists it under the number, marked "trực tuyến".
    const staff = await locker.page({ width: 1280, height: 900 });
    await staff.goto(`${locker.url}/staff`);
    await staff.getByRole('tab', { name: 'Mã truy cập' }).click();
    await staff.getByLabel('Mã truy cập (bearer token)').fill(STAFF_TOKEN);
    await staff.getByRole('button', { name: 'Đăng nhập' }).click();
    const row = staff.locator(`tr[data-tray="${tray}"]`);
    await row.waitFor();
    t.equal(await row.locator('td.code').innerText(), `${NUMBER} trực tuyến`, 'the number unchanged, marked as filed online');
    t.equal(await row.locator('[data-online="true"]').count(), 1);
    await screenshot(staff, 'staff-round-online');
    t.same(staff.errors, []);
  },
);

t.test('in English, and marked when no tray of its size is free', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  // Every deposit tray an ordinary (M) dossier fits is out of service; small ones are free.
  for (const tr of locker.config.hardware.map.trays.filter((x) => x.role !== 'result' && x.size !== 'S')) {
    await locker.admin.post(`/api/admin/trays/${tr.number}/out-of-service`, { reason: 'test' });
  }
  const page = await locker.page();
  await page.goto(`${locker.url}/?lang=en`);
  await page.getByRole('button', { name: /Drop off a dossier/ }).click();
  const tile = page.getByRole('button', { name: /Dossier filed online \(with its dossier number\)/ });
  await tile.getByText('No free tray').waitFor();
  t.ok(await tile.isDisabled(), 'cannot be started: said before any number is typed');
  await screenshot(page, 'kiosk-online-tile-no-tray');

  // With trays back, the keypad screen in English.
  for (const tr of locker.config.hardware.map.trays.filter((x) => x.role !== 'result' && x.size !== 'S')) {
    await locker.admin.delete(`/api/admin/trays/${tr.number}/out-of-service`);
  }
  await page.getByRole('button', { name: /Start again/ }).click();
  await page.getByRole('button', { name: /Drop off a dossier/ }).click();
  await tile.click({ timeout: 5_000 });
  await page.getByRole('heading', { name: 'Enter the online dossier number' }).waitFor();
  await tap(page, 'ABC.DEF-GH12');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page
    .getByRole('alert')
    .getByText(/dossier code is not right/)
    .waitFor();
  t.same(page.errors, []);
});
