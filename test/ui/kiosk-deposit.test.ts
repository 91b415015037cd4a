import t from 'tap';
import { codeFor, door, wrongCode } from '../helpers/citizens.js';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';

t.test('a citizen drops off a dossier from the start screen to the receipt', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('heading', { name: 'Xin chào! Ông/Bà cần làm gì?' }).waitFor();
  t.equal(await page.getAttribute('html', 'lang'), 'vi', 'Vietnamese by default');
  await screenshot(page, 'kiosk-home');

  await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
  await page.getByRole('heading', { name: 'Chọn thủ tục' }).waitFor();
  await page
    .getByRole('button', { name: /Đăng ký khai sinh/ })
    .first()
    .waitFor();
  await screenshot(page, 'kiosk-procedures');
  await page.getByLabel('Tìm thủ tục').fill('khai sinh');
  t.ok(
    await page
      .getByRole('button', { name: /Đăng ký khai sinh/ })
      .first()
      .isVisible(),
    'search finds it, accents or not',
  );
  t.notOk(await page.getByRole('button', { name: /Đăng ký kết hôn/ }).isVisible(), 'and hides the rest');
  await page
    .getByRole('button', { name: /Đăng ký khai sinh/ })
    .first()
    .click();

  await page.getByRole('heading', { name: 'Nhập số điện thoại di động' }).waitFor();
  await tap(page, '0912345678');
  t.equal(await page.getByLabel('Số điện thoại').inputValue(), '0912 345 678', 'grouped as it is read aloud');
  await screenshot(page, 'kiosk-phone');
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();

  await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
  const resend = page.getByRole('button', { name: /Gửi lại mã/ });
  t.ok(await resend.isDisabled(), 'send-again waits for resendAt');
  const code = await codeFor(locker, '0912345678');
  await tap(page, wrongCode(code));
  await page.getByRole('button', { name: 'Xác nhận' }).click();
  await page
    .getByRole('alert')
    .getByText(/Mã OTP chưa đúng\. Còn \d+ lần thử\./)
    .waitFor();
  await screenshot(page, 'kiosk-otp-wrong');
  await tap(page, code);
  await page.getByRole('button', { name: 'Xác nhận' }).click();

  const open = page.getByRole('heading', { name: /Khay số \d+ đã mở\. Đặt hồ sơ vào khay và đóng cửa\./ });
  await open.waitFor();
  const tray = Number(/Khay số (\d+)/.exec((await open.textContent())!)![1]);
  await screenshot(page, 'kiosk-tray-open');
  await door(locker, tray, true);
  await door(locker, tray, false);

  await page.getByRole('heading', { name: 'Đã nhận hồ sơ' }).waitFor();
  t.match(await page.locator('.step').innerText(), /Ông\/Bà/, 'the receipt addresses the citizen as Ông/Bà');
  const dossierCode = (await page.getByTestId('dossier-code').textContent())!;
  t.match(dossierCode, /^[0-9A-Z]{4}-[0-9A-Z]{5}$/);
  const status = (await locker.anonymous.get(`/api/dossiers/${dossierCode}`)).json();
  t.equal(status.status, 'deposited', 'the receipt shows the deposit the controller recorded');
  await screenshot(page, 'kiosk-receipt');
  await page.getByRole('button', { name: 'Xong' }).click();
  await page.getByRole('heading', { name: 'Xin chào! Ông/Bà cần làm gì?' }).waitFor();
  t.same(page.errors, [], 'no script errors');
});

t.test('plain words for refusals: not a Vietnamese mobile, no tray free', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
  await page
    .getByRole('button', { name: /Đăng ký khai sinh/ })
    .first()
    .click();
  await tap(page, '0212345678');
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await page
    .getByRole('alert')
    .getByText(/không phải số di động Việt Nam/)
    .waitFor();
  await screenshot(page, 'kiosk-phone-refused');

  // Every deposit tray out of service: the kiosk says so before any text is sent.
  for (const tr of locker.config.hardware.map.trays.filter((x) => x.role !== 'result')) {
    await locker.admin.post(`/api/admin/trays/${tr.number}/out-of-service`, { reason: 'test' });
  }
  await page.getByRole('button', { name: 'Xóa', exact: true }).click();
  await tap(page, '0912345679');
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await page
    .getByRole('alert')
    .getByText(/không còn khay trống/)
    .waitFor();
  t.same(page.errors, []);
});

t.test('the open tray shows the time left to open its door, and stops once it is open', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
  await page
    .getByRole('button', { name: /Đăng ký khai sinh/ })
    .first()
    .click();
  await tap(page, '0912345672');
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
  await tap(page, await codeFor(locker, '0912345672'));
  await page.getByRole('button', { name: 'Xác nhận' }).click();
  const open = page.getByRole('heading', { name: /Khay số \d+ đã mở\./ });
  await open.waitFor();
  const tray = Number(/Khay số (\d+)/.exec((await open.textContent())!)![1]);

  const timer = page.getByRole('timer');
  await timer.getByText(/Còn \d+ giây để mở cửa khay/).waitFor();
  const seconds = async () => Number(/Còn (\d+) giây/.exec(await timer.innerText())![1]);
  const first = await seconds();
  const limit = locker.config.citizens.doorOpenTimeoutSec;
  t.ok(first <= limit && first >= limit - 5, `counted from the reservation's expiry: ${first} s of ${limit}`);
  await screenshot(page, 'kiosk-tray-open-countdown');
  await page.waitForTimeout(2_100);
  t.ok((await seconds()) < first, 'it counts down');

  await door(locker, tray, true);
  await timer.waitFor({ state: 'detached' });
  t.ok(await open.isVisible(), 'the door is open: only "put it in and close the door" is left');
  await door(locker, tray, false);
  await page.getByRole('heading', { name: 'Đã nhận hồ sơ' }).waitFor();
  t.same(page.errors, []);
});
