/**
 * The fleet instances' heartbeats and the replay after a crash (src/fleet/peers.ts, ADR 0023), on
 * the test PostgreSQL with stand-ins for the MQTT side: one live instance, and one only, asks the
 * lockers for what a dead run held; a planned stop asks for nothing unless it leaves the fleet
 * down; a restart under the same name replays for its previous run at once; a claim whose requests
 * did not all go out is taken over; a run taken for dead goes on under a new id; a lost link asks
 * for itself; a request some lockers did not acknowledge goes again to those only, with a back-off
 * and the same request id; a locker back on the broker is asked by one instance, from the last
 * event the fleet holds or a request to every locker it may have missed. test/fleet/crash.test.ts does the same
 * with a real crash, test/fleet/broker-crash.test.ts with a real broker restart.
 */
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { FleetPeers, type FleetPeersOptions } from '../../src/fleet/peers.js';
import { FleetStore } from '../../src/fleet/store.js';
import { silentLogger } from '../../src/log.js';
import { dbKind, freshDatabaseUrl } from '../helpers/db.js';
import { lifo, until } from '../helpers/mqtt.js';

const HEARTBEAT_MS = 50;
const STALE_MS = 400;
const MARGIN_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The MQTT side of one instance, as FleetPeers sees it. */
class FakeIngest {
  sent: { topic: string; request: { since: string; requestId: string }; at: number }[] = [];
  attempts = 0;
  /** Every publish tried, acknowledged or not. */
  tries: { topic: string; requestId: string; at: number }[] = [];
  caughtUp = Date.now();
  stoppedCleanly = true;
  refuse = false;
  /** Topics whose publishes are not acknowledged (a PUBACK timing out). */
  refuseTopics = new Set<string>();
  private lost: ((caughtUpAt: number) => void)[] = [];
  private connected: ((lockerId: string) => Promise<void>)[] = [];
  caughtUpAt = () => this.caughtUp;
  publish = async (topic: string, payload: string) => {
    this.attempts += 1;
    this.tries.push({ topic, requestId: JSON.parse(payload).requestId, at: performance.now() });
    if (this.refuse) throw new Error('not connected');
    if (this.refuseTopics.has(topic)) throw new Error('PUBACK timeout');
    this.sent.push({ topic, request: JSON.parse(payload), at: performance.now() });
  };
  onLinkLost = (listener: (caughtUpAt: number) => void) => void this.lost.push(listener);
  onLockerConnected = (listener: (lockerId: string) => Promise<void>) => void this.connected.push(listener);
  linkCameBack(caughtUpAt: number) {
    for (const listener of this.lost) listener(caughtUpAt);
  }
  /** A locker's live `online`, as the ingest hands it over. */
  async lockerOnline(lockerId: string) {
    for (const listener of this.connected) await listener(lockerId);
  }
}

async function setup(t: Test) {
  const scope = lifo(t);
  const db = await freshDatabaseUrl();
  scope.teardown(() => db.drop());
  const store = new FleetStore(db.url);
  scope.teardown(() => store.close());
  await store.migrate();
  await store.pool.query(`INSERT INTO fleet_lockers (locker_id) VALUES ('d6-01'), ('d6-02'), ('d6-03')`);
  const instances: FleetPeers[] = [];
  scope.teardown(async () => {
    for (const peers of instances) await peers.stop();
  });
  const start = async (instance: string, more: Partial<FleetPeersOptions> = {}) => {
    const ingest = new FakeIngest();
    const peers = new FleetPeers({
      pool: store.pool,
      ingest,
      instance,
      baseTopic: 'atm247',
      logger: silentLogger(),
      heartbeatMs: HEARTBEAT_MS,
      staleMs: STALE_MS,
      marginMs: MARGIN_MS,
      ...more,
    });
    await peers.start();
    instances.push(peers);
    return { peers, ingest };
  };
  /** A crash: the heartbeat stops, nothing is cleaned up. */
  const crash = async (peers: FleetPeers) => {
    (peers as unknown as { stopped: boolean }).stopped = true;
    clearInterval((peers as unknown as { timer: NodeJS.Timeout }).timer);
    await (peers as unknown as { ticking?: Promise<void> }).ticking;
  };
  const row = async (run: string) => (await store.pool.query('SELECT * FROM fleet_instances WHERE run = $1', [run])).rows[0];
  return { store, start, crash, row };
}

