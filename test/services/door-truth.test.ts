/**
 * Door truth (docs/adr/0012-uncertain-tray-outcomes.md): a tray whose lock was released is freed
 * only when its door was watched throughout and never opened. Each test moves a door inside a gap
 * in the watch — a board that stopped answering, a controller restart, the database down — and
 * shows the tray held to check (or the change recorded late, in order), never freed with the
 * dossier inside.
 */
import t from 'tap';
import { door, depositProcedure, inbox } from '../helpers/citizens.js';
import { outboxEvents, startTestLocker, type TestLocker } from '../helpers/controller.js';
import { freshDatabaseUrl } from '../helpers/db.js';
import { uniqueLockerId, until } from '../helpers/mqtt.js';
import { ExternalCabinet } from '../helpers/external-cabinet.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

interface SmsEntry {
  to: string;
  text: string;
  kind: string;
}

/** Texts the console gateway "sent", whatever the hardware driver (no /api/sim without the simulator). */
function texts(locker: TestLocker): SmsEntry[] {
  return (locker.controller.sms as unknown as { inbox(): SmsEntry[] }).inbox();
}

async function codeOf(locker: TestLocker, phone: string): Promise<string> {
  const msg = await until(
    () =>
      texts(locker)
        .filter((m) => m.kind === 'otp' && m.to.endsWith(phone.slice(1)))
        .at(-1),
    `code for ${phone}`,
    3_000,
  );
  return /\b(\d{6,10})\b/.exec(msg.text)![1];
}

/** A deposit up to the tray opening; returns the deposit and its tray. */
async function deposit(locker: TestLocker, phone: string): Promise<{ depositId: string; dossierCode: string; tray: number }> {
  const procedureCode = await depositProcedure(locker);
  const started = await locker.anonymous.post('/api/deposits', { phone, procedureCode });
  t.equal(started.statusCode, 202, 'code sent');
  const verified = await locker.anonymous.post(`/api/deposits/${started.json().challengeId}/verify`, { otp: await codeOf(locker, phone) });
  t.equal(verified.statusCode, 200, `tray opened: ${verified.body}`);
  return verified.json();
}

const trayState = async (locker: TestLocker, tray: number) => (await locker.staff.get(`/api/trays/${tray}`)).json();
const depositStatus = async (locker: TestLocker, id: string) => (await locker.anonymous.get(`/api/deposits/${id}`)).json().status;

/** The officer runs the next round now and answers for the trays to check. */
async function officerChecks(locker: TestLocker, answers: Record<number, 'found' | 'empty'>): Promise<any> {
  const next = (await locker.staff.get('/api/staff/rounds/next')).json();
  const started = await locker.staff.post(`/api/staff/rounds/${next.round.id}/start`);
  t.equal(started.statusCode, 200, `round started: ${started.body.slice(0, 200)}`);
  const manifest = started.json();
  for (const [tray, outcome] of Object.entries(answers)) {
    t.ok(
      manifest.check.some((i: any) => i.tray === Number(tray)),
      `tray ${tray} is on the round's manifest to check`,
    );
    const res = await locker.staff.post(`/api/staff/rounds/${next.round.id}/items/${tray}`, { outcome });
    t.equal(res.statusCode, 200, `tray ${tray} answered ${outcome}: ${res.body.slice(0, 200)}`);
  }
  return (await locker.staff.post(`/api/staff/rounds/${next.round.id}/complete`)).json();
}

