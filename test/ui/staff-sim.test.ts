import t from 'tap';
import { STAFF_TOKEN } from '../helpers/controller.js';
import { codeFor, door } from '../helpers/citizens.js';
import { noBrowser, screenshot, startUiLocker } from '../helpers/browser.js';

t.test('staff load results one after another; the simulator panel moves doors', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page({ width: 1280, height: 900 });
  await page.goto(`${locker.url}/staff`);
  await screenshot(page, 'staff-sign-in');
  await page.getByRole('tab', { name: 'Mã truy cập' }).click();
  await page.getByLabel('Mã truy cập (bearer token)').fill(STAFF_TOKEN);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByRole('heading', { name: /Lượt thu/ }).waitFor();
  await screenshot(page, 'staff-round');

  await page.getByRole('tab', { name: 'Đưa kết quả vào máy' }).click();
  const code = page.getByLabel('Mã hồ sơ');
  await code.waitFor();
  t.ok(await code.evaluate((el) => el === document.activeElement), 'focus starts on the dossier code');
  await page.getByLabel('Số điện thoại người nhận').fill('0987 111 222');
  await page.getByLabel('Thủ tục').selectOption('HT-KS');
  await code.focus();
  // Dossier codes come from the department's system: any well-formed code of the locker's alphabet.
  const { newDossierCode, formatDossierCode } = await import('../../src/domain/dossier-code.js');
  const first = formatDossierCode(newDossierCode());
  await code.fill(first);
  await code.press('Enter');
  const opened = page.getByText(/Khay số \d+ đã mở: đặt kết quả/);
  await opened.waitFor();
  const tray = Number(/Khay số (\d+)/.exec((await opened.textContent())!)![1]);
  t.equal(await code.inputValue(), '', 'the code field is cleared for the next result');
  t.equal(await page.getByLabel('Số điện thoại người nhận').inputValue(), '0987 111 222', 'the phone is kept');
  t.equal(await page.getByLabel('Thủ tục').inputValue(), 'HT-KS', 'the procedure is kept');
  t.ok(await code.evaluate((el) => el === document.activeElement), 'focus is back on the dossier code');
  await screenshot(page, 'staff-load');

  // The simulator panel: close the loaded tray's door by clicking it (open, then closed).
  const sim = await locker.page({ width: 1440, height: 1000 });
  await sim.goto(`${locker.url}/sim`);
  const trayButton = sim.locator(`button.door[data-tray="${tray}"]`);
  await trayButton.click();
  await sim.locator(`button.door.open[data-tray="${tray}"]`).waitFor();
  await trayButton.click();
  await sim.locator(`button.door.closed[data-tray="${tray}"]`).waitFor();
  await locker.controller.trays.settled();
  const notice = await codeFor(locker, '0987111222').catch(() => null);
  t.equal(notice, null, 'no one-time code to the citizen (a result notice is not a code)');
  await sim
    .getByText(/0987111222|84987111222/)
    .first()
    .waitFor({ timeout: 5_000 });
  await sim.getByLabel('Fault of board b2').selectOption('no_answer');
  await sim.getByText('board b2: no_answer').waitFor();
  await screenshot(sim, 'sim-panel', true);

  await page.getByRole('tab', { name: 'Kết quả chưa nhận' }).click();
  await page.getByRole('cell', { name: first }).waitFor();
  await screenshot(page, 'staff-unclaimed');
  t.same(page.errors, []);
  t.same(sim.errors, []);
  await door(locker, tray, false);
});
