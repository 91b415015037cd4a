/**
 * ID cards picked up with two factors (docs/adr/0028-id-card-pickup-second-factor.md): the officer
 * loads an ID card with its holder's number (only a keyed hash is kept); after the right SMS code
 * its tray stays locked until the holder's number is given, typed or from a scan of the old card,
 * with limits of its own per code and per result.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { IdVault } from '../../src/domain/id-vault.js';
import { deriveKeys } from '../../src/domain/phone-vault.js';
import { SAMPLE_CARD_QR } from '../../src/domain/citizen-id.js';
import { OffsetClock } from '../../src/domain/clock.js';
import { outboxEvents, SECRET_KEY, startTestLocker, type TestLocker } from '../helpers/controller.js';
import { codeFor, door } from '../helpers/citizens.js';
import { until } from '../helpers/mqtt.js';
import { dbKind } from '../helpers/db.js';

/** The sample card's holder (SAMPLE_CARD_QR). */
const HOLDER = '079301012345';
/** A well-formed number that is not the holder's. */
const SOMEONE_ELSE = '079090001234';
const idVault = new IdVault(deriveKeys(Buffer.from(SECRET_KEY, 'utf8')));

/** Loads a result through the staff API and closes its door: it waits, notified. */
async function loadClosed(locker: TestLocker, body: Record<string, unknown>) {
  const res = await locker.staff.post('/api/staff/results', body);
  if (res.statusCode !== 201) throw new Error(`load: ${res.statusCode} ${res.body}`);
  const loaded = res.json() as { resultId: string; tray: number; dossierCode: string };
  await door(locker, loaded.tray, true);
  await door(locker, loaded.tray, false);
  await until(
    async () => (await locker.anonymous.get(`/api/dossiers/${loaded.dossierCode}`)).json().status === 'notified',
    `${loaded.dossierCode} notified`,
    3_000,
  );
  return loaded;
}

/** Asks for a pickup code and enters it: the challenge and the verify answer. */
async function pickupVerified(locker: TestLocker, phone: string, nth: number) {
  const start = await locker.anonymous.post('/api/pickups', { phone });
  if (start.statusCode !== 202) throw new Error(`pickup: ${start.statusCode} ${start.body}`);
  const challengeId = start.json().challengeId as string;
  const otp = await codeFor(locker, phone, nth);
  const verify = await locker.anonymous.post(`/api/pickups/${challengeId}/verify`, { otp });
  return { challengeId, verify };
}

function latched(locker: TestLocker, tray: number): boolean {
  return locker.controller.cabinet!.trays().find((x) => x.tray === tray)!.latched;
}