const lockerTopics = ['atm247/d6-01/replay', 'atm247/d6-02/replay', 'atm247/d6-03/replay'];

t.test(`a dead run is replayed by one live instance only, from a little before it was caught up (${dbKind})`, async (t) => {
  const { start, crash, row } = await setup(t);
  const dead = await start('one');
  const others = [await start('two'), await start('three'), await start('four')];
  const caughtUp = (dead.ingest.caughtUp = Date.now() - 1_000);
  await sleep(3 * HEARTBEAT_MS);
  const deadRun = dead.peers.status().run;
  await crash(dead.peers);
  const caughtUpAt = (await row(deadRun)).caught_up_at as Date;
  t.ok(Math.abs(caughtUpAt.getTime() - caughtUp) < 100, 'its heartbeat carries the moment it was caught up');
  t.same(
    others.map((o) => o.ingest.sent.length),
    [0, 0, 0],
    'nobody replays while it beats',
  );
  await until(async () => (await row(deadRun)).replay_done_at, 'the replay asked for', 5_000);
  await sleep(4 * HEARTBEAT_MS);
  const asking = others.filter((o) => o.ingest.sent.length > 0);
  t.equal(asking.length, 1, 'one instance asked');
  t.same(
    asking[0].ingest.sent.map((s) => s.topic),
    lockerTopics,
    'every locker it knows, once',
  );
  t.equal((await row(deadRun)).replay_by, asking[0].peers.status().run, 'the claim is its');
  const { since, requestId } = asking[0].ingest.sent[0].request;
  t.equal(new Date(since).getTime(), caughtUpAt.getTime() - MARGIN_MS, 'since: the margin before it was caught up');
  t.ok(
    asking[0].ingest.sent.every((s) => s.request.requestId === requestId),
    'one request id for the lot',
  );
  t.match(asking[0].peers.status(), { replays: 1, lockersAsked: 3 });
});

t.test(`a planned stop asks for nothing while another instance runs, and for the gap when it was the last (${dbKind})`, async (t) => {
  const { start, row, store } = await setup(t);
  const a = await start('a');
  const b = await start('b');
  await sleep(2 * HEARTBEAT_MS);
  const aRun = a.peers.status().run;
  await a.peers.stop();
  t.notOk(await row(aRun), 'its row is gone');
  await sleep(STALE_MS + 4 * HEARTBEAT_MS);
  t.same(b.ingest.sent, [], 'nobody asks the lockers');

  // The last one stops: the fleet is down, and its row says since when.
  const bRun = b.peers.status().run;
  await b.peers.stop();
  const stopped = await row(bRun);
  t.ok(stopped.stopped_at, 'the last one leaves its row, marked stopped');
  const c = await start('c');
  await until(() => c.ingest.sent.length === 3, 'the next to start asks the lockers', 2_000);
  t.ok(
    c.ingest.sent.every((s) => new Date(s.request.since).getTime() === stopped.caught_up_at.getTime() - MARGIN_MS),
    'since a little before it stopped',
  );
  await until(async () => (await row(bRun)).replay_done_at, 'marked done');
  await sleep(3 * HEARTBEAT_MS);
  t.equal(c.ingest.sent.length, 3, 'once');
  const { rows } = await store.pool.query('SELECT count(*)::int AS n FROM fleet_instances WHERE replay_done_at IS NULL');
  t.equal(rows[0].n, 1, 'only the running one is left to watch');
});

