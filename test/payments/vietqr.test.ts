/**
 * The VietQR payload decodes back, with the library's own parser, to what a banking app reads:
 * bank, account, amount and the reference as the transfer text; bad inputs are refused.
 */
import t from 'tap';
import { QRPay } from 'vietnam-qr-pay';
import { qrSvg, vietQrPayload } from '../../src/payments/vietqr.js';

const GOOD = { bankBin: '970415', accountNumber: '113366668888', amount: 150_000, reference: 'ATM7K3Q9P2X' };

t.test('the payload decodes back to the bank, account, amount and reference', async (t) => {
  const content = vietQrPayload(GOOD);
  const qr = new QRPay(content);
  t.ok(qr.isValid, 'CRC valid');
  t.equal(qr.provider.guid, 'A000000727', 'NAPAS VietQR');
  t.equal(qr.provider.service, 'QRIBFTTA', 'transfer to an account number');
  t.equal(qr.initMethod, '12', 'dynamic: the amount is fixed');
  t.equal(qr.consumer.bankBin, '970415');
  t.equal(qr.consumer.bankNumber, '113366668888');
  t.equal(qr.amount, '150000');
  t.equal(qr.currency, '704', 'VND');
  t.equal(qr.nation, 'VN');
  t.equal(qr.additionalData.purpose, 'ATM7K3Q9P2X');
  t.notOk(new QRPay(content.slice(0, -4) + (content.endsWith('0000') ? '1111' : '0000')).isValid, 'a wrong CRC is noticed');
});

t.test('the largest amount and longest reference still decode', async (t) => {
  const qr = new QRPay(vietQrPayload({ ...GOOD, accountNumber: 'A'.repeat(19), amount: 500_000_000, reference: 'Z'.repeat(25) }));
  t.ok(qr.isValid);
  t.equal(qr.amount, '500000000');
  t.equal(qr.consumer.bankNumber, 'A'.repeat(19));
  t.equal(qr.additionalData.purpose, 'Z'.repeat(25));
});

t.test('bad inputs are refused with a RangeError', async (t) => {
  const bad: [string, Partial<typeof GOOD>][] = [
    ['bank BIN of 5 digits', { bankBin: '97041' }],
    ['bank BIN with a letter', { bankBin: '97041A' }],
    ['empty account', { accountNumber: '' }],
    ['account of 20 characters', { accountNumber: '1'.repeat(20) }],
    ['account with a dash', { accountNumber: '1133-6666' }],
    ['zero amount', { amount: 0 }],
    ['negative amount', { amount: -5 }],
    ['fractional amount', { amount: 1000.5 }],
    ['amount over the cap', { amount: 500_000_001 }],
    ['NaN amount', { amount: NaN }],
    ['empty reference', { reference: '' }],
    ['lower-case reference', { reference: 'atm7k3q9p2x' }],
    ['reference with a space', { reference: 'ATM 7K3' }],
    ['reference of 26 characters', { reference: 'A'.repeat(26) }],
  ];
  for (const [name, over] of bad) t.throws(() => vietQrPayload({ ...GOOD, ...over }), RangeError, name);
});

t.test('qrSvg draws an SVG image', async (t) => {
  const svg = await qrSvg(vietQrPayload(GOOD));
  t.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(svg, /<\/svg>\s*$/);
});
