/**
 * The payment rules (src/domain/payments.ts): the transfer reference, finding it in a bank's text,
 * what a transfer does to a payment; and a VietQR payload checked against one written out by hand
 * from the NAPAS layout, with its CRC computed here (not by the library that built it).
 */
import t from 'tap';
import { findReferences, judgeTransfer, newTransferReference } from '../../src/domain/payments.js';
import { vietQrPayload } from '../../src/payments/vietqr.js';

t.test('references: ATM and 8 Crockford characters, unique enough', async (t) => {
  const all = Array.from({ length: 2000 }, newTransferReference);
  t.same(
    all.filter((r) => !/^ATM[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$/.test(r)),
    [],
    'every one of the form',
  );
  t.equal(new Set(all).size, 2000, 'no repeat in 2,000');
});

t.test("a reference found in a bank's text, however the bank wrote it", async (t) => {
  const ref = 'ATM7K3Q9P2X';
  for (const text of [
    'ATM7K3Q9P2X',
    'MBVCB.1234567.ATM7K3Q9P2X.CT tu NGUYEN VAN A',
    'atm7k3q9p2x nop phi',
    'ATM7K 3Q9P2X',
    'ATM-7K3Q-9P2X',
    'IBFT ATM7K3Q9P2X FT25123',
  ]) {
    t.same(findReferences(text), [ref], JSON.stringify(text));
  }
  t.same(findReferences('ATMOO00IL1X'), ['ATM0000111X'], 'O, I and L typed for 0, 1 and 1');
  t.same(findReferences('Chuyển tiền ăn trưa'), [], 'none');
  t.same(findReferences('ATM7K3Q9P2'), [], 'too short');
  t.same(findReferences('ATM7K3Q9P2X va ATM0000000Z'), ['ATM7K3Q9P2X', 'ATM0000000Z'], 'two, in order');
  t.same(findReferences('ATMU0000000'), [], 'U is not of the alphabet');
});

t.test('what a transfer does to a payment', async (t) => {
  const payBy = new Date('2026-12-06T10:05:00Z');
  const waiting = { status: 'awaiting' as const, amount: 8000, payBy };
  const inTime = new Date('2026-12-06T10:04:59Z');
  t.equal(judgeTransfer(waiting, { amount: 8000, bookedAt: inTime }), 'matched');
  t.equal(judgeTransfer(waiting, { amount: 7000, bookedAt: inTime }), 'wrong_amount');
  t.equal(judgeTransfer(waiting, { amount: 9000, bookedAt: inTime }), 'wrong_amount', 'more is not kept either');
  t.equal(
    judgeTransfer(waiting, { amount: 8000, bookedAt: new Date('2026-12-06T10:05:01Z') }),
    'late',
    'booked after its time, still waiting',
  );
  t.equal(judgeTransfer({ ...waiting, status: 'paid' }, { amount: 8000, bookedAt: inTime }), 'duplicate');
  t.equal(judgeTransfer({ ...waiting, status: 'paid_at_counter' }, { amount: 8000, bookedAt: inTime }), 'duplicate');
  for (const status of ['expired', 'cancelled', 'failed'] as const) {
    t.equal(judgeTransfer({ ...waiting, status }, { amount: 8000, bookedAt: inTime }), 'late', status);
  }
  const counter = { status: 'unpaid' as const, amount: 8000, payBy: null };
  t.equal(judgeTransfer(counter, { amount: 8000, bookedAt: inTime }), 'matched', 'a fee due at the counter may be paid by transfer');
});

/** CRC-16/CCITT-FALSE, as EMVCo field 63 asks. */
function crc16(text: string): string {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

t.test('the VietQR payload, field by field', async (t) => {
  const payload = vietQrPayload({ bankBin: '970415', accountNumber: '113000006100', amount: 700_000, reference: 'ATMJZV2V0NF' });
  const body =
    '000201' + // payload format 01
    '010212' + // dynamic (an amount)
    '3856' + // merchant account (NAPAS)
    '0010A000000727' + // the NAPAS GUID
    '01260006970415' + // the bank's BIN
    '0112113000006100' + // the account
    '0208QRIBFTTA' + // transfer to an account
    '5303704' + // VND
    '5406700000' + // the amount
    '5802VN' +
    '62150811ATMJZV2V0NF' + // the purpose: the reference, pre-filled in the transfer text
    '6304';
  t.equal(payload, body + crc16(body));
});
