import t from 'tap';
import { startTestLocker, outboxEvents, ADMIN_TOKEN } from '../helpers/controller.js';
import { codeFor, depositProcedure, door, inbox } from '../helpers/citizens.js';
import { testSubscriber, until, brokerKind } from '../helpers/mqtt.js';
import { dbKind } from '../helpers/db.js';

/** Moves the controller clock so that "now" is `at`. */
function setNow(locker: Awaited<ReturnType<typeof startTestLocker>>, at: Date) {
  locker.controller.clock.setOffset(at.getTime() - Date.now());
}

t.test(`a full cycle: deposit → round due → collected → result loaded → SMS → pickup (${dbKind}, ${brokerKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const sub = await testSubscriber(t, locker.mqttUrl, `${locker.base}/#`);

  // A citizen deposits at 21:40 the evening before.
  const procedureCode = await depositProcedure(locker);
  const first = (await locker.staff.get('/api/staff/rounds/next')).json();
  const roundAt = new Date(first.round.scheduledAt);
  setNow(locker, new Date(roundAt.getTime() - 10.5 * 3_600_000));
  const start = (await locker.anonymous.post('/api/deposits', { phone: '0903 111 222', procedureCode })).json();
  const deposit = (
    await locker.anonymous.post(`/api/deposits/${start.challengeId}/verify`, { otp: await codeFor(locker, '0903111222') })
  ).json();
  await door(locker, deposit.tray, true);
  await door(locker, deposit.tray, false);
  t.equal((await locker.anonymous.get(`/api/deposits/${deposit.depositId}`)).json().status, 'deposited');

  // 10 minutes before the round the manifest is drawn and round.due goes out.
  setNow(locker, new Date(roundAt.getTime() - 10 * 60_000));
  await locker.controller.staffTimersUnit.tick();
  const due = JSON.parse((await sub.waitFor(`${locker.base}/events/round.due`)).payload);
  t.match(due, { type: 'round.due', data: { roundId: first.round.id, collect: 1, trays: [deposit.tray] } });
  const retained = JSON.parse((await sub.waitFor(`${locker.base}/rounds/next`, (p) => JSON.parse(p).round.status === 'due')).payload);
  t.equal(retained.collect[0].tray, deposit.tray, 'rounds/next is retained with the manifest');

  // A deposit made after the manifest was drawn waits for the next round.
  const late = (await locker.anonymous.post('/api/deposits', { phone: '0903 111 333', procedureCode })).json();
  const lateDeposit = (
    await locker.anonymous.post(`/api/deposits/${late.challengeId}/verify`, { otp: await codeFor(locker, '0903111333') })
  ).json();
  await door(locker, lateDeposit.tray, true);
  await door(locker, lateDeposit.tray, false);

  const manifest = (await locker.staff.get('/api/staff/rounds/next')).json();
  t.equal(manifest.round.status, 'due');
  t.same(
    manifest.collect.map((i: any) => i.tray),
    [deposit.tray],
    'only what was there when drawn',
  );
  t.match(manifest.collect[0], { dossierCode: deposit.dossierCode, procedureCode, status: 'pending' });

  // The officer starts the round: the tray opens; she takes the dossier and confirms.
  setNow(locker, roundAt);
  locker.controller.cabinet!.clearPulses();
  const started = await locker.staff.post(`/api/staff/rounds/${first.round.id}/start`, {});
  t.equal(started.statusCode, 200, started.body);
  t.same(
    locker.controller.cabinet!.pulses().map((p) => p.tray),
    [deposit.tray],
    'the manifest tray opened',
  );
  await door(locker, deposit.tray, true);
  await door(locker, deposit.tray, false);
  const confirmed = await locker.staff.post(`/api/staff/rounds/${first.round.id}/items/${deposit.tray}`, { outcome: 'collected' });
  t.equal(confirmed.statusCode, 200, confirmed.body);
  t.equal((await locker.anonymous.get(`/api/dossiers/${deposit.dossierCode}`)).json().status, 'collected');
  t.equal((await locker.staff.get(`/api/trays/${deposit.tray}`)).json().state, 'free');
  const completed = await locker.staff.post(`/api/staff/rounds/${first.round.id}/complete`);
  t.same(completed.json().counts, { collected: 1, returned: 0, missing: 0, leftInPlace: 0 });
  t.match(await outboxEvents(locker, 'round.completed'), [{ data: { roundId: first.round.id } }]);
  t.match(await outboxEvents(locker, 'item.collected'), [{ data: { tray: deposit.tray } }]);
  const next = (await locker.staff.get('/api/staff/rounds/next')).json();
  t.not(next.round.id, first.round.id, 'the next round is another one');
  t.same(
    next.collect.map((i: any) => i.tray),
    [lateDeposit.tray],
    'the late deposit is on the next round',
  );

  // Days later the result comes back: the officer loads it.
  setNow(locker, new Date(roundAt.getTime() + 2 * 86_400_000));
  const loaded = await locker.staff.post('/api/staff/results', { dossierCode: deposit.dossierCode, phone: '0903111222', procedureCode });
  t.equal(loaded.statusCode, 201, loaded.body);
  const { tray, resultId } = loaded.json();
  t.match((await locker.staff.get(`/api/trays/${tray}`)).json().role, /result|both/);
  await door(locker, tray, true);
  await door(locker, tray, false);
  const ready = await until(async () => (await inbox(locker, '0903111222')).find((m) => m.kind === 'result_ready'), 'result_ready SMS');
  t.ok(ready.text.includes(deposit.dossierCode) && ready.text.includes(String(tray)), 'the text says which dossier and which tray');
  t.match(await outboxEvents(locker, 'result.loaded'), [{ data: { resultId, tray } }]);
  await until(async () => (await locker.anonymous.get(`/api/dossiers/${deposit.dossierCode}`)).json().status === 'notified', 'notified');

  // The citizen picks it up with a code.
  const pickup = (await locker.anonymous.post('/api/pickups', { phone: '0903111222' })).json();
  const code = await codeFor(locker, '0903111222', 1);
  const opened = (await locker.anonymous.post(`/api/pickups/${pickup.challengeId}/verify`, { otp: code })).json();
  t.same(opened.trays, [tray]);
  await door(locker, tray, true);
  await door(locker, tray, false);
  await until(async () => (await locker.anonymous.get(`/api/dossiers/${deposit.dossierCode}`)).json().status === 'picked_up', 'picked up');
  t.equal((await locker.staff.get(`/api/trays/${tray}`)).json().state, 'free');
  const { rows } = await locker.controller.database.query(
    `SELECT actor, action FROM audit_log WHERE locker_id = $1 AND (action LIKE 'round.%' OR action = 'result.load') ORDER BY id`,
    [locker.lockerId],
  );
  t.ok(
    rows.some((r: any) => r.action === 'round.start' && /^staff:/.test(r.actor)),
    'staff actions audited with who',
  );
});

