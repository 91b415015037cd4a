import t from 'tap';
import { startTestLocker, outboxEvents } from '../helpers/controller.js';
import { until, testSubscriber, brokerKind } from '../helpers/mqtt.js';
import { dbKind } from '../helpers/db.js';

t.test(`locker on ${dbKind} and ${brokerKind}`, async (t) => {
  const locker = await startTestLocker(t);
  const sim = locker.controller.cabinet!;

  t.test('health reports database, broker and bus ok', async (t) => {
    const res = await locker.anonymous.get('/health');
    t.equal(res.statusCode, 200);
    t.match(res.json(), { status: 'ok', db: 'ok', mqtt: 'ok', bus: 'ok' });
  });

  t.test('GET /api/trays lists the 90 trays of the map, closed and free', async (t) => {
    const res = await locker.staff.get('/api/trays');
    t.equal(res.statusCode, 200);
    const trays = res.json();
    t.equal(trays.length, 90);
    t.same(trays[36], {
      number: 37,
      cabinet: 'B',
      size: 'S',
      role: 'result',
      state: 'free',
      door: 'closed',
      board: 'b1',
      outOfServiceReason: null,
      fault: null,
    });
    t.ok(trays.every((tr: any) => tr.door === 'closed' && tr.state === 'free'));
  });

  t.test('an admin opening tray 37 pulses board b1 channel 6, and only that', async (t) => {
    sim.clearPulses();
    const res = await locker.admin.post('/api/admin/trays/37/open');
    t.equal(res.statusCode, 200, res.body);
    const pulses = sim.pulses();
    t.equal(pulses.length, 1, 'exactly one pulse');
    t.match(pulses[0], { board: 'b1', unitId: 3, channel: 6, tray: 37 });

    const door = await locker.anonymous.post('/api/sim/trays/37/door', { open: true });
    t.equal(door.statusCode, 200, door.body);
    await until(async () => (await locker.staff.get('/api/trays/37')).json().door === 'open', 'tray 37 open in the API', 2_000);
    const list = (await locker.staff.get('/api/trays')).json();
    t.equal(list.find((tr: any) => tr.number === 37).door, 'open', 'GET /api/trays shows it open');

    t.equal((await locker.anonymous.post('/api/sim/trays/37/door', { open: false })).statusCode, 200);
    await until(async () => (await locker.staff.get('/api/trays/37')).json().door === 'closed', 'tray 37 closed again', 2_000);

    const opened = await outboxEvents(locker, 'tray.opened');
    t.match(opened.at(-1), { type: 'tray.opened', lockerId: locker.lockerId, data: { tray: 37, reason: 'maintenance' } });
    t.same(await outboxEvents(locker, 'alarm.door_open_unexpected'), [], 'a released door raises no alarm');
  });

  t.test('an admin opening: bad text is refused before any effect; good text is recorded and committed before the pulse', async (t) => {
    const db = locker.controller.database;
    const records = async (tray: number) => ({
      audit: (
        await db.query(`SELECT actor, details, personal FROM audit_log WHERE locker_id = $1 AND action = 'tray.open' AND subject = $2`, [
          locker.lockerId,
          `tray:${tray}`,
        ])
      ).rows,
      opened: (await outboxEvents(locker, 'tray.opened')).filter((e) => e.data.tray === tray),
    });
    sim.clearPulses();
    for (const payload of ['{"reason":"a\\u0000b"}', '{"reason":"\\ud800"}', '{"reason":"ok \\udfff"}', '{"reason":"\\u009b2J"}']) {
      const res = await locker.http.inject({
        method: 'POST',
        url: '/api/admin/trays/39/open',
        headers: { authorization: 'Bearer test-admin-token-000000000000', 'content-type': 'application/json' },
        payload,
      });
      t.equal(res.statusCode, 400, `${payload}: ${res.body}`);
      t.equal(res.json().error.code, 'VALIDATION_FAILED');
    }
    t.same(sim.pulses(), [], 'no pulse');
    t.same(await records(39), { audit: [], opened: [] }, 'no audit row, no event');
    t.equal((await locker.staff.get('/api/trays/39')).json().state, 'free');

    // What another connection sees at the moment the pulse leaves: the release is already committed.
    const bus = locker.controller.lockBus;
    let atPulse: Awaited<ReturnType<typeof records>> | undefined;
    bus.unlock = async function (this: typeof bus, tray: number) {
      atPulse = await records(tray);
      return Object.getPrototypeOf(bus).unlock.call(this, tray);
    };
    t.teardown(() => void delete (bus as Partial<typeof bus>).unlock);
    const reason = 'Kiểm tra bản lề 🔧';
    const res = await locker.admin.post('/api/admin/trays/39/open', { reason });
    t.equal(res.statusCode, 200, res.body);
    t.equal(sim.pulses().length, 1, 'one pulse');
    t.equal(atPulse?.audit.length, 1, 'the audit row was committed before the pulse');
    t.match(
      atPulse?.audit[0],
      { actor: /^admin:/, details: { reason: 'maintenance' }, personal: { note: reason } },
      'with the note as written',
    );
    t.notOk('note' in atPulse!.audit[0].details, 'the note (free text) is kept outside the hashed details');
    t.equal(atPulse?.opened.length, 1, 'so was the tray.opened event');
    t.match(atPulse?.opened[0], { data: { tray: 39, reason: 'maintenance' } });
    t.notOk('note' in atPulse!.opened[0].data, 'the note stays out of the published event');
    t.same(await records(39), atPulse, 'and nothing more after it');
  });

  t.test('the door of a tray that was not released stays shut', async (t) => {
    const res = await locker.anonymous.post('/api/sim/trays/38/door', { open: true });
    t.equal(res.statusCode, 409);
    t.equal(res.json().error.code, 'DOOR_LATCHED');
    await new Promise((r) => setTimeout(r, 150));
    t.equal((await locker.staff.get('/api/trays/38')).json().door, 'closed');
  });

  t.test('a forced door is seen open and raises an alarm', async (t) => {
    const res = await locker.anonymous.post('/api/sim/trays/12/door', { open: true, force: true });
    t.equal(res.statusCode, 200);
    const alarm = await until(async () => (await outboxEvents(locker, 'alarm.door_open_unexpected'))[0], 'the alarm', 2_000);
    t.match(alarm, { data: { tray: 12 } });
    await locker.anonymous.post('/api/sim/trays/12/door', { open: false });
  });

  t.test('out of service and back, audited', async (t) => {
    const out = await locker.admin.post('/api/admin/trays/5/out-of-service', { reason: 'hinge broken' });
    t.equal(out.statusCode, 200, out.body);
    t.match(out.json(), { number: 5, state: 'out_of_service', outOfServiceReason: 'hinge broken' });
    const back = await locker.admin.delete('/api/admin/trays/5/out-of-service');
    t.match(back.json(), { number: 5, state: 'free', outOfServiceReason: null });
    const { rows } = await locker.controller.database.query(
      `SELECT actor, action, subject FROM audit_log WHERE locker_id = $1 AND subject = 'tray:5' ORDER BY id`,
      [locker.lockerId],
    );
    t.same(
      rows.map((r: any) => r.action),
      ['tray.out_of_service', 'tray.back_in_service'],
    );
    t.match(rows[0].actor, /^admin:/);
  });

  t.test('retained occupancy and tray state reach a subscriber', async (t) => {
    const sub = await testSubscriber(t, locker.mqttUrl, `${locker.base}/#`);
    const occupancy = JSON.parse((await sub.waitFor(`${locker.base}/occupancy`, (_p, m) => m.retain)).payload);
    t.equal(occupancy.trays.length, 90);
    await locker.admin.post('/api/admin/trays/44/out-of-service', { reason: 'test' });
    const tray = await sub.waitFor(`${locker.base}/trays/44`, (p) => JSON.parse(p).state === 'out_of_service');
    t.equal(JSON.parse(tray.payload).number, 44);
    await locker.admin.delete('/api/admin/trays/44/out-of-service');
  });
});
