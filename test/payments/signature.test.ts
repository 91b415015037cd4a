/** The webhook signature: only the right secret over the exact body, within the tolerance, passes. */
import t from 'tap';
import { checkSignature, signBody } from '../../src/payments/signature.js';

const SECRET = 'whsec-test-3f9a';
const body = Buffer.from('{"transactions":[{"id":"TX1","amount":50000,"description":"ATM7K3Q9P2X","bookedAt":"2025-03-01T08:00:00Z"}]}');
const NOW = 1_740_816_000;

t.test('a good signature passes, from a string or a Buffer body', async (t) => {
  const header = signBody(SECRET, body, NOW);
  t.match(header, /^t=1740816000,v1=[0-9a-f]{64}$/);
  t.equal(signBody(SECRET, body.toString(), NOW), header, 'same header for the same bytes');
  t.equal(checkSignature(SECRET, body, header, NOW), true);
  t.equal(
    checkSignature(
      SECRET,
      body,
      header.replace(/v1=(\w+)$/, (_m, hex: string) => `v1=${hex.toUpperCase()}`),
      NOW,
    ),
    true,
    'hex in capitals',
  );
  t.equal(checkSignature(SECRET, body, header.replace(',', ', '), NOW), true, 'a space after the comma');
  t.equal(checkSignature(SECRET, body, header, NOW + 300), true, 'at the edge of the tolerance');
  t.equal(checkSignature(SECRET, body, header, NOW - 300), true);
});

t.test('an altered body or a wrong secret fails', async (t) => {
  const header = signBody(SECRET, body, NOW);
  t.equal(checkSignature(SECRET, Buffer.from(body.toString().replace('50000', '5000')), header, NOW), false, 'amount changed');
  t.equal(checkSignature(SECRET, Buffer.concat([body, Buffer.from(' ')]), header, NOW), false, 'a byte added');
  t.equal(checkSignature('whsec-other', body, header, NOW), false, 'wrong secret');
  t.equal(checkSignature('', body, signBody('', body, NOW), NOW), false, 'no secret configured');
});

t.test('a timestamp outside the tolerance fails, even when signed correctly', async (t) => {
  t.equal(checkSignature(SECRET, body, signBody(SECRET, body, NOW - 301), NOW), false, 'too old');
  t.equal(checkSignature(SECRET, body, signBody(SECRET, body, NOW + 301), NOW), false, 'from the future');
  t.equal(checkSignature(SECRET, body, signBody(SECRET, body, NOW - 50), NOW, 30), false, 'a tighter tolerance');
  const header = signBody(SECRET, body, NOW);
  const v1 = header.split('v1=')[1];
  t.equal(checkSignature(SECRET, body, `t=${NOW + 1},v1=${v1}`, NOW), false, 'the timestamp is signed too');
});

t.test('malformed headers fail without throwing', async (t) => {
  const header = signBody(SECRET, body, NOW);
  const v1 = header.split('v1=')[1];
  const cases: [string, string | undefined][] = [
    ['missing', undefined],
    ['empty', ''],
    ['missing v1', `t=${NOW}`],
    ['missing t', `v1=${v1}`],
    ['non-hex v1', `t=${NOW},v1=${'z'.repeat(64)}`],
    ['v1 too short', `t=${NOW},v1=${v1.slice(0, 62)}`],
    ['v1 too long', `t=${NOW},v1=${v1}00`],
    ['t not a number', `t=soon,v1=${v1}`],
    ['a part without =', `t=${NOW},v1=${v1},junk`],
    ['v1 twice', `t=${NOW},v1=${'0'.repeat(64)},v1=${v1}`],
    ['garbage', 'Bearer abc'],
  ];
  for (const [name, h] of cases) t.equal(checkSignature(SECRET, body, h, NOW), false, name);
  t.equal(checkSignature(SECRET, body, 42 as unknown as string, NOW), false, 'not a string');
});
