/**
 * The fleet's ingest stores messages in batches, acknowledging each only once its batch is stored
 * (src/fleet/ingest.ts, ADR 0025). A Mosquitto of the test's own and the test PostgreSQL:
 * - a burst is stored in far fewer transactions than messages, and what one batch holds twice is
 *   applied as it would be alone: the newest state wins whatever the order, an event is stored
 *   once, a payload outside the contract is counted and not stored;
 * - the database blocked: the broker stops at the window of unacknowledged messages (nothing is
 *   acknowledged before it is stored, and the memory held is bounded), the link stays up past
 *   several keepalives, and all of it is stored once the database answers.
 */
import t from 'tap';
import mqtt, { type MqttClient } from 'mqtt';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { FleetService } from '../../src/fleet/service.js';
import { decodeOccupancyTrays, encodeOccupancyTrays, FleetStore } from '../../src/fleet/store.js';
import { silentLogger } from '../../src/log.js';
import { freshDatabaseUrl } from '../helpers/db.js';
import { noMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { lifo, until } from '../helpers/mqtt.js';

const TOKEN = 'fleet-admin-token-0123456789';
const BASE = 'atm247ingest';
const WINDOW = 50;
const KEEPALIVE_SEC = 1;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const tray = (number: number, state: string, at: string) => ({ number, cabinet: 'A', size: 'M', state, door: 'closed', at });
const occupancy = (at: string, held: number[]) => {
  const trays = Array.from({ length: 90 }, (_, i) => ({
    number: i + 1,
    state: held.includes(i + 1) ? 'holding_deposit' : 'free',
    door: 'closed',
  }));
  const counts = { free: 90 - held.length, reserved: 0, holding_deposit: held.length, holding_result: 0, to_check: 0, out_of_service: 0 };
  return { at, counts, trays };
};
const event = (lockerId: string, id: string, at: string, trayNo: number) => ({
  id,
  type: 'tray.door_closed',
  at,
  lockerId,
  data: { tray: trayNo },
});

t.test(
  'the ingest stores in batches, acknowledges after the commit, and waits for a blocked database',
  { skip: noMosquitto },
  async (t) => {
    const scope = lifo(t);
    const broker = await startMosquitto(scope);
    const db = await freshDatabaseUrl();
    scope.teardown(() => db.drop());
    const fleet = new FleetService({
      databaseUrl: db.url,
      mqttUrl: broker.url,
      baseTopic: BASE,
      instance: `ingest-${randomUUID().slice(0, 8)}`,
      adminToken: TOKEN,
      logger: silentLogger(),
      ingest: { receiveMaximum: WINDOW, keepaliveSec: KEEPALIVE_SEC },
    });
    await fleet.start();
    scope.teardown(() => fleet.stop());
    const direct = new pg.Pool({ connectionString: db.url, max: 2 });
    scope.teardown(() => direct.end());
    const publisher: MqttClient = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `ingest-pub-${randomUUID()}` });
    scope.teardown(() => publisher.endAsync());
    const publish = (topic: string, payload: unknown) =>
      publisher.publishAsync(`${BASE}/${topic}`, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
    const count = async (sql: string, params: unknown[] = []) => (await direct.query<{ n: number }>(sql, params)).rows[0].n;

    await t.test('a burst: batched, each message applied as alone', async (t) => {
      const locker = 'd6-burst';
      const t0 = Date.parse('2026-12-01T01:00:00Z');
      const at = (s: number) => new Date(t0 + s * 1000).toISOString();
      const ids = Array.from({ length: 400 }, () => randomUUID());
      const sent: Promise<unknown>[] = [];
      // Tray 7: newest first, then older ones (which must not win), then an older occupancy.
      sent.push(publish(`${locker}/trays/7`, tray(7, 'holding_result', at(50))));
      for (let s = 0; s < 10; s++) sent.push(publish(`${locker}/trays/7`, tray(7, 'free', at(s))));
      sent.push(publish(`${locker}/occupancy`, occupancy(at(30), [1, 2, 3])));
      sent.push(publish(`${locker}/occupancy`, occupancy(at(20), [4])));
      // Availability has no time of its own: the last received wins.
      sent.push(publish(`${locker}/availability`, 'offline'), publish(`${locker}/availability`, 'online'));
      // 400 events, 25 of them twice; payloads outside the contract (four with the tray number below).
      ids.forEach((id, i) => sent.push(publish(`${locker}/events/tray.door_closed`, event(locker, id, at(100 + i), 1 + (i % 90)))));
      ids
        .slice(0, 25)
        .forEach((id, i) => sent.push(publish(`${locker}/events/tray.door_closed`, event(locker, id, at(100 + i), 1 + (i % 90)))));
      sent.push(publish(`${locker}/events/tray.door_closed`, '{"not": "an event"'));
      sent.push(publish(`${locker}/events/tray.door_closed`, { ...event(locker, randomUUID(), at(1), 1), data: { tray: 'one' } }));
      sent.push(publish(`${locker}/trays/8`, tray(9, 'free', at(1))));
      // A tray number the store cannot keep as digits (its occupancy would not read back).
      const bad = occupancy(at(40), []);
      bad.trays[0].number = -1;
      sent.push(publish(`${locker}/occupancy`, bad));
      await Promise.all(sent);
      const total = sent.length;

      await until(
        async () => (await count('SELECT count(*)::int AS n FROM fleet_events WHERE locker_id = $1', [locker])) === 400,
        'every event',
      );
      await until(() => fleet.ingest.status().inHand === 0, 'nothing in hand');
      const status = fleet.ingest.status();
      t.match(status, { duplicates: 25, rejected: 4, failed: 0 }, 'duplicates and refusals counted');
      t.equal(status.stored, total - 25 - 4, 'every other message stored');
      t.ok(status.batches < total / 2, `${total} messages in ${status.batches} transactions (largest ${status.largestBatch})`);

      const row = (await direct.query('SELECT * FROM fleet_lockers WHERE locker_id = $1', [locker])).rows[0];
      t.equal(row.online, true, 'the last availability received');
      t.equal(row.occupancy_at.toISOString(), at(30), 'the newest occupancy, whatever the order');
      t.equal((await fleet.store.lockers({ ids: [locker] }))[0].lastEventAt, at(499), 'the newest event');
      // The grid: each tray from the newer of its own message and the occupancy.
      const grid = await fleet.http.inject({
        method: 'GET',
        url: `/api/fleet/lockers/${locker}`,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const trays = grid.json().trays;
      t.equal(trays.length, 90, 'every tray, from the occupancy');
      t.match(
        trays[6],
        { number: 7, state: 'holding_result', cabinet: 'A', size: 'M', at: at(50) },
        'tray 7: its newest reading (older ones and the older occupancy after it lost)',
      );
      t.match(trays[0], { number: 1, state: 'holding_deposit', cabinet: '?', at: at(30) }, 'tray 1 from the newest occupancy');
      t.same(
        trays.filter((r: { state: string }) => r.state === 'holding_deposit').map((r: { number: number }) => r.number),
        [1, 2, 3],
        'the other trays from the newest occupancy',
      );
    });

    await t.test('the same state again (as every instance receives it) writes nothing', async (t) => {
      const locker = 'd6-burst';
      const version = async () =>
        (await direct.query<{ xmin: string }>('SELECT xmin::text FROM fleet_trays WHERE locker_id = $1 AND tray = 7', [locker])).rows[0]
          .xmin;
      const before = await version();
      const stored = fleet.ingest.status().stored;
      const at50 = new Date(Date.parse('2026-12-01T01:00:00Z') + 50_000).toISOString();
      await publish(`${locker}/trays/7`, tray(7, 'holding_result', at50));
      await until(() => fleet.ingest.status().stored === stored + 1, 'the message handled');
      t.equal(await version(), before, 'the row untouched');
      await publish(`${locker}/trays/7`, tray(7, 'to_check', at50));
      await until(() => fleet.ingest.status().stored === stored + 2, 'the message handled');
      t.not(await version(), before, 'a different reading of the same moment is written (the later received wins)');
    });

    await t.test('the database blocked: the broker waits at the window, the link stays up, all is stored after', async (t) => {
      const locker = 'd6-blocked';
      const before = fleet.ingest.status();
      const lock = await direct.connect();
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE fleet_lockers IN ACCESS EXCLUSIVE MODE');
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        await lock.query('ROLLBACK');
        lock.release();
      };
      scope.teardown(release);
      const n = 4 * WINDOW;
      const t0 = Date.now();
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          publish(`${locker}/events/tray.door_closed`, event(locker, randomUUID(), new Date(t0 + i).toISOString(), 1 + (i % 90))),
        ),
      );
      await until(() => fleet.ingest.status().inHand >= WINDOW, `the window full (${WINDOW} in hand)`);
      // Mosquitto may send a little more than the window after a batch of PUBACKs (the first test's
      // last batch): what matters is that nothing more comes while nothing is acknowledged.
      await sleep(500);
      const full = fleet.ingest.status().inHand;
      t.ok(full < n, `${full} of the ${n} in hand: the broker keeps the rest`);
      // Several keepalives: the broker sends nothing more, and the link holds (the PINGRESP is read).
      await sleep(4_000 * KEEPALIVE_SEC);
      const held = fleet.ingest.status();
      t.equal(held.inHand, full, 'nothing more delivered while nothing is acknowledged');
      t.equal(held.stored, before.stored, 'nothing stored meanwhile');
      t.equal(held.connected, true, 'the link up through four keepalives');
      t.equal(fleet.peers.status().replays, 0, 'no lost link to report');
      await release();
      await until(
        async () => (await count('SELECT count(*)::int AS n FROM fleet_events WHERE locker_id = $1', [locker])) === n,
        `all ${n} stored`,
      );
      await until(() => fleet.ingest.status().inHand === 0, 'nothing in hand');
      t.equal(fleet.ingest.status().stored, before.stored + n, 'each once');
    });
  },
);

