/**
 * An ID card at the kiosk (docs/adr/0028-id-card-pickup-second-factor.md): after the right code the
 * card's tray stays locked; a wrong holder's number is refused with the tries left, the right one
 * typed on the keypad opens it.
 */
import t from 'tap';
import { IdVault } from '../../src/domain/id-vault.js';
import { deriveKeys } from '../../src/domain/phone-vault.js';
import { codeFor, door, loadResult } from '../helpers/citizens.js';
import { SECRET_KEY } from '../helpers/controller.js';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';

const HOLDER = '079301012345';
const idVault = new IdVault(deriveKeys(Buffer.from(SECRET_KEY, 'utf8')));

t.test('an ID card opens for the SMS code and the holder’s number typed on the keypad', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const { id, code: dossierCode } = await loadResult(locker, '+84987654329', 44, 'CC-02');
  // As the officer's load records it: the holder's number, hashed.
  await locker.controller.database.query(`UPDATE dossiers SET holder_id_hash = $2 WHERE id = $1`, [id, idVault.hash(HOLDER)]);
  const latched = () => locker.controller.cabinet!.trays().find((x) => x.tray === 44)!.latched;

  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('button', { name: /Nhận kết quả/ }).click();
  await tap(page, '0987654329');
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
  await tap(page, await codeFor(locker, '0987654329'));
  await page.getByRole('button', { name: 'Xác nhận' }).click();

  await page.getByRole('heading', { name: 'Xác nhận người nhận thẻ căn cước' }).waitFor();
  await page
    .getByText('Để nhận thẻ căn cước, nhập số định danh cá nhân (12 số) của người nhận, hoặc quét mã QR trên thẻ căn cước cũ.')
    .waitFor();
  t.equal(locker.controller.cabinet!.pulses().length, 0, 'the code alone opens nothing');
  t.ok(latched(), 'the card’s tray stays locked');

  await tap(page, '079090001234');
  t.equal((await page.getByTestId('id-number').innerText()).trim(), '•••• •••• ••••', 'the number typed is masked');
  await page.getByRole('button', { name: 'Xác nhận' }).click();
  await page.getByRole('alert').getByText('Số định danh không đúng với người nhận thẻ. Còn 2 lần nhập.').waitFor();
  await page.getByText('Còn 2 lần nhập.', { exact: true }).waitFor();
  t.ok(latched(), 'a wrong number opens nothing');
  await screenshot(page, 'kiosk-id-pickup-wrong');

  await tap(page, HOLDER);
  await page.getByRole('button', { name: 'Xác nhận' }).click();
  await page.getByRole('heading', { name: 'Khay số 44 đã mở. Lấy kết quả và đóng cửa.' }).waitFor();
  t.ok(await page.getByText(dossierCode).isVisible());
  t.same(
    locker.controller.cabinet!.pulses().map((p) => p.tray),
    [44],
    'the right number opens the card’s tray',
  );
  await door(locker, 44, true);
  await door(locker, 44, false);
  await page.getByRole('heading', { name: 'Ông/Bà đã nhận đủ kết quả. Xin cảm ơn!' }).waitFor();
  await screenshot(page, 'kiosk-id-pickup-done');
  t.same(page.errors, []);
});

t.test('the ID step in English, with a way out for the other results', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const card = await loadResult(locker, '+84987654330', 45, 'CC-01');
  await locker.controller.database.query(`UPDATE dossiers SET holder_id_hash = $2 WHERE id = $1`, [card.id, idVault.hash(HOLDER)]);
  await loadResult(locker, '+84987654330', 46, 'CT-BS');
  const page = await locker.page();
  await page.goto(`${locker.url}/?lang=en`);
  await page.getByRole('button', { name: /Pick up a result/ }).click();
  await tap(page, '0987654330');
  await page.getByRole('button', { name: 'Send the code' }).click();
  await tap(page, await codeFor(locker, '0987654330'));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('heading', { name: 'Confirm who receives the ID card' }).waitFor();
  await page.getByText('Tray 46 is open for the other results.').waitFor();
  await page.getByRole('button', { name: 'Leave the ID card, take the results already open' }).click();
  await page.getByRole('heading', { name: /Tray 46/ }).waitFor();
  t.same(
    locker.controller.cabinet!.pulses().map((p) => p.tray),
    [46],
  );
  t.same(page.errors, []);
});
