/**
 * Door alarms and a wall clock that steps (NTP at boot, a wrong RTC corrected): how long a door
 * has been open and how old a lock release is are durations, measured on the monotonic clock. A
 * step of the wall clock raises no alarm; time that really passes still does.
 * (`OffsetClock.setOffset` steps the wall clock only; `advance` makes time pass.)
 */
import t from 'tap';
import { codeFor, depositProcedure, door } from '../helpers/citizens.js';
import { outboxEvents, startTestLocker } from '../helpers/controller.js';
import { ExternalCabinet } from '../helpers/external-cabinet.js';
import { until } from '../helpers/mqtt.js';

t.test('a wall-clock step forward between the release and the opening raises no forced-door alarm', async (t) => {
  const locker = await startTestLocker(t);
  const procedureCode = await depositProcedure(locker);
  const started = (await locker.anonymous.post('/api/deposits', { phone: '0912 700 001', procedureCode })).json();
  const verified = await locker.anonymous.post(`/api/deposits/${started.challengeId}/verify`, {
    otp: await codeFor(locker, '0912700001'),
  });
  t.equal(verified.statusCode, 200, verified.body);
  const { tray, depositId } = verified.json();

  locker.controller.clock.setOffset(10 * 60_000);
  await door(locker, tray, true);
  t.same(await outboxEvents(locker, 'alarm.door_open_unexpected'), [], 'the release is seconds old, whatever the wall clock says');

  locker.controller.clock.setOffset(30 * 60_000);
  await locker.controller.flowTimers.tick();
  t.same(await outboxEvents(locker, 'alarm.door_held_open'), [], 'open for seconds, not for 20 minutes');

  locker.controller.clock.advance(121_000);
  await locker.controller.flowTimers.tick();
  t.match(await outboxEvents(locker, 'alarm.door_held_open'), [{ data: { tray } }], 'open for two minutes really: the alarm');
  await door(locker, tray, false);
  t.equal((await locker.anonymous.get(`/api/deposits/${depositId}`)).json().status, 'deposited');
});

t.test('a wall-clock step back does not hide a stale release, and a door found open after a restart is timed from then', async (t) => {
  const locker = await startTestLocker(t);
  const opened = await locker.admin.post('/api/admin/trays/40/open');
  t.equal(opened.statusCode, 200, opened.body);
  locker.controller.clock.setOffset(-60 * 60_000);
  locker.controller.clock.advance(61_000);
  await door(locker, 40, true);
  t.match(
    await outboxEvents(locker, 'alarm.door_open_unexpected'),
    [{ data: { tray: 40 } }],
    'a release a minute old explains no opening, though the wall clock went back an hour',
  );
  await door(locker, 40, false);
});

t.test('a door found open at a restart is timed from the reading, not from the records', async (t) => {
  const external = await ExternalCabinet.start(t);
  const modbus = { hardware: { driver: 'modbus' } };
  const first = await startTestLocker(t, modbus, { configure: (config) => external.attach(config) });
  t.equal((await first.admin.post('/api/admin/trays/41/open')).statusCode, 200);
  t.ok(external.sim.setDoor(41, true).ok, 'door opened');
  await until(async () => (await first.staff.get('/api/trays/41')).json().door === 'open', 'door 41 recorded open', 3_000);
  await first.controller.trays.settled();
  await first.controller.stop();

  // The new process starts an hour later by the wall clock (the records say the door has been
  // open that long); it reads the door open and counts from its own reading.
  const second = await startTestLocker(t, modbus, {
    configure: (config) => external.attach(config),
    reuse: { databaseUrl: first.databaseUrl, lockerId: first.lockerId },
  });
  t.equal((await second.staff.get('/api/trays/41')).json().door, 'open', 'read open at start');
  second.controller.clock.setOffset(60 * 60_000);
  await second.controller.flowTimers.tick();
  t.same(await outboxEvents(second, 'alarm.door_held_open'), [], 'nothing from the age the records give the door');
  second.controller.clock.advance(121_000);
  await second.controller.flowTimers.tick();
  t.match(await outboxEvents(second, 'alarm.door_held_open'), [{ data: { tray: 41 } }], 'two minutes after this process saw it open');
  external.sim.setDoor(41, false);
});