t.test('a board silent while the citizen opens and shuts the door: the tray is held to check, never freed', async (t) => {
  const locker = await startTestLocker(t);
  const sim = locker.controller.cabinet!;
  const d = await deposit(locker, '0912000101');
  const board = (await trayState(locker, d.tray)).board;

  sim.setFault(board, 'no_answer');
  await until(async () => (await trayState(locker, d.tray)).state === 'out_of_service', 'board silent', 3_000);
  // The latch was released by the pulse: the citizen puts the dossier in while nobody watches.
  t.ok(sim.setDoor(d.tray, true).ok, 'door opened unseen');
  t.ok(sim.setDoor(d.tray, false).ok, 'door shut unseen');
  sim.setFault(board, 'none');
  await until(async () => (await trayState(locker, d.tray)).state !== 'out_of_service', 'board back', 3_000);
  await locker.controller.trays.settled();

  locker.controller.clock.advance(61_000);
  await locker.controller.trays.settled(); // what the bus reported, recorded first
  await locker.controller.flowTimers.tick();
  t.equal(await depositStatus(locker, d.depositId), 'to_check', 'not cancelled: the door was not watched throughout');
  t.equal((await trayState(locker, d.tray)).state, 'to_check', 'the tray is held, not free');
  t.match(await outboxEvents(locker, 'tray.to_check'), [{ data: { tray: d.tray, kind: 'deposit', gap: new RegExp(board) } }]);
  t.same(await outboxEvents(locker, 'deposit.cancelled'), [], 'no cancellation');
  const sent = await until(async () => (await inbox(locker, '0912000101')).find((m) => m.kind === 'deposit_to_check'), 'to-check notice');
  t.match(sent.text, new RegExp(`khay ${d.tray}`), 'the citizen is told which tray will be checked');
  t.notOk(
    (await inbox(locker, '0912000101')).some((m) => m.kind === 'deposit_receipt'),
    'no receipt for a deposit not known to exist',
  );
  // A tray to check is never offered to the next citizen.
  const free = (await locker.staff.get('/api/trays'))
    .json()
    .filter((tr: any) => tr.state === 'free')
    .map((tr: any) => tr.number);
  t.notOk(free.includes(d.tray));

  // The officer finds the dossier: deposited, collected with the round, receipt sent, tray free.
  const counts = await officerChecks(locker, { [d.tray]: 'found' });
  t.match(counts, { counts: { found: 1, empty: 0 } });
  t.equal(await depositStatus(locker, d.depositId), 'collected');
  t.equal((await trayState(locker, d.tray)).state, 'free');
  await until(async () => (await inbox(locker, '0912000101')).find((m) => m.kind === 'deposit_receipt'), 'receipt after the check');
  const { rows } = await locker.controller.database.query(`SELECT to_status FROM dossier_transitions WHERE dossier_id = $1 ORDER BY id`, [
    d.depositId,
  ]);
  t.same(
    rows.map((r: any) => r.to_status),
    ['verified', 'tray_open', 'to_check', 'deposited', 'collected'],
  );
});

t.test('a board silent while the door opens: read again when it answers, recorded without a false alarm', async (t) => {
  const locker = await startTestLocker(t);
  const sim = locker.controller.cabinet!;
  const d = await deposit(locker, '0912000102');
  const board = (await trayState(locker, d.tray)).board;
  sim.setFault(board, 'no_answer');
  await until(async () => (await trayState(locker, d.tray)).state === 'out_of_service', 'board silent', 3_000);
  t.ok(sim.setDoor(d.tray, true).ok, 'door opened unseen');
  sim.setFault(board, 'none');
  await until(async () => (await trayState(locker, d.tray)).door === 'open', 'the open door read after the gap', 3_000);
  await locker.controller.trays.settled();
  t.same(await outboxEvents(locker, 'alarm.door_open_unexpected'), [], 'a released tray found open is no forced door');
  await door(locker, d.tray, false);
  t.equal(await depositStatus(locker, d.depositId), 'deposited', 'opened then shut: deposited');
});

t.test('a board silent and the door never touched: still held to check (the controller cannot know)', async (t) => {
  const locker = await startTestLocker(t);
  const sim = locker.controller.cabinet!;
  const d = await deposit(locker, '0912000103');
  const board = (await trayState(locker, d.tray)).board;
  sim.setFault(board, 'no_answer');
  await until(async () => (await trayState(locker, d.tray)).state === 'out_of_service', 'board silent', 3_000);
  sim.setFault(board, 'none');
  await until(async () => (await trayState(locker, d.tray)).state !== 'out_of_service', 'board back', 3_000);
  locker.controller.clock.advance(61_000);
  await locker.controller.trays.settled(); // what the bus reported, recorded first
  await locker.controller.flowTimers.tick();
  t.equal(await depositStatus(locker, d.depositId), 'to_check');
  // Outside a round, from the staff screen's list: the officer finds it empty.
  const listed = (await locker.staff.get('/api/staff/checks')).json();
  t.match(listed, [{ tray: d.tray, kind: 'deposit' }]);
  const pulses = sim.pulses().filter((p) => p.tray === d.tray).length;
  const opened = await locker.staff.post(`/api/staff/checks/${d.tray}/open`);
  t.same(opened.json(), { tray: d.tray, opened: true }, 'the officer opens it to look');
  t.equal(sim.pulses().filter((p) => p.tray === d.tray).length, pulses + 1, 'its lock pulsed');
  t.equal((await locker.staff.post('/api/staff/checks/1/open')).statusCode, 404, 'a tray not to check is not opened from here');
  // A round already running has it on its manifest; the answer from the list settles that item too.
  const round = (await locker.staff.get('/api/staff/rounds/next')).json().round;
  t.equal((await locker.staff.post(`/api/staff/rounds/${round.id}/start`)).statusCode, 200);
  const answer = await locker.staff.post(`/api/staff/checks/${d.tray}`, { outcome: 'empty' });
  t.same(answer.json(), { tray: d.tray, status: 'cancelled' });
  const completed = (await locker.staff.post(`/api/staff/rounds/${round.id}/complete`)).json();
  t.match(completed.counts, { empty: 1, leftInPlace: 0 }, 'the round shows the tray answered');
  t.equal((await trayState(locker, d.tray)).state, 'free', 'empty: the tray is free again');
  t.match(await outboxEvents(locker, 'deposit.cancelled'), [{ data: { depositId: d.depositId, reason: 'empty_on_check' } }]);
  await until(async () => (await inbox(locker, '0912000103')).find((m) => m.kind === 'deposit_not_found'), 'citizen told');
  t.notOk(
    (await inbox(locker, '0912000103')).some((m) => m.kind === 'deposit_receipt'),
    'never a receipt',
  );
  const again = await locker.staff.post(`/api/staff/checks/${d.tray}`, { outcome: 'empty' });
  t.equal(again.statusCode, 404, 'a tray no longer to check');
  t.equal(again.json().error.code, 'ITEM_NOT_FOUND');
  const bad = await locker.staff.post(`/api/staff/checks/${d.tray}`, { outcome: 'maybe' });
  t.equal(bad.statusCode, 400);
});

