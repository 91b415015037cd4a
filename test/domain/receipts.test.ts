/**
 * Receipts' pure rules: the signature over the canonical JSON (any change to the body breaks it),
 * the amount in Vietnamese words, the masked payer, receipt numbers and ids, and the public view.
 */
import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import {
  type DepositReceiptBody,
  type FeeReceiptBody,
  RECEIPT_ID_ALPHABET,
  amountInWords,
  canonicalJson,
  formatReceiptNumber,
  maskPhone,
  newReceiptId,
  publicView,
  signReceipt,
  verifyReceipt,
} from '../../src/domain/receipts.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');

const issuer = {
  name: 'Ủy ban nhân dân Phường Bến Thành',
  taxCode: '0301234567',
  address: '92 Nguyễn Trãi, Phường Bến Thành, TP. Hồ Chí Minh',
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
  amountWords: 'Tám nghìn đồng',
  issuedAt: '2026-11-24T14:45:07.000Z',
  dossierCode: 'K7M3-9P2X4',
  payer: '091****678',
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
  fee: { amount: 8000, state: 'paid', receiptId: 'N98QSNGTGCGHMMJ4' },
};

/** A deep copy, changed by `edit`. */
function altered<T>(body: T, edit: (copy: any) => void): T {
  const copy = structuredClone(body);
  edit(copy);
  return copy;
}

/** A value of the same type, different from `value`. */
function otherValue(value: unknown): unknown {
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'string') return `${value}x`;
  if (value === null) return 'x';
  return { ...(value as object), extra: 1 };
}

t.test('canonical JSON: keys sorted at every level, no whitespace', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'ố' } }), '{"a":{"c":"ố","d":[3,{"y":null,"z":true}]},"b":1}');
  t.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }), 'the order keys were written in does not matter');
  t.equal(canonicalJson({ a: undefined, b: 'x' }), '{"b":"x"}', 'undefined values are left out, as JSON does');
  t.equal(canonicalJson('a "quote"\n'), '"a \\"quote\\"\\n"');
  t.throws(() => canonicalJson({ a: Number.NaN }), TypeError);
  t.throws(() => canonicalJson({ a: 1n }), TypeError);
});

t.test('a signed receipt verifies, with its keys in any order', async (t) => {
  for (const body of [fee, deposit]) {
    const signature = signReceipt(body, privateKey);
    t.match(signature, /^[A-Za-z0-9_-]{86}$/, 'Ed25519, base64url');
    t.equal(verifyReceipt(body, signature, publicKey), true, `${body.kind}: verifies`);
    const reordered = Object.fromEntries(Object.entries(structuredClone(body)).reverse());
    t.equal(verifyReceipt(reordered, signature, publicKey), true, `${body.kind}: keys reordered, still verifies`);
    t.equal(verifyReceipt(JSON.parse(JSON.stringify(body)), signature, publicKey), true, `${body.kind}: through JSON and back`);
  }
});

t.test('any change to the body breaks the signature', async (t) => {
  for (const body of [fee, deposit] as const) {
    const signature = signReceipt(body, privateKey);
    for (const key of Object.keys(body)) {
      const changed = altered(body, (b) => (b[key] = otherValue(b[key])));
      t.equal(verifyReceipt(changed, signature, publicKey), false, `${body.kind}: ${key} changed`);
      const removed = altered(body, (b) => delete b[key]);
      t.equal(verifyReceipt(removed, signature, publicKey), false, `${body.kind}: ${key} removed`);
    }
    t.equal(
      verifyReceipt(
        altered(body, (b) => (b.issuer.name = 'UBND Phường Sài Gòn')),
        signature,
        publicKey,
      ),
      false,
      'issuer.name',
    );
    t.equal(
      verifyReceipt(
        altered(body, (b) => (b.issuer.extra = '')),
        signature,
        publicKey,
      ),
      false,
      'a key added to issuer',
    );
    t.equal(
      verifyReceipt(
        altered(body, (b) => (b.extra = null)),
        signature,
        publicKey,
      ),
      false,
      'a key added at the top',
    );
  }
  const signature = signReceipt(deposit, privateKey);
  t.equal(
    verifyReceipt(
      altered(deposit, (b) => (b.fee.state = 'unpaid')),
      signature,
      publicKey,
    ),
    false,
    'fee.state',
  );
  t.equal(
    verifyReceipt(
      altered(deposit, (b) => (b.fee.receiptId = null)),
      signature,
      publicKey,
    ),
    false,
    'fee.receiptId',
  );
  t.equal(
    verifyReceipt(
      altered(fee, (b) => (b.amount = 80000)),
      signReceipt(fee, privateKey),
      publicKey,
    ),
    false,
    'the amount',
  );
});