t.test(`loading an ID card takes the holder's number, keeps only its hash (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const card = { dossierCode: 'HCM-2025-007001', phone: '0987 100 001', procedureCode: 'CC-01' };

  const without = await locker.staff.post('/api/staff/results', card);
  t.equal(without.statusCode, 400, without.body);
  t.equal(without.json().error.code, 'HOLDER_ID_REQUIRED');
  for (const bad of ['07930101234', 'abcdefghijkl', '999301012345', '   ']) {
    const res = await locker.staff.post('/api/staff/results', { ...card, holderIdNumber: bad });
    t.equal(res.statusCode, 400, `${JSON.stringify(bad)}: ${res.body}`);
    t.equal(res.json().error.code, bad.trim() ? 'ID_NUMBER_INVALID' : 'HOLDER_ID_REQUIRED', JSON.stringify(bad));
  }
  const notAsked = await locker.staff.post('/api/staff/results', {
    dossierCode: 'HCM-2025-007002',
    phone: '0987 100 001',
    procedureCode: 'HT-KS',
    holderIdNumber: HOLDER,
  });
  t.equal(notAsked.statusCode, 400, notAsked.body);
  t.equal(notAsked.json().error.code, 'HOLDER_ID_NOT_EXPECTED', 'a number for a procedure that takes none: the wrong procedure?');
  t.equal(locker.controller.cabinet!.pulses().length, 0, 'no tray opened for a refused load');

  // The batch answers each item for itself.
  const batch = await locker.staff.post('/api/staff/results/batch', {
    items: [
      { dossierCode: 'HCM-2025-007003', phone: '0987 100 003', procedureCode: 'CC-02' },
      { dossierCode: 'HCM-2025-007004', phone: '0987 100 004', procedureCode: 'CC-02', holderIdNumber: '1234' },
    ],
  });
  t.equal(batch.statusCode, 200, batch.body);
  t.same(
    batch.json().results.map((r: any) => (r.ok ? 'ok' : r.error.code)),
    ['HOLDER_ID_REQUIRED', 'ID_NUMBER_INVALID'],
  );

  const loaded = await loadClosed(locker, { ...card, holderIdNumber: '079 301 012 345' });
  const { rows } = await locker.controller.database.query(`SELECT holder_id_hash FROM dossiers WHERE id = $1`, [loaded.resultId]);
  t.equal(rows[0].holder_id_hash, idVault.hash(HOLDER), 'the keyed hash of the number, spaces dropped');

  // The number itself is nowhere: no table's row holds it as text (audit, outbox, SMS, transitions…).
  const tables = await locker.controller.database.query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`);
  t.ok(tables.rows.length > 10, 'every table searched');
  for (const { tablename } of tables.rows as { tablename: string }[]) {
    const hit = await locker.controller.database.query(
      `SELECT count(*)::int AS n FROM "${tablename}" x WHERE x::text LIKE '%' || $1 || '%' OR x::text LIKE '%079 301 012 345%'`,
      [HOLDER],
    );
    t.equal(hit.rows[0].n, 0, `${tablename} does not hold the number`);
  }
  const audit = await locker.controller.database.query(`SELECT details FROM audit_log WHERE action = 'result.load' AND subject = $1`, [
    `dossier:${loaded.resultId}`,
  ]);
  t.match(audit.rows[0].details, { pickupProof: 'id_number' }, 'the audit says a number was recorded, not which');
});

