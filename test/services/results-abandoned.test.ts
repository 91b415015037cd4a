/**
 * A load abandoned (the tray opened for the officer, its door never opened before the timeout):
 * the result is cancelled with an event of its own, and the officer's screen can tell.
 */
import t from 'tap';
import { outboxEvents, startTestLocker, type TestLocker } from '../helpers/controller.js';
import { door } from '../helpers/citizens.js';
import { testSubscriber, until } from '../helpers/mqtt.js';

const load = (locker: TestLocker, n: number) =>
  locker.staff.post('/api/staff/results', { dossierCode: `HCM-2025-000${n}`, phone: `0903000${n}`, procedureCode: 'CT-BS' });

/** The door-open timeout passes, watched throughout: the timers conclude what waited at its door. */
async function timeoutPasses(locker: TestLocker): Promise<void> {
  locker.controller.clock.advance(61_000);
  await locker.controller.trays.settled();
  await locker.controller.flowTimers.tick();
  await locker.controller.staffTimersUnit.tick();
}

t.test('an abandoned load is cancelled with result.load_cancelled, and its tray is free again', async (t) => {
  const locker = await startTestLocker(t);
  const sub = await testSubscriber(t, locker.mqttUrl, `${locker.base}/events/#`);
  const res = await load(locker, 401);
  t.equal(res.statusCode, 201, res.body);
  const { resultId, tray } = res.json();
  const kept = await load(locker, 402);
  t.equal(kept.statusCode, 201, kept.body);

  // The second one is loaded; the first is left: its door never opens.
  await door(locker, kept.json().tray, true);
  await door(locker, kept.json().tray, false);
  await timeoutPasses(locker);

  const events = await outboxEvents(locker, 'result.load_cancelled');
  t.equal(events.length, 1, 'one event, for the abandoned load only');
  t.same(events[0]?.data, { resultId, dossierCode: 'HCM-2025-000401', tray, reason: 'door_never_opened' });
  await until(
    () => sub.messages.find((m) => m.topic.endsWith('/events/result.load_cancelled')),
    'published on events/result.load_cancelled',
  );
  t.equal((await locker.staff.get(`/api/trays/${tray}`)).json().state, 'free', 'the tray is free again');
  t.notOk(
    (await locker.staff.get('/api/staff/results/unclaimed')).json().some((r: any) => r.resultId === resultId),
    'not among the results waiting',
  );
  // The same result can be loaded again.
  t.equal((await load(locker, 401)).statusCode, 201);
});

t.test("GET /api/staff/results?ids= tells the officer's screen where each of its loads stands", async (t) => {
  const locker = await startTestLocker(t);
  const left = (await load(locker, 411)).json();
  const kept = (await load(locker, 412)).json();
  const before = await locker.staff.get(`/api/staff/results?ids=${left.resultId},${kept.resultId}`);
  t.equal(before.statusCode, 200, before.body);
  t.same(before.json(), [
    { resultId: left.resultId, dossierCode: 'HCM-2025-000411', tray: left.tray, procedureCode: 'CT-BS', status: 'loading' },
    { resultId: kept.resultId, dossierCode: 'HCM-2025-000412', tray: kept.tray, procedureCode: 'CT-BS', status: 'loading' },
  ]);
  await door(locker, kept.tray, true);
  await door(locker, kept.tray, false);
  await timeoutPasses(locker);
  const after = await locker.staff.get(`/api/staff/results?ids=${left.resultId},${kept.resultId}`);
  t.same(
    after.json().map((r: any) => [r.resultId, r.status]),
    [
      [left.resultId, 'cancelled'],
      [kept.resultId, 'notified'],
    ],
  );
});

t.test('GET /api/staff/results: ids checked, unknown ones left out, staff only', async (t) => {
  const locker = await startTestLocker(t);
  t.equal((await locker.anonymous.get('/api/staff/results?ids=00000000-0000-4000-8000-000000000000')).statusCode, 401);
  const unknown = await locker.staff.get('/api/staff/results?ids=00000000-0000-4000-8000-000000000000');
  t.equal(unknown.statusCode, 200, unknown.body);
  t.same(unknown.json(), []);
  for (const q of [
    '',
    '?ids=',
    '?ids=nope',
    `?ids=${Array.from({ length: 31 }, () => '00000000-0000-4000-8000-000000000000').join(',')}`,
  ]) {
    const res = await locker.staff.get(`/api/staff/results${q}`);
    t.equal(res.statusCode, 400, `${q.slice(0, 40)}: ${res.body.slice(0, 100)}`);
    t.equal(res.json().error.code, 'VALIDATION_FAILED');
  }
});