t.test(`an unclean stop, a restart under the same name, a claim taken over, a run taken for dead (${dbKind})`, async (t) => {
  const { start, crash, row, store } = await setup(t);
  // A stop that could not store everything it was sent: treated as a crash.
  const a = await start('a');
  a.ingest.stoppedCleanly = false;
  const aRun = a.peers.status().run;
  await a.peers.stop();
  t.ok(await row(aRun), 'its row stays');
  t.notOk((await row(aRun)).stopped_at, 'not marked stopped: it goes stale');

  // The same name again at once: its previous run is gone for sure, no need to wait for staleness.
  const again = await start('a');
  await until(() => again.ingest.sent.length === 3, 'its previous run replayed', 1_000);
  t.ok(Date.now() - (await row(aRun)).seen_at.getTime() < STALE_MS, 'before that run was stale');

  // A claimant whose requests do not all go out (its own link down) leaves the run to another.
  const b = await start('b');
  await sleep(3 * HEARTBEAT_MS);
  again.ingest.refuse = true;
  again.ingest.attempts = 0;
  await crash(b.peers);
  const bRun = b.peers.status().run;
  await until(() => again.ingest.attempts >= 3, 'a claim whose requests failed', 5_000);
  // Within its hold-off (the staleness), another instance starts.
  const c = await start('c');
  await until(async () => (await row(bRun)).replay_by === null, 'the claim released');
  t.notOk((await row(bRun)).replay_done_at, 'not done');
  await until(() => c.ingest.sent.length === 3, 'the run replayed by another instance', 5_000);
  t.equal((await row(bRun)).replay_by, c.peers.status().run, 'the claim is the new one’s');
  await until(async () => (await row(bRun)).replay_done_at, 'and done');
  again.ingest.refuse = false;

  // A run whose row was claimed while it lived goes on as a new run, and is watched again.
  const lines: Record<string, any>[] = [];
  const slow = await start('slow', { logger: pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) }) });
  const oldRun = slow.peers.status().run;
  await store.pool.query('UPDATE fleet_instances SET replay_by = $1, replay_claimed_at = now() WHERE run = $2', [randomUUID(), oldRun]);
  await until(() => slow.peers.status().run !== oldRun, 'a new run', 2_000);
  t.ok(await row(slow.peers.status().run), 'beating under its new id');
  t.match(lines, [{ msg: /taken for dead/ }], 'and says so');
});

t.test(`a lost link asks the lockers for what the broker dropped with the session (${dbKind})`, async (t) => {
  const { start } = await setup(t);
  const a = await start('a');
  const lostAt = Date.now() - 5_000;
  a.ingest.refuse = true;
  a.ingest.linkCameBack(lostAt);
  await sleep(3 * HEARTBEAT_MS);
  t.same(a.ingest.sent, [], 'not while it cannot publish');
  a.ingest.refuse = false;
  await until(() => a.ingest.sent.length === 3, 'asked once it can', 2_000);
  t.ok(
    a.ingest.sent.every((s) => new Date(s.request.since).getTime() === lostAt - MARGIN_MS),
    'since a little before it was last caught up',
  );
  await sleep(3 * HEARTBEAT_MS);
  t.equal(a.ingest.sent.length, 3, 'once');
});

