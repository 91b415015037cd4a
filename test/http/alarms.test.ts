/**
 * The dashboard's alarms (GET /api/admin/alarms): a lock board that does not answer is among them,
 * whether it went silent while the controller ran (`board.fault`) or was found silent at start-up
 * (`locker.started` naming it among `boardsOffline`).
 */
import t from 'tap';
import { outboxEvents, startTestLocker } from '../helpers/controller.js';
import { ExternalCabinet } from '../helpers/external-cabinet.js';
import { until } from '../helpers/mqtt.js';

t.test('a lock board that stops answering while the controller runs is among the alarms', async (t) => {
  const locker = await startTestLocker(t);
  locker.controller.cabinet!.setFault('b2', 'no_answer');
  await until(async () => (await outboxEvents(locker, 'board.fault')).length > 0, 'board.fault in the outbox');
  const res = await locker.staff.get('/api/admin/alarms');
  t.equal(res.statusCode, 200, res.body);
  const fault = res.json().find((a: any) => a.type === 'board.fault');
  t.match(fault, { type: 'board.fault', data: { board: 'b2', trays: [47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62] } });
});

t.test('a lock board found silent at start-up is among the alarms', async (t) => {
  const external = await ExternalCabinet.start(t);
  external.sim.setFault('b2', 'no_answer');
  const locker = await startTestLocker(t, { hardware: { driver: 'modbus' } }, { configure: (config) => external.attach(config) });
  await until(async () => (await locker.staff.get('/api/trays/50')).json().state === 'out_of_service', 'tray 50 out of service');
  const started = await outboxEvents(locker, 'locker.started');
  t.same(started.at(-1).data.boardsOffline, ['b2'], 'the start-up reading names the silent board');

  const res = await locker.staff.get('/api/admin/alarms');
  t.equal(res.statusCode, 200, res.body);
  const alarms = res.json();
  // The start-up reading itself is the alarm: the board never answered, so no board.fault was seen.
  const silent = alarms.find((a: any) => a.type === 'locker.started');
  t.ok(silent, `the silent board is among the alarms: ${JSON.stringify(alarms)}`);
  t.match(silent, { type: 'locker.started', data: { boardsOffline: ['b2'] } });

  // A start with every board answering raises nothing.
  const quiet = await startTestLocker(t);
  t.same((await quiet.staff.get('/api/admin/alarms')).json(), [], 'no alarm when every board answers');
});
