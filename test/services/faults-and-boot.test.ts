import t from 'tap';
import { startTestLocker, outboxEvents } from '../helpers/controller.js';
import { until } from '../helpers/mqtt.js';

const boardB2 = Array.from({ length: 16 }, (_, i) => 47 + i);

t.test('a board that stops answering takes its trays out of service within 2 s; they return', async (t) => {
  const locker = await startTestLocker(t);
  const sim = locker.controller.cabinet!;
  sim.setFault('b2', 'no_answer');
  const started = Date.now();
  await until(
    async () => {
      const trays = (await locker.staff.get('/api/trays')).json();
      return boardB2.every((n) => trays[n - 1].state === 'out_of_service');
    },
    'trays 47-62 out of service',
    2_000,
  );
  t.ok(Date.now() - started < 2_000, `out of service after ${Date.now() - started} ms`);
  const trays = (await locker.staff.get('/api/trays')).json();
  t.equal(trays.filter((tr: any) => tr.state === 'out_of_service').length, 16, 'only board b2 trays');
  t.match(trays[49].fault, /b2/);
  const health = (await locker.anonymous.get('/health')).json();
  t.match(health, { status: 'degraded', bus: 'degraded', boardsOffline: ['b2'] });

  const open = await locker.admin.post('/api/admin/trays/50/open');
  t.equal(open.statusCode, 503, 'a tray whose board is offline cannot be opened');
  t.equal(open.json().error.code, 'BOARD_OFFLINE');

  sim.setFault('b2', 'none');
  await until(
    async () => {
      const list = (await locker.staff.get('/api/trays')).json();
      return boardB2.every((n) => list[n - 1].state === 'free');
    },
    'trays 47-62 back in service',
    3_000,
  );
  t.match((await outboxEvents(locker, 'board.fault'))[0], { data: { board: 'b2', trays: boardB2 } });
  t.match((await outboxEvents(locker, 'board.recovered'))[0], { data: { board: 'b2' } });
  t.match((await locker.anonymous.get('/health')).json(), { status: 'ok', bus: 'ok' });
});

t.test('at start a door found open that should be shut raises an alarm', async (t) => {
  const locker = await startTestLocker(t);
  // The first reconciliation found every door shut. Force one open while running: an alarm.
  const sim = locker.controller.cabinet!;
  sim.setDoor(20, true, { force: true });
  await until(async () => (await outboxEvents(locker, 'alarm.door_open_unexpected')).length > 0, 'alarm while running', 2_000);
  const before = (await outboxEvents(locker, 'alarm.door_open_unexpected')).length;
  // Pretend the controller restarted while the door was open but the database still says closed.
  await locker.controller.database.query(`UPDATE trays SET door = 'closed' WHERE locker_id = $1 AND number = 20`, [locker.lockerId]);
  await locker.controller.trays.reconcile(locker.controller.lockBus.snapshot());
  const alarms = await outboxEvents(locker, 'alarm.door_open_unexpected');
  t.equal(alarms.length, before + 1, 'reconciliation raised the alarm');
  t.match(alarms.at(-1), { data: { tray: 20 } });
  t.equal((await locker.staff.get('/api/trays/20')).json().door, 'open');
  const started = await outboxEvents(locker, 'locker.started');
  t.ok(started.length >= 2, 'locker.started recorded at each reconciliation');
});

t.test('start-up switches every lock output off', async (t) => {
  const locker = await startTestLocker(t);
  const boards = locker.controller.cabinet!.boardStates();
  t.ok(
    boards.every((b) => b.coils.every((c) => c === false)),
    'no coil left on',
  );
});
