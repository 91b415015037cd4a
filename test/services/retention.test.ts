/**
 * Personal data that expires (docs/retention.md), against the real controller and PostgreSQL:
 * dossiers, challenges, texts, code sends, guards and events made 91 days ago and now; the purge;
 * then every table read back, row by row, for the phones that had to go and the ones that stay.
 */
import t, { type Test } from 'tap';
import { CLOSED_STATUSES } from '../../src/domain/dossier.js';
import { startTestLocker, type TestLocker } from '../helpers/controller.js';
import { codeFor, depositProcedure, door, wrongCode } from '../helpers/citizens.js';
import { until } from '../helpers/mqtt.js';
import { dbKind } from '../helpers/db.js';

const DAY = 86_400_000;

const query = async (locker: TestLocker, sql: string, values: unknown[] = []) => (await locker.controller.database.query(sql, values)).rows;

async function status(locker: TestLocker, id: string): Promise<string> {
  return (await query(locker, `SELECT status FROM dossiers WHERE id = $1`, [id]))[0].status;
}

/** A deposit by `phone` up to "deposited" (door opened and closed); its dossier and challenge ids. */
async function deposited(t: Test, locker: TestLocker, phone: string) {
  const procedureCode = await depositProcedure(locker);
  const start = await locker.anonymous.post('/api/deposits', { phone, procedureCode });
  t.equal(start.statusCode, 202, start.body);
  const { challengeId } = start.json();
  const res = await locker.anonymous.post(`/api/deposits/${challengeId}/verify`, { otp: await codeFor(locker, phone) });
  t.equal(res.statusCode, 200, res.body);
  const { depositId, tray } = res.json();
  await door(locker, tray, true);
  await door(locker, tray, false);
  t.equal(await status(locker, depositId), 'deposited');
  return { dossierId: depositId as string, challengeId: challengeId as string };
}

/** A result for `phone` loaded by an officer, then picked up by the citizen with a code. */
async function resultPickedUp(t: Test, locker: TestLocker, phone: string, dossierCode: string) {
  const loaded = await locker.staff.post('/api/staff/results', { dossierCode, phone, procedureCode: 'CT-BS' });
  t.equal(loaded.statusCode, 201, loaded.body);
  const { tray, resultId } = loaded.json();
  await door(locker, tray, true);
  await door(locker, tray, false);
  await until(async () => (await status(locker, resultId)) === 'notified', 'result notified');
  const { challengeId } = (await locker.anonymous.post('/api/pickups', { phone })).json();
  const opened = await locker.anonymous.post(`/api/pickups/${challengeId}/verify`, { otp: await codeFor(locker, phone) });
  t.same(opened.json().trays, [tray], opened.body);
  await door(locker, tray, true);
  await door(locker, tray, false);
  await until(async () => (await status(locker, resultId)) === 'picked_up', 'result picked up');
  return { dossierId: resultId as string, challengeId: challengeId as string };
}

/** A pickup asked for by a phone with nothing waiting (a code is sent all the same), and one wrong entry. */
async function pickupRefused(t: Test, locker: TestLocker, phone: string) {
  const { challengeId } = (await locker.anonymous.post('/api/pickups', { phone })).json();
  const wrong = await locker.anonymous.post(`/api/pickups/${challengeId}/verify`, { otp: wrongCode(await codeFor(locker, phone)) });
  t.equal(wrong.json().error.code, 'OTP_INVALID');
  return { challengeId: challengeId as string };
}

