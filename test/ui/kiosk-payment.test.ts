/**
 * A fee paid by VietQR on the kiosk (issue 13): from the procedure to the QR, the transfer made
 * from the simulator panel's bank (notified to the locker's webhook), the tray opening, the
 * deposit's receipt screen; then the fee receipt's page (genuine, no payer) and its PDF, whose text
 * carries the amount in Vietnamese words. And a citizen who stops: nothing charged, the tray free.
 */
import t from 'tap';
import type { Page } from 'playwright-core';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { ADMIN_TOKEN, type TestLocker } from '../helpers/controller.js';
import { codeFor, door } from '../helpers/citizens.js';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';
import { until } from '../helpers/mqtt.js';

/** From the start screen to the QR of the food-safety certificate (paid before the tray opens). */
async function toQr(locker: TestLocker, page: Page, phone: string): Promise<string> {
  await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
  await page.getByRole('searchbox').fill('an toàn thực phẩm');
  await page
    .getByRole('button', { name: /Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm/ })
    .first()
    .click();
  await tap(page, phone);
  await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await page.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
  await tap(page, await codeFor(locker, phone));
  await page.getByRole('button', { name: 'Xác nhận' }).click();
  await page.getByRole('heading', { name: 'Nộp lệ phí bằng chuyển khoản' }).waitFor();
  return (await page.getByTestId('pay-reference').textContent())!.trim();
}

async function pdfText(data: Uint8Array): Promise<string> {
  const doc = await getDocument({ data, useSystemFonts: false, disableFontFace: true }).promise;
  try {
    const content = await (await doc.getPage(1)).getTextContent();
    return content.items.map((item) => ('str' in item ? item.str : '')).join('');
  } finally {
    await doc.destroy();
  }
}

t.test('a fee deposit: the QR, the transfer, the tray, the receipts', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  const reference = await toQr(locker, page, '0912345621');
  t.match(reference, /^ATM[0-9A-Z]{8}$/, 'the transfer text to keep');
  t.equal((await page.getByTestId('pay-amount').textContent())?.trim(), '700.000 đ', 'the exact amount');
  t.ok(await page.locator('.pay-qr svg').isVisible(), 'the VietQR code');
  t.match(await page.getByRole('timer').textContent(), /Còn \d phút \d\d giây để chuyển khoản/, 'the time left');
  await screenshot(page, 'kiosk-payment-qr', true);

  // The citizen's bank: the simulator panel pays the QR shown.
  const sim = await locker.page({ width: 1440, height: 1000 });
  await sim.goto(`${locker.url}/sim`);
  const qr = sim.locator(`li[data-reference="${reference}"]`);
  await qr.waitFor();
  await qr.getByRole('button', { name: 'Pay', exact: true }).click();

  const open = page.getByRole('heading', { name: /Khay số \d+ đã mở/ });
  await open.waitFor({ timeout: 10_000 });
  const tray = Number(/Khay số (\d+)/.exec((await open.textContent())!)![1]);
  const { rows } = await locker.controller.database.query(
    `SELECT p.dossier_id, t.provider FROM payments p JOIN transfers t ON t.id = p.transfer_id WHERE p.reference = $1`,
    [reference],
  );
  t.equal(rows.length, 1, 'one transfer paid it');
  await door(locker, tray, true);
  await door(locker, tray, false);
  await page.getByRole('heading', { name: 'Đã nhận hồ sơ' }).waitFor();
  t.match(await page.getByTestId('fee-line').textContent(), /Lệ phí 700\.000 đ: đã nộp/, 'the receipt screen says the fee is paid');
  await screenshot(page, 'kiosk-payment-receipt', true);

  const deposit = await until(async () => {
    const d = (await locker.anonymous.get(`/api/deposits/${rows[0].dossier_id}`)).json();
    return d.receipts.length === 2 ? d : null;
  }, 'both receipts');
  const fee = deposit.receipts.find((r: any) => r.kind === 'fee').receiptId;
  const receipt = await locker.page();
  await receipt.goto(`${locker.url}/r/${fee}`);
  await receipt.getByText(/Biên lai hợp lệ/).waitFor();
  const pageText = (await receipt.textContent('body')) ?? '';
  t.match(pageText, /Bảy trăm nghìn đồng/, 'the amount in words on the page');
  t.match(pageText, /0000001/, 'its number');
  t.notMatch(pageText, /091\*{4}621/, 'no payer on the public page');
  await screenshot(receipt, 'receipt-page', true);

  const pdf = await locker.anonymous.get(`/r/${fee}/pdf`);
  t.equal(pdf.headers['content-type'], 'application/pdf');
  const text = await pdfText(new Uint8Array(pdf.rawPayload));
  t.match(text, /Bảy trăm nghìn đồng/, 'the PDF carries the amount in Vietnamese words, diacritics and all');
  t.match(text, /BIÊN LAI THU PHÍ, LỆ PHÍ/);
  t.match(text, /Người nộp: 091\*{4}621/, 'the citizen’s copy names the payer by a mask only');

  const sms = (await locker.anonymous.get('/api/sim/sms?to=0912345621')).json();
  t.ok(
    sms.some((m: any) => m.kind === 'deposit_receipt'),
    'the deposit receipt text was sent',
  );

  // The admin's day: the fee matched, a stray transfer due back, the receipt numbers without a gap.
  t.equal(
    (await locker.anonymous.post('/api/sim/payments', { reference: 'ATM00000000', amount: 5000, description: 'chuyen nham' })).statusCode,
    202,
  );
  await until(
    async () => (await locker.controller.database.query(`SELECT 1 FROM transfers WHERE outcome = 'unmatched'`)).rowCount === 1,
    'the stray transfer',
  );
  const admin = await locker.page({ width: 1440, height: 1000 });
  await admin.goto(`${locker.url}/admin`);
  await admin.getByLabel('Mã truy cập (bearer token)').fill(ADMIN_TOKEN);
  await admin.getByRole('button', { name: 'Đăng nhập' }).click();
  const panel = admin.getByRole('region', { name: 'Lệ phí và đối soát' });
  await panel.locator('[data-total="received"]').waitFor();
  t.equal(await panel.locator('[data-total="received"]').textContent(), '705.000 đ');
  t.equal(await panel.locator('[data-total="matched"]').textContent(), '700.000 đ');
  t.equal(await panel.locator('[data-total="refundDue"]').textContent(), '5.000 đ');
  t.equal(await panel.locator('[data-total="receipts"]').textContent(), '1');
  t.match(await panel.locator('[data-gaps]').textContent(), /liên tục/);
  t.match(await panel.locator('tr[data-procedure="YT-ATTP-01"]').textContent(), /700\.000 đ/);
  t.match(await panel.locator('tr[data-transfer]').textContent(), /Không rõ hồ sơ.*5\.000 đ/);
  const [file] = await Promise.all([admin.waitForEvent('download'), panel.getByRole('button', { name: 'Tải CSV' }).click()]);
  t.match(file.suggestedFilename(), /^doi-soat-le-phi-\d{4}-\d{2}-\d{2}\.csv$/, 'the day as CSV');

  // The stray transfer's money goes back from the bank: the admin records it with the refund's reference.
  const due = panel.locator('[data-refunds-due]');
  await due.locator('tr[data-refund]').waitFor();
  t.match(await due.locator('tr[data-refund]').textContent(), /Không rõ hồ sơ.*5\.000 đ/, 'among the refunds due');
  await due.getByRole('button', { name: 'Đã hoàn tiền' }).click();
  t.match(await due.getByRole('status').textContent(), /Nhập mã giao dịch/, 'a reference is asked first');
  await due.getByLabel(/Mã giao dịch hoàn tiền cho/).fill('FT26340998877');
  await due.getByRole('button', { name: 'Đã hoàn tiền' }).click();
  await due.getByText('Không còn khoản nào phải hoàn.').waitFor();
  t.match(await due.getByRole('status').textContent(), /Đã ghi nhận hoàn 5\.000 đ/);
  await panel.locator('tr[data-transfer] [data-refunded]', { hasText: 'FT26340998877' }).waitFor();
  t.equal(await panel.locator('[data-total="refundDue"]').textContent(), '0 đ', 'nothing due back any more');
  await screenshot(admin, 'admin-payments', true);
  t.same([...page.errors, ...sim.errors, ...receipt.errors, ...admin.errors], [], 'no script errors');
});