t.test('a wall-clock step forward does not end a window: durations are monotonic', async (t) => {
  const locker = await startTestLocker(t);
  const d = await deposit(locker, '0912000104');
  locker.controller.clock.setOffset(3_600_000);
  await locker.controller.trays.settled(); // what the bus reported, recorded first
  await locker.controller.flowTimers.tick();
  t.equal(await depositStatus(locker, d.depositId), 'tray_open', 'an hour on the wall clock is not a minute at the tray');
  await door(locker, d.tray, true);
  await door(locker, d.tray, false);
  t.equal(await depositStatus(locker, d.depositId), 'deposited');
});

t.test('a result being loaded and a pickup whose board went silent are held to check too', async (t) => {
  const locker = await startTestLocker(t);
  const sim = locker.controller.cabinet!;
  // A result opened on the code alone (an ID card would wait for its holder's number: ADR 0028).
  const procedure = 'CT-BS';
  const loaded = await locker.staff.post('/api/staff/results', {
    dossierCode: '000.00.22.H29-251120-0042',
    phone: '0912000105',
    procedureCode: procedure,
  });
  t.equal(loaded.statusCode, 201, loaded.body);
  const tray = loaded.json().tray;
  const board = (await trayState(locker, tray)).board;
  sim.setFault(board, 'no_answer');
  await until(async () => (await trayState(locker, tray)).state === 'out_of_service', 'board silent', 3_000);
  sim.setDoor(tray, true);
  sim.setDoor(tray, false);
  sim.setFault(board, 'none');
  await until(async () => (await trayState(locker, tray)).state !== 'out_of_service', 'board back', 3_000);
  locker.controller.clock.advance(61_000);
  await locker.controller.trays.settled(); // what the bus reported, recorded first
  await locker.controller.staffTimersUnit.tick();
  t.equal((await trayState(locker, tray)).state, 'to_check', 'a result tray is never reported empty on a guess');
  const again = await locker.staff.post('/api/staff/results', {
    dossierCode: '000.00.22.H29-251120-0042',
    phone: '0912000105',
    procedureCode: procedure,
  });
  t.equal(again.statusCode, 409, 'loading it again while its tray is to check is refused, not a 500');
  t.match(again.json().error, { code: 'RESULT_ALREADY_LOADED', details: { tray, status: 'to_check' } });
  t.notOk(
    (await inbox(locker, '0912000105')).some((m) => m.kind === 'result_ready'),
    'the citizen is not texted yet',
  );
  const answer = await locker.staff.post(`/api/staff/checks/${tray}`, { outcome: 'found' });
  t.same(answer.json(), { tray, status: 'loaded' });
  t.equal((await trayState(locker, tray)).state, 'holding_result');
  await until(async () => (await inbox(locker, '0912000105')).find((m) => m.kind === 'result_ready'), 'citizen texted once found');

  // Pickup: the code opens the tray; the board goes silent; nobody knows if the result was taken.
  const started = await locker.anonymous.post('/api/pickups', { phone: '0912000105' });
  const otp = await until(
    () =>
      texts(locker)
        .filter((m) => m.kind === 'otp')
        .at(-1),
    'pickup code',
  );
  await until(
    async () => (await locker.controller.database.query(`SELECT 1 FROM challenges WHERE status = 'sending'`)).rowCount === 0,
    'the gateway took the code',
  );
  const verified = await locker.anonymous.post(`/api/pickups/${started.json().challengeId}/verify`, {
    otp: /(\d{6,10})/.exec(otp.text)![1],
  });
  t.same(verified.json().trays, [tray]);
  sim.setFault(board, 'no_answer');
  await until(async () => (await trayState(locker, tray)).state === 'out_of_service', 'board silent', 3_000);
  sim.setFault(board, 'none');
  await until(async () => (await trayState(locker, tray)).state !== 'out_of_service', 'board back', 3_000);
  locker.controller.clock.advance(61_000);
  await locker.controller.trays.settled(); // what the bus reported, recorded first
  await locker.controller.flowTimers.tick();
  t.equal((await trayState(locker, tray)).state, 'to_check', 'a pickup is never confirmed, nor lapsed, on a guess');
  const empty = await locker.staff.post(`/api/staff/checks/${tray}`, { outcome: 'empty' });
  t.same(empty.json(), { tray, status: 'picked_up' });
  t.equal((await trayState(locker, tray)).state, 'free');
});