t.test('expiry: past the window the result is expired, on the next manifest, returned to the counter, and texted', async (t) => {
  const locker = await startTestLocker(t);
  const base = (await locker.staff.get('/api/staff/rounds/next')).json();
  const firstRound = new Date(base.round.scheduledAt);
  setNow(locker, new Date(firstRound.getTime() + 60 * 60_000));
  const loaded = (
    await locker.staff.post('/api/staff/results', {
      dossierCode: '000.00.22.H29-251120-0042',
      phone: '0903 222 444',
      procedureCode: 'CT-BS',
    })
  ).json();
  await door(locker, loaded.tray, true);
  await door(locker, loaded.tray, false);
  const lookup = (await locker.anonymous.get('/api/dossiers/000.00.22.H29-251120-0042')).json();
  const deadline = new Date(lookup.pickupDeadline);
  t.equal(Math.round((deadline.getTime() - (firstRound.getTime() + 60 * 60_000)) / 86_400_000), 3, 'three days to collect');

  // 24 h before the end: a reminder.
  setNow(locker, new Date(deadline.getTime() - 23 * 3_600_000));
  await locker.controller.staffTimersUnit.tick();
  await until(async () => (await inbox(locker, '0903222444')).find((m) => m.kind === 'result_reminder'), 'reminder SMS');
  t.equal((await outboxEvents(locker, 'result.reminded')).length, 1);
  await locker.controller.staffTimersUnit.tick();
  t.equal((await outboxEvents(locker, 'result.reminded')).length, 1, 'reminded once');

  // Past the end: expired, and on the next manifest to take back.
  setNow(locker, new Date(deadline.getTime() + 60_000));
  await locker.controller.staffTimersUnit.tick();
  t.equal((await locker.anonymous.get('/api/dossiers/000.00.22.H29-251120-0042')).json().status, 'expired');
  t.match(await outboxEvents(locker, 'result.expired'), [{ data: { tray: loaded.tray } }]);
  const preview = (await locker.staff.get('/api/staff/rounds/next')).json();
  t.same(
    preview.takeBack.map((i: any) => i.tray),
    [loaded.tray],
    'listed to take back',
  );
  const unclaimed = (await locker.staff.get('/api/staff/results/unclaimed')).json();
  t.match(unclaimed, [{ tray: loaded.tray, status: 'expired' }]);

  // The officer runs that round and confirms it taken back.
  setNow(locker, new Date(preview.round.scheduledAt));
  t.equal((await locker.staff.post(`/api/staff/rounds/${preview.round.id}/start`, { oneAtATime: true })).statusCode, 200);
  const back = await locker.staff.post(`/api/staff/rounds/${preview.round.id}/items/${loaded.tray}`, { outcome: 'returned' });
  t.equal(back.statusCode, 200, back.body);
  t.equal((await locker.anonymous.get('/api/dossiers/000.00.22.H29-251120-0042')).json().status, 'returned_to_counter');
  const text = await until(
    async () => (await inbox(locker, '0903222444')).find((m) => m.kind === 'result_returned_to_counter'),
    'counter SMS',
  );
  t.match(text.text, /Mot cua/);
  t.match(await outboxEvents(locker, 'result.returned_to_counter'), [{ data: { tray: loaded.tray } }]);
  const again = await locker.staff.post(`/api/staff/rounds/${preview.round.id}/items/${loaded.tray}`, { outcome: 'returned' });
  t.equal(again.statusCode, 409);
  t.equal(again.json().error.code, 'ITEM_ALREADY_CONFIRMED');

  // The citizen comes to the counter; the officer puts the result back in the locker, same code.
  const reloaded = await locker.staff.post('/api/staff/results', {
    dossierCode: '000.00.22.H29-251120-0042',
    phone: '0903 222 444',
    procedureCode: 'CT-BS',
  });
  t.equal(reloaded.statusCode, 201, `a result returned to the counter can be loaded again: ${reloaded.body}`);
  t.equal(
    (await locker.anonymous.get('/api/dossiers/000.00.22.H29-251120-0042')).json().status,
    'loading',
    'the code shows the new loading',
  );
});

