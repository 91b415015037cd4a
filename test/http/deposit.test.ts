import t from 'tap';
import { MANY_REQUESTS, startTestLocker, outboxEvents } from '../helpers/controller.js';
import { codeFor, depositProcedure, door, inbox } from '../helpers/citizens.js';
import { until } from '../helpers/mqtt.js';
import { dbKind } from '../helpers/db.js';

t.test(`a deposit from phone number to deposited, with the receipt (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const procedureCode = await depositProcedure(locker);
  const start = await locker.anonymous.post('/api/deposits', { phone: '0912 345 678', procedureCode });
  t.equal(start.statusCode, 202, start.body);
  const { challengeId, expiresAt } = start.json();
  t.ok(Date.parse(expiresAt) - Date.now() > 4 * 60_000, 'valid about 5 minutes');
  const code = await codeFor(locker, '0912345678');

  const verify = await locker.anonymous.post(`/api/deposits/${challengeId}/verify`, { otp: code });
  t.equal(verify.statusCode, 200, verify.body);
  const { depositId, dossierCode, tray } = verify.json();
  t.match(dossierCode, /^[2-9A-Y]{4}-[2-9A-Y]{5}$/);
  const trayView = (await locker.staff.get(`/api/trays/${tray}`)).json();
  t.equal(trayView.size, 'M', 'the smallest tray that fits');
  t.match(trayView.role, /deposit|both/);
  t.equal(trayView.state, 'reserved');
  t.equal((await locker.anonymous.get(`/api/deposits/${depositId}`)).json().status, 'tray_open');

  await door(locker, tray, true);
  await door(locker, tray, false);
  const deposit = await until(
    async () => {
      const d = (await locker.anonymous.get(`/api/deposits/${depositId}`)).json();
      return d.status === 'deposited' ? d : null;
    },
    'deposited',
    3_000,
  );
  t.equal(deposit.dossierCode, dossierCode);
  t.equal((await locker.staff.get(`/api/trays/${tray}`)).json().state, 'holding_deposit');

  const receipt = await until(async () => (await inbox(locker, '0912345678')).find((m) => m.kind === 'deposit_receipt'), 'receipt SMS');
  t.ok(receipt.text.includes(dossierCode), 'the receipt carries the dossier code');
  t.ok(receipt.text.length <= 160, 'one SMS segment');

  const lookup = await locker.anonymous.get(`/api/dossiers/${dossierCode}`);
  t.equal(lookup.statusCode, 200);
  t.match(lookup.json(), { dossierCode, status: 'deposited', procedureCode });
  t.notMatch(lookup.body, /0912|84912|phone/i, 'no personal data in the lookup');

  t.match(await outboxEvents(locker, 'deposit.opened'), [{ data: { depositId, tray, procedureCode } }]);
  t.match(await outboxEvents(locker, 'deposit.completed'), [{ data: { depositId, tray } }]);
  const { rows } = await locker.controller.database.query(`SELECT to_status FROM dossier_transitions WHERE dossier_id = $1 ORDER BY id`, [
    depositId,
  ]);
  t.same(
    rows.map((r: any) => r.to_status),
    ['verified', 'tray_open', 'deposited'],
    'every transition recorded',
  );
  const stored = await locker.controller.database.query(`SELECT phone_hash, phone_enc FROM dossiers WHERE id = $1`, [depositId]);
  t.notMatch(JSON.stringify(stored.rows), /912345678/, 'the phone number is not stored in clear');
  const otpRows = await locker.controller.database.query(`SELECT otp_hash FROM challenges WHERE id = $1`, [challengeId]);
  t.notMatch(JSON.stringify(otpRows.rows), new RegExp(code), 'the code is not stored in clear');
});

t.test('a door never opened cancels the deposit and frees the tray; a door held open raises an alarm', async (t) => {
  const locker = await startTestLocker(t);
  const procedureCode = await depositProcedure(locker);
  const first = (await locker.anonymous.post('/api/deposits', { phone: '0912000001', procedureCode })).json();
  const v1 = (
    await locker.anonymous.post(`/api/deposits/${first.challengeId}/verify`, { otp: await codeFor(locker, '0912000001') })
  ).json();

  locker.controller.clock.advance(61_000);
  await locker.controller.flowTimers.tick();
  t.equal((await locker.anonymous.get(`/api/deposits/${v1.depositId}`)).json().status, 'cancelled');
  t.equal((await locker.staff.get(`/api/trays/${v1.tray}`)).json().state, 'free', 'the tray is free again');
  t.match(await outboxEvents(locker, 'deposit.cancelled'), [{ data: { depositId: v1.depositId, reason: 'door_never_opened' } }]);
  t.equal((await locker.anonymous.get(`/api/dossiers/${v1.dossierCode}`)).statusCode, 404, 'a cancelled deposit is no dossier');

  const second = (await locker.anonymous.post('/api/deposits', { phone: '0912000002', procedureCode })).json();
  const v2 = (
    await locker.anonymous.post(`/api/deposits/${second.challengeId}/verify`, { otp: await codeFor(locker, '0912000002') })
  ).json();
  await door(locker, v2.tray, true);
  locker.controller.clock.advance(121_000);
  await locker.controller.flowTimers.tick();
  t.equal((await locker.anonymous.get(`/api/deposits/${v2.depositId}`)).json().status, 'tray_open', 'an opened door does not cancel');
  // The sweep leaves a door whose board has not answered lately for a later tick (a loaded
  // machine's scan can lag): the alarm comes at the first sweep that sees the board.
  const alarms = await until(async () => {
    const raised = await outboxEvents(locker, 'alarm.door_held_open');
    if (raised.length) return raised;
    await locker.controller.flowTimers.tick();
    return null;
  }, 'the held-open alarm');
  t.match(alarms, [{ data: { tray: v2.tray } }], 'door held open for more than 2 min');
  await locker.controller.flowTimers.tick();
  t.equal((await outboxEvents(locker, 'alarm.door_held_open')).length, 1, 'raised once');
  await door(locker, v2.tray, false);
  t.equal((await locker.anonymous.get(`/api/deposits/${v2.depositId}`)).json().status, 'deposited');
});

t.test('no free tray of the right size: 409 with a code, nothing changed', async (t) => {
  const locker = await startTestLocker(t);
  const procedureCode = await depositProcedure(locker, 'L');
  const db = locker.controller.database;
  // Every large tray (and every tray, since smaller ones do not fit) is taken.
  await db.query(`UPDATE trays SET content = 'holding_deposit' WHERE locker_id = $1 AND size = 'L'`, [locker.lockerId]);
  const before = await db.query(`SELECT (SELECT count(*) FROM challenges) c, (SELECT count(*) FROM dossiers) d`);
  const res = await locker.anonymous.post('/api/deposits', { phone: '0912000003', procedureCode });
  t.equal(res.statusCode, 409);
  t.equal(res.json().error.code, 'TRAY_UNAVAILABLE');
  t.same((await db.query(`SELECT (SELECT count(*) FROM challenges) c, (SELECT count(*) FROM dossiers) d`)).rows, before.rows);
  t.same(await inbox(locker, '0912000003'), [], 'no SMS sent');

  // A tray free at the start but taken before the code is entered: 409 at verify, code still usable.
  await db.query(
    `UPDATE trays SET content = 'free' WHERE locker_id = $1 AND number = (SELECT min(number) FROM trays WHERE locker_id = $1 AND size = 'L')`,
    [locker.lockerId],
  );
  const start = (await locker.anonymous.post('/api/deposits', { phone: '0912000003', procedureCode })).json();
  const code = await codeFor(locker, '0912000003');
  await db.query(`UPDATE trays SET content = 'holding_deposit' WHERE locker_id = $1 AND size = 'L'`, [locker.lockerId]);
  const verify = await locker.anonymous.post(`/api/deposits/${start.challengeId}/verify`, { otp: code });
  t.equal(verify.statusCode, 409);
  t.equal(verify.json().error.code, 'TRAY_UNAVAILABLE');
  t.equal((await db.query(`SELECT count(*)::int n FROM dossiers`)).rows[0].n, 0, 'no dossier');
  t.equal((await db.query(`SELECT status FROM challenges WHERE id = $1`, [start.challengeId])).rows[0].status, 'pending', 'code not spent');
});

t.test('50 deposits started at once never share a tray', async (t) => {
  // 50 codes asked for at once from one address: past the per-address limit, not what this test is
  // about; nor is a lock's answer late on a loaded machine (the shipped bus answer times, the
  // helper's default: a BUS_TIMEOUT 503 is a fault test's).
  const locker = await startTestLocker(t, {
    http: { rateLimits: MANY_REQUESTS },
    citizens: { otp: { perLocker: [{ count: 1000, windowMin: 60 }] } },
  });
  const procedureCode = await depositProcedure(locker, 'S');
  const phones = Array.from({ length: 50 }, (_, i) => `09120${String(10000 + i).slice(1)}0`.slice(0, 10));
  const challenges = await Promise.all(
    phones.map((phone) => locker.anonymous.post('/api/deposits', { phone, procedureCode }).then((r) => ({ phone, res: r }))),
  );
  const started = challenges.filter((c) => c.res.statusCode === 202);
  t.ok(started.length > 0, `${started.length} started`);
  const codes = await Promise.all(started.map((c) => codeFor(locker, c.phone)));
  const results = await Promise.all(
    started.map((c, i) => locker.anonymous.post(`/api/deposits/${c.res.json().challengeId}/verify`, { otp: codes[i] })),
  );
  const ok = results.filter((r) => r.statusCode === 200).map((r) => r.json().tray);
  const refused = results.filter((r) => r.statusCode !== 200);
  t.equal(new Set(ok).size, ok.length, `${ok.length} trays, all different`);
  t.ok(
    refused.every((r) => r.statusCode === 409 && r.json().error.code === 'TRAY_UNAVAILABLE'),
    'the rest: no tray, 409',
  );
  const free = (await locker.staff.get('/api/trays')).json().filter((tr: any) => tr.role !== 'result' && tr.state === 'free');
  t.ok(ok.length === 50 || free.length === 0, 'refused only when no tray was left');
  const failed = results.filter((r) => r.statusCode >= 500).map((r) => `${r.statusCode} ${r.body}`);
  t.same(failed, [], 'never a 5xx');
});
