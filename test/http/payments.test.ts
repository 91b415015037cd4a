/**
 * Fees paid by VietQR transfer and receipts (issue 13), against the real database, the real
 * webhook route and the simulated bank (its transaction list polled by the real poller until the
 * daemon listens): a fee deposit opens its tray only once paid; a replayed notification counts
 * once; a wrong amount, a second payment and a late one are recorded and flagged for refund;
 * receipt numbers have no gaps under 50 concurrent payments; any altered receipt field fails.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { newDossierCode } from '../../src/domain/dossier-code.js';
import { signBody } from '../../src/payments/signature.js';
import { codeFor, door } from '../helpers/citizens.js';
import { startTestLocker, type TestLocker } from '../helpers/controller.js';
import { dbKind } from '../helpers/db.js';
import { testSubscriber, until } from '../helpers/mqtt.js';

const SECRET = 'test-webhook-secret-0123456789abcdefghij';
/** Paid before the tray opens (config/procedures.yaml). */
const FEE_BEFORE = 'YT-ATTP-01';
const FEE = 700_000;

function webhook(locker: TestLocker, body: unknown, opts: { secret?: string; at?: number; raw?: string; signature?: string } = {}) {
  const raw = opts.raw ?? JSON.stringify(body);
  const signature = opts.signature ?? signBody(opts.secret ?? SECRET, raw, opts.at ?? Date.now() / 1000);
  return locker.http.inject({
    method: 'POST',
    url: '/api/payments/webhook',
    headers: { 'content-type': 'application/json', 'x-signature': signature },
    payload: raw,
  });
}

function notification(id: string, amount: number, description: string, bookedAt = new Date()) {
  return { transactions: [{ id, amount, description, bookedAt: bookedAt.toISOString() }] };
}

async function start(t: Parameters<typeof startTestLocker>[0]) {
  return startTestLocker(t, { payments: { webhookSecret: SECRET, payWithinSec: 60 } });
}

/** A fee deposit up to its QR: the verify answer. */
async function feeDeposit(locker: TestLocker, phone: string, procedureCode = FEE_BEFORE) {
  const started = await locker.anonymous.post('/api/deposits', { phone, procedureCode });
  if (started.statusCode !== 202) throw new Error(`start: ${started.statusCode} ${started.body}`);
  const verify = await locker.anonymous.post(`/api/deposits/${started.json().challengeId}/verify`, { otp: await codeFor(locker, phone) });
  if (verify.statusCode !== 200) throw new Error(`verify: ${verify.statusCode} ${verify.body}`);
  return verify.json();
}

/** The deposit's view once its door closed on the dossier. */
function deposited(locker: TestLocker, depositId: string) {
  return until(async () => {
    const v = (await locker.anonymous.get(`/api/deposits/${depositId}`)).json();
    return v.status === 'deposited' ? v : null;
  }, 'deposited');
}

async function transfers(locker: TestLocker) {
  return (await locker.controller.database.query(`SELECT * FROM transfers WHERE locker_id = $1 ORDER BY received_at`, [locker.lockerId]))
    .rows;
}

async function trayContent(locker: TestLocker, tray: number) {
  return (await locker.controller.database.query(`SELECT content FROM trays WHERE locker_id = $1 AND number = $2`, [locker.lockerId, tray]))
    .rows[0].content;
}

