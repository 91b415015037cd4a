/**
 * A door change the bus saw before a lock release, recorded only after it (its transaction waited
 * behind another): it belongs to whoever used the tray before, never to the flow that released the
 * tray now. Found by the fault campaign: an officer's opening and shutting of a tray, written late
 * after a database outage, completed the next citizen's deposit in that tray, who never opened it
 * (a receipt for paper still in the citizen's hand, and "missing" at the next round).
 */
import pg from 'pg';
import t from 'tap';
import { codeFor, depositProcedure, inbox } from '../helpers/citizens.js';
import { startTestLocker } from '../helpers/controller.js';
import { until } from '../helpers/mqtt.js';

const RANK: Record<string, number> = { S: 0, M: 1, L: 2 };

t.test('an opening and shutting seen before a deposit released the tray do not complete that deposit', async (t) => {
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
  const blocker = new pg.Client({ connectionString: locker.databaseUrl });
  await blocker.connect();
  t.teardown(() => blocker.end());
  await blocker.query('BEGIN');
  await blocker.query('SELECT 1 FROM trays WHERE locker_id = $1 AND number = $2 FOR UPDATE', [locker.lockerId, other]);

  t.ok(sim.setDoor(other, true).ok);
  await until(() => locker.controller.trays.unrecorded >= 1 || null, 'the first change waits', 3_000);
  t.ok(sim.setDoor(next, true).ok, 'the officer opens the next tray');
  await new Promise((r) => setTimeout(r, 300));
  sim.setDoor(next, false);
  await until(() => locker.controller.trays.unrecorded >= 3 || null, 'its opening and shutting wait behind', 3_000);

  // Meanwhile a citizen's deposit gets that tray: the records still say its door never moved.
  const started = (await locker.anonymous.post('/api/deposits', { phone: '0912 800 001', procedureCode })).json();
  const verified = await locker.anonymous.post(`/api/deposits/${started.challengeId}/verify`, {
    otp: await codeFor(locker, '0912800001'),
  });
  t.equal(verified.statusCode, 200, verified.body);
  const { tray, depositId } = verified.json();
  t.equal(tray, next, 'the deposit got the tray whose changes are not yet written');

  await blocker.query('ROLLBACK');
  await locker.controller.trays.settled();
  t.equal(locker.controller.trays.unrecorded, 0, 'the late changes are written');
  t.equal((await locker.staff.get(`/api/trays/${tray}`)).json().door, 'closed');
  t.equal((await locker.anonymous.get(`/api/deposits/${depositId}`)).json().status, 'tray_open', 'not deposited by the officer’s changes');
  t.notOk(
    (await inbox(locker, '0912800001')).some((m: any) => m.kind === 'deposit_receipt'),
    'no receipt',
  );

  // The citizen walks away without opening: the window was watched throughout, the deposit lapses.
  sim.setDoor(other, false);
  locker.controller.clock.advance(61_000);
  await locker.controller.flowTimers.tick();
  t.equal((await locker.anonymous.get(`/api/deposits/${depositId}`)).json().status, 'cancelled');
  t.equal((await locker.staff.get(`/api/trays/${tray}`)).json().state, 'free');
});
