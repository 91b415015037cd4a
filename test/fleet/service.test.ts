/**
 * The fleet service (issue 14) against a real Mosquitto (MQTT 5: shared subscriptions) and a real
 * PostgreSQL: two cabinet controllers publish to the broker as they do in the field, two fleet
 * instances share the events and each keeps every locker's state; an instance stops and the other
 * carries on with nothing lost; a locker that stops is shown offline; its API refuses bad input
 * with stable codes.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { randomUUID } from 'node:crypto';
import { FleetService } from '../../src/fleet/service.js';
import { silentLogger } from '../../src/log.js';
import { startTestLocker, type TestLocker } from '../helpers/controller.js';
import { dbKind, freshDatabaseUrl } from '../helpers/db.js';
import { noMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { lifo, until } from '../helpers/mqtt.js';

const TOKEN = 'fleet-admin-token-0123456789';
const BASE = 'atm247test';

t.test(`two lockers, two fleet instances, one broker (${dbKind}, Mosquitto)`, { skip: noMosquitto }, async (t) => {
  const scope = lifo(t);
  const broker = await startMosquitto(scope);
  const db = await freshDatabaseUrl();
  scope.teardown(() => db.drop());
  const instance = (name: string) =>
    new FleetService({
      databaseUrl: db.url,
      mqttUrl: broker.url,
      baseTopic: BASE,
      group: 'fleet',
      instance: `${name}-${randomUUID().slice(0, 8)}`,
      adminToken: TOKEN,
      logger: silentLogger(),
    });
  const first = instance('one');
  const second = instance('two');
  await first.start();
  scope.teardown(() => first.stop());
  await second.start();
  scope.teardown(() => second.stop());
  const api = (url: string, token: string | null = TOKEN) =>
    first.http.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

  const onBroker = { configure: (c: { mqtt: { url: string | null } }) => void (c.mqtt.url = broker.url) };
  const a: TestLocker = await startTestLocker(scope, {}, onBroker);
  const b: TestLocker = await startTestLocker(scope, {}, onBroker);

  // Both lockers' retained state, as each published it at its start.
  await until(
    async () => {
      const { lockers } = (await api('/api/fleet/lockers')).json();
      return lockers.filter((l: any) => [a.lockerId, b.lockerId].includes(l.lockerId) && l.online && l.counts?.free === 90).length === 2;
    },
    'both lockers online with their 90 free trays',
    15_000,
  );
  // `rounds/next` comes with the staff timers' first tick.
  const grid = await until(
    async () => {
      const locker = (await api(`/api/fleet/lockers/${a.lockerId}`)).json();
      return locker.nextRound ? locker : null;
    },
    "A's next round",
    15_000,
  );
  t.equal(grid.trays.length, 90, "locker A's grid: every tray");
  t.match(grid.trays[0], { number: 1, state: 'free', door: 'closed', cabinet: String, size: /^[SML]$/ });
  t.match(grid.nextRound, { scheduledAt: String, collect: 0 }, 'its next round');

  // Events: an admin opens tray 3 of A; its door opens and closes.
  t.equal((await a.admin.post('/api/admin/trays/3/open', { reason: 'maintenance' })).statusCode, 200);
  a.controller.cabinet!.setDoor(3, true);
  await until(
    async () => (await api(`/api/fleet/lockers/${a.lockerId}`)).json().trays[2].door === 'open',
    "tray 3's door open at the fleet",
    15_000,
  );
  a.controller.cabinet!.setDoor(3, false);
  await until(
    async () => {
      const { events } = (await api(`/api/fleet/lockers/${a.lockerId}/events?limit=100`)).json();
      return ['tray.opened', 'tray.door_opened', 'tray.door_closed'].every((type) => events.some((e: any) => e.type === type));
    },
    "A's events at the fleet",
    15_000,
  );

  // One instance stops while A is busy (a planned stop: it leaves the group and stores what it was
  // sent); B's events keep coming through the other. Every event ends up stored, each once.
  const burst = Promise.all([7, 8, 9, 10].map((n) => a.admin.post(`/api/admin/trays/${n}/open`, { reason: 'maintenance' })));
  await first.stop();
  t.same(
    (await burst).map((r) => r.statusCode),
    [200, 200, 200, 200],
  );
  for (const tray of [5, 6]) {
    t.equal((await b.admin.post(`/api/admin/trays/${tray}/open`, { reason: 'maintenance' })).statusCode, 200);
    b.controller.cabinet!.setDoor(tray, true);
    await until(async () => (await b.controller.trays.get(tray)).door === 'open', `B's tray ${tray} open`, 15_000);
    b.controller.cabinet!.setDoor(tray, false);
  }
  /** Every event the locker wrote (its outbox: sent or still to send). */
  const outboxIds = async (locker: TestLocker) =>
    (
      await locker.controller.database.query<{ id: string }>(`SELECT id::text FROM outbox WHERE locker_id = $1`, [locker.lockerId])
    ).rows.map((r) => r.id);
  const fleetIds = async (lockerId: string) =>
    (await second.store.pool.query<{ id: string }>('SELECT id::text FROM fleet_events WHERE locker_id = $1', [lockerId])).rows.map(
      (r) => r.id,
    );
  /** Every event the locker wrote is at the fleet (and it wrote some). */
  const allAtFleet = async (locker: TestLocker) => {
    const sent = await outboxIds(locker);
    const got = new Set(await fleetIds(locker.lockerId));
    return sent.length > 0 && sent.every((id) => got.has(id));
  };
  await until(() => allAtFleet(b), 'every event B sent, at the fleet through the remaining instance', 15_000);
  await until(() => allAtFleet(a), 'and every event A sent', 15_000);
  // Nothing at the fleet that the locker did not write (and the key is the event's id: once each).
  for (const locker of [a, b]) {
    const held = await fleetIds(locker.lockerId);
    const written = new Set(await outboxIds(locker));
    t.same(
      held.filter((id) => !written.has(id)),
      [],
      `the fleet holds only events ${locker === a ? 'A' : 'B'} wrote (${held.length} of ${written.size})`,
    );
  }

  // A locker that stops: offline at the fleet.
  await b.controller.stop();
  const second_ = (url: string) => second.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
  await until(async () => (await second_(`/api/fleet/lockers/${b.lockerId}`)).json().online === false, 'B offline at the fleet', 15_000);
  const totals = (await second_('/api/fleet/totals')).json();
  t.match(totals, { lockers: 2, online: 1, offline: 1 }, 'the totals');
  t.equal(
    totals.trays.free +
      totals.trays.reserved +
      totals.trays.holding_deposit +
      totals.trays.holding_result +
      totals.trays.to_check +
      totals.trays.out_of_service,
    180,
    'every tray of both, once',
  );

  // Bad input: refused with stable codes, nothing else touched.
  const bad = async (url: string, token: string | null, status: number, code: string) => {
    const res = await second.http.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
    t.equal(res.statusCode, status, `${url} → ${status}`);
    t.equal(res.json().error.code, code);
  };
  await bad('/api/fleet/lockers', null, 401, 'UNAUTHORIZED');
  await bad('/api/%66leet/lockers', null, 401, 'UNAUTHORIZED');
  await bad(`/%61pi/fleet/lockers/${a.lockerId}/events`, null, 401, 'UNAUTHORIZED');
  await bad('/api/fleet/lockers', 'not-the-token', 401, 'UNAUTHORIZED');
  await bad('/api/fleet/lockers/no%20such', TOKEN, 400, 'VALIDATION_FAILED');
  await bad('/api/fleet/lockers/nobody-here', TOKEN, 404, 'LOCKER_NOT_FOUND');
  await bad(`/api/fleet/lockers/${a.lockerId}/events?limit=0`, TOKEN, 400, 'VALIDATION_FAILED');
  await bad(`/api/fleet/lockers/${a.lockerId}/events?limit=lots`, TOKEN, 400, 'VALIDATION_FAILED');

  // A message outside the contract is refused by the fleet, never stored.
  const rogue = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  scope.teardown(() => rogue.endAsync(true));
  const before = second.ingest.status().rejected;
  await rogue.publishAsync(`${BASE}/${a.lockerId}/occupancy`, JSON.stringify({ at: 'yesterday', counts: {}, trays: [] }), { qos: 1 });
  await rogue.publishAsync(
    `${BASE}/${a.lockerId}/events/tray.opened`,
    JSON.stringify({ id: randomUUID(), type: 'tray.opened', at: new Date().toISOString(), lockerId: a.lockerId, data: { tray: 'x' } }),
    { qos: 1 },
  );
  // Within the contract's schemas but refused by PostgreSQL (a tray twice; a NUL in a text):
  // rejected, not retried forever (which would stop this instance's ingest for every locker).
  const occupancy = (await second_(`/api/fleet/lockers/${a.lockerId}`)).json().occupancy;
  await rogue.publishAsync(
    `${BASE}/${a.lockerId}/occupancy`,
    JSON.stringify({ ...occupancy, at: new Date().toISOString(), trays: [occupancy.trays[0], occupancy.trays[0]] }),
    { qos: 1 },
  );
  await rogue.publishAsync(
    `${BASE}/${a.lockerId}/events/tray.opened`,
    JSON.stringify({
      id: randomUUID(),
      type: 'tray.opened',
      at: new Date().toISOString(),
      lockerId: a.lockerId,
      data: { tray: 4, reason: 'maintenance', by: 'admin\u0000' },
    }),
    { qos: 1 },
  );
  await until(() => second.ingest.status().rejected >= before + 4, 'all four refused', 15_000);
  t.equal((await second_(`/api/fleet/lockers/${a.lockerId}`)).json().counts.free, 90, "A's stored state untouched");
  // And the ingest goes on: A's next event arrives.
  t.equal((await a.admin.post('/api/admin/trays/11/open', { reason: 'maintenance' })).statusCode, 200);
  await until(() => allAtFleet(a), "A's next event, after the refused ones", 15_000);
  t.same((await second_('/health')).json(), { status: 'ok', db: 'ok', mqtt: 'ok', live: 'ok', ingest: second.ingest.status() });
});