t.test('another key, or a signature that is not one: false, never a throw', async (t) => {
  const signature = signReceipt(fee, privateKey);
  const other = generateKeyPairSync('ed25519').publicKey;
  t.equal(verifyReceipt(fee, signature, other), false, "another locker's key");
  t.equal(verifyReceipt(fee, signature, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), false, 'not an Ed25519 key');
  // The last character carries 2 bits of the signature and 4 spare ones: flipping a spare bit
  // decodes to the same bytes, but is not the signature as written.
  const last = signature.at(-1)!;
  const sameBytes = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    .split('')
    .find((c) => c !== last && Buffer.from(signature.slice(0, -1) + c, 'base64url').equals(Buffer.from(signature, 'base64url')));
  t.ok(sameBytes, 'another spelling of the same bytes exists');
  const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
  for (const [name, bad] of [
    ['empty', ''],
    ['one character changed', flipped],
    ['truncated', signature.slice(0, 85)],
    ['longer', `${signature}A`],
    ['padded', `${signature}==`],
    ['not base64url', `${signature.slice(0, 85)}+`],
    ['another spelling of the same bytes', signature.slice(0, -1) + sameBytes],
    ['hex', Buffer.from(signature, 'base64url').toString('hex')],
    ['not a string', 42 as unknown as string],
  ] as const) {
    let result: unknown;
    t.doesNotThrow(() => (result = verifyReceipt(fee, bad, publicKey)), `${name}: no throw`);
    t.equal(result, false, `${name}: false`);
  }
  for (const [name, body] of [
    ['null', null],
    ['a string', 'receipt'],
    ['an array', [fee]],
    ['a body JSON cannot carry', { ...fee, amount: Number.NaN }],
    ['a body with a bigint', { ...fee, amount: 8000n }],
  ] as const) {
    let result: unknown;
    t.doesNotThrow(() => (result = verifyReceipt(body, signature, publicKey)), `${name}: no throw`);
    t.equal(result, false, `${name}: false`);
  }
  t.throws(() => signReceipt(fee, publicKey as never), TypeError, 'signing needs the private key');
});

t.test('the amount in Vietnamese words', async (t) => {
  for (const [amount, words] of [
    [0, 'Không đồng'],
    [1, 'Một đồng'],
    [10, 'Mười đồng'],
    [11, 'Mười một đồng'],
    [14, 'Mười bốn đồng'],
    [15, 'Mười lăm đồng'],
    [20, 'Hai mươi đồng'],
    [21, 'Hai mươi mốt đồng'],
    [25, 'Hai mươi lăm đồng'],
    [55, 'Năm mươi lăm đồng'],
    [101, 'Một trăm lẻ một đồng'],
    [105, 'Một trăm lẻ năm đồng'],
    [110, 'Một trăm mười đồng'],
    [115, 'Một trăm mười lăm đồng'],
    [121, 'Một trăm hai mươi mốt đồng'],
    [1000, 'Một nghìn đồng'],
    [1001, 'Một nghìn không trăm lẻ một đồng'],
    [1050, 'Một nghìn không trăm năm mươi đồng'],
    [8000, 'Tám nghìn đồng'],
    [15_000, 'Mười lăm nghìn đồng'],
    [21_000, 'Hai mươi mốt nghìn đồng'],
    [25_000, 'Hai mươi lăm nghìn đồng'],
    [100_000, 'Một trăm nghìn đồng'],
    [105_000, 'Một trăm lẻ năm nghìn đồng'],
    [1_000_005, 'Một triệu không trăm lẻ năm đồng'],
    [1_005_000, 'Một triệu không trăm lẻ năm nghìn đồng'],
    [1_015_000, 'Một triệu không trăm mười lăm nghìn đồng'],
    [1_250_000, 'Một triệu hai trăm năm mươi nghìn đồng'],
    [2_000_000, 'Hai triệu đồng'],
    [1_000_000_000, 'Một tỷ đồng'],
    [2_500_000_000, 'Hai tỷ năm trăm triệu đồng'],
    [1_000_005_000, 'Một tỷ không trăm lẻ năm nghìn đồng'],
    [3_000_000_000_000, 'Ba nghìn tỷ đồng'],
    [1_000_000_000_000_000, 'Một triệu tỷ đồng'],
  ] as const) {
    t.equal(amountInWords(amount), words, String(amount));
  }
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    t.throws(() => amountInWords(bad), RangeError, `${bad} is refused`);
  }
});

t.test('the payer: the national form, first and last three digits', async (t) => {
  t.equal(maskPhone('+84912345678'), '091****678');
  t.equal(maskPhone('+84387654321'), '038****321');
  for (const bad of ['0912345678', '+84', '', '+84 912 345 678']) t.throws(() => maskPhone(bad), RangeError, `"${bad}" is refused`);
});

t.test('receipt numbers: seven digits', async (t) => {
  t.equal(formatReceiptNumber(1), '0000001');
  t.equal(formatReceiptNumber(7), '0000007');
  t.equal(formatReceiptNumber(1_234_567), '1234567');
  t.equal(formatReceiptNumber(9_999_999), '9999999');
  for (const bad of [0, -1, 1.5, 10_000_000]) t.throws(() => formatReceiptNumber(bad), RangeError, `${bad} is refused`);
});

t.test('receipt ids: 16 characters of Crockford base32, all different', async (t) => {
  t.equal(RECEIPT_ID_ALPHABET, '0123456789ABCDEFGHJKMNPQRSTVWXYZ');
  const ids = new Set<string>();
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const id = newReceiptId();
    if (!/^[0-9A-HJKMNP-TV-Z]{16}$/.test(id)) t.fail(`${id}: not 16 characters of Crockford base32`);
    ids.add(id);
    for (const c of id) seen.add(c);
  }
  t.equal(ids.size, 1000, '1000 different ids');
  t.equal(seen.size, 32, 'every character of the alphabet comes up');
  for (const c of 'ILOU') t.notOk(seen.has(c), `no ${c}`);
});

t.test('the public view: no payer, nothing else dropped', async (t) => {
  const view = publicView(fee);
  t.notOk('payer' in view, 'the payer is dropped');
  t.notMatch(JSON.stringify(view), /091\*\*\*\*678/);
  const { payer: _payer, ...rest } = fee;
  t.same(view, rest);
  t.equal(fee.payer, '091****678', 'the body itself is left as it was');
  t.same(publicView(deposit), deposit, 'a deposit receipt has no personal data to drop');
});
