/**
 * Door changes seen and not yet written (they wait for the database, or behind another change):
 * the tray's records are stale until they are, so no flow takes that tray meanwhile. Found by the
 * fault campaign: an officer's opening and shutting of a tray, written late after a database
 * outage, completed the next citizen's deposit in that tray, who never opened it (a receipt for
 * paper still in the citizen's hand, "missing" at the next round); and a citizen's pickup, written
 * late, was taken for a second pickup of the same result, and lost.
 */
import pg from 'pg';
import t, { type Test } from 'tap';
import { codeFor, depositProcedure, door, inbox } from '../helpers/citizens.js';
import { startTestLocker } from '../helpers/controller.js';
import { until } from '../helpers/mqtt.js';

const RANK: Record<string, number> = { S: 0, M: 1, L: 2 };

/** Holds the row of one tray locked, so that the door changes recorded after one of it wait. */
async function blockTray(locker: Awaited<ReturnType<typeof startTestLocker>>, t: Test, tray: number): Promise<pg.Client> {
  const blocker = new pg.Client({ connectionString: locker.databaseUrl });
  await blocker.connect();
  t.teardown(() => blocker.end());
  await blocker.query('BEGIN');
  await blocker.query('SELECT 1 FROM trays WHERE locker_id = $1 AND number = $2 FOR UPDATE', [locker.lockerId, tray]);
  return blocker;
}

t.test('a deposit does not get a tray whose door changes are not yet written, nor are they taken for its own', async (t) => {
  const locker = await startTestLocker(t);
  const sim = locker.controller.cabinet!;
  const procedureCode = await depositProcedure(locker, 'M');
  // The tray the next deposit of size M will get, and another one.
  const trays: any[] = (await locker.staff.get('/api/trays')).json();
  const fit = trays
    .filter((x) => x.state === 'free' && (x.role === 'deposit' || x.role === 'both') && RANK[x.size] >= RANK.M)
    .sort((a, b) => RANK[a.size] - RANK[b.size] || Number(a.role === 'both') - Number(b.role === 'both') || a.number - b.number);
  const next = fit[0].number;
  const other = fit.at(-1).number;
  t.not(next, other);

  // An officer has both trays released; the other tray's door change will wait behind a row lock.
  t.equal((await locker.admin.post(`/api/admin/trays/${other}/open`)).statusCode, 200);
  t.equal((await locker.admin.post(`/api/admin/trays/${next}/open`)).statusCode, 200);
  const blocker = await blockTray(locker, t, other);

  t.ok(sim.setDoor(other, true).ok);
  await until(() => locker.controller.trays.unrecorded >= 1 || null, 'the first change waits', 3_000);
  t.ok(sim.setDoor(next, true).ok, 'the officer opens the next tray');
  await new Promise((r) => setTimeout(r, 300));
  sim.setDoor(next, false);
  await until(() => locker.controller.trays.unrecorded >= 3 || null, 'its opening and shutting wait behind', 3_000);

  // Meanwhile a citizen deposits: the records still say that tray's door never moved.
  const started = (await locker.anonymous.post('/api/deposits', { phone: '0912 800 001', procedureCode })).json();
  const verified = await locker.anonymous.post(`/api/deposits/${started.challengeId}/verify`, {
    otp: await codeFor(locker, '0912800001'),
  });
  t.equal(verified.statusCode, 200, verified.body);
  const { tray, depositId } = verified.json();
  t.not(tray, next, 'not the tray whose changes are not yet written');
  t.not(tray, other);
  const reopen = await locker.admin.post(`/api/admin/trays/${next}/open`);
  t.equal(reopen.statusCode, 503, 'nor is that tray released again meanwhile');
  t.equal(reopen.json().error.code, 'DOOR_CHANGES_PENDING');
  t.ok(Number(reopen.headers['retry-after']) > 0, 'with a Retry-After');

  await blocker.query('ROLLBACK');
  await locker.controller.trays.settled();
  t.equal(locker.controller.trays.unrecorded, 0, 'the late changes are written');
  t.equal((await locker.staff.get(`/api/trays/${next}`)).json().door, 'closed');
  t.equal((await locker.anonymous.get(`/api/deposits/${depositId}`)).json().status, 'tray_open', 'the deposit waits for its own door');
  t.notOk(
    (await inbox(locker, '0912800001')).some((m: any) => m.kind === 'deposit_receipt'),
    'no receipt',
  );
  await door(locker, tray, true);
  await door(locker, tray, false);
  t.equal((await locker.anonymous.get(`/api/deposits/${depositId}`)).json().status, 'deposited');
  sim.setDoor(other, false);
});

t.test('a second pickup of a result whose first pickup is not yet written waits, and finds it picked up', async (t) => {
  const locker = await startTestLocker(t);
  const sim = locker.controller.cabinet!;
  const loaded = await locker.staff.post('/api/staff/results', {
    dossierCode: 'HCM-2025-000900',
    phone: '0912 800 002',
    procedureCode: 'CT-BS',
  });
  t.equal(loaded.statusCode, 201, loaded.body);
  const { tray } = loaded.json();
  await door(locker, tray, true);
  await door(locker, tray, false);
  await until(async () => (await locker.anonymous.get('/api/dossiers/HCM-2025-000900')).json().status === 'notified', 'notified');

  const first = (await locker.anonymous.post('/api/pickups', { phone: '0912800002' })).json();
  const opened = await locker.anonymous.post(`/api/pickups/${first.challengeId}/verify`, { otp: await codeFor(locker, '0912800002', 0) });
  t.same(opened.json().trays, [tray]);
  // The citizen takes the result while the changes wait behind another tray's.
  const other = (await locker.staff.get('/api/trays')).json().find((x: any) => x.state === 'free' && x.number !== tray).number;
  t.equal((await locker.admin.post(`/api/admin/trays/${other}/open`)).statusCode, 200);
  const blocker = await blockTray(locker, t, other);
  t.ok(sim.setDoor(other, true).ok);
  await until(() => locker.controller.trays.unrecorded >= 1 || null, 'the first change waits', 3_000);
  t.ok(sim.setDoor(tray, true).ok);
  await new Promise((r) => setTimeout(r, 300));
  sim.setDoor(tray, false);
  await until(() => locker.controller.trays.unrecorded >= 3 || null, 'the pickup waits behind', 3_000);

  // The same citizen asks again (a second kiosk, an impatient tap): the code is checked later.
  const second = (await locker.anonymous.post('/api/pickups', { phone: '0912800002' })).json();
  const code = await codeFor(locker, '0912800002', 1);
  const early = await locker.anonymous.post(`/api/pickups/${second.challengeId}/verify`, { otp: code });
  t.equal(early.statusCode, 503, early.body);
  t.equal(early.json().error.code, 'DOOR_CHANGES_PENDING');

  await blocker.query('ROLLBACK');
  await locker.controller.trays.settled();
  await until(async () => (await locker.anonymous.get('/api/dossiers/HCM-2025-000900')).json().status === 'picked_up', 'picked up');
  const later = await locker.anonymous.post(`/api/pickups/${second.challengeId}/verify`, { otp: code });
  t.equal(later.statusCode, 200, later.body);
  t.same(later.json().trays, [], 'nothing left to open');
  t.equal((await locker.staff.get(`/api/trays/${tray}`)).json().state, 'free');
  sim.setDoor(other, false);
});