t.test('after the code, an ID card waits for its holder’s number; the other results open as before', async (t) => {
  const locker = await startTestLocker(t);
  const phone = '0987200002';
  const card = await loadClosed(locker, { dossierCode: 'HCM-2025-007101', phone, procedureCode: 'CC-02', holderIdNumber: HOLDER });
  const copy = await loadClosed(locker, { dossierCode: 'HCM-2025-007102', phone, procedureCode: 'CT-BS' });

  // No such pickup; a pickup whose code was not entered.
  const unknown = await locker.anonymous.post(`/api/pickups/${randomUUID()}/identity`, { idNumber: HOLDER });
  t.equal(unknown.statusCode, 404, unknown.body);
  t.equal(unknown.json().error.code, 'CHALLENGE_NOT_FOUND');
  const early = await locker.anonymous.post('/api/pickups', { phone });
  await codeFor(locker, phone, 0);
  const notYet = await locker.anonymous.post(`/api/pickups/${early.json().challengeId}/identity`, { idNumber: HOLDER });
  t.equal(notYet.statusCode, 409, notYet.body);
  t.equal(notYet.json().error.code, 'PICKUP_NOT_VERIFIED', 'the SMS code comes first');

  locker.controller.cabinet!.clearPulses();
  const otp = await codeFor(locker, phone, 0);
  const verify = await locker.anonymous.post(`/api/pickups/${early.json().challengeId}/verify`, { otp });
  t.equal(verify.statusCode, 200, verify.body);
  t.same(verify.json().trays, [copy.tray], 'the result that needs no number opens');
  t.equal(verify.json().identityNeeded, 1, 'one result waits for its holder’s number');
  t.notOk(JSON.stringify(verify.json()).includes(card.dossierCode), 'the ID card is not named before the number');
  t.same(
    locker.controller.cabinet!.pulses().map((p) => p.tray),
    [copy.tray],
    'only its tray was pulsed',
  );
  t.ok(latched(locker, card.tray), 'the ID card’s latch stays locked');
  t.ok(verify.json().ratingToken, 'the visit may be rated');
  const challengeId = verify.json() && early.json().challengeId;
  const url = `/api/pickups/${challengeId}/identity`;

  // Bad input: refused before it costs a try.
  for (const [body, status, code] of [
    [undefined, 400, 'VALIDATION_FAILED'],
    [{}, 400, 'VALIDATION_FAILED'],
    [{ idNumber: HOLDER, scanId: randomUUID() }, 400, 'VALIDATION_FAILED'],
    [{ idNumber: 'abcdefghijkl' }, 400, 'ID_NUMBER_INVALID'],
    [{ idNumber: '0793010123' }, 400, 'ID_NUMBER_INVALID'],
    [{ scanId: 'not-a-scan' }, 400, 'VALIDATION_FAILED'],
    [{ scanId: randomUUID() }, 404, 'ID_SCAN_NOT_FOUND'],
  ] as const) {
    const res = await locker.anonymous.post(url, body);
    t.equal(res.statusCode, status, `${JSON.stringify(body)}: ${res.body}`);
    t.equal(res.json().error.code, code, JSON.stringify(body));
  }
  const params = await locker.anonymous.post('/api/pickups/not-a-uuid/identity', { idNumber: HOLDER });
  t.equal(params.statusCode, 400, 'a challenge id that is not one');

  const wrong = await locker.anonymous.post(url, { idNumber: SOMEONE_ELSE });
  t.equal(wrong.statusCode, 403, wrong.body);
  t.match(wrong.json().error, { code: 'ID_NUMBER_MISMATCH', details: { attemptsLeft: 2 } });
  t.ok(latched(locker, card.tray), 'a wrong number opens nothing');
  const failed = await locker.controller.database.query(`SELECT details, personal FROM audit_log WHERE action = 'pickup.identity_failed'`);
  t.equal(failed.rows.length, 1, 'the wrong number is recorded');
  t.notOk(JSON.stringify(failed.rows).includes(SOMEONE_ELSE.slice(3)), 'without the number typed');

  locker.controller.cabinet!.clearPulses();
  const right = await locker.anonymous.post(url, { idNumber: '0793 0101 2345' });
  t.equal(right.statusCode, 200, right.body);
  t.same(right.json().trays, [card.tray], 'the holder’s number opens the ID card');
  t.match(right.json().results, [{ resultId: card.resultId, tray: card.tray }]);
  t.notOk('identityNeeded' in right.json(), 'nothing else waits for a number');
  t.same(
    locker.controller.cabinet!.pulses().map((p) => p.tray),
    [card.tray],
  );
  t.match(await outboxEvents(locker, 'pickup.opened'), [{ data: { trays: [copy.tray] } }, { data: { trays: [card.tray] } }]);

  await door(locker, card.tray, true);
  await door(locker, card.tray, false);
  await until(
    async () => (await locker.anonymous.get(`/api/pickups/results/${card.resultId}`)).json().status === 'picked_up',
    'picked up',
    3_000,
  );
  t.equal((await locker.staff.get(`/api/trays/${card.tray}`)).json().state, 'free');
  const { rows } = await locker.controller.database.query(`SELECT holder_id_hash FROM dossiers WHERE id = $1`, [card.resultId]);
  t.equal(rows[0].holder_id_hash, null, 'taken: the hash is forgotten');

  const again = await locker.anonymous.post(url, { idNumber: HOLDER });
  t.equal(again.statusCode, 409, again.body);
  t.equal(again.json().error.code, 'NO_IDENTITY_NEEDED');
});