/** Every row of every table of the database, as text, by table. */
async function everyRow(locker: TestLocker): Promise<Map<string, string[]>> {
  const tables = await query(
    locker,
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const out = new Map<string, string[]>();
  for (const { table_name: table } of tables) {
    out.set(
      table,
      (await query(locker, `SELECT t::text AS row FROM "${table}" t`)).map((r: any) => r.row),
    );
  }
  return out;
}

/** The phone's hash and every encrypted copy of its number, wherever they were stored. */
async function traces(locker: TestLocker, where: { dossierId?: string; challengeId?: string }) {
  const [row] = where.dossierId
    ? await query(locker, `SELECT phone_hash FROM dossiers WHERE id = $1`, [where.dossierId])
    : await query(locker, `SELECT phone_hash FROM challenges WHERE id = $1`, [where.challengeId]);
  const hash: string = row.phone_hash;
  const encs = await query(
    locker,
    `SELECT phone_enc FROM dossiers WHERE phone_hash = $1 UNION SELECT phone_enc FROM challenges WHERE phone_hash = $1`,
    [hash],
  );
  return [hash, ...encs.map((r: any) => r.phone_enc as string)];
}

/** Tables (and how many rows) whose text holds any of `needles`. */
function foundIn(rows: Map<string, string[]>, needles: string[]): Record<string, number> {
  const found: Record<string, number> = {};
  for (const [table, texts] of rows) {
    const n = texts.filter((text) => needles.some((needle) => text.includes(needle))).length;
    if (n) found[table] = n;
  }
  return found;
}

async function tally(locker: TestLocker) {
  const [r] = await query(
    locker,
    `SELECT (SELECT count(*) FROM dossiers WHERE phone_hash IS NOT NULL)::int AS dossiers,
            (SELECT count(*) FROM sms_messages WHERE phone_hash IS NOT NULL)::int AS "smsMessages",
            (SELECT count(*) FROM challenges)::int AS challenges,
            (SELECT count(*) FROM otp_sends)::int AS "otpSends",
            (SELECT count(*) FROM phone_guards)::int AS "phoneGuards",
            (SELECT count(*) FROM outbox)::int AS outbox,
            (SELECT count(*) FROM audit_log
              WHERE action <> 'retention.purged' AND (personal IS NOT NULL OR actor ~ '^(admin|staff):[0-9]+:'))::int AS "auditPersonal",
            (SELECT count(*) FROM sessions)::int AS sessions,
            (SELECT count(*) FROM transfers WHERE description <> '')::int AS "transferTexts",
            (SELECT count(*) FROM dossiers)::int AS "dossierRows",
            (SELECT count(*) FROM sms_messages)::int AS "smsRows"`,
  );
  return r as Record<string, number>;
}

t.test(`personal data past its window is purged; newer and open dossiers keep theirs (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  // This test runs every purge itself, and nothing else may write while it counts.
  await locker.controller.retentionTimers.stop();
  await locker.controller.staffTimersUnit.stop();
  await locker.controller.flowTimers.stop();

  // 91 days ago (the controller's clock is then moved on): a deposit cancelled (its door never
  // opened), a result picked up, a deposit still waiting for its round (open), a pickup asked for
  // by a phone with nothing waiting, with a wrong code typed.
  const procedureCode = await depositProcedure(locker);
  const p1 = (await locker.anonymous.post('/api/deposits', { phone: '0903100001', procedureCode })).json();
  const v1 = await locker.anonymous.post(`/api/deposits/${p1.challengeId}/verify`, { otp: await codeFor(locker, '0903100001') });
  t.equal(v1.statusCode, 200, v1.body);
  locker.controller.clock.advance(61_000);
  await locker.controller.flowTimers.tick();
  t.equal(await status(locker, v1.json().depositId), 'cancelled');
  const cancelled = { dossierId: v1.json().depositId as string, challengeId: p1.challengeId as string };
  const pickedUp = await resultPickedUp(t, locker, '0903100002', '000.00.22.H29-251120-0101');
  const waiting = await deposited(t, locker, '0903100003');
  const refused = await pickupRefused(t, locker, '0903100004');
  await until(async () => (await query(locker, `SELECT 1 FROM outbox WHERE sent_at IS NULL`)).length === 0, 'every event sent');

  // 91 days on: a result picked up today, a deposit made today, a refused pickup today.
  locker.controller.clock.advance(91 * DAY);
  const now = locker.controller.clock.now();
  const recentResult = await resultPickedUp(t, locker, '0903100005', '000.00.22.H29-251120-0102');
  const recentRefused = await pickupRefused(t, locker, '0903100006');
  const recentDeposit = await deposited(t, locker, '0903100007');
  // Two published events of our own: one written 8 days ago (past the 7-day window), one 6 days ago.
  for (const [id, ageDays] of [
    ['00000000-0000-4000-8000-000000000008', 8],
    ['00000000-0000-4000-8000-000000000006', 6],
  ] as const) {
    const at = new Date(now.getTime() - ageDays * DAY).toISOString();
    await query(locker, `INSERT INTO outbox (id, locker_id, type, payload, sent_at) VALUES ($1, $2, 'tray.door_closed', $3, now())`, [
      id,
      locker.lockerId,
      JSON.stringify({ id, type: 'tray.door_closed', at, lockerId: locker.lockerId, data: { tray: 1 } }),
    ]);
  }
  await until(async () => (await query(locker, `SELECT 1 FROM outbox WHERE sent_at IS NULL`)).length === 0, 'every event sent');
  // Transfers to the collecting account, their bank texts naming the payer: 91 days old and refunded,
  // 91 days old with the refund still due (whom to pay is in the text), and today.
  for (const [tx, ageDays, refunded] of [
    ['OLD-1', 91, true],
    ['OLD-2', 91, false],
    ['NEW-1', 0, false],
  ] as const) {
    const at = new Date(now.getTime() - ageDays * DAY);
    await query(
      locker,
      `INSERT INTO transfers (id, locker_id, provider, provider_tx_id, amount, description, booked_at, received_at, reference, outcome,
                              refund_due, refunded_at, refunded_by, refund_reference)
       VALUES (gen_random_uuid(), $1, 'bank', $2, 5000, 'CT tu NGUYEN VAN A ATM00000000', $3, $3, 'ATM00000000', 'unmatched', 5000, $4, $5, $6)`,
      [locker.lockerId, tx, at, refunded ? at : null, refunded ? 'admin' : null, refunded ? 'FT-REFUND-1' : null],
    );
  }

  const gone = {
    cancelled: await traces(locker, cancelled),
    pickedUp: await traces(locker, pickedUp),
    refused: await traces(locker, refused),
  };
  const kept = {
    recentResult: await traces(locker, recentResult),
    recentRefused: await traces(locker, recentRefused),
    recentDeposit: await traces(locker, recentDeposit),
  };
  const [waitingHash, ...waitingEncs] = await traces(locker, waiting);
  const before = await tally(locker);
  const audit = await query(locker, `SELECT id, md5(a::text) AS sum FROM audit_log a ORDER BY id`);
  const plain = ['0903100001', '0903100002', '0903100003', '0903100004', '903100001', '903100002', '903100003', '903100004'];
  t.same(foundIn(await everyRow(locker), plain), {}, 'no number is stored in clear anywhere');
  t.ok(Object.keys(foundIn(await everyRow(locker), gone.refused)).length > 0, 'the old phones are there before the purge');

  const res = await locker.admin.post('/api/admin/retention/run');
  t.equal(res.statusCode, 200, res.body);
  const run = res.json();
  const after = await tally(locker);

  // Nothing personal older than its window is left, in any table, in any column.
  const rows = await everyRow(locker);
  for (const [name, needles] of Object.entries(gone)) t.same(foundIn(rows, needles), {}, `no trace of the ${name} phone in any table`);
  t.same(foundIn(rows, plain), {}, 'and no number in clear');
  // The dossiers stay, without their phone; their texts stay, without their recipient.
  t.equal(after.dossierRows, before.dossierRows, 'no dossier row is deleted');
  t.equal(after.smsRows, before.smsRows, 'no SMS record is deleted');
  for (const { dossierId } of [cancelled, pickedUp]) {
    const [d] = await query(locker, `SELECT status, phone_hash, phone_enc, challenge_id, code FROM dossiers WHERE id = $1`, [dossierId]);
    t.match(
      d,
      { phone_hash: null, phone_enc: null, challenge_id: null, code: String },
      `dossier ${d.status}: the row stays, the phone goes`,
    );
    const texts = await query(
      locker,
      `SELECT kind, status, phone_hash, provider_message_id, last_error FROM sms_messages WHERE dossier_id = $1`,
      [dossierId],
    );
    for (const text of texts)
      t.match(text, { phone_hash: null, provider_message_id: null, last_error: null }, `${text.kind} text: no recipient`);
  }
  const stale = await query(
    locker,
    `SELECT 'dossier' AS what FROM dossiers WHERE status = ANY($1::text[]) AND updated_at < $2 AND (phone_hash IS NOT NULL OR phone_enc IS NOT NULL)
     UNION ALL SELECT 'challenge' FROM challenges WHERE expires_at < $3 OR created_at < $3
     UNION ALL SELECT 'code send' FROM otp_sends WHERE at < $3
     UNION ALL SELECT 'guard' FROM phone_guards WHERE coalesce(last_failure_at, '-infinity') < $3 AND coalesce(locked_until, '-infinity') <= $4
     UNION ALL SELECT 'code text' FROM sms_messages WHERE dossier_id IS NULL AND created_at < $3
                 AND (phone_hash IS NOT NULL OR provider_message_id IS NOT NULL OR last_error IS NOT NULL)
     UNION ALL SELECT 'event' FROM outbox WHERE (payload->>'at')::timestamptz < $5`,
    [CLOSED_STATUSES, new Date(now.getTime() - 90 * DAY), new Date(now.getTime() - DAY), now, new Date(now.getTime() - 7 * DAY)],
  );
  t.same(stale, [], 'nothing older than its window: closed dossiers 90 days, codes 1 day, events 7 days');

  // Newer data and the open dossier keep theirs.
  for (const [name, needles] of Object.entries(kept)) {
    t.ok(Object.keys(foundIn(rows, [needles[0]])).length > 0, `the ${name} phone is still there`);
  }
  const [open] = await query(locker, `SELECT status, phone_hash, phone_enc, challenge_id FROM dossiers WHERE id = $1`, [waiting.dossierId]);
  t.match(open, { status: 'deposited', phone_hash: waitingHash, challenge_id: null }, 'the open dossier of 91 days ago keeps its phone');
  t.ok(waitingEncs.includes(open.phone_enc), 'and its encrypted number');
  t.equal(
    (
      await query(locker, `SELECT count(*)::int AS n FROM sms_messages WHERE dossier_id = $1 AND phone_hash = $2`, [
        waiting.dossierId,
        waitingHash,
      ])
    )[0].n,
    1,
    'its receipt text keeps its recipient (the dossier is open)',
  );
  t.same(
    (
      await query(locker, `SELECT id FROM challenges WHERE id = ANY($1::uuid[]) ORDER BY id`, [
        [waiting.challengeId, cancelled.challengeId],
      ])
    ).map((r: any) => r.id),
    [],
    'the challenges of 91 days ago are gone, the open dossier no longer names its own',
  );
  const [recent] = await query(locker, `SELECT challenge_id, phone_hash FROM dossiers WHERE id = $1`, [recentDeposit.dossierId]);
  t.equal(recent.challenge_id, recentDeposit.challengeId, "today's deposit still names its challenge");
  t.equal(recent.phone_hash, kept.recentDeposit[0]);
  t.equal(
    (await query(locker, `SELECT count(*)::int AS n FROM phone_guards WHERE phone_hash = $1 AND failures = 1`, [kept.recentRefused[0]]))[0]
      .n,
    1,
    "today's wrong code still counts for its phone",
  );
  t.same(
    (
      await query(locker, `SELECT id FROM outbox WHERE id = ANY($1::uuid[])`, [
        ['00000000-0000-4000-8000-000000000008', '00000000-0000-4000-8000-000000000006'],
      ])
    ).map((r: any) => r.id),
    ['00000000-0000-4000-8000-000000000006'],
    'the event of 8 days ago is gone, the one of 6 days ago stays',
  );

  // The counts recorded are what changed, table by table.
  const changed = {
    dossiers: before.dossiers - after.dossiers,
    smsMessages: before.smsMessages - after.smsMessages,
    challenges: before.challenges - after.challenges,
    otpSends: before.otpSends - after.otpSends,
    phoneGuards: before.phoneGuards - after.phoneGuards,
    outbox: before.outbox - after.outbox,
    auditPersonal: before.auditPersonal - after.auditPersonal,
    sessions: before.sessions - after.sessions,
    transferTexts: before.transferTexts - after.transferTexts,
  };
  t.same(run.counts, changed, 'the answer counts what was purged');
  t.match(run.counts, { dossiers: 2, challenges: 4, otpSends: 4 }, 'two closed dossiers, four challenges and their code sends');
  t.same(
    await query(locker, `SELECT provider_tx_id, description, reference, amount::int FROM transfers ORDER BY provider_tx_id`),
    [
      { provider_tx_id: 'NEW-1', description: 'CT tu NGUYEN VAN A ATM00000000', reference: 'ATM00000000', amount: 5000 },
      { provider_tx_id: 'OLD-1', description: '', reference: 'ATM00000000', amount: 5000 },
      { provider_tx_id: 'OLD-2', description: 'CT tu NGUYEN VAN A ATM00000000', reference: 'ATM00000000', amount: 5000 },
    ],
    "the old refunded transfer's text (the payer's name) is blanked, its reference and amount stay; one still to refund and the new one are untouched",
  );
  t.ok(run.counts.smsMessages >= 5 && run.counts.phoneGuards >= 1 && run.counts.outbox > 1, JSON.stringify(run.counts));
  t.match(run, { at: now.toISOString().slice(0, 10), actor: /^admin:/ });

  // The audit log: its rows untouched, one more saying what was purged (counts, never data).
  const auditAfter = await query(locker, `SELECT id, md5(a::text) AS sum FROM audit_log a ORDER BY id`);
  t.same(auditAfter.slice(0, audit.length), audit, 'no audit row changed or went');
  const added = await query(locker, `SELECT actor, action, subject, details FROM audit_log WHERE id > $1`, [
    audit[audit.length - 1]?.id ?? 0,
  ]);
  t.equal(added.length, 1);
  t.match(added[0], {
    action: 'retention.purged',
    subject: null,
    details: { counts: changed, days: { closedDossier: 90, challenge: 1, sentEvent: 7, auditPersonal: 365, endedSession: 7 } },
  });
  const shown = (await locker.staff.get('/api/admin/retention')).json();
  t.match(shown, {
    settings: { closedDossierDays: 90, challengeDays: 1, sentEventDays: 7, runAt: '03:00', timezone: 'Asia/Ho_Chi_Minh' },
    lastRun: { at: run.at, actor: run.actor, counts: changed },
  });

  // A second purge finds nothing more, and says so.
  const again = (await locker.admin.post('/api/admin/retention/run')).json();
  t.same(again.counts, {
    dossiers: 0,
    smsMessages: 0,
    challenges: 0,
    otpSends: 0,
    phoneGuards: 0,
    outbox: 0,
    auditPersonal: 0,
    sessions: 0,
    transferTexts: 0,
  });
  t.same(await tally(locker), after);
});

t.test(`old audit rows lose names and notes, never their hash; ended sessions go (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  await locker.controller.retentionTimers.stop();
  const auditRow = async (tray: number) =>
    (
      await query(locker, `SELECT actor, personal, hash FROM audit_log WHERE action = 'tray.out_of_service' AND subject = $1`, [
        `tray:${tray}`,
      ])
    )[0];
  // A year and more ago, and now: a tray out of service with a note naming someone.
  locker.controller.clock.setOffset(-400 * DAY);
  t.equal((await locker.admin.post('/api/admin/trays/12/out-of-service', { reason: 'bản lề gãy, báo anh Nguyễn Văn An' })).statusCode, 200);
  locker.controller.clock.setOffset(0);
  t.equal((await locker.admin.post('/api/admin/trays/13/out-of-service', { reason: 'kẹt khoá, chị Lê Thị Bình báo' })).statusCode, 200);
  const oldBefore = await auditRow(12);
  t.ok(oldBefore?.personal, `the old row holds its note: ${JSON.stringify(oldBefore)}`);
  // Sessions: one expired 8 days ago, one revoked 8 days ago, one live.
  const [{ id: account }] = await query(locker, `SELECT id FROM accounts ORDER BY id LIMIT 1`);
  const ago = (days: number) => new Date(Date.now() - days * DAY);
  for (const [hash, expires, revoked] of [
    ['expired', ago(8), null],
    ['revoked', ago(-20), ago(8)],
    ['live', ago(-1), null],
  ] as const) {
    await query(locker, `INSERT INTO sessions (token_hash, account_id, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5)`, [
      hash,
      account,
      ago(9),
      expires,
      revoked,
    ]);
  }

  const run = (await locker.admin.post('/api/admin/retention/run')).json();
  t.match(run.counts, { auditPersonal: 1, sessions: 2 }, JSON.stringify(run.counts));
  const oldAfter = await auditRow(12);
  t.equal(oldAfter.personal, null, 'the note of a year ago is gone');
  t.notMatch(oldAfter.actor, /^(admin|staff):\d+:/, 'and the name after the account id');
  t.equal(oldAfter.hash, oldBefore.hash, 'its hash is the same');
  t.match((await auditRow(13)).personal, { reason: 'kẹt khoá, chị Lê Thị Bình báo' }, 'a recent note stays');
  t.same(
    (await query(locker, `SELECT token_hash FROM sessions ORDER BY 1`)).map((r: any) => r.token_hash),
    ['live'],
    'sessions that ended a week ago go',
  );
  const verdict = await locker.admin.get('/api/admin/audit/verify');
  t.equal(verdict.statusCode, 200, verdict.body);
  t.match(verdict.json(), { ok: true }, 'the chain still verifies');
});