t.test(`a request one locker did not acknowledge goes again to that locker only, backing off (${dbKind})`, async (t) => {
  const { start, store } = await setup(t);
  const RETRY_MAX_MS = 8 * HEARTBEAT_MS;
  const a = await start('a', { retryMaxMs: RETRY_MAX_MS });
  a.ingest.refuseTopics.add('atm247/d6-02/replay');
  const lostAt = Date.now() - 5_000;
  a.ingest.linkCameBack(lostAt);
  const tries = () => a.ingest.tries.filter((s) => s.topic === 'atm247/d6-02/replay');
  await until(() => tries().length >= 7, 'asked again a few times', 5_000);
  t.same(
    a.ingest.tries.slice(0, 3).map((s) => s.topic),
    lockerTopics,
    'every locker asked first',
  );
  t.same(
    a.ingest.tries.slice(3).map((s) => s.topic),
    a.ingest.tries.slice(3).map(() => 'atm247/d6-02/replay'),
    'then only the locker that did not acknowledge',
  );
  t.same(
    a.ingest.sent.map((s) => s.topic),
    ['atm247/d6-01/replay', 'atm247/d6-03/replay'],
    'the others once',
  );
  const gaps = tries()
    .slice(1)
    .map((s, i) => s.at - tries()[i].at);
  // A heartbeat, then twice as long each time up to the most; each on a heartbeat, and a loaded machine runs late.
  const expected = gaps.map((_, i) => Math.min(RETRY_MAX_MS, HEARTBEAT_MS * 2 ** i));
  t.ok(
    gaps.every((g, i) => g >= expected[i] - 10 && g <= expected[i] + 4 * HEARTBEAT_MS),
    `spaced by the back-off (${gaps.map(Math.round).join(', ')} ms; expected ${expected.join(', ')})`,
  );
  const { rows } = await store.pool.query('SELECT request_id::text, since FROM fleet_replays');
  t.equal(rows.length, 1, 'one request written down');
  const { requestId, since } = a.ingest.sent[0].request;
  t.ok(
    a.ingest.tries.every((s) => s.requestId === requestId),
    'under one request id',
  );
  t.equal(rows[0].request_id, requestId, 'the one written down');

  a.ingest.refuseTopics.clear();
  await until(() => a.ingest.sent.length === 3, 'acknowledged at last', 2 * RETRY_MAX_MS + 1_000);
  t.same(a.ingest.sent[2].request, { since, requestId }, 'the same request');
  const triesDone = a.ingest.tries.length;
  await sleep(RETRY_MAX_MS + 2 * HEARTBEAT_MS);
  t.equal(a.ingest.tries.length, triesDone, 'and no more');
  t.match(a.peers.status(), { replays: 1, lockersAsked: 3 });
});

t.test(`a dead run's request one locker did not acknowledge: the next claimant asks that one only (${dbKind})`, async (t) => {
  const { start, row, store } = await setup(t);
  const b = await start('b');
  const a = await start('a');
  a.ingest.stoppedCleanly = false;
  const aRun = a.peers.status().run;
  await a.peers.stop();
  // Its restart replays for it at once, and one PUBACK times out; b is the next to claim it (stale).
  const again = await start('a');
  again.ingest.refuseTopics.add('atm247/d6-02/replay');
  b.ingest.refuseTopics.add('atm247/d6-02/replay');
  await until(async () => (await row(aRun)).replay_attempts >= 2, 'asked again by the next claimant', 5_000);
  b.ingest.refuseTopics.clear();
  again.ingest.refuseTopics.clear();
  await until(async () => (await row(aRun)).replay_done_at, 'done', 5_000);
  const tries = [...again.ingest.tries, ...b.ingest.tries].sort((x, y) => x.at - y.at);
  t.same(
    tries.slice(0, 3).map((s) => s.topic),
    lockerTopics,
    'every locker asked once',
  );
  t.ok(
    tries.slice(3).every((s) => s.topic === 'atm247/d6-02/replay'),
    `then only the one that did not acknowledge (${tries.length - 3} times)`,
  );
  t.ok(
    tries.every((s) => s.requestId === tries[0].requestId),
    'under one request id',
  );
  const { rows } = await store.pool.query('SELECT request_id::text FROM fleet_replays');
  t.same(
    rows.map((r) => r.request_id),
    [tries[0].requestId],
    'written down once',
  );
  const sent = [...again.ingest.sent, ...b.ingest.sent];
  t.ok(
    sent.every((s) => s.request.since === sent[0].request.since),
    'from the same since',
  );
});