t.test('an instance hung inside a batch holds the others back for the idle-in-transaction limit, not for ever', async (t) => {
  const scope = lifo(t);
  const db = await freshDatabaseUrl();
  scope.teardown(() => db.drop());
  const LIMIT_MS = 500;
  const hung = new FleetStore(db.url, { idleInTransactionMs: LIMIT_MS });
  scope.teardown(() => hung.close());
  const other = new FleetStore(db.url, { idleInTransactionMs: LIMIT_MS });
  scope.teardown(() => other.close());
  await hung.migrate();
  const at = new Date().toISOString();
  await hung.write([{ kind: 'availability', lockerId: 'd6-01', online: true }]);

  // A batch of the hung instance: its locker's row locked, then nothing (the process stopped).
  // No listener of the test's own on that client: the store's must keep the end of its session
  // from ending this process (an 'error' event with nobody listening would).
  const client = await hung.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT 1 FROM fleet_lockers WHERE locker_id = 'd6-01' FOR NO KEY UPDATE");

    const started = Date.now();
    await other.write([
      { kind: 'tray', lockerId: 'd6-01', value: { number: 1, cabinet: 'A', size: 'M', state: 'free', door: 'closed', at } },
    ]);
    const waited = Date.now() - started;
    // Not instant (the row was locked), and not for ever: the limit, less what passed before `started`.
    t.ok(waited >= LIMIT_MS / 2, `the other instance waited for the lock (${waited} ms)`);
    t.ok(waited < LIMIT_MS + 5_000, `and not for longer than the limit and a margin (${waited} ms)`);
    await t.rejects(client.query('SELECT 1'), "the hung instance's session is gone: its next statement fails");
  } finally {
    client.release(); // dead: the pool drops it rather than handing it out again
  }
  t.same((await hung.pool.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'its pool goes on with a new connection');
  const { rows } = await other.pool.query("SELECT state FROM fleet_trays WHERE locker_id = 'd6-01' AND tray = 1");
  t.same(rows, [{ state: 'free' }], "the other instance's batch is stored");
});