t.test('three wrong numbers end a code; five across visits hold the card for an officer', async (t) => {
  const locker = await startTestLocker(t);
  const phone = '0987300003';
  const card = await loadClosed(locker, { dossierCode: 'HCM-2025-007201', phone, procedureCode: 'CC-03', holderIdNumber: HOLDER });

  // Too late after the code.
  const late = await pickupVerified(locker, phone, 0);
  t.equal(late.verify.json().identityNeeded, 1);
  locker.controller.clock.advance(6 * 60_000);
  const tooLate = await locker.anonymous.post(`/api/pickups/${late.challengeId}/identity`, { idNumber: HOLDER });
  t.equal(tooLate.statusCode, 410, tooLate.body);
  t.equal(tooLate.json().error.code, 'IDENTITY_WINDOW_CLOSED');
  t.ok(latched(locker, card.tray));

  const first = await pickupVerified(locker, phone, 1);
  const url = `/api/pickups/${first.challengeId}/identity`;
  const left: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await locker.anonymous.post(url, { idNumber: SOMEONE_ELSE });
    t.equal(res.json().error.code, 'ID_NUMBER_MISMATCH');
    left.push(res.json().error.details.attemptsLeft);
  }
  t.same(left, [2, 1, 0], 'three tries per code');
  const spent = await locker.anonymous.post(url, { idNumber: HOLDER });
  t.equal(spent.statusCode, 403, spent.body);
  t.equal(spent.json().error.code, 'ID_NUMBER_TRIES_EXHAUSTED', 'even the right number: the code is spent');
  t.ok(latched(locker, card.tray));

  const second = await pickupVerified(locker, phone, 2);
  const url2 = `/api/pickups/${second.challengeId}/identity`;
  const fourth = await locker.anonymous.post(url2, { idNumber: SOMEONE_ELSE });
  t.match(fourth.json().error, { code: 'ID_NUMBER_MISMATCH', details: { attemptsLeft: 2 } });
  t.notOk('held' in fourth.json().error.details);
  const fifth = await locker.anonymous.post(url2, { idNumber: SOMEONE_ELSE });
  t.match(fifth.json().error, { code: 'ID_NUMBER_MISMATCH', details: { attemptsLeft: 1, held: 1 } }, 'the fifth across visits holds it');
  t.match(await outboxEvents(locker, 'alarm.pickup_identity_held'), [
    { data: { resultId: card.resultId, tray: card.tray, procedureCode: 'CC-03', failures: 5 } },
  ]);
  const heldAudit = await locker.controller.database.query(`SELECT subject FROM audit_log WHERE action = 'result.identity_held'`);
  t.same(
    heldAudit.rows.map((r: any) => r.subject),
    [`dossier:${card.resultId}`],
  );
  const alarms = await locker.admin.get('/api/admin/alarms?limit=5');
  t.equal(alarms.statusCode, 200, alarms.body);
  t.match(alarms.json(), [{ type: 'alarm.pickup_identity_held', data: { tray: card.tray } }], 'the admin sees the alarm');
  const afterHeld = await locker.anonymous.post(url2, { idNumber: HOLDER });
  t.equal(afterHeld.json().error.code, 'NO_IDENTITY_NEEDED', 'held: not even the right number opens it at the kiosk');

  // Another visit: the card is held, the answer says so, and no tray opens.
  locker.controller.clock.advance(16 * 60_000);
  locker.controller.cabinet!.clearPulses();
  const third = await pickupVerified(locker, phone, 3);
  t.equal(third.verify.statusCode, 200, third.verify.body);
  t.match(third.verify.json(), { trays: [], identityHeld: 1 });
  t.notOk('identityNeeded' in third.verify.json());
  t.equal(locker.controller.cabinet!.pulses().length, 0);
  t.ok(latched(locker, card.tray));
});

t.test('the holder’s number from a scan of the old card', async (t) => {
  const locker = await startTestLocker(t);
  const phone = '0987400004';
  const card = await loadClosed(locker, { dossierCode: 'HCM-2025-007301', phone, procedureCode: 'CC-04', holderIdNumber: HOLDER });
  const other = await loadClosed(locker, { dossierCode: 'HCM-2025-007302', phone, procedureCode: 'CC-05', holderIdNumber: SOMEONE_ELSE });
  const { challengeId, verify } = await pickupVerified(locker, phone, 0);
  t.match(verify.json(), { trays: [], identityNeeded: 2 });

  const scan = await locker.anonymous.post('/api/id-cards/scans', { text: SAMPLE_CARD_QR });
  t.ok([200, 201].includes(scan.statusCode), scan.body);
  locker.controller.cabinet!.clearPulses();
  const res = await locker.anonymous.post(`/api/pickups/${challengeId}/identity`, { scanId: scan.json().scanId });
  t.equal(res.statusCode, 200, res.body);
  t.same(res.json().trays, [card.tray], "the scanned holder's card opens, not the other one");
  t.equal(res.json().identityNeeded, 1, 'one still waits for its own holder');
  t.ok(latched(locker, other.tray));
  const typed = await locker.anonymous.post(`/api/pickups/${challengeId}/identity`, { idNumber: SOMEONE_ELSE });
  t.same(typed.json().trays, [other.tray], 'the second holder’s number, within the same visit');
});

