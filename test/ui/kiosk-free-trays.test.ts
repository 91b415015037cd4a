import t from 'tap';
import { noBrowser, screenshot, startUiLocker } from '../helpers/browser.js';

t.test('no tray free for a size: said on the procedure list, before any phone number', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  // Every tray a large dossier fits is out of service; small and medium ones are free.
  for (const tr of locker.config.hardware.map.trays.filter((x) => x.role !== 'result' && x.size === 'L')) {
    await locker.admin.post(`/api/admin/trays/${tr.number}/out-of-service`, { reason: 'test' });
  }
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
  await page.getByRole('heading', { name: 'Chọn thủ tục' }).waitFor();

  const large = page.getByRole('button', { name: /^Cấp giấy phép xây dựng nhà ở riêng lẻ/ });
  await large.getByText('Hết khay trống').waitFor();
  t.ok(await large.isDisabled(), 'a procedure whose tray size has none free cannot be started');
  const small = page.getByRole('button', { name: /^Đăng ký khai sinh/ }).first();
  t.ok(await small.isEnabled(), 'one that fits a free tray can');
  t.equal(await small.getByText('Hết khay trống').count(), 0, 'and is not marked');
  await screenshot(page, 'kiosk-procedures-no-tray');
  await large.scrollIntoViewIfNeeded();
  await screenshot(page, 'kiosk-procedures-no-tray-marked');
  await large.click({ force: true });
  t.equal(await page.getByRole('heading', { name: 'Chọn thủ tục' }).count(), 1, 'still on the list: no phone number asked');

  // All full: the list says so at the top.
  for (const tr of locker.config.hardware.map.trays.filter((x) => x.role !== 'result' && x.size !== 'L')) {
    await locker.admin.post(`/api/admin/trays/${tr.number}/out-of-service`, { reason: 'test' });
  }
  await page.getByRole('button', { name: /Về màn hình đầu/ }).click();
  await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
  await page
    .getByText(/không còn khay trống/)
    .first()
    .waitFor();
  t.ok(await small.isDisabled(), 'nothing can be started');
  t.same(page.errors, []);
});

t.test('in English too', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  for (const tr of locker.config.hardware.map.trays.filter((x) => x.role !== 'result' && x.size === 'L')) {
    await locker.admin.post(`/api/admin/trays/${tr.number}/out-of-service`, { reason: 'test' });
  }
  const page = await locker.page();
  await page.goto(`${locker.url}/?lang=en`);
  await page.getByRole('button', { name: /Drop off a dossier/ }).click();
  const large = page.getByRole('button', { name: /^Construction permit for an individual house/ });
  await large.getByText('No free tray').waitFor();
  t.ok(await large.isDisabled());
  t.same(page.errors, []);
});