t.test('a citizen who stops at the QR: nothing charged, the tray free', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  const reference = await toQr(locker, page, '0912345622');
  await page.getByRole('button', { name: 'Không nộp nữa' }).click();
  await page.getByRole('heading', { name: 'Chưa nộp được hồ sơ' }).waitFor();
  t.match(await page.getByRole('status').textContent(), /không mất phí/);
  const { rows } = await locker.controller.database.query(
    `SELECT p.status, t.content FROM payments p JOIN trays t ON t.locker_id = p.locker_id AND t.number = p.tray WHERE p.reference = $1`,
    [reference],
  );
  t.same(rows, [{ status: 'cancelled', content: 'free' }]);

  // Leaving the QR by the start-screen link gives the payment up too: no later transfer opens a tray for nobody.
  await page.locator('section').getByRole('button', { name: 'Về màn hình đầu' }).click();
  const second = await toQr(locker, page, '0912345623');
  await page.getByRole('button', { name: 'Về màn hình đầu' }).first().click();
  await page.getByRole('heading', { name: 'Xin chào! Ông/Bà cần làm gì?' }).waitFor();
  await until(
    async () =>
      (await locker.controller.database.query(`SELECT status FROM payments WHERE reference = $1`, [second])).rows[0].status === 'cancelled',
    'the second payment given up',
  );
  t.same(page.errors, [], 'no script errors');
});

t.test('near the end of the time to pay, "Cần thêm thời gian?" gives two minutes more', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t, { payments: { payWithinSec: 60 } });
  // The daemon's clock 40 s behind the kiosk's: its minute to pay ends 20 s from the kiosk's now
  // (less by the time the kiosk takes to reach the QR), inside the prompt's 30 s.
  locker.controller.clock.setOffset(-40_000);
  const page = await locker.page();
  await page.goto(`${locker.url}/`);
  const reference = await toQr(locker, page, '0912345624');
  const prompt = page.getByRole('alert').filter({ hasText: 'Cần thêm thời gian?' });
  await prompt.waitFor({ timeout: 20_000 });
  await prompt.getByRole('button', { name: 'Thêm 2 phút' }).click();
  await prompt.waitFor({ state: 'detached' });
  t.match(await page.locator('.countdown-left').textContent(), /Còn 2 phút/, 'the countdown moved on');
  const { rows } = await locker.controller.database.query(`SELECT status, extensions FROM payments WHERE reference = $1`, [reference]);
  t.same(rows, [{ status: 'awaiting', extensions: 1 }]);
  t.same(page.errors, [], 'no script errors');
});