t.test('an ID card held, then taken back to the counter: no reminder to come to the machine, its hash gone once out', async (t) => {
  // The day pinned from the daemon's start, at 10:00: 23 h before the card's deadline is then
  // 11:00, not within a quarter of an hour of a round, when its manifest is drawn without the
  // card (the take-back list came out empty when the suite ran at 12:15–12:30).
  const clock = new OffsetClock();
  clock.setOffset(Date.parse('2026-12-08T10:00:00+07:00') - Date.now());
  const locker = await startTestLocker(t, {}, { clock });
  const setNow = (at: Date) => clock.setOffset(at.getTime() - Date.now());
  const phone = '0987 200 010';
  const card = await loadClosed(locker, { dossierCode: 'HCM-2025-007900', phone, procedureCode: 'CC-01', holderIdNumber: HOLDER });
  await locker.controller.database.query(`UPDATE dossiers SET identity_held_at = now() WHERE id = $1`, [card.resultId]);
  const deadline = new Date((await locker.anonymous.get(`/api/dossiers/${card.dossierCode}`)).json().pickupDeadline);

  // 23 h before its end: a card the machine would refuse is not reminded.
  setNow(new Date(deadline.getTime() - 23 * 3_600_000));
  await locker.controller.staffTimersUnit.tick();
  t.equal((await outboxEvents(locker, 'result.reminded')).length, 0, 'no reminder for a held card');

  // Past its end: expired, taken back to the counter on the next round.
  setNow(new Date(deadline.getTime() + 60_000));
  await locker.controller.staffTimersUnit.tick();
  const preview = (await locker.staff.get('/api/staff/rounds/next')).json();
  t.same(
    preview.takeBack.map((i: any) => i.tray),
    [card.tray],
  );
  setNow(new Date(preview.round.scheduledAt));
  t.equal((await locker.staff.post(`/api/staff/rounds/${preview.round.id}/start`, { oneAtATime: true })).statusCode, 200);
  const back = await locker.staff.post(`/api/staff/rounds/${preview.round.id}/items/${card.tray}`, { outcome: 'returned' });
  t.equal(back.statusCode, 200, back.body);
  const { rows } = await locker.controller.database.query(`SELECT status, holder_id_hash FROM dossiers WHERE id = $1`, [card.resultId]);
  t.same(rows[0], { status: 'returned_to_counter', holder_id_hash: null }, 'out of the machine: the hash forgotten in the same move');
});

t.test('wrong numbers sent at once on two codes of one phone: the card’s five tries hold, one hold, one alarm', async (t) => {
  const locker = await startTestLocker(t);
  const phone = '0987 600 006';
  const card = await loadClosed(locker, { dossierCode: 'HCM-2025-009101', phone, procedureCode: 'CC-03', holderIdNumber: HOLDER });
  const [c1, c2, c3] = [
    await pickupVerified(locker, phone, 0),
    await pickupVerified(locker, phone, 1),
    await pickupVerified(locker, phone, 2),
  ];
  const step = (c: { challengeId: string }, n: number) =>
    locker.anonymous.post(`/api/pickups/${c.challengeId}/identity`, { idNumber: `0790900012${String(n).padStart(2, '0')}` });
  for (let n = 0; n < 3; n++) t.equal((await step(c1, n)).statusCode, 403);
  t.equal((await step(c2, 3)).statusCode, 403, 'four wrong numbers against the card');
  const together = await Promise.all([step(c2, 4), step(c3, 5), step(c2, 6), step(c3, 7)]);
  t.ok(
    together.every((r) => r.statusCode >= 400 && r.statusCode < 500),
    together.map((r) => r.body).join(' / '),
  );
  const { rows } = await locker.controller.database.query(`SELECT identity_failures, identity_held_at FROM dossiers WHERE id = $1`, [
    card.resultId,
  ]);
  t.equal(rows[0].identity_failures, 5, 'five tries, not one more');
  t.ok(rows[0].identity_held_at, 'held');
  t.equal((await outboxEvents(locker, 'alarm.pickup_identity_held')).length, 1, 'one alarm');
  t.equal((await step(c3, 8)).json().error.code, 'NO_IDENTITY_NEEDED', 'held: no number opens it any more');
  t.ok(latched(locker, card.tray), 'the card stays locked');
});