t.test('staff endpoints refuse missing or wrong tokens (401); bad input is a 4xx', async (t) => {
  const locker = await startTestLocker(t);
  const id = (await locker.staff.get('/api/staff/rounds/next')).json().round.id;
  const routes: [string, string, unknown?][] = [
    ['GET', '/api/staff/rounds/next'],
    ['POST', `/api/staff/rounds/${id}/start`, {}],
    ['POST', `/api/staff/rounds/${id}/complete`],
    ['POST', '/api/staff/results', { dossierCode: 'ABCD-12345', phone: '0903000000', procedureCode: 'CT-BS' }],
    ['GET', '/api/staff/results/unclaimed'],
  ];
  for (const [method, url, body] of routes) {
    const none = await locker.http.inject({ method: method as any, url, payload: body as any });
    t.equal(none.statusCode, 401, `${method} ${url} without a token`);
    const wrong = await locker.http.inject({
      method: method as any,
      url,
      payload: body as any,
      headers: { authorization: 'Bearer wrong-token-000000000000' },
    });
    t.equal(wrong.statusCode, 401, `${method} ${url} with a wrong token`);
  }
  const admin = await locker.http.inject({
    method: 'GET',
    url: '/api/staff/rounds/next',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  t.equal(admin.statusCode, 200, 'an admin may do what staff do');
  const staffOnAdmin = await locker.staff.post('/api/admin/trays/3/open');
  t.equal(staffOnAdmin.statusCode, 403, 'a staff token on an admin endpoint');
  const bad: [string, unknown, number, string][] = [
    ['/api/staff/results', { dossierCode: 'x', phone: '0903000000', procedureCode: 'CT-BS' }, 400, 'VALIDATION_FAILED'],
    [
      '/api/staff/results',
      { dossierCode: 'ABCD-12345', phone: '+1 202 555 0143', procedureCode: 'CT-BS' },
      400,
      'PHONE_NOT_VIETNAMESE_MOBILE',
    ],
    ['/api/staff/results', { dossierCode: 'ABCD-12345', phone: '0903000000', procedureCode: 'DD-BD-01' }, 400, 'PROCEDURE_NOT_ACCEPTED'],
    [
      '/api/staff/results',
      { dossierCode: "'; DROP TABLE dossiers;--", phone: '0903000000', procedureCode: 'CT-BS' },
      400,
      'VALIDATION_FAILED',
    ],
    [`/api/staff/rounds/${id}/items/3`, { outcome: 'eaten' }, 400, 'VALIDATION_FAILED'],
    [`/api/staff/rounds/${id}/items/3`, { outcome: 'collected' }, 409, 'ROUND_NOT_OPEN'],
    ['/api/staff/rounds/00000000-0000-4000-8000-000000000000/start', {}, 404, 'ROUND_NOT_FOUND'],
    ['/api/staff/rounds/not-a-uuid/start', {}, 400, 'VALIDATION_FAILED'],
  ];
  for (const [url, body, status, code] of bad) {
    const res = await locker.staff.post(url, body);
    t.equal(res.statusCode, status, `${url}: ${res.body.slice(0, 120)}`);
    t.equal(res.json().error.code, code);
  }
  const twice = { dossierCode: 'HCM-2025-000123', phone: '0903000000', procedureCode: 'CT-BS' };
  t.equal((await locker.staff.post('/api/staff/results', twice)).statusCode, 201);
  const dup = await locker.staff.post('/api/staff/results', twice);
  t.equal(dup.statusCode, 409);
  t.equal(dup.json().error.code, 'RESULT_ALREADY_LOADED');
  // Two officers scan the same result at the same moment: one loads it, the other is told so.
  const race = { dossierCode: 'HCM-2025-000777', phone: '0903000007', procedureCode: 'CT-BS' };
  const raced = await Promise.all([1, 2, 3].map(() => locker.staff.post('/api/staff/results', race)));
  t.same(raced.map((r) => r.statusCode).sort(), [201, 409, 409], raced.map((r) => r.body.slice(0, 100)).join(' | '));
  t.ok(
    raced.filter((r) => r.statusCode === 409).every((r) => r.json().error.code === 'RESULT_ALREADY_LOADED'),
    'the others get RESULT_ALREADY_LOADED',
  );
  const batch = await locker.staff.post('/api/staff/results/batch', {
    items: [
      { dossierCode: 'HCM-2025-000124', phone: '0903000001', procedureCode: 'CT-BS' },
      { dossierCode: 'HCM-2025-000125', phone: '0903000002', procedureCode: 'NOPE' },
      { dossierCode: 'HCM-2025-000126', phone: '0903000003', procedureCode: 'CT-BS' },
    ],
  });
  t.equal(batch.statusCode, 200);
  t.same(
    batch.json().results.map((r: any) => r.ok),
    [true, false, true],
    'an armful: one bad entry does not stop the others',
  );
  t.equal(batch.json().results[1].error.code, 'PROCEDURE_NOT_FOUND');
});