t.test(`a locker back on the broker is asked by one instance, from what the fleet holds of it (${dbKind})`, async (t) => {
  const { start, store } = await setup(t);
  const CLAIM_MS = 1_500;
  const DELAY_MS = 300;
  const timing = { connectClaimMs: CLAIM_MS, connectDelayMs: DELAY_MS };
  const a = await start('a', timing);
  const b = await start('b', timing);
  const lastAt = new Date(Date.now() - 10 * 60_000);
  await store.addEvent('d6-01', {
    id: randomUUID(),
    type: 'tray.door_opened',
    at: new Date(lastAt.getTime() - 60_000).toISOString(),
    data: { tray: 1 },
  });
  await store.addEvent('d6-01', { id: randomUUID(), type: 'tray.door_closed', at: lastAt.toISOString(), data: { tray: 1 } });
  const requests = () => [...a.ingest.sent, ...b.ingest.sent].filter((s) => s.topic === 'atm247/d6-01/replay').sort((x, y) => x.at - y.at);

  // Both instances hear the same `online`.
  const heardAt = Date.now();
  await Promise.all([a.ingest.lockerOnline('d6-01'), b.ingest.lockerOnline('d6-01')]);
  await until(() => requests().length > 0, 'the locker asked', 2_000);
  const askedAfter = Date.now() - heardAt;
  await sleep(DELAY_MS + 4 * HEARTBEAT_MS);
  t.equal(requests().length, 1, 'by one instance, once');
  t.ok(askedAfter >= DELAY_MS, `not before the locker has subscribed (${askedAfter} ms after its online)`);
  t.equal(new Date(requests()[0].request.since).getTime(), lastAt.getTime() - MARGIN_MS, 'since: the margin before its last event held');
  t.same(
    [...a.ingest.sent, ...b.ingest.sent].map((s) => s.topic),
    ['atm247/d6-01/replay'],
    'no other locker asked',
  );
  t.equal(a.peers.status().connectsAsked + b.peers.status().connectsAsked, 1, 'counted');
  t.equal(a.peers.status().replays + b.peers.status().replays, 0, 'not a replay of every locker');

  // The same connect heard again a moment later (an instance behind): nothing. A new connect: asked.
  await a.ingest.lockerOnline('d6-01');
  await sleep(DELAY_MS + 2 * HEARTBEAT_MS);
  t.equal(requests().length, 1, 'the same connect is not asked twice');
  await sleep(CLAIM_MS);
  await b.ingest.lockerOnline('d6-01');
  await until(() => requests().length === 2, 'a later connect asked', 2_000);

  // A locker the fleet holds no event of: as far back as a locker replays.
  const before = Date.now();
  await a.ingest.lockerOnline('d6-02');
  await until(() => a.ingest.sent.some((s) => s.topic === 'atm247/d6-02/replay'), 'a locker with no event asked', 2_000);
  const none = new Date(a.ingest.sent.find((s) => s.topic === 'atm247/d6-02/replay')!.request.since).getTime();
  t.ok(Math.abs(none - (before - 23 * 3_600_000)) < 5_000, 'since: 23 h ago, within what a locker replays');

  // A request to every locker made since its previous connect (here, b's lost link) may have gone to a
  // broker the locker was not on: its next connect is asked from there, if that is earlier.
  const lostAt = lastAt.getTime() - 5 * 60_000;
  b.ingest.linkCameBack(lostAt);
  await until(() => b.ingest.sent.filter((s) => s.topic === 'atm247/d6-03/replay').length === 1, 'every locker asked', 2_000);
  await sleep(CLAIM_MS);
  await a.ingest.lockerOnline('d6-01');
  await until(() => requests().length === 4, 'asked on its next connect', 2_000);
  t.equal(new Date(requests()[3].request.since).getTime(), lostAt - MARGIN_MS, "since: that request's");
  await sleep(CLAIM_MS);
  await a.ingest.lockerOnline('d6-01');
  await until(() => requests().length === 5, 'and the one after', 2_000);
  t.equal(new Date(requests()[4].request.since).getTime(), lastAt.getTime() - MARGIN_MS, 'from its last event again: it was asked since');
  const { rows } = await store.pool.query('SELECT cause FROM fleet_replays');
  t.same(
    rows.map((r) => r.cause),
    ['link lost'],
    'the request to every locker written down',
  );

  // Not acknowledged (its own link down): asked again.
  a.ingest.refuse = true;
  a.ingest.attempts = 0;
  await sleep(CLAIM_MS);
  await a.ingest.lockerOnline('d6-03');
  await until(() => a.ingest.attempts >= 2, 'tried again', 3_000);
  a.ingest.refuse = false;
  await until(() => a.ingest.sent.filter((s) => s.topic === 'atm247/d6-03/replay').length === 1, 'asked once it can', 3_000);
});
