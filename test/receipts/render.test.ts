/**
 * Receipts as rendered: the public page (banner, fields, QR code, escaping, never the payer) and
 * the citizen's PDF, read back with pdf.js to check that the Vietnamese text is really in it.
 */
import { createPrivateKey } from 'node:crypto';
import t from 'tap';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { type DepositReceiptBody, type FeeReceiptBody, amountInWords, maskPhone, signReceipt } from '../../src/domain/receipts.js';
import { receiptHtml, receiptPdf } from '../../src/receipts/render.js';

// A fixed key: Ed25519 signatures are deterministic, so the signature drawn on the receipt is the
// same every run (a random key's signature could, with narrow letters, fit one line and not wrap).
const privateKey = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 7)]),
  format: 'der',
  type: 'pkcs8',
});

const issuer = {
  name: 'Ủy ban nhân dân Phường Bến Thành',
  taxCode: '0301234567',
  address: '92 Nguyễn Trãi, Phường Bến Thành, Thành phố Hồ Chí Minh',
};

const fee: FeeReceiptBody = {
  v: 1,
  kind: 'fee',
  id: 'N98QSNGTGCGHMMJ4',
  issuer,
  template: '01BLP0-001',
  series: 'BL-26E',
  year: 2026,
  number: 7,
  procedureCode: 'HT-TL',
  procedureName: 'Cấp bản sao trích lục hộ tịch',
  feeName: 'Lệ phí cấp bản sao trích lục hộ tịch',
  amount: 8000,
  amountWords: amountInWords(8000),
  issuedAt: '2026-11-24T14:45:07.000Z',
  dossierCode: 'K7M3-9P2X4',
  payer: maskPhone('+84912345678'),
  paymentReference: 'ATM247 K7M39P2X4',
};

const deposit: DepositReceiptBody = {
  v: 1,
  kind: 'deposit',
  id: '5FNFSSZYSVNRY2GJ',
  issuer,
  dossierCode: 'K7M3-9P2X4',
  procedureCode: 'HT-KS',
  procedureName: 'Đăng ký khai sinh',
  tray: 37,
  depositedAt: '2026-11-24T14:40:00.000Z',
  fee: { amount: 0, state: 'none', receiptId: null },
};

const GENUINE = 'Biên lai hợp lệ — chữ ký số của máy ATM 24/7 đã được kiểm tra';
const NOT_GENUINE = 'KHÔNG HỢP LỆ — biên lai này đã bị thay đổi hoặc không do máy phát hành';

function page(body: FeeReceiptBody | DepositReceiptBody, genuine = true) {
  return receiptHtml({
    body,
    signature: signReceipt(body, privateKey),
    genuine,
    verifyUrl: `https://atm247.example.vn/r/${body.id}`,
    pdfUrl: `/r/${body.id}.pdf`,
  });
}

/** The text of a PDF's first page as pdf.js reads it, and its number of pages. */
async function pdfText(data: Uint8Array): Promise<{ text: string; pages: number; info: Record<string, unknown> }> {
  const doc = await getDocument({ data, useSystemFonts: false, disableFontFace: true }).promise;
  try {
    const content = await (await doc.getPage(1)).getTextContent();
    const text = content.items.map((item) => ('str' in item ? item.str : '')).join('');
    const { info } = await doc.getMetadata();
    return { text, pages: doc.numPages, info: info as Record<string, unknown> };
  } finally {
    await doc.destroy();
  }
}

async function pdfOf(body: FeeReceiptBody | DepositReceiptBody) {
  return receiptPdf({ body, signature: signReceipt(body, privateKey), verifyUrl: `https://atm247.example.vn/r/${body.id}` });
}