t.test(`a fee deposit: the QR, the transfer, then the tray; its receipts signed and numbered (${dbKind})`, async (t) => {
  const locker = await start(t);
  const sub = await testSubscriber(t, locker.mqttUrl, `${locker.base}/events/#`);
  const opened = await feeDeposit(locker, '0912345611');
  t.equal(opened.payment.status, 'awaiting');
  t.equal(opened.payment.amount, FEE);
  t.match(opened.payment.reference, /^ATM[0-9A-HJKMNP-TV-Z]{8}$/);
  t.equal(opened.openBy, null, 'no door window before the payment');
  t.match(opened.payment.qr.payload, /^000201/, 'an EMVCo payload');
  t.ok(opened.payment.qr.payload.includes(opened.payment.reference), 'the QR carries the reference');
  t.ok(opened.payment.qr.payload.includes('700000'), 'and the exact amount');
  t.match(opened.payment.qr.svg, /^<svg/);
  t.equal(await trayContent(locker, opened.tray), 'reserved', 'the tray is held for the payment');
  const cabinet = (await locker.anonymous.get(`/api/sim/cabinet`)).json();
  t.equal(cabinet.trays.find((x: any) => x.tray === opened.tray).latched, true, 'and stays locked');
  t.equal((await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().status, 'verified');

  // The citizen pays from a banking app: the simulated bank books it, the poller brings it in.
  const paid = await locker.anonymous.post('/api/sim/payments', { reference: opened.payment.reference, amount: FEE });
  t.equal(paid.statusCode, 202, paid.body);
  const view = await until(
    async () => {
      const v = (await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json();
      return v.status === 'tray_open' ? v : null;
    },
    'the tray opened after the transfer',
    8_000,
  );
  t.equal(view.payment.status, 'paid');
  t.equal(view.tray, opened.tray);
  t.ok(view.openBy, 'the door window runs from the payment');
  t.same(
    view.receipts.map((r: any) => r.kind),
    ['fee'],
    'the fee receipt is issued with the payment',
  );
  await door(locker, opened.tray, true);
  await door(locker, opened.tray, false);
  const done = await deposited(locker, opened.depositId);
  t.same(done.receipts.map((r: any) => r.kind).sort(), ['deposit', 'fee']);

  const fee = done.receipts.find((r: any) => r.kind === 'fee').receiptId;
  const receipt = (await locker.anonymous.get(`/api/receipts/${fee}`)).json();
  t.equal(receipt.genuine, true);
  t.equal(receipt.body.number, 1, 'the first number of the series this year');
  t.equal(receipt.body.amount, FEE);
  t.equal(receipt.body.amountWords, 'Bảy trăm nghìn đồng');
  t.equal(receipt.body.payer, '091****611', 'the payer as its mask only: the body as signed, checkable');
  const page = await locker.anonymous.get(`/r/${fee}`);
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /text\/html/);
  t.match(page.body, /Biên lai hợp lệ/);
  t.notMatch(page.body, /091\*{4}611/, 'no payer on the public page');
  const pdf = await locker.anonymous.get(`/r/${fee}/pdf`);
  t.equal(pdf.statusCode, 200);
  t.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');

  // Anyone can check a receipt against the public key; any altered field fails.
  const key = (await locker.anonymous.get('/api/receipts/public-key')).json();
  t.match(key.publicKey, /BEGIN PUBLIC KEY/);
  const stored = (await locker.controller.database.query(`SELECT body, signature FROM receipts WHERE id = $1`, [fee])).rows[0];
  const check = async (body: unknown) =>
    (await locker.anonymous.post('/api/receipts/verify', { body, signature: stored.signature })).json().genuine;
  t.equal(await check(stored.body), true);
  for (const [field, value] of Object.entries({
    amount: FEE + 1,
    number: 2,
    dossierCode: 'X',
    payer: '091****000',
    issuedAt: new Date(0).toISOString(),
  })) {
    t.equal(await check({ ...stored.body, [field]: value }), false, `altered ${field} fails`);
  }
  t.equal(await check({ ...stored.body, issuer: { ...stored.body.issuer, name: 'Khác' } }), false, 'altered issuer fails');

  // The SMS after the deposit, and the events: requested, received, receipts issued.
  await until(
    () => sub.messages.some((m) => m.topic.endsWith('/events/receipt.issued') && JSON.parse(m.payload).data?.kind === 'deposit'),
    'deposit receipt event',
  );
  const types = sub.messages.map((m) => m.topic.split('/').pop());
  for (const type of ['payment.requested', 'payment.received', 'deposit.opened', 'deposit.completed', 'receipt.issued']) {
    t.ok(types.includes(type), `${type} published`);
  }
  const audit = (await locker.controller.database.query(`SELECT action FROM audit_log WHERE locker_id = $1`, [locker.lockerId])).rows.map(
    (r) => r.action,
  );
  t.ok(audit.includes('payment.transfer'), 'the transfer is in the audit log');
});

t.test(`the webhook: signature, replay, wrong amount, second payment, unmatched (${dbKind})`, async (t) => {
  const locker = await start(t);
  const opened = await feeDeposit(locker, '0912345612');
  const ref = opened.payment.reference;

  // Refused: no signature, a wrong secret, an old timestamp, an altered body, a malformed body.
  const body = notification('BANK-1', FEE, `CT ${ref}`);
  t.equal((await webhook(locker, body, { signature: '' })).statusCode, 401);
  const wrongSecret = await webhook(locker, body, { secret: 'another-secret-0123456789abcdefghijkl' });
  t.equal(wrongSecret.statusCode, 401);
  t.equal(wrongSecret.json().error.code, 'PAYMENT_SIGNATURE_INVALID');
  t.equal((await webhook(locker, body, { at: Date.now() / 1000 - 3600 })).statusCode, 401, 'an hour-old signature');
  const raw = JSON.stringify(body);
  const altered = await webhook(locker, null, { raw: raw.replace(String(FEE), '1'), signature: signBody(SECRET, raw, Date.now() / 1000) });
  t.equal(altered.statusCode, 401, 'a body changed after signing');
  const bad = await webhook(locker, { transactions: [{ id: 'X', amount: -5, description: '', bookedAt: 'now' }] });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error.code, 'PAYMENT_NOTIFICATION_INVALID');
  const notJson = await webhook(locker, null, { raw: '{"transactions": [' });
  t.equal(notJson.statusCode, 400);
  t.equal((await transfers(locker)).length, 0, 'nothing refused was recorded');

  // A wrong amount: recorded, flagged, the payment still waits.
  const wrong = await webhook(locker, notification('BANK-2', FEE - 1000, `MBVCB.99.${ref.toLowerCase()}.CT tu NGUYEN VAN A`));
  t.equal(wrong.statusCode, 200, wrong.body);
  t.equal(wrong.json().results[0].outcome, 'wrong_amount');
  t.equal((await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().payment.status, 'awaiting');

  // The right amount, then the same notification again (a provider's replay): counted once.
  const right = await webhook(locker, notification('BANK-3', FEE, `${ref.slice(0, 5)} ${ref.slice(5)} nop phi`));
  t.equal(right.json().results[0].outcome, 'matched', 'the reference found through the spaces a bank put in');
  const replay = await webhook(locker, notification('BANK-3', FEE, `${ref} nop phi`));
  t.equal(replay.json().results[0].outcome, 'already_recorded');
  t.equal(replay.json().results[0].transferId, right.json().results[0].transferId);

  // A second payment for the same deposit, and a transfer naming nothing of ours.
  const twice = await webhook(locker, notification('BANK-4', FEE, `${ref}`));
  t.equal(twice.json().results[0].outcome, 'duplicate');
  const stray = await webhook(locker, notification('BANK-5', 50_000, 'chuyen tien an trua'));
  t.equal(stray.json().results[0].outcome, 'unmatched');

  const rows = await transfers(locker);
  t.same(
    rows.map((r) => [r.provider_tx_id, r.outcome, Number(r.refund_due)]),
    [
      ['BANK-2', 'wrong_amount', FEE - 1000],
      ['BANK-3', 'matched', 0],
      ['BANK-4', 'duplicate', FEE],
      ['BANK-5', 'unmatched', 50_000],
    ],
    'every transfer recorded once, each not paying anything due back in full',
  );
  const fees = (
    await locker.controller.database.query(`SELECT count(*)::int AS n FROM receipts WHERE kind = 'fee' AND locker_id = $1`, [
      locker.lockerId,
    ])
  ).rows[0].n;
  t.equal(fees, 1, 'one fee receipt for one payment');

  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
  const day = await locker.admin.get(`/api/admin/payments?date=${today}`);
  t.equal(day.statusCode, 200, day.body);
  t.equal(day.json().totals.matched, FEE);
  t.equal(day.json().totals.refundDue, FEE - 1000 + FEE + 50_000);
  const csv = await locker.admin.get(`/api/admin/payments.csv?date=${today}`);
  t.match(csv.headers['content-type'], /text\/csv/);
  t.match(csv.body, /transfer,.*,BANK-4,700000,ATM[0-9A-Z]{8},duplicate,700000/);
  t.equal((await locker.staff.get(`/api/admin/payments?date=${today}`)).statusCode, 403, 'admins only');
  t.equal((await locker.admin.get(`/api/admin/payments?date=yesterday`)).statusCode, 400);

  // The money due back goes back: an admin records each refund with the bank's reference.
  const due = await locker.admin.get('/api/admin/refunds');
  t.equal(due.statusCode, 200, due.body);
  t.same(
    due.json().refunds.map((r: any) => [r.providerTxId, r.refundDue]),
    [
      ['BANK-2', FEE - 1000],
      ['BANK-4', FEE],
      ['BANK-5', 50_000],
    ],
    'the refunds due, oldest first, the matched transfer not among them',
  );
  const id = (tx: string) => rows.find((r) => r.provider_tx_id === tx).id;
  const refund = (tx: string, body: unknown, client = locker.admin) => client.post(`/api/admin/transfers/${tx}/refund`, body);
  const sent = await refund(id('BANK-4'), { reference: ' FT26340 12345 ' });
  t.equal(sent.statusCode, 200, sent.body);
  t.match(sent.json(), { providerTxId: 'BANK-4', refundReference: 'FT26340 12345', refundedBy: String, refundedAt: String });
  const again = await refund(id('BANK-4'), { reference: 'FT-OTHER' });
  t.equal(again.statusCode, 409);
  t.equal(again.json().error.code, 'REFUND_ALREADY_RECORDED', 'a refund is recorded once');
  const paidFee = await refund(id('BANK-3'), { reference: 'FT1' });
  t.equal(paidFee.statusCode, 409);
  t.equal(paidFee.json().error.code, 'REFUND_NOT_DUE', 'the transfer that paid its fee has nothing due back');
  t.equal((await refund(randomUUID(), { reference: 'FT1' })).json().error.code, 'TRANSFER_NOT_FOUND');
  for (const [body, why] of [
    [{}, 'no reference'],
    [{ reference: '' }, 'empty'],
    [{ reference: '=HYPERLINK(1)' }, 'a formula'],
    [{ reference: 'x'.repeat(65) }, 'too long'],
    [{ reference: 'FT1', amount: 5 }, 'an unknown field'],
  ] as const) {
    const r = await refund(id('BANK-5'), body);
    t.equal(r.statusCode, 400, why);
    t.equal(r.json().error.code, 'VALIDATION_FAILED', why);
  }
  t.equal((await refund('not-a-uuid', { reference: 'FT1' })).statusCode, 400);
  t.equal((await refund(id('BANK-5'), { reference: 'FT1' }, locker.staff)).statusCode, 403, 'admins only');
  t.same(
    (await locker.admin.get('/api/admin/refunds')).json().refunds.map((r: any) => r.providerTxId),
    ['BANK-2', 'BANK-5'],
    'the recorded refund leaves the list',
  );
  const after = (await locker.admin.get(`/api/admin/payments?date=${today}`)).json();
  t.equal(after.totals.refundDue, FEE - 1000 + 50_000, 'still due: the two not sent');
  t.equal(after.totals.refunded, FEE, 'refunded: the one sent');
  t.match((await locker.admin.get(`/api/admin/payments.csv?date=${today}`)).body, /,BANK-4,.*,FT26340 12345\r\n/);
  const audit = await locker.controller.database.query(
    `SELECT actor, subject, details FROM audit_log WHERE locker_id = $1 AND action = 'payment.refund_sent'`,
    [locker.lockerId],
  );
  t.equal(audit.rowCount, 1, 'audited once');
  t.equal(audit.rows[0].subject, `transfer:${id('BANK-4')}`);
});

t.test(`no transfer in time: nothing charged, the tray free; a late one is flagged for refund (${dbKind})`, async (t) => {
  const locker = await start(t);
  const opened = await feeDeposit(locker, '0912345613');
  // Its 60 s, then the grace for a bank's late report: not yet over at 61 s, over at 121 s.
  locker.controller.clock.advance(61_000);
  await new Promise((r) => setTimeout(r, 1_500));
  t.equal((await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().payment.status, 'awaiting', 'within the grace');
  locker.controller.clock.advance(60_000);
  const ended = await until(async () => {
    const v = (await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json();
    return v.status === 'cancelled' ? v : null;
  }, 'the deposit ended');
  t.equal(ended.payment.status, 'expired');
  t.equal(await trayContent(locker, opened.tray), 'free', 'the tray is free again');
  const late = await webhook(locker, notification('BANK-L', FEE, opened.payment.reference));
  t.equal(late.json().results[0].outcome, 'late');
  const [row] = await transfers(locker);
  t.equal(Number(row.refund_due), FEE, 'flagged for refund');
  t.equal((await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().status, 'cancelled', 'the late money opens nothing');

  // Given up at the kiosk: the same, at once; cancelling twice is refused.
  const second = await feeDeposit(locker, '0912345614');
  const cancel = await locker.anonymous.post(`/api/payments/${second.payment.paymentId}/cancel`);
  t.equal(cancel.statusCode, 200, cancel.body);
  t.equal(cancel.json().status, 'cancelled');
  t.equal(await trayContent(locker, second.tray), 'free');
  const again = await locker.anonymous.post(`/api/payments/${second.payment.paymentId}/cancel`);
  t.equal(again.statusCode, 409);
  t.equal(again.json().error.code, 'PAYMENT_NOT_AWAITED');
  t.equal((await locker.anonymous.post(`/api/payments/${randomUUID()}/cancel`)).json().error.code, 'PAYMENT_NOT_FOUND');
  t.equal((await locker.anonymous.post(`/api/payments/not-a-uuid/cancel`)).statusCode, 400);
  t.equal((await locker.anonymous.get(`/r/0000000000000000`)).statusCode, 404);
  t.equal((await locker.anonymous.get(`/r/bad`)).statusCode, 400);
});

t.test(`more time at the QR: the time to pay moves on, ten times at most; a transfer in the added time pays (${dbKind})`, async (t) => {
  const locker = await start(t);
  const opened = await feeDeposit(locker, '0912345618');
  t.equal(opened.payment.extensionsLeft, 10);
  const firstPayBy = Date.parse(opened.payment.payBy);
  const extend = (id = opened.payment.paymentId) => locker.anonymous.post(`/api/payments/${id}/extend`);
  const once = await extend();
  t.equal(once.statusCode, 200, once.body);
  t.equal(Date.parse(once.json().payBy), firstPayBy + 120_000, 'two minutes more');
  t.equal(once.json().extensionsLeft, 9);
  t.equal(Date.parse((await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().payment.payBy), firstPayBy + 120_000);

  // Past the first time and its grace: still waiting (the sweep reads the time as moved).
  locker.controller.clock.advance(60_000 + 61_000);
  await new Promise((r) => setTimeout(r, 1_500));
  t.equal((await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().payment.status, 'awaiting', 'not expired');
  // A transfer booked in the added time pays it.
  const paid = await webhook(locker, notification('BANK-X', FEE, opened.payment.reference, locker.controller.clock.now()));
  t.equal(paid.json().results[0].outcome, 'matched', paid.body);
  t.equal((await extend()).json().error.code, 'PAYMENT_NOT_AWAITED', 'paid: no more time to give');

  // Ten times at most.
  const second = await feeDeposit(locker, '0912345619');
  for (let i = 0; i < 10; i++) t.equal((await extend(second.payment.paymentId)).statusCode, 200);
  const eleventh = await extend(second.payment.paymentId);
  t.equal(eleventh.statusCode, 409);
  t.equal(eleventh.json().error.code, 'PAYMENT_EXTENSIONS_USED');
  t.equal((await extend(randomUUID())).json().error.code, 'PAYMENT_NOT_FOUND');
  t.equal((await extend('not-a-uuid')).statusCode, 400);
  const audit = await locker.controller.database.query(
    `SELECT count(*)::int AS n FROM audit_log WHERE locker_id = $1 AND action = 'payment.extended'`,
    [locker.lockerId],
  );
  t.equal(audit.rows[0].n, 11, 'each extension audited');
});

t.test(`paid, but the tray's board is down: the money recorded and due back, nothing charged (${dbKind})`, async (t) => {
  const locker = await start(t);
  const opened = await feeDeposit(locker, '0912345615');
  const board = (await locker.anonymous.get('/api/sim/cabinet')).json().trays.find((x: any) => x.tray === opened.tray).board;
  t.equal((await locker.anonymous.post(`/api/sim/boards/${board}/fault`, { fault: 'offline' })).statusCode, 200);
  await until(async () => (await locker.staff.get(`/api/trays/${opened.tray}`)).json().fault, 'the board seen down');
  const paid = await webhook(locker, notification('BANK-F', FEE, opened.payment.reference));
  t.equal(paid.statusCode, 200, 'the notification is taken: the money is recorded');
  t.equal(paid.json().results[0].outcome, 'matched');
  const view = (await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json();
  t.equal(view.status, 'cancelled');
  t.equal(view.payment.status, 'failed');
  t.same(view.receipts, [], 'no fee receipt for money going back');
  const [row] = await transfers(locker);
  t.equal(Number(row.refund_due), FEE, 'due back in full');
  t.equal(await trayContent(locker, opened.tray), 'free');
  t.equal(
    (await locker.anonymous.get('/api/sim/cabinet')).json().trays.find((x: any) => x.tray === opened.tray).latched,
    true,
    'the tray never opened',
  );
});

t.test(`a fee at the counter: the manifest says unpaid, the officer takes it, a lost deposit's fee ends (${dbKind})`, async (t) => {
  const locker = await start(t);
  // HT-TLBS: 8,000 đ per copy, paid later at the counter (the default).
  const opened = await feeDeposit(locker, '0912345616', 'HT-TLBS');
  t.equal(opened.payment.status, 'unpaid');
  t.notOk(opened.payment.qr, 'no QR for a fee paid at the counter');
  t.ok(opened.openBy, 'the tray opened at once');
  await door(locker, opened.tray, true);
  await door(locker, opened.tray, false);
  await until(async () => (await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().status === 'deposited', 'deposited');
  const manifest = (await locker.staff.get('/api/staff/rounds/next')).json();
  t.match(
    manifest.collect.find((i: any) => i.tray === opened.tray),
    { fee: { amount: 8000, paid: false } },
    'the round shows the fee unpaid',
  );
  const bad = await locker.staff.post(`/api/staff/payments/${opened.payment.paymentId}/counter`, { amount: 0 });
  t.equal(bad.statusCode, 400, 'an amount of nothing is refused');
  t.equal((await locker.anonymous.post(`/api/staff/payments/${opened.payment.paymentId}/counter`)).statusCode, 401, 'staff only');
  // Three copies: 24,000 đ taken.
  const paid = await locker.staff.post(`/api/staff/payments/${opened.payment.paymentId}/counter`, { amount: 24_000 });
  t.equal(paid.statusCode, 200, paid.body);
  t.match(paid.json(), { status: 'paid_at_counter', amount: 24_000 });
  const again = await locker.staff.post(`/api/staff/payments/${opened.payment.paymentId}/counter`);
  t.equal(again.json().error.code, 'PAYMENT_NOT_AWAITED', 'once only');
  const view = (await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json();
  const fee = view.receipts.find((r: any) => r.kind === 'fee');
  const receipt = (await locker.anonymous.get(`/api/receipts/${fee.receiptId.toLowerCase()}`)).json();
  t.match(receipt, { genuine: true, body: { amount: 24_000, amountWords: 'Hai mươi bốn nghìn đồng' } }, 'the receipt says what was taken');
  t.match(
    (await locker.staff.get('/api/staff/rounds/next')).json().collect.find((i: any) => i.tray === opened.tray),
    {
      fee: { amount: 24_000, paid: true },
    },
  );

  // A deposit at the counter's fee whose door never opens: the deposit ends, and so does its fee.
  const lost = await feeDeposit(locker, '0912345617', 'HT-TLBS');
  locker.controller.clock.advance(61_000);
  await until(async () => (await locker.anonymous.get(`/api/deposits/${lost.depositId}`)).json().status === 'cancelled', 'cancelled');
  t.equal(
    (await locker.anonymous.get(`/api/deposits/${lost.depositId}`)).json().payment.status,
    'cancelled',
    'nothing to take at the counter',
  );
  const late = await locker.staff.post(`/api/staff/payments/${lost.payment.paymentId}/counter`);
  t.equal(late.json().error.code, 'PAYMENT_NOT_AWAITED', 'and nothing the counter can take');

  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date(Date.now() + 61_000));
  t.equal((await locker.admin.get(`/api/admin/payments?date=2026-02-30`)).statusCode, 400, 'not a calendar day');
  t.equal((await locker.admin.get(`/api/admin/payments.csv?date=2026-13-01`)).statusCode, 400);
  t.equal((await locker.admin.get(`/api/admin/payments?date=${today}`)).statusCode, 200);
});

t.test(`paid, but the door never opens: the deposit ends, the money is due back, its receipt voided (${dbKind})`, async (t) => {
  const locker = await start(t);
  const opened = await feeDeposit(locker, '0912345618');
  t.equal((await webhook(locker, notification('BANK-D', FEE, opened.payment.reference))).json().results[0].outcome, 'matched');
  await until(async () => (await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().status === 'tray_open', 'open');
  const fee = (await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().receipts[0].receiptId;
  locker.controller.clock.advance(61_000);
  const view = await until(async () => {
    const v = (await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json();
    return v.status === 'cancelled' ? v : null;
  }, 'cancelled');
  t.equal(view.payment.status, 'failed', 'the fee is not kept');
  const [row] = await transfers(locker);
  t.equal(Number(row.refund_due), FEE, 'the transfer is due back');
  const receipt = (await locker.anonymous.get(`/api/receipts/${fee}`)).json();
  t.ok(receipt.voidedAt, 'the fee receipt is voided');
  t.match((await locker.anonymous.get(`/r/${fee}`)).body, /ĐÃ HỦY/, 'and its page says so');

  // A transfer text with a NUL and control characters is recorded, not refused by the database.
  const odd = await webhook(locker, notification('BANK-NUL', 1000, 'nop\u0000phi\u0007 ATM00000001'));
  t.equal(odd.statusCode, 200, odd.body);
  t.equal(odd.json().results[0].outcome, 'unmatched');
});

t.test(`receipt numbers: consecutive, without gaps, under 50 concurrent payments (${dbKind})`, async (t) => {
  const locker = await start(t);
  const db = locker.controller.database;
  // 50 deposits whose fee is paid later (at the counter or by transfer): rows as the flows write them.
  const references: string[] = [];
  for (let i = 0; i < 50; i++) {
    const id = randomUUID();
    const now = new Date();
    await db.query(
      `INSERT INTO dossiers (id, locker_id, code, kind, procedure_code, phone_hash, phone_enc, status, created_at, updated_at)
       VALUES ($1, $2, $3, 'deposit', 'HT-TLBS', 'h', 'e', 'deposited', $4, $4)`,
      [id, locker.lockerId, newDossierCode(), now],
    );
    const reference = `ATM${String(i).padStart(8, '0')}`;
    references.push(reference);
    await db.query(
      `INSERT INTO payments (id, locker_id, dossier_id, procedure_code, amount, reference, mode, status, created_at)
       VALUES ($1, $2, $3, 'HT-TLBS', 8000, $4, 'later', 'unpaid', $5)`,
      [randomUUID(), locker.lockerId, id, reference, now],
    );
  }
  const answers = await Promise.all(references.map((ref, i) => webhook(locker, notification(`C-${i}`, 8000, ref))));
  t.same(
    answers.map((a) => a.json().results[0].outcome),
    references.map(() => 'matched'),
  );
  const numbers = (
    await db.query(`SELECT number FROM receipts WHERE locker_id = $1 AND kind = 'fee' ORDER BY number`, [locker.lockerId])
  ).rows.map((r) => r.number);
  t.same(
    numbers,
    Array.from({ length: 50 }, (_, i) => i + 1),
    '1 … 50, each once',
  );
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
  const day = (await locker.admin.get(`/api/admin/payments?date=${today}`)).json();
  t.same(
    day.gaps.map((g: any) => g.missing),
    [[]],
    'the reconciliation finds no gap',
  );
  t.equal(day.totals.receipts, 50);
});

t.test('the provider in effect: the simulated bank only beside the simulated cabinet', async (t) => {
  const { loadConfig } = await import('../../src/config/load.js');
  const { paymentProvider } = await import('../../src/compose-payments.js');
  const config = (hardware: string, provider: string) => loadConfig({ env: { HARDWARE: hardware, PAYMENT_PROVIDER: provider } });
  t.equal(paymentProvider(config('simulator', 'auto')), 'simulator');
  t.equal(paymentProvider(config('modbus', 'auto')), 'none', 'a real cabinet without a provider: every fee at the counter');
  t.throws(
    () => paymentProvider(config('modbus', 'simulator')),
    { name: 'ConfigError', message: /payments.provider/ },
    'never a simulated bank before real trays',
  );
  t.equal(paymentProvider(config('modbus', 'bank')), 'bank');
});

t.test(`two lockers sharing a database and an account: each transfer recorded once, one series without gaps (${dbKind})`, async (t) => {
  const a = await start(t);
  const b = await startTestLocker(t, { payments: { webhookSecret: SECRET, payWithinSec: 60 } }, { databaseUrl: a.databaseUrl });
  const opened = await feeDeposit(a, '0912345631');
  // The provider tells both of A's transfer: B leaves it to A, A records it.
  const atB = await webhook(b, notification('SHARED-1', FEE, opened.payment.reference));
  t.equal(atB.json().results[0].outcome, 'other_locker');
  const atA = await webhook(a, notification('SHARED-1', FEE, opened.payment.reference));
  t.equal(atA.json().results[0].outcome, 'matched');
  // A transfer naming nobody: recorded by the first to hear of it only (its refund is due once).
  t.equal((await webhook(a, notification('SHARED-2', 5000, 'tien nha'))).json().results[0].outcome, 'unmatched');
  t.equal((await webhook(b, notification('SHARED-2', 5000, 'tien nha'))).json().results[0].outcome, 'already_recorded');
  const rows = (await a.controller.database.query(`SELECT locker_id, provider_tx_id, outcome FROM transfers ORDER BY provider_tx_id`)).rows;
  t.same(
    rows.map((r) => [r.locker_id, r.provider_tx_id, r.outcome]),
    [
      [a.lockerId, 'SHARED-1', 'matched'],
      [a.lockerId, 'SHARED-2', 'unmatched'],
    ],
  );
  // One series for both: A's receipt 1, B's 2 (a fee at B's counter), A's 3; A's day shows no gap.
  const later = await feeDeposit(b, '0912345632', 'HT-TLBS');
  t.equal((await b.staff.post(`/api/staff/payments/${later.payment.paymentId}/counter`)).statusCode, 200);
  const third = await feeDeposit(a, '0912345633', 'HT-TLBS');
  t.equal((await a.staff.post(`/api/staff/payments/${third.payment.paymentId}/counter`)).statusCode, 200);
  const numbers = (await a.controller.database.query(`SELECT locker_id, number FROM receipts WHERE kind = 'fee' ORDER BY number`)).rows;
  t.same(
    numbers.map((r) => [r.locker_id, r.number]),
    [
      [a.lockerId, 1],
      [b.lockerId, 2],
      [a.lockerId, 3],
    ],
  );
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
  t.same((await a.admin.get(`/api/admin/payments?date=${today}`)).json().gaps, [
    { series: 'BL-26E', year: Number(today.slice(0, 4)), missing: [] },
  ]);
});

t.test(`with PUBLIC_URL, the deposit receipt text carries the receipt's short link (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t, { payments: { webhookSecret: SECRET, publicUrl: 'https://atm247.quan6.example.vn' } });
  const opened = await feeDeposit(locker, '0912345641');
  await webhook(locker, notification('BANK-S', FEE, opened.payment.reference));
  await until(async () => (await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().status === 'tray_open', 'open');
  await door(locker, opened.tray, true);
  await door(locker, opened.tray, false);
  const done = await deposited(locker, opened.depositId);
  const fee = done.receipts.find((r: any) => r.kind === 'fee').receiptId;
  const text = await until(
    async () => (await locker.anonymous.get('/api/sim/sms?to=0912345641')).json().find((m: any) => m.kind === 'deposit_receipt')?.text,
    'the receipt text',
  );
  t.match(text, `https://atm247.quan6.example.vn/r/${fee}`, 'the fee receipt, by its short link');
  const page = await locker.anonymous.get(`/r/${fee}`);
  t.match(page.body, `https://atm247.quan6.example.vn/r/${fee}`, "the page's QR and link use the public address too");
});
