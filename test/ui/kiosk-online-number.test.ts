import t from 'tap';
import { codeFor, door, inbox } from '../helpers/citizens.js';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';
import { until } from '../helpers/mqtt.js';

const NUMBER = '000.00.22.H29-251120-0042';

t.test(
  'a result under an online-system number: texted, picked up to done and looked up, the number unchanged',
  { skip: noBrowser },
  async (t) => {
    const locker = await startUiLocker(t);
    // Loaded by an officer through the staff API, as the online system numbered it.
    const loaded = await locker.staff.post('/api/staff/results', { dossierCode: NUMBER, phone: '0903 222 444', procedureCode: 'CT-BS' });
    t.equal(loaded.statusCode, 201, loaded.body);
    const { tray, dossierCode } = loaded.json();
    t.equal(dossierCode, NUMBER, 'the staff answer names it as it was given');
    await door(locker, tray, true);
    await door(locker, tray, false);
    const ready = await until(async () => (await inbox(locker, '0903222444')).find((m) => m.kind === 'result_ready'), 'result_ready SMS');
    t.ok(ready.text.includes(NUMBER), `the text names it unchanged: ${ready.text}`);

    const page = await locker.page();
    await page.goto(`${locker.url}/`);
    await page.getByRole('button', { name: /Nhận kết quả/ }).click();
    await tap(page, '0903222444');
    await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
    await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
    await tap(page, await codeFor(locker, '0903222444'));
    await page.getByRole('button', { name: 'Xác nhận' }).click();
    await page.getByRole('heading', { name: `Khay số ${tray} đã mở. Lấy kết quả và đóng cửa.` }).waitFor();
    const row = page.getByRole('listitem').filter({ hasText: NUMBER });
    t.equal(await row.count(), 1, 'the result is named by its number, unchanged');
    await door(locker, tray, true);
    await door(locker, tray, false);
    await page.getByRole('heading', { name: /đã nhận đủ kết quả/ }).waitFor();
    await row.getByText(/Đã nhận/).waitFor();
    await screenshot(page, 'kiosk-pickup-online-number');
    const receipt = await until(async () => (await inbox(locker, '0903222444')).find((m) => m.kind === 'pickup_receipt'), 'pickup receipt');
    t.ok(receipt.text.includes(NUMBER), `the receipt names it unchanged: ${receipt.text}`);

    // Looked up from the on-screen keypad, character by character as printed.
    await page.getByRole('button', { name: 'Xong' }).click();
    await page.getByRole('button', { name: /Tra cứu hồ sơ/ }).click();
    await page.getByRole('heading', { name: 'Tra cứu hồ sơ' }).waitFor();
    await tap(page, NUMBER);
    t.equal(await page.getByRole('textbox', { name: 'Mã hồ sơ' }).inputValue(), NUMBER, 'shown as typed');
    await page.getByRole('button', { name: 'Tra cứu', exact: true }).click();
    await page.getByRole('status').getByText('Đã nhận kết quả.').waitFor();
    t.ok(await page.getByRole('status').getByText(NUMBER).isVisible(), 'the answer names it unchanged');
    await screenshot(page, 'kiosk-lookup-online-number');
    t.same(page.errors, []);
  },
);

t.test('our own codes keep their grouping on the lookup keypad', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('button', { name: /Tra cứu hồ sơ/ }).click();
  await tap(page, 'K7M39P2X4');
  t.equal(await page.getByRole('textbox', { name: 'Mã hồ sơ' }).inputValue(), 'K7M3-9P2X4', 'grouped as printed');
  await page.getByRole('button', { name: 'Xóa', exact: true }).click();
  await tap(page, 'K7M3-9P2X4');
  t.equal(await page.getByRole('textbox', { name: 'Mã hồ sơ' }).inputValue(), 'K7M3-9P2X4', 'the dash typed is kept once');
  t.same(page.errors, []);
});

t.test('a slow pickup still ends in "done": following it does not spend the kiosk\'s lookups', { skip: noBrowser }, async (t) => {
  // A small lookup budget, so that the test need not wait half a minute at the tray (the shipped one is 30 a minute).
  const locker = await startUiLocker(t, {
    http: {
      rateLimits: {
        codeRequests: { max: 10, windowSec: 60 },
        dossierLookup: { max: 4, windowSec: 60 },
        signIn: { max: 10, windowSec: 60 },
      },
    },
    // The released lock stays open long enough for the wait below.
    hardware: { simulator: { paceWireTime: false, latchHoldMs: 15_000 } },
  });
  const loaded = (
    await locker.staff.post('/api/staff/results', { dossierCode: NUMBER, phone: '0903 222 445', procedureCode: 'CT-BS' })
  ).json();
  await door(locker, loaded.tray, true);
  await door(locker, loaded.tray, false);
  await until(async () => (await inbox(locker, '0903222445')).find((m) => m.kind === 'result_ready'), 'result_ready SMS');

  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('button', { name: /Nhận kết quả/ }).click();
  await tap(page, '0903222445');
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
  await tap(page, await codeFor(locker, '0903222445'));
  await page.getByRole('button', { name: 'Xác nhận' }).click();
  await page.getByRole('heading', { name: `Khay số ${loaded.tray} đã mở. Lấy kết quả và đóng cửa.` }).waitFor();
  // The citizen takes a while at the tray.
  await page.waitForTimeout(6_000);
  await door(locker, loaded.tray, true);
  await door(locker, loaded.tray, false);
  await page.getByRole('heading', { name: /đã nhận đủ kết quả/ }).waitFor();

  // And the next citizen can still look a dossier up.
  await page.getByRole('button', { name: 'Xong' }).click();
  await page.getByRole('button', { name: /Tra cứu hồ sơ/ }).click();
  await tap(page, NUMBER);
  await page.getByRole('button', { name: 'Tra cứu', exact: true }).click();
  await page.getByRole('status').getByText('Đã nhận kết quả.').waitFor();
  t.same(page.errors, []);
});
