/**
 * The broker crashes holding events it had acknowledged to a locker and not yet delivered to the
 * fleet, and the locker is back on it after the fleet (ADR 0023). A Mosquitto of the test's own, the
 * test PostgreSQL, a real cabinet controller and a real fleet service:
 * - the fleet's database goes away, so the fleet stores nothing and acknowledges nothing: what the
 *   locker publishes waits at the broker, and the locker counts it sent;
 * - the broker is killed (SIGKILL; no persistence) and started again; the fleet, its database back,
 *   is on it first and asks every locker it knows for a replay, which the broker acknowledges and
 *   delivers to nobody: the locker has no session there yet;
 * - the locker comes back: one instance asks it again, and the fleet ends up with exactly the
 *   events the locker wrote.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { FleetService } from '../../src/fleet/service.js';
import { silentLogger } from '../../src/log.js';
import { startTestLocker, type TestLocker } from '../helpers/controller.js';
import { dbKind, freshDatabaseUrl } from '../helpers/db.js';
import { noMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { lifo, until } from '../helpers/mqtt.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const TOKEN = 'fleet-admin-token-0123456789';
const BASE = 'atm247test';
/**
 * The replay reaches back this far before what the fleet holds (60 s in production): short here,
 * so that the test fails if the request's `since` is too late.
 */
const MARGIN_MS = 500;
/** Waits for what the broker, the fleet and the locker do by themselves. */
const PATIENCE_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test(
  `the broker crashes with events for the fleet, the locker back after the fleet (${dbKind}, Mosquitto)`,
  { skip: noMosquitto },
  async (t) => {
    const scope = lifo(t);
    const broker = await startMosquitto(scope);
    const db = await freshDatabaseUrl();
    scope.teardown(() => db.drop());
    // The fleet reaches its database through a proxy the test cuts; the test reads it directly.
    const database = await TcpProxy.start(TcpProxy.postgresTarget(db.url), scope);
    const direct = new pg.Pool({ connectionString: db.url, max: 2 });
    scope.teardown(() => direct.end());
    const fleet = new FleetService({
      databaseUrl: database.urlFor(db.url),
      mqttUrl: broker.url,
      baseTopic: BASE,
      group: 'fleet',
      instance: `crash-${randomUUID().slice(0, 8)}`,
      adminToken: TOKEN,
      logger: silentLogger(),
      peers: { marginMs: MARGIN_MS },
      // One message in hand at a time: the rest waits at the broker while the database is away, so
      // that the broker's crash has something of the fleet's to lose (with a wider window the fleet
      // holds what the broker sent it, stores it when the database is back, and nothing is lost).
      ingest: { receiveMaximum: 1 },
    });
    await fleet.start();
    scope.teardown(() => fleet.stop());
    // The locker reaches the broker through a proxy that the test closes to keep it away.
    const uplink = await TcpProxy.start({ host: '127.0.0.1', port: broker.port }, scope);
    const locker: TestLocker = await startTestLocker(
      scope,
      {},
      { configure: (c) => void (c.mqtt.url = `mqtt://127.0.0.1:${uplink.port}`) },
    );

    /** Every event the locker wrote (its outbox, sent or not), sorted. */
    const outboxIds = async () =>
      (await locker.controller.database.query<{ id: string }>(`SELECT id::text FROM outbox WHERE locker_id = $1`, [locker.lockerId])).rows
        .map((r) => r.id)
        .sort();
    const unsent = async () =>
      (
        await locker.controller.database.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox WHERE locker_id = $1 AND sent_at IS NULL`,
          [locker.lockerId],
        )
      ).rows[0].n;
    /** Every event the fleet holds for the locker, sorted (keyed by the event's id: once each). */
    const fleetIds = async () =>
      (await direct.query<{ id: string }>('SELECT id::text FROM fleet_events WHERE locker_id = $1', [locker.lockerId])).rows
        .map((r) => r.id)
        .sort();
    const missing = async () => {
      const held = new Set(await fleetIds());
      return (await outboxIds()).filter((id) => !held.has(id));
    };
    /** An admin opens a tray; its door opens and closes: three events. */
    const useTray = async (tray: number) => {
      t.equal((await locker.admin.post(`/api/admin/trays/${tray}/open`, { reason: 'maintenance' })).statusCode, 200, `tray ${tray} opened`);
      locker.controller.cabinet!.setDoor(tray, true);
      await until(async () => (await locker.controller.trays.get(tray)).door === 'open', `tray ${tray} open`);
      locker.controller.cabinet!.setDoor(tray, false);
      await until(async () => (await locker.controller.trays.get(tray)).door === 'closed', `tray ${tray} closed`);
    };

    await useTray(2);
    await until(async () => (await unsent()) === 0 && (await missing()).length === 0, 'every event at the fleet', PATIENCE_MS);
    // Asked on its first connect too: that replay over (every event it had sent, duplicates all)
    // before the test goes on, so that nothing of it is left to bring back what the broker loses.
    await until(() => fleet.peers.status().connectsAsked === 1, 'the locker asked on its first connect');
    const sentAtFirst = (await outboxIds()).length;
    await until(() => fleet.ingest.status().duplicates >= sentAtFirst, 'its replay over', PATIENCE_MS);

    // The fleet's database goes away: the fleet holds the first message it was given, acknowledges
    // nothing, and the broker keeps the rest for it. The locker sees its events acknowledged.
    database.cut();
    await useTray(3);
    await useTray(4);
    await until(async () => (await unsent()) === 0, 'every event acknowledged by the broker', PATIENCE_MS);
    const atBroker = await missing();
    t.ok(atBroker.length >= 6, `the fleet lacks what waits at the broker (${atBroker.length})`);

    // The broker dies with them; the locker is kept away from its successor, and works on meanwhile.
    await broker.kill();
    uplink.cut();
    await until(async () => (await locker.anonymous.get('/health')).json().mqtt === 'down', 'the locker to see its broker gone');
    await useTray(5);
    await sleep(2 * MARGIN_MS);

    // The database back, the broker back: the fleet is on it first, stores the message it held, and
    // asks every locker it knows for what its lost link held. The broker acknowledges the request to
    // this locker, and has nobody to give it to.
    database.resume();
    await broker.restart();
    await until(() => fleet.peers.status().replays === 1, "the fleet's request after its lost link", PATIENCE_MS);
    t.match(fleet.peers.status(), { replays: 1, lockersAsked: 1 }, 'the locker counted asked');
    await sleep(3_000);
    const lost = (await missing()).filter((id) => atBroker.includes(id)).length;
    t.ok(lost > 0, `${atBroker.length - lost} of the ${atBroker.length} at the fleet; the rest died with the broker`);

    // The locker back: its outbox goes out by itself, and it is asked for what it had sent.
    uplink.resume();
    await until(async () => (await unsent()) === 0, 'the locker back on the broker, its outbox delivered', PATIENCE_MS);
    for (const deadline = Date.now() + PATIENCE_MS; Date.now() < deadline && (await missing()).length > 0;) await sleep(100);
    t.same(await fleetIds(), await outboxIds(), `the fleet holds exactly the ${(await outboxIds()).length} events the locker wrote`);
    t.equal(fleet.peers.status().connectsAsked, 2, 'asked once on its return');
    t.equal(fleet.peers.status().replays, 1, 'not every locker again');
  },
);
