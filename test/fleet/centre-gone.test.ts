/**
 * Lockers keep working when the centre is gone (issue 14). Against a Mosquitto of the test's own,
 * the test PostgreSQL, real cabinet controllers and a real fleet service:
 * - the broker killed (SIGKILL) and started again on the same port: the cabinet serves on without
 *   waiting, says its broker is down, the fleet says it is degraded; once the broker is back the
 *   fleet holds exactly the events the locker wrote, and its trays as they are;
 * - the fleet service stopped while the broker stays: the cabinet does not notice; the fleet,
 *   started again, shows the locker as it is now and holds exactly the events it wrote, those
 *   published while no instance ran too;
 * - a locker's link going silent (no FIN), then its process dying (the connection broken, no
 *   DISCONNECT): its requests answered as promptly, its outbox delivered when the link returns,
 *   and offline at the fleet (its last will) within the keep-alive, or at once.
 */
import t, { type Test } from 'tap';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { FleetService } from '../../src/fleet/service.js';
import { displayState } from '../../src/domain/tray.js';
import { silentLogger } from '../../src/log.js';
import { startTestLocker, type TestLocker } from '../helpers/controller.js';
import { codeFor, depositProcedure } from '../helpers/citizens.js';
import { dbKind, freshDatabaseUrl } from '../helpers/db.js';
import { noMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { lifo, until } from '../helpers/mqtt.js';

const TOKEN = 'fleet-admin-token-0123456789';
const BASE = 'atm247test';
/** The cabinets' keep-alive here: the schema's minimum (30 s by default). */
const KEEPALIVE_SEC = 5;
/**
 * A cabinet's request answers within this. The link gives up a connect attempt or a PUBACK after
 * 10 s: a request that waited on the broker would take that long.
 */
const PROMPT_MS = 2_000;
/** Waits for what the broker, the fleet and the lockers do by themselves. */
const PATIENCE_MS = 20_000;

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** The centre: a Mosquitto and the fleet's database; `fleet()` starts an instance on them. */
async function centre(scope: Teardown) {
  const broker = await startMosquitto(scope);
  const db = await freshDatabaseUrl();
  scope.teardown(() => db.drop());
  const fleet = async (instance: string): Promise<FleetService> => {
    const service = new FleetService({
      databaseUrl: db.url,
      mqttUrl: broker.url,
      baseTopic: BASE,
      group: 'fleet',
      instance,
      adminToken: TOKEN,
      logger: silentLogger(),
    });
    await service.start();
    scope.teardown(() => service.stop());
    return service;
  };
  return { broker, fleet };
}

/** A cabinet controller on `mqttUrl` (the centre's broker, or a way to it), with a short keep-alive. */
function lockerOn(scope: Teardown, mqttUrl: string): Promise<TestLocker> {
  return startTestLocker(
    scope,
    {},
    {
      configure: (c) => {
        c.mqtt.url = mqttUrl;
        c.mqtt.keepaliveSec = KEEPALIVE_SEC;
      },
    },
  );
}

/**
 * The locker's connection to the broker, which the test breaks the two ways a street cabinet's
 * does. `cut()`: both ends closed at once, so the broker reads the end of the socket without a
 * DISCONNECT (the controller's process died). `silence()`: nothing carried any more, the broker's
 * end left open (a cable pulled, the mobile network gone): only the broker's keep-alive can tell.
 * Either way new connections are refused until `restore()`.
 */
class Uplink {
  private readonly pairs = new Set<{ down: net.Socket; up: net.Socket; silent: boolean }>();
  private refusing = false;

  private constructor(
    private readonly server: net.Server,
    readonly url: string,
  ) {}

  static async start(scope: Teardown, port: number): Promise<Uplink> {
    // eslint-disable-next-line prefer-const
    let uplink!: Uplink;
    const server = net.createServer((down) => uplink.accept(down, port));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    uplink = new Uplink(server, `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    scope.teardown(() => uplink.close());
    return uplink;
  }

  cut(): void {
    this.refusing = true;
    for (const { down, up } of this.pairs) {
      down.destroy();
      up.destroy();
    }
    this.pairs.clear();
  }

  silence(): void {
    this.refusing = true;
    for (const pair of this.pairs) {
      pair.silent = true;
      pair.down.unpipe(pair.up);
      pair.up.unpipe(pair.down);
      // Read and drop what either side still sends.
      pair.down.resume();
      pair.up.resume();
    }
  }

  restore(): void {
    for (const pair of [...this.pairs].filter((p) => p.silent)) {
      pair.down.destroy();
      pair.up.destroy();
      this.pairs.delete(pair);
    }
    this.refusing = false;
  }

  private async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(down: net.Socket, port: number): void {
    if (this.refusing) {
      down.destroy();
      return;
    }
    const up = net.connect(port, '127.0.0.1');
    const pair = { down, up, silent: false };
    this.pairs.add(pair);
    for (const socket of [down, up]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        // A silenced connection stays open at the other end: that is the point.
        if (pair.silent) return;
        this.pairs.delete(pair);
        down.destroy();
        up.destroy();
      });
    }
    down.pipe(up);
    up.pipe(down);
  }
}

const fleetGet = (fleet: FleetService, url: string) =>
  fleet.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });

/** Every event the locker wrote (its outbox, sent or not), sorted. */
async function outboxIds(locker: TestLocker): Promise<string[]> {
  const { rows } = await locker.controller.database.query<{ id: string }>(`SELECT id::text FROM outbox WHERE locker_id = $1`, [
    locker.lockerId,
  ]);
  return rows.map((r) => r.id).sort();
}

/** The locker's events the broker has not acknowledged yet, sorted. */
async function unsentIds(locker: TestLocker): Promise<string[]> {
  const { rows } = await locker.controller.database.query<{ id: string }>(
    `SELECT id::text FROM outbox WHERE locker_id = $1 AND sent_at IS NULL`,
    [locker.lockerId],
  );
  return rows.map((r) => r.id).sort();
}

const unsent = async (locker: TestLocker) => (await unsentIds(locker)).length;

/** Asserts that what the locker wrote since `before` (its outbox then) waits in its outbox, and nothing else. */
async function waitingSince(t: Test, locker: TestLocker, before: string[]): Promise<void> {
  const since = (await outboxIds(locker)).filter((id) => !before.includes(id));
  t.ok(since.length > 0, `the locker wrote events meanwhile (${since.length})`);
  t.same(await unsentIds(locker), since, 'they wait in its outbox, all of them');
}

/** Every event the fleet holds for the locker, sorted (keyed by the event's id: once each). */
async function fleetIds(fleet: FleetService, lockerId: string): Promise<string[]> {
  const { rows } = await fleet.store.pool.query<{ id: string }>('SELECT id::text FROM fleet_events WHERE locker_id = $1', [lockerId]);
  return rows.map((r) => r.id).sort();
}

/** Every event the locker wrote is at the fleet. */
async function allAtFleet(fleet: FleetService, locker: TestLocker): Promise<boolean> {
  const held = new Set(await fleetIds(fleet, locker.lockerId));
  return (await outboxIds(locker)).every((id) => held.has(id));
}

/** The locker's trays as it has them now, in the fleet's terms. */
async function lockerTrays(locker: TestLocker) {
  return (await locker.controller.trays.list()).map((tray) => ({ number: tray.number, state: displayState(tray), door: tray.door }));
}

/** The locker as the fleet shows it: online or not, and its trays. */
async function atFleet(fleet: FleetService, lockerId: string) {
  const res = await fleetGet(fleet, `/api/fleet/lockers/${lockerId}`);
  if (res.statusCode !== 200) return null;
  const locker = res.json() as { online: boolean | null; trays: { number: number; state: string; door: string }[] };
  return { online: locker.online, trays: locker.trays.map(({ number, state, door }) => ({ number, state, door })) };
}

/** Waits until `check` holds or `timeoutMs` passes; the caller then asserts on what is there. */
async function settle(check: () => Promise<boolean>, timeoutMs = PATIENCE_MS): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline && !(await check());) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the fleet shows the locker's trays as the locker has them, and asserts it. */
async function sameTrays(t: Test, fleet: FleetService, locker: TestLocker, what: string): Promise<void> {
  const same = async () => JSON.stringify((await atFleet(fleet, locker.lockerId))?.trays) === JSON.stringify(await lockerTrays(locker));
  await settle(same);
  t.same((await atFleet(fleet, locker.lockerId))?.trays, await lockerTrays(locker), what);
}

async function timed<T>(request: () => Promise<T>): Promise<{ res: T; ms: number }> {
  const started = performance.now();
  const res = await request();
  return { res, ms: Math.round(performance.now() - started) };
}

/**
 * The cabinet's everyday work, every step of which writes outbox events: an admin opens `tray`
 * for maintenance and its door opens and closes; a citizen deposits a dossier (asks for a code,
 * gives it, puts the dossier in the tray given and closes the door). Asserts every answer, and
 * that each came within PROMPT_MS. Returns the deposit's tray.
 */
async function cabinetWork(t: Test, locker: TestLocker, tray: number, phone: string): Promise<number> {
  const took: number[] = [];
  const open = await timed(() => locker.admin.post(`/api/admin/trays/${tray}/open`, { reason: 'maintenance' }));
  t.equal(open.res.statusCode, 200, `the admin opens tray ${tray}`);
  took.push(open.ms);
  took.push(await door(t, locker, tray, true), await door(t, locker, tray, false));

  const procedureCode = await depositProcedure(locker);
  const start = await timed(() => locker.anonymous.post('/api/deposits', { phone, procedureCode }));
  t.equal(start.res.statusCode, 202, 'a citizen asks to deposit: a code is on its way');
  took.push(start.ms);
  const otp = await codeFor(locker, phone.replace(/\s/g, ''));
  const verify = await timed(() => locker.anonymous.post(`/api/deposits/${start.res.json().challengeId}/verify`, { otp }));
  t.equal(verify.res.statusCode, 200, 'the code is accepted, a tray given');
  took.push(verify.ms);
  const { tray: depositTray, depositId } = verify.res.json();
  took.push(await door(t, locker, depositTray, true), await door(t, locker, depositTray, false));
  const status = await timed(() => locker.anonymous.get(`/api/deposits/${depositId}`));
  t.equal(status.res.json().status, 'deposited', 'the dossier is in');
  took.push(status.ms);
  t.ok(
    took.every((ms) => ms < PROMPT_MS),
    `every request answered within ${PROMPT_MS} ms (${took.join(', ')} ms)`,
  );
  return depositTray;
}

/** Moves a tray's door in the simulated cabinet, waits for the locker to record it; returns the request's time. */
async function door(t: Test, locker: TestLocker, tray: number, open: boolean): Promise<number> {
  const move = await timed(() => locker.anonymous.post(`/api/sim/trays/${tray}/door`, { open }));
  t.equal(move.res.statusCode, 200, `tray ${tray}'s door ${open ? 'opened' : 'closed'}`);
  await until(async () => (await locker.controller.trays.get(tray)).door === (open ? 'open' : 'closed'), `tray ${tray}'s door`, 5_000);
  await locker.controller.trays.settled();
  return move.ms;
}

const fleetHealth = (fleet: FleetService) => fleet.http.inject({ method: 'GET', url: '/health' });

const lockerHealth = async (locker: TestLocker) => (await locker.anonymous.get('/health')).json();

/** The locker online at the fleet, and every event it wrote so far sent and at the fleet. Returns its outbox. */
async function caughtUp(fleet: FleetService, locker: TestLocker, what: string): Promise<string[]> {
  await until(
    async () =>
      (await atFleet(fleet, locker.lockerId))?.online === true && (await unsent(locker)) === 0 && (await allAtFleet(fleet, locker)),
    what,
    PATIENCE_MS,
  );
  return outboxIds(locker);
}

t.test(`the broker killed and started again (${dbKind}, Mosquitto)`, { skip: noMosquitto }, async (t) => {
  const scope = lifo(t);
  const { broker, fleet: startFleet } = await centre(scope);
  const fleet = await startFleet(`gone-${randomUUID().slice(0, 8)}`);
  const locker = await lockerOn(scope, broker.url);
  // Everything so far at the fleet first. What this broker has acknowledged to the locker and not
  // yet delivered to the fleet dies with it (nothing of the fleet's clean sessions outlives it);
  // only a replay brings it back: test/fleet/broker-crash.test.ts.
  const before = await caughtUp(fleet, locker, 'the locker at the fleet, with its events so far');

  await broker.kill();
  await until(async () => (await lockerHealth(locker)).mqtt === 'down', 'the locker to see its broker gone', PATIENCE_MS);
  t.match(await lockerHealth(locker), { status: 'degraded', db: 'ok', mqtt: 'down', bus: 'ok' }, 'the locker: broker down, the rest fine');
  await settle(async () => (await fleetHealth(fleet)).statusCode === 503);
  const health = await fleetHealth(fleet);
  t.equal(health.statusCode, 503, 'the fleet: 503');
  t.match(health.json(), { status: 'degraded', db: 'ok', mqtt: 'down' }, 'degraded, its broker down');

  const depositTray = await cabinetWork(t, locker, 5, '0903 111 222');
  await waitingSince(t, locker, before);
  t.equal((await atFleet(fleet, locker.lockerId))?.trays[depositTray - 1].state, 'free', 'the fleet has not heard of them');

  // Back on the same port, with nothing kept: no session, no retained message. The locker, back
  // first, publishes its outbox while no fleet instance holds the shared subscription, which
  // Mosquitto gives to nobody and keeps for nobody (ADR 0022); the fleet, whose own link was lost,
  // asks the lockers to publish again what they sent since just before, and a locker that connects
  // after that is asked again (ADR 0023).
  await broker.restart();
  await until(async () => (await lockerHealth(locker)).mqtt === 'ok', 'the locker back on the broker', PATIENCE_MS);
  await until(async () => (await fleetHealth(fleet)).statusCode === 200, 'the fleet back on the broker', PATIENCE_MS);
  await settle(async () => (await unsent(locker)) === 0 && (await allAtFleet(fleet, locker)));
  t.equal(await unsent(locker), 0, 'the outbox delivered everything, by itself');
  t.same(await fleetIds(fleet, locker.lockerId), await outboxIds(locker), "the fleet holds exactly the locker's events");
  t.equal((await atFleet(fleet, locker.lockerId))?.online, true, 'online at the fleet');
  await sameTrays(t, fleet, locker, "the fleet shows the locker's trays as they are now");
  t.match(
    (await atFleet(fleet, locker.lockerId))?.trays[depositTray - 1],
    { state: 'holding_deposit', door: 'closed' },
    'the deposit in one',
  );

  // And the work goes on, all of it at the fleet.
  await cabinetWork(t, locker, 6, '0903 111 333');
  await settle(async () => (await unsent(locker)) === 0 && (await allAtFleet(fleet, locker)));
  t.same(await fleetIds(fleet, locker.lockerId), await outboxIds(locker), 'still exactly');
  await sameTrays(t, fleet, locker, 'and its trays');
});

t.test(`the fleet service stopped, the broker up (${dbKind}, Mosquitto)`, { skip: noMosquitto }, async (t) => {
  const scope = lifo(t);
  const { broker, fleet: startFleet } = await centre(scope);
  const instance = `gone-${randomUUID().slice(0, 8)}`;
  const first = await startFleet(instance);
  const locker = await lockerOn(scope, broker.url);
  const before = await caughtUp(first, locker, 'the locker at the fleet, with its events so far');

  // A planned stop of the only instance: the fleet is down, the broker up. What the locker
  // publishes meanwhile Mosquitto gives to nobody and keeps for nobody (ADR 0022), and the locker
  // counts it sent.
  await first.stop();
  t.match(await lockerHealth(locker), { status: 'ok', mqtt: 'ok' }, 'the locker does not notice');
  const depositTray = await cabinetWork(t, locker, 5, '0903 222 111');
  await settle(async () => (await unsent(locker)) === 0);
  t.equal(await unsent(locker), 0, 'the broker took every event');
  const gap = (await outboxIds(locker)).filter((id) => !before.includes(id));
  t.ok(gap.length > 0, `events published while no fleet instance ran (${gap.length})`);

  // The same instance again (same name, same client id), as after a restart. The last instance's
  // stop was recorded: it asks the lockers to publish again what they sent since (ADR 0023).
  const fleet = await startFleet(instance);
  await settle(async () => (await atFleet(fleet, locker.lockerId))?.online === true);
  t.equal((await atFleet(fleet, locker.lockerId))?.online, true, 'online at the fleet');
  await sameTrays(t, fleet, locker, "the fleet shows the locker's trays as they are now");
  t.match(
    (await atFleet(fleet, locker.lockerId))?.trays[depositTray - 1],
    { state: 'holding_deposit', door: 'closed' },
    'the deposit in one',
  );
  await settle(() => allAtFleet(fleet, locker));
  t.same(await fleetIds(fleet, locker.lockerId), await outboxIds(locker), "the fleet holds exactly the locker's events");

  // And the work goes on, all of it at the fleet.
  await cabinetWork(t, locker, 6, '0903 222 333');
  await settle(async () => (await unsent(locker)) === 0 && (await allAtFleet(fleet, locker)));
  t.same(await fleetIds(fleet, locker.lockerId), await outboxIds(locker), 'still exactly');
});

t.test(`a locker's link goes silent, then its process dies (${dbKind}, Mosquitto)`, { skip: noMosquitto }, async (t) => {
  const scope = lifo(t);
  const { broker, fleet: startFleet } = await centre(scope);
  const fleet = await startFleet(`gone-${randomUUID().slice(0, 8)}`);
  const uplink = await Uplink.start(scope, broker.port);
  const locker = await lockerOn(scope, uplink.url);
  const before = await caughtUp(fleet, locker, 'the locker at the fleet, with its events so far');

  // The link goes silent: no FIN, no RST. The cabinet works on, its requests answered as promptly
  // while its link still looks up (a PUBACK that never comes) as after it has given the link up.
  uplink.silence();
  const silentAt = Date.now();
  t.equal((await lockerHealth(locker)).mqtt, 'ok', 'the locker cannot tell yet');
  const since = (done: Promise<unknown>) => done.then(() => Date.now() - silentAt);
  const lockerKnows = since(until(async () => (await lockerHealth(locker)).mqtt === 'down', 'the locker to notice', PATIENCE_MS));
  const fleetKnows = since(
    until(async () => (await atFleet(fleet, locker.lockerId))?.online === false, 'offline at the fleet', PATIENCE_MS),
  );
  await cabinetWork(t, locker, 5, '0903 333 111');
  const [lockerMs, fleetMs] = await Promise.all([lockerKnows, fleetKnows]);
  // The locker gives its link up 1.5 × its keep-alive after it last heard from the broker.
  t.ok(lockerMs <= 1_500 * KEEPALIVE_SEC + 2_000, `the locker says its broker is down ${lockerMs} ms after the link went silent`);
  // The broker drops a client it has not heard from for more than 1.5 × its keep-alive and sends
  // its last will; Mosquitto 2.0 counts whole seconds and looks once every 6 s: up to 7 s more.
  t.ok(
    fleetMs <= 1_500 * KEEPALIVE_SEC + 7_000,
    `offline at the fleet ${fleetMs} ms after the link went silent (keep-alive ${KEEPALIVE_SEC} s)`,
  );
  await waitingSince(t, locker, before);

  uplink.restore();
  await settle(
    async () =>
      (await unsent(locker)) === 0 && (await atFleet(fleet, locker.lockerId))?.online === true && (await allAtFleet(fleet, locker)),
  );
  t.equal((await atFleet(fleet, locker.lockerId))?.online, true, 'online again at the fleet');
  t.same(await fleetIds(fleet, locker.lockerId), await outboxIds(locker), `the fleet holds exactly the locker's events`);
  await sameTrays(t, fleet, locker, 'and its trays as they are now');

  // The process dies: its socket is closed under it, and the broker, reading the end of the
  // connection with no DISCONNECT before it, sends the last will at once.
  uplink.cut();
  const cutAt = Date.now();
  await until(async () => (await atFleet(fleet, locker.lockerId))?.online === false, 'offline at the fleet', PATIENCE_MS);
  const goneMs = Date.now() - cutAt;
  t.ok(goneMs <= 1_500 * KEEPALIVE_SEC, `offline at the fleet ${goneMs} ms after the connection broke`);
});
