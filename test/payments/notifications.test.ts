/** Reading a transfer list: a good body becomes IncomingTransfers; any bad field refuses the whole body. */
import t, { type Test } from 'tap';
import { AppError } from '../../src/domain/errors.js';
import { parseTransfers } from '../../src/payments/notifications.js';

const tx = (over: Record<string, unknown> = {}) => ({
  id: 'FT25060123456',
  amount: 50_000,
  description: 'MBVCB.123456.ATM7K3Q9P2X.CT tu 0123 NGUYEN VAN A',
  bookedAt: '2025-03-01T15:04:05+07:00',
  ...over,
});

t.test('a good body is parsed, dates as Date, extra fields ignored', async (t) => {
  const got = parseTransfers('vcb', {
    transactions: [tx({ extra: 'ignored' }), tx({ id: 'B2', amount: 1, description: '', bookedAt: '2025-03-01T08:04:05.123Z' })],
  });
  t.equal(got.length, 2);
  t.same(got[0], {
    provider: 'vcb',
    providerTxId: 'FT25060123456',
    amount: 50_000,
    description: 'MBVCB.123456.ATM7K3Q9P2X.CT tu 0123 NGUYEN VAN A',
    bookedAt: new Date('2025-03-01T08:04:05Z'),
  });
  t.ok(got[0].bookedAt instanceof Date);
  t.equal(got[1].bookedAt.toISOString(), '2025-03-01T08:04:05.123Z');
  t.equal(got[1].description, '');
  t.same(Object.keys(got[0]).sort(), ['amount', 'bookedAt', 'description', 'provider', 'providerTxId']);
});

t.test('the limits themselves are accepted', async (t) => {
  const many = Array.from({ length: 500 }, (_, i) => tx({ id: `T${i}`, amount: 10_000_000_000, description: 'x'.repeat(500) }));
  many[0] = tx({ id: 'I'.repeat(64) });
  t.equal(parseTransfers('p', { transactions: many }).length, 500);
});

t.test('a long transfer text is taken, not refused (cut at 4,000 characters)', async (t) => {
  const long = `${'x'.repeat(600)} ATM7K3Q9P2X`;
  const [got] = parseTransfers('p', { transactions: [tx({ description: long })] });
  t.equal(got.description, long, 'the reference past 500 characters is still there to be found');
  const [huge] = parseTransfers('p', { transactions: [tx({ description: 'y'.repeat(5000) })] });
  t.equal(huge.description.length, 4000);
});

function refused(t: Test, body: unknown, path: string, name: string) {
  try {
    parseTransfers('p', body);
    t.fail(`${name}: accepted`);
  } catch (err) {
    t.ok(err instanceof AppError, `${name}: an AppError`);
    t.equal((err as AppError).code, 'PAYMENT_NOTIFICATION_INVALID', `${name}: the code`);
    t.equal((err as AppError).status, 400);
    t.same((err as AppError).details, { path }, `${name}: names ${path}`);
    t.match((err as AppError).message, path, `${name}: the message names the field`);
  }
}

t.test('each bad field refuses the whole body, naming the field', async (t) => {
  const at = (item: unknown) => ({ transactions: [tx(), item] });
  const cases: [string, unknown, string][] = [
    ['not an object', 'transactions', 'body'],
    ['null', null, 'body'],
    ['an array', [tx()], 'body'],
    ['no transactions', {}, 'transactions'],
    ['transactions not an array', { transactions: tx() }, 'transactions'],
    ['empty list', { transactions: [] }, 'transactions'],
    ['501 items', { transactions: Array.from({ length: 501 }, (_, i) => tx({ id: `T${i}` })) }, 'transactions'],
    ['an item not an object', at('TX'), 'transactions[1]'],
    ['no id', at(tx({ id: undefined })), 'transactions[1].id'],
    ['empty id', at(tx({ id: '' })), 'transactions[1].id'],
    ['numeric id', at(tx({ id: 12345 })), 'transactions[1].id'],
    ['id of 65', at(tx({ id: 'I'.repeat(65) })), 'transactions[1].id'],
    ['amount as a string', at(tx({ amount: '50000' })), 'transactions[1].amount'],
    ['zero amount', at(tx({ amount: 0 })), 'transactions[1].amount'],
    ['negative amount', at(tx({ amount: -50_000 })), 'transactions[1].amount'],
    ['fractional amount', at(tx({ amount: 50_000.5 })), 'transactions[1].amount'],
    ['amount over 1e10', at(tx({ amount: 10_000_000_001 })), 'transactions[1].amount'],
    ['no description', at(tx({ description: undefined })), 'transactions[1].description'],
    ['description a number', at(tx({ description: 42 })), 'transactions[1].description'],
    ['no bookedAt', at(tx({ bookedAt: undefined })), 'transactions[1].bookedAt'],
    ['bookedAt a number', at(tx({ bookedAt: 1_740_816_000_000 })), 'transactions[1].bookedAt'],
    ['bookedAt a date only', at(tx({ bookedAt: '2025-03-01' })), 'transactions[1].bookedAt'],
    ['bookedAt without a zone', at(tx({ bookedAt: '2025-03-01T15:04:05' })), 'transactions[1].bookedAt'],
    ['bookedAt 30 February', at(tx({ bookedAt: '2025-02-30T10:00:00Z' })), 'transactions[1].bookedAt'],
    ['bookedAt hour 24', at(tx({ bookedAt: '2025-03-01T24:00:00Z' })), 'transactions[1].bookedAt'],
    ['bookedAt prose', at(tx({ bookedAt: 'yesterday' })), 'transactions[1].bookedAt'],
  ];
  for (const [name, body, path] of cases) refused(t, body, path, name);
});