t.test('a restart after the code check, with the door moved meanwhile: held to check after the restart', async (t) => {
  // The cabinet outlives the controller: a simulator of its own, reached like an RS-485 gateway.
  const external = await ExternalCabinet.start(t);
  const modbus = { hardware: { driver: 'modbus' } };
  const first = await startTestLocker(t, modbus, { configure: (config) => external.attach(config) });
  const d = await deposit(first, '0912000106');
  await first.controller.stop();
  // While no controller runs, the citizen opens the released door, puts the dossier in, shuts it.
  t.ok(external.sim.setDoor(d.tray, true).ok, 'door opened while the controller was down');
  external.sim.setDoor(d.tray, false);

  const second = await startTestLocker(t, modbus, {
    configure: (config) => external.attach(config),
    reuse: { databaseUrl: first.databaseUrl, lockerId: first.lockerId },
  });
  t.equal(await depositStatus(second, d.depositId), 'tray_open', 'nothing concluded at start');
  second.controller.clock.advance(61_000);
  await second.controller.flowTimers.tick();
  t.equal(await depositStatus(second, d.depositId), 'to_check', 'a release from before the restart was not watched');
  t.equal((await trayState(second, d.tray)).state, 'to_check');
  t.match(await outboxEvents(second, 'tray.to_check'), [{ data: { tray: d.tray, gap: /restart/ } }]);
  t.same(await outboxEvents(second, 'alarm.door_open_unexpected'), [], 'no alarm from a stale view');
  t.ok(
    texts(second).some((m) => m.kind === 'deposit_to_check'),
    'the citizen is told an officer will check',
  );
});

t.test('a door change seen while the database is down is recorded when it is back, in order', async (t) => {
  const fresh = await freshDatabaseUrl();
  t.teardown(() => fresh.drop());
  const proxy = await TcpProxy.start(TcpProxy.postgresTarget(fresh.url), t);
  const locker = await startTestLocker(t, {}, { reuse: { databaseUrl: proxy.urlFor(fresh.url), lockerId: uniqueLockerId('dbcut') } });
  const sim = locker.controller.cabinet!;
  const d = await deposit(locker, '0912000107');
  await door(locker, d.tray, true);
  proxy.cut();
  t.ok(sim.setDoor(d.tray, false).ok, 'door shut while the database is down');
  await until(() => locker.controller.trays.unrecorded > 0 || null, 'the change waits, kept in memory', 3_000);
  await new Promise((r) => setTimeout(r, 1_000));
  t.ok(locker.controller.trays.unrecorded > 0, 'still waiting while the database is down');
  locker.controller.clock.advance(121_000);
  await locker.controller.flowTimers.tick().catch(() => undefined);
  proxy.resume();
  await until(
    async () => {
      const res = await locker.anonymous.get(`/api/deposits/${d.depositId}`);
      return res.statusCode === 200 && res.json().status === 'deposited';
    },
    'deposit recorded after the outage',
    15_000,
  );
  await locker.controller.trays.settled();
  t.equal(locker.controller.trays.unrecorded, 0);
  t.equal((await trayState(locker, d.tray)).door, 'closed');
  await locker.controller.flowTimers.tick();
  t.same(await outboxEvents(locker, 'alarm.door_held_open'), [], 'no held-open alarm from the stale view');
  const { rows } = await locker.controller.database.query(
    `SELECT type FROM outbox WHERE locker_id = $1 AND type LIKE 'tray.door_%' AND (payload->'data'->>'tray')::int = $2 ORDER BY seq`,
    [locker.lockerId, d.tray],
  );
  // The start-up reading (unknown → closed), then the citizen's opening and the shut seen during the outage.
  t.same(
    rows.map((r: any) => r.type),
    ['tray.door_closed', 'tray.door_opened', 'tray.door_closed'],
    'each change recorded once, in order',
  );
});