t.test('the page of a genuine fee receipt', async (t) => {
  const html = await page(fee);
  t.match(html, /^<!doctype html>\s*<html lang="vi">/);
  t.match(html, /<meta charset="utf-8">/);
  t.ok(html.includes(GENUINE), 'the green banner');
  t.notOk(html.includes(NOT_GENUINE), 'not the red one');
  t.match(html, /class="banner ok"/);
  for (const text of [
    'BIÊN LAI THU PHÍ, LỆ PHÍ',
    'Đơn vị thu',
    'Ủy ban nhân dân Phường Bến Thành',
    'Mã số thuế',
    '0301234567',
    'Mẫu số: 01BLP0-001',
    'Ký hiệu: BL-26E',
    'Số: 0000007',
    'Lệ phí cấp bản sao trích lục hộ tịch',
    '8.000 đ',
    'Bằng chữ',
    'Tám nghìn đồng',
    '21:45 ngày 24/11/2026',
    'K7M3-9P2X4',
    'ATM247 K7M39P2X4',
    'Mã giao dịch/Nội dung chuyển khoản',
  ]) {
    t.ok(html.includes(text), `shows ${text}`);
  }
  t.match(html, /<svg [^>]*viewBox="[^"]+"/, 'the QR code, inline');
  t.ok(html.includes('href="https://atm247.example.vn/r/N98QSNGTGCGHMMJ4"'), 'the verification link');
  t.ok(html.includes('href="/r/N98QSNGTGCGHMMJ4.pdf"'), 'the PDF link');
  t.match(html, /window\.print\(\)/, 'a print button');
  t.match(html, /@media print/, 'print styles');
  t.ok(html.includes(signReceipt(fee, privateKey)), 'the signature');
  t.notMatch(html, /<(link|img)\b|src=|url\(/i, 'no external resources');
});

t.test('the page never shows the payer', async (t) => {
  for (const genuine of [true, false]) {
    const html = await page(fee, genuine);
    t.notOk(html.includes('091****678'), 'not the masked phone');
    t.notOk(html.includes('****'), 'nor any mask');
    t.notOk(html.includes('Người nộp'), 'nor its label');
  }
});

t.test('the page of a receipt that does not verify', async (t) => {
  const html = await page(fee, false);
  t.ok(html.includes(NOT_GENUINE), 'the red banner');
  t.notOk(html.includes(GENUINE), 'not the green one');
  t.match(html, /class="banner bad"/);
});

t.test('a body that is not what its type says still gets its page, marked not genuine', async (t) => {
  const tampered = { ...fee, number: 0, procedureName: 42 } as unknown as FeeReceiptBody;
  const html = await receiptHtml({ body: tampered, signature: 'x', genuine: false, verifyUrl: '/r/x', pdfUrl: '/r/x.pdf' });
  t.ok(html.includes(NOT_GENUINE));
  t.ok(html.includes('Số: 0'), 'the number as it is');
  t.ok(html.includes('42 (HT-TL)'), 'the procedure as it is');
});

t.test('everything put into the page is escaped', async (t) => {
  const html = await page({
    ...fee,
    procedureName: '<script>alert("x")</script>',
    feeName: 'Phí & "lệ phí" <b>',
    paymentReference: "'><img src=x onerror=alert(1)>",
  });
  t.notOk(html.includes('<script>alert'), 'no script from a field');
  t.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'), 'the procedure name, escaped');
  t.ok(html.includes('Phí &amp; &quot;lệ phí&quot; &lt;b&gt;'), 'the fee name, escaped');
  t.notOk(html.includes('<img'), 'no element from a field');
  t.equal(html.match(/<script>/g)?.length, 1, "only the print button's script");
});

t.test('the page of a deposit receipt', async (t) => {
  const html = await page(deposit);
  for (const text of [
    'PHIẾU TIẾP NHẬN HỒ SƠ',
    'Mã hồ sơ',
    'K7M3-9P2X4',
    'Thủ tục',
    'Đăng ký khai sinh',
    'Thời gian nộp',
    '21:40 ngày 24/11/2026',
    'Miễn phí',
  ]) {
    t.ok(html.includes(text), `shows ${text}`);
  }
  t.match(html, /Ngăn số<\/th><td><strong>37<\/strong>/, 'the tray');
  const paid = await page({ ...deposit, fee: { amount: 8000, state: 'paid', receiptId: 'N98QSNGTGCGHMMJ4' } });
  t.ok(paid.includes('Đã nộp 8.000 đ'), 'a paid fee');
  t.ok(paid.includes('href="/r/N98QSNGTGCGHMMJ4"'), 'with a link to its receipt');
  const unpaid = await page({ ...deposit, fee: { amount: 8000, state: 'unpaid', receiptId: null } });
  t.ok(unpaid.includes('Nộp tại quầy 8.000 đ'), 'a fee paid at the counter');
});

t.test('the PDF of a fee receipt: Vietnamese text that reads back exactly', async (t) => {
  const pdf = await pdfOf(fee);
  t.equal(Buffer.from(pdf.subarray(0, 5)).toString(), '%PDF-');
  t.ok(pdf.length < 200_000, `subset fonts keep it small (${pdf.length} bytes)`);
  const { text, pages, info } = await pdfText(pdf);
  t.equal(pages, 1);
  for (const expected of [
    'BIÊN LAI THU PHÍ, LỆ PHÍ',
    'Tám nghìn đồng',
    '0000007',
    'K7M3-9P2X4',
    'Người nộp: 091****678',
    'Ủy ban nhân dân Phường Bến Thành',
    'Mã số thuế: 0301234567',
    'Lệ phí cấp bản sao trích lục hộ tịch',
    '8.000 đ',
    '21:45 ngày 24/11/2026',
    'ATM247 K7M39P2X4',
    'https://atm247.example.vn/r/N98QSNGTGCGHMMJ4',
  ]) {
    t.ok(text.includes(expected), `reads ${expected}`);
  }
  t.equal(info.Title, 'Biên lai BL-26E số 0000007');
  t.equal(info.Author, 'Ủy ban nhân dân Phường Bến Thành');
});

t.test('the PDF: a long procedure name and the signature wrap inside the page', async (t) => {
  const words = 'cấp bản sao trích lục hộ tịch, bản sao Giấy khai sinh và các giấy tờ hộ tịch khác đã đăng ký';
  const procedureName = `${words} ${words} ${words}`;
  const doc = await getDocument({ data: await pdfOf({ ...fee, procedureName }), useSystemFonts: false, disableFontFace: true }).promise;
  const pdfPage = await doc.getPage(1);
  const [, , pageWidth] = pdfPage.view;
  const items = (await pdfPage.getTextContent()).items.filter((i) => 'str' in i && i.str.trim());
  for (const item of items) {
    if (!('str' in item)) continue;
    const x = item.transform[4];
    if (x < 0 || x + item.width > pageWidth) t.fail(`"${item.str}" runs off the page (${x} + ${item.width} > ${pageWidth})`);
  }
  const text = items.map((i) => ('str' in i ? i.str : '')).join(' ');
  t.ok(text.replace(/\s+/g, ' ').includes(procedureName), 'the whole name, over several lines');
  const signature = signReceipt({ ...fee, procedureName }, privateKey);
  t.ok(text.replace(/\s+/g, '').includes(signature), 'the whole signature, over two lines');
  t.notOk(text.includes(signature), 'cut, not one line');
  await doc.destroy();
});

t.test('the PDF of a deposit receipt', async (t) => {
  const { text, info } = await pdfText(await pdfOf({ ...deposit, fee: { amount: 8000, state: 'paid', receiptId: 'N98QSNGTGCGHMMJ4' } }));
  for (const expected of [
    'PHIẾU TIẾP NHẬN HỒ SƠ',
    'Ngăn số: 37',
    'Mã hồ sơ: K7M3-9P2X4',
    'Thủ tục: Đăng ký khai sinh',
    'Đã nộp 8.000 đ',
    'N98QSNGTGCGHMMJ4',
  ]) {
    t.ok(text.includes(expected), `reads ${expected}`);
  }
  t.notOk(text.includes('BIÊN LAI THU PHÍ'), 'not the title of a fee receipt');
  t.equal(info.Title, 'Phiếu tiếp nhận hồ sơ K7M3-9P2X4');
});