t.test("another instance's copy of stored state is dropped without waiting for that instance's locks", async (t) => {
  const scope = lifo(t);
  const db = await freshDatabaseUrl();
  scope.teardown(() => db.drop());
  const first = new FleetStore(db.url);
  scope.teardown(() => first.close());
  const second = new FleetStore(db.url);
  scope.teardown(() => second.close());
  await first.migrate();
  const at = '2026-12-08T01:00:00.000Z';
  const earlier = '2026-12-08T00:59:59.000Z';
  const later = '2026-12-08T01:00:01.000Z';
  const round = { at, round: { at: '2026-12-08T01:00:00.000Z', label: '08:00', dossiers: 3, trays: [4, 5, 6] } };
  const state = (trayAt: string, occupancyAt = at) => [
    { kind: 'occupancy' as const, lockerId: 'd6-01', value: occupancy(occupancyAt, [4, 5, 6]) as any },
    { kind: 'tray' as const, lockerId: 'd6-01', value: tray(4, 'holding_deposit', trayAt) as any },
    { kind: 'round' as const, lockerId: 'd6-01', value: round as any },
  ];
  t.same(await first.write(state(at)), { duplicates: 0, superseded: 0 }, 'the first instance stores the state');

  // The first instance inside its next batch: the locker's row updated, not committed until the test lets go.
  const holder = await first.pool.connect();
  scope.teardown(() => holder.release());
  await holder.query('BEGIN');
  await holder.query("UPDATE fleet_lockers SET updated_at = now() WHERE locker_id = 'd6-01'");
  let held = true;
  const letGo = async () => {
    held = false;
    await holder.query('ROLLBACK');
  };
  const whileHeld = <T>(work: Promise<T>) =>
    Promise.race([
      work.then((value) => ({ value, held })),
      sleep(10_000).then(async () => {
        await letGo(); // the old way: it waits for the lock, and is answered only once it is let go
        return { value: await work, held: false };
      }),
    ]);

  // The same state again (each instance receives every state message), then a tray older than the stored one.
  const copy = await whileHeld(second.write(state(at)));
  t.ok(copy.held, "the copy was dropped while the first instance's batch held the locker");
  t.same(copy.value, { duplicates: 0, superseded: 3 }, 'its three payloads superseded by what is stored');
  const older = await whileHeld(second.write([{ kind: 'tray', lockerId: 'd6-01', value: tray(4, 'free', earlier) as any }]));
  t.ok(older.held, 'so was an older tray');
  t.same(older.value, { duplicates: 0, superseded: 1 });
  // An event (the instances share them) is added beside the locked row, and is the locker's last.
  const alarm = { id: randomUUID(), type: 'tray.door_closed' as const, at: later, data: { tray: 4 } };
  const added = await whileHeld(second.write([{ kind: 'event', lockerId: 'd6-01', event: alarm }]));
  t.ok(added.held, "an event was stored while the first instance's batch held the locker");
  t.same(added.value, { duplicates: 0, superseded: 0 });
  t.match((await second.lockers({ ids: ['d6-01'] }))[0], { lastEventType: 'tray.door_closed', lastEventAt: later }, 'its last event');
  // Two events at the same moment in one batch: the later received is the locker's last, whatever their ids.
  const same = '2026-12-08T01:00:02.000Z';
  const pair = [
    { id: 'ffffffff-0000-4000-8000-000000000000', type: 'board.fault' as const, at: same, data: { board: 'a1' } },
    { id: '00000000-0000-4000-8000-000000000000', type: 'board.recovered' as const, at: same, data: { board: 'a1' } },
  ];
  await whileHeld(second.write(pair.map((event) => ({ kind: 'event' as const, lockerId: 'd6-01', event }))));
  t.match((await second.lockers({ ids: ['d6-01'] }))[0], { lastEventType: 'board.recovered', lastEventAt: same }, 'the later received');

  // A newer tray is written: it waits for the lock, as before.
  const newer = second.write(state(later).slice(1, 2));
  await sleep(300);
  await letGo();
  t.same(await newer, { duplicates: 0, superseded: 0 }, 'a newer payload is written once the lock is let go');
  const { rows } = await second.pool.query(
    "SELECT t.at, l.occupancy_at FROM fleet_trays t JOIN fleet_lockers l USING (locker_id) WHERE locker_id = 'd6-01' AND tray = 4",
  );
  t.same(
    rows.map((r) => [r.at.toISOString(), r.occupancy_at.toISOString()]),
    [[later, at]],
    'the newer tray stored; the occupancy as the first instance wrote it',
  );
  // As new as the stored one, and not the same: written (of two equally new, the later received wins).
  const other = occupancy(at, [4, 5]) as any;
  t.same(
    await second.write([{ kind: 'occupancy', lockerId: 'd6-01', value: other }]),
    { duplicates: 0, superseded: 0 },
    'as new and different: written',
  );
  const counts = (await second.pool.query("SELECT occupancy_counts FROM fleet_lockers WHERE locker_id = 'd6-01'")).rows[0].occupancy_counts;
  t.equal(counts.holding_deposit, 2, 'the different payload is the one stored');
});

t.test("a locker's occupancy trays kept as one short text come back as they were sent", async (t) => {
  const states = ['free', 'reserved', 'holding_deposit', 'holding_result', 'to_check', 'out_of_service'] as const;
  const doors = ['open', 'closed', 'unknown'] as const;
  // Every state with every door, numbers out of order and past 90, none at all.
  const trays = states.flatMap((state, i) => doors.map((door, j) => ({ number: [7, 1, 120, 0][(i + j) % 4] + 3 * i + j, state, door })));
  const text = encodeOccupancyTrays(trays);
  t.equal(trays.length, 18, 'six states by three doors');
  t.ok(text.length < 8 * trays.length, `short (${text.length} characters for ${trays.length} trays)`);
  t.same(decodeOccupancyTrays(text), trays, 'the same trays, in the same order');
  t.same(decodeOccupancyTrays(encodeOccupancyTrays([])), [], 'no trays');
  t.throws(() => decodeOccupancyTrays('12fc,13xc'), /13xc/, 'a damaged entry is refused, not guessed');
  t.throws(() => decodeOccupancyTrays('fc'), /fc/, 'an entry without a number is refused');
});
