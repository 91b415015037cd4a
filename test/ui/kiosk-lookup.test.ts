import t from 'tap';
import { DOSSIER_ALPHABET } from '../../src/domain/dossier-code.js';
import { loadResult } from '../helpers/citizens.js';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';

t.test('every new answer replaces the old one: no stale error beside a lookup that worked', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const { code } = await loadResult(locker, '+84987654322', 45);
  const plain = code.replace('-', '');
  // One character mistyped: the check character catches it.
  const last = plain[8];
  const typo = plain.slice(0, 8) + [...DOSSIER_ALPHABET].find((c) => c !== last)!;
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('button', { name: /Tra cứu hồ sơ/ }).click();
  await tap(page, typo);
  await page.getByRole('button', { name: 'Tra cứu', exact: true }).click();
  await page.getByRole('alert').getByText('Mã hồ sơ chưa đúng. Kiểm tra lại từng ký tự.').waitFor();

  await page.getByRole('button', { name: 'Xóa', exact: true }).click();
  await tap(page, plain);
  await page.getByRole('button', { name: 'Tra cứu', exact: true }).click();
  await page
    .getByRole('status')
    .getByText(/Kết quả đã có tại máy/)
    .waitFor();
  t.equal((await page.getByRole('alert').textContent())!.trim(), '', 'the earlier error is gone');
  await screenshot(page, 'kiosk-lookup-after-error');

  // And the other way round: an error replaces a status shown.
  await page.getByRole('button', { name: 'Xóa', exact: true }).click();
  await tap(page, typo);
  await page.getByRole('button', { name: 'Tra cứu', exact: true }).click();
  await page.getByRole('alert').getByText('Mã hồ sơ chưa đúng. Kiểm tra lại từng ký tự.').waitFor();
  t.equal(await page.getByText(/Kết quả đã có tại máy/).count(), 0, 'the earlier status is gone');
  t.same(page.errors, []);
});
