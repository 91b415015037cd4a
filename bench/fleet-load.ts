/**
 * The fleet service under a city's load (issue 14): N lockers (500 by default, 90 trays each)
 * publishing the topic contract to a Mosquitto of the bench's own, the fleet service's instances
 * (`node --import tsx src/fleet/main.ts`) storing it into a fresh database on the machine's
 * PostgreSQL, and the dashboard's live stream read as a browser reads it.
 *
 *   npm run bench:fleet                          # 500 lockers, one instance then two (about 5 min)
 *   npm run bench:fleet -- --lockers 1000 --rate 10 --instances 1
 *   npm run bench:fleet -- --quick               # 50 lockers, 15 s, one instance
 *
 * Options: --lockers N; --seconds S, the traffic window, one office day (7:30–17:00) compressed
 * into it (60); --rate R, deposits, result loads and pickups a second over all lockers (default: a
 * day's 7.5 a locker within the window); --door-rate R (default: 2 a locker a day); --instances
 * 1,2, the windows to run, each with that many fleet instances; --rounds N, how many of the day's
 * three rounds the window holds (3; 0 shows the traffic without its bursts); --ramp S, the
 * lockers connect spread over S seconds (30); --keep, keep the run directory (the broker's and
 * the fleet's logs) even on PASS; --profile, a V8 CPU profile of each instance, in the run
 * directory. The server for the bench's database: FLEET_BENCH_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres).
 *
 * One broker and one database for the run. The first instances start, then:
 * 1. connect: every locker connects (MQTT 3.1.1, persistent session, QoS 1, a retained last will
 *    `offline`, as src/events/mqtt-link.ts does) and publishes retained `availability` online,
 *    `locker.started`, its 90 `trays/<n>`, `rounds/next` and `occupancy`;
 * 2. a traffic window per entry of --instances (instances are added between windows: each must
 *    receive every locker's retained state as it starts, ADR 0022): deposits (deposit.opened,
 *    tray.door_opened, tray.door_closed, deposit.completed, trays/<n>, occupancy), result loads and
 *    pickups (the same shape), door events (a quarter of them an unexpected opening: the alarm,
 *    then the door), rounds at 8:00, 13:30 and 16:00 of the compressed day for every locker at
 *    once (round.due and rounds/next its 15 minutes before; then round.started, every tray on it
 *    released, each tray's doors, item.collected, trays/<n>, occupancy and rounds/next,
 *    round.completed), and a locker dropping every 2 s (its socket destroyed: the broker publishes
 *    its will) to return 4–8 s later with its retained state again.
 * Every payload's `at` is the moment it was published. Measured:
 * - staleness: publish → the first summary on a dashboard stream whose `stateAt` (an occupancy)
 *   or `lastEvent.at` (an event) is at or after it; each instance's stream is read;
 * - events lost: every event id the broker acknowledged against the fleet's `fleet_events`; the
 *   fleet's /health counters (rejected must be 0) and what the broker dropped ($SYS);
 * - CPU (/proc/<pid>/stat, user + system, % of one core over the window) and peak RSS (VmHWM) of
 *   each instance; PostgreSQL's CPU (the bench database's backends and the server's own
 *   processes), commits and WAL flushes, and the state tables' updates (the share of them HOT)
 *   and size (ADR 0032; a table's statistics reach PostgreSQL's views up to a second late, so a
 *   window's last second counts in the next); Mosquitto's and the generator's CPU.
 * Exits 0 when every target is met, 1 when one is not, 2 when the bench could not run.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { withClient } from './chaos/database.js';
import { parseOptions } from './fleet/options.js';
import { FLOWS, type Counters, type Flow, type PublishLog, type Report, type TrafficPlan } from './fleet/protocol.js';
import {
  ADMIN_DATABASE_URL,
  cpuSeconds,
  createDatabase,
  health,
  PostgresCpu,
  ROOT,
  startBroker,
  startFleet,
  statusMiB,
  stopChild,
  type Broker,
  type Database,
  type FleetInstance,
  type IngestCounts,
} from './fleet/services.js';
import { onlineShownAt, shownAt, StreamReader } from './fleet/stream.js';
import { quantile, sleep } from './table/services.js';

const options = parseOptions(process.argv.slice(2));
const TOKEN = 'fleet-bench-admin-token-0123456789';
const BASE = 'atm247';
const STALENESS_TARGET_MS = 1_000;
/** Retained topics a locker has on the fleet's subscriptions: availability, occupancy, 90 trays, rounds/next. */
const RETAINED_PER_LOCKER = 93;
/** The office day the traffic window stands for (7:30–17:00), its rounds (8:00, 13:30, 16:00) and their lead time. */
const DAY_S = 9.5 * 3600;
const ROUNDS_S = [0.5 * 3600, 6 * 3600, 8.5 * 3600];
const DUE_LEAD_S = 15 * 60;
/** The fleet is taken to have received all it will once it has handled nothing new for this long. */
const IDLE_MS = 10_000;
const began = Date.now();

// Everything started is stopped in reverse, however the bench ends.
const cleanups: { name: string; fn: () => Promise<unknown> | unknown }[] = [];
const lastResort: (() => void)[] = [];
async function cleanUp(): Promise<void> {
  for (const { name, fn } of cleanups.splice(0).reverse()) {
    try {
      await Promise.race([fn(), sleep(30_000).then(() => Promise.reject(new Error('took more than 30 s')))]);
    } catch (err) {
      console.error(`stopping ${name} failed: ${(err as Error).message}`);
    }
  }
  lastResort.length = 0;
}
process.on('exit', () => {
  for (const fn of lastResort) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the bench (generator, fleet, broker, database)...`);
    void cleanUp().finally(() => process.exit(130));
  });
}

interface Stat {
  n: number;
  shown: number;
  p50: number;
  p99: number;
  max: number;
}

function stat(delays: number[]): Stat {
  const shown = delays.filter((d) => !Number.isNaN(d));
  return {
    n: delays.length,
    shown: shown.length,
    p50: shown.length ? quantile(shown, 0.5) : NaN,
    p99: shown.length ? quantile(shown, 0.99) : NaN,
    max: shown.length ? shown.reduce((m, d) => Math.max(m, d), 0) : NaN,
  };
}

const sentTotal = (c: Counters) => c.sent.state + c.sent.availability + c.sent.event;

/** Messages the instances handle for what was sent: each reads every state message and will, and its share of the events. */
function expected(c: Counters, instances: number, which: 'sent' | 'acked'): number {
  const k = c[which];
  return instances * (k.state + k.availability + c.drops) + k.event;
}

interface TableCounters {
  updates: number;
  hot: number;
  bytes: number;
}

interface PgCounters {
  commits: number;
  walSyncs: number;
  walBytes: number;
  /** The two tables each state message updates: how many updates found room on their row's page (HOT), and their size. */
  tables: { fleet_lockers: TableCounters; fleet_trays: TableCounters };
}

/** Rows updated, of them HOT, and the table's size at the end of the window (a bloated table is slower to read). */
interface TableFigures {
  updates: number;
  hotPct: number;
  mib: number;
}

/**
 * The bench database's commits (pg_stat_database), the server's WAL flushes and bytes
 * (pg_stat_wal), and the state tables' updates (pg_stat_user_tables) and sizes.
 */
function pgCounters(db: Database): Promise<PgCounters | null> {
  return withClient(db.url, async (q) => {
    // Each read on its own: a server without one of these views or columns (pg_stat_wal's
    // wal_sync is gone from PostgreSQL 18) loses that figure, not the others.
    const server = await q
      .query(
        `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::float8 AS commits,
                wal_sync::float8 AS "walSyncs", wal_bytes::float8 AS "walBytes" FROM pg_stat_wal`,
      )
      .then((r) => r.rows[0] as Omit<PgCounters, 'tables'>)
      .catch(() => ({ commits: NaN, walSyncs: NaN, walBytes: NaN }));
    const tables = await q
      .query<{ relname: 'fleet_lockers' | 'fleet_trays'; updates: number; hot: number; bytes: number }>(
        `SELECT relname, n_tup_upd::float8 AS updates, n_tup_hot_upd::float8 AS hot, pg_relation_size(relid)::float8 AS bytes
           FROM pg_stat_user_tables WHERE relname IN ('fleet_lockers', 'fleet_trays')`,
      )
      .then((r) => r.rows)
      .catch(() => []);
    const none = { updates: NaN, hot: NaN, bytes: NaN };
    const byName = Object.fromEntries(tables.map((t) => [t.relname, t]));
    return { ...server, tables: { fleet_lockers: byName.fleet_lockers ?? none, fleet_trays: byName.fleet_trays ?? none } };
  }).catch(() => null);
}

function tableFigures(a: TableCounters, b: TableCounters): TableFigures {
  const updates = b.updates - a.updates;
  return { updates, hotPct: updates > 0 ? ((b.hot - a.hot) * 100) / updates : NaN, mib: b.bytes / 1048576 };
}

interface ConnectResult {
  instances: number;
  publishedS: number;
  storedS: number;
  messages: number;
  staleness: Stat;
  online: Stat;
  neverArrived: number;
  brokerDropped: number;
  fleetReconnects: number;
  fleetCpu: number[];
}

interface WindowResult {
  instances: number;
  load: [number, number];
  ops: Record<Flow, number>;
  messages: number;
  events: { published: number; unacked: number; lost: number; inTable: number };
  staleness: Record<Flow | 'all', Stat>;
  will: Stat;
  back: Stat;
  neverArrived: number;
  brokerDropped: number;
  /** The instances' MQTT connections lost and made again (the broker's log). */
  fleetReconnects: number;
  ingest: IngestCounts;
  drainS: number;
  seconds: number;
  cpu: { fleet: number[]; postgres: number | null; broker: number; generator: number };
  rss: number[];
  backlogPeak: number;
  ingestSustained: number | null;
  ingestPeak: number;
  pg: { commits: number; walSyncs: number; walMiB: number; lockers: TableFigures; trays: TableFigures } | null;
  stream: { batches: number; summaries: number; fulls: number; reconnects: number; mib: number };
}

interface JoinResult {
  names: string[];
  received: number[];
  expected: number;
  seconds: number;
}

/** The broker, the database, the instances, their streams and the generator of one run. */
class Run {
  readonly fleets: FleetInstance[] = [];
  readonly streams: StreamReader[] = [];
  counters: Counters | undefined;
  brokerDropped = 0;
  /** Messages handled by all instances (stored + duplicates + rejected), polled every 500 ms. */
  processed = 0;
  ingest: IngestCounts[] = [];
  private samples: { at: number; processed: number; backlog: number }[] = [];
  /** What the current phase expects, for the backlog: set by `phase()`. */
  private base = { processed: 0, expectedSent: 0, instances: 1, dropped: 0 };
  private readonly waiting = new Map<string, (r: Report) => void>();
  readonly generatorErrors: string[] = [];

  private constructor(
    readonly runDir: string,
    readonly broker: Broker,
    readonly db: Database,
    readonly sys: MqttClient,
    readonly pgCpu: PostgresCpu | null,
    readonly generator: ChildProcess,
  ) {
    sys.on('message', (_topic, payload) => (this.brokerDropped = Number(payload.toString())));
    generator.on('message', (r: Report) => {
      if (r.ev === 'progress') this.counters = r.counters;
      else if (r.ev === 'error') {
        if (this.generatorErrors.length < 5) console.error(`generator: ${r.message}`);
        this.generatorErrors.push(r.message);
      } else this.waiting.get(r.ev)?.(r);
    });
    const poll = setInterval(() => void this.poll(), 500);
    cleanups.push({ name: 'poll', fn: () => clearInterval(poll) });
  }

  static async open(): Promise<Run> {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'atm247-fleet-bench-'));
    const broker = await startBroker(runDir);
    cleanups.push({ name: 'broker', fn: () => broker.stop() });
    lastResort.push(() => process.kill(broker.pid, 'SIGKILL'));
    const db = await createDatabase();
    cleanups.push({ name: 'database', fn: () => db.drop() });
    lastResort.push(() =>
      spawnSync('psql', [ADMIN_DATABASE_URL, '-qc', `DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`], {
        stdio: 'ignore',
        timeout: 10_000,
      }),
    );
    // What the broker dropped for want of queue room: its $SYS counter, every second.
    const sys = await mqtt.connectAsync(broker.url, { clientId: 'fleet-bench-sys', reconnectPeriod: 1_000 });
    await sys.subscribeAsync('$SYS/broker/publish/messages/dropped');
    cleanups.push({ name: 'broker $SYS subscriber', fn: () => sys.endAsync(true) });
    const postmaster = await PostgresCpu.find(db.url).catch(() => null);
    const pgCpu = postmaster ? new PostgresCpu(postmaster, db.name) : null;
    pgCpu?.start();
    cleanups.push({ name: 'PostgreSQL sampler', fn: () => pgCpu?.stop() });
    // The lockers, in one process of their own.
    const generator = fork(path.join(ROOT, 'bench', 'fleet', 'lockers.ts'), [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    cleanups.push({ name: 'generator', fn: () => stopChild(generator, 'SIGTERM', 5_000) });
    lastResort.push(() => generator.kill('SIGKILL'));
    return new Run(runDir, broker, db, sys, pgCpu, generator);
  }

  ask<E extends Report['ev']>(ev: E, command: object): Promise<Extract<Report, { ev: E }>> {
    return new Promise((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`the generator exited (${code})`));
      this.generator.once('exit', exited);
      this.waiting.set(ev, (r) => {
        this.generator.off('exit', exited);
        resolve(r as Extract<Report, { ev: E }>);
      });
      this.generator.send(command);
    });
  }

  async addInstance(): Promise<FleetInstance> {
    const name = `bench-${String.fromCharCode(97 + this.fleets.length)}`;
    const fleet = await startFleet({
      name,
      databaseUrl: this.db.url,
      mqttUrl: this.broker.url,
      token: TOKEN,
      dir: this.runDir,
      nodeArgs: options.profile ? ['--cpu-prof', `--cpu-prof-dir=${this.runDir}`] : [],
    });
    cleanups.push({ name: `fleet ${name}`, fn: () => fleet.stop() });
    lastResort.push(() => fleet.child.kill('SIGKILL'));
    const stream = new StreamReader(fleet.url, TOKEN);
    await stream.start();
    cleanups.push({ name: `stream of ${name}`, fn: () => stream.close() });
    this.fleets.push(fleet);
    this.streams.push(stream);
    return fleet;
  }

  private async poll(): Promise<void> {
    const all = await Promise.all(this.fleets.map((f) => health(f.url)));
    if (all.some((h) => h === null)) return;
    this.ingest = all as IngestCounts[];
    this.processed = this.ingest.reduce((s, h) => s + h.stored + h.duplicates + h.rejected, 0);
    // Sent, less handled, less what the broker dropped (it will never come).
    const backlog = this.counters
      ? expected(this.counters, this.base.instances, 'sent') -
        this.base.expectedSent -
        (this.processed - this.base.processed) -
        (this.brokerDropped - this.base.dropped)
      : 0;
    this.samples.push({ at: Date.now(), processed: this.processed, backlog });
  }

  /** A new phase: what the instances handle from now is counted from here. */
  phase(): void {
    this.base = {
      processed: this.processed,
      expectedSent: expected(this.counters!, this.fleets.length, 'sent'),
      instances: this.fleets.length,
      dropped: this.brokerDropped,
    };
    this.samples = [];
  }

  /**
   * Waits until the instances have handled every message acknowledged by the broker since
   * `phase()`; gives up once they have handled nothing new for IDLE_MS (what the broker dropped
   * never comes). Returns how many never came, and when the last one was handled.
   */
  async drained(): Promise<{ missing: number; at: number }> {
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      const want = expected(this.counters!, this.base.instances, 'acked') - this.base.expectedSent;
      const got = this.processed - this.base.processed;
      if (got >= want) return { missing: 0, at: Date.now() };
      if (got !== last) {
        last = got;
        lastChange = Date.now();
      }
      if (Date.now() - lastChange > IDLE_MS) return { missing: want - got, at: lastChange };
      await sleep(100);
    }
  }

  cpu(): { at: number; fleet: number[]; broker: number; generator: number } {
    return {
      at: Date.now(),
      fleet: this.fleets.map((f) => cpuSeconds(f.pid) ?? 0),
      broker: cpuSeconds(this.broker.pid) ?? 0,
      generator: cpuSeconds(this.generator.pid!) ?? 0,
    };
  }

  /** Backlog peak, the intake while more than 1,000 messages waited, and the best second, of this phase. */
  intake(): { backlogPeak: number; sustained: number | null; peak: number } {
    const s = this.samples;
    let busyMessages = 0;
    let busyMs = 0;
    let peak = 0;
    for (let i = 1, j = 0; i < s.length; i++) {
      if (s[i - 1].backlog >= 1_000) {
        busyMessages += s[i].processed - s[i - 1].processed;
        busyMs += s[i].at - s[i - 1].at;
      }
      while (s[i].at - s[j].at > 1_000) j++;
      if (j > 0) peak = Math.max(peak, ((s[i].processed - s[j - 1].processed) * 1000) / (s[i].at - s[j - 1].at));
    }
    return { backlogPeak: s.reduce((m, x) => Math.max(m, x.backlog), 0), sustained: busyMs ? (busyMessages * 1000) / busyMs : null, peak };
  }

  /** The instances' connections to the broker beyond their first (a lost link, a keepalive timeout). */
  fleetReconnects(): number {
    let n = 0;
    for (const [id, count] of this.broker.connections()) if (id.startsWith('atm247-fleet-')) n += count - 1;
    return n;
  }

  /** The broker's $SYS counter is published every second: wait for the next one. */
  async brokerDroppedNow(): Promise<number> {
    await sleep(1_100);
    return this.brokerDropped;
  }

  async connect(): Promise<ConnectResult> {
    const n = options.lockers;
    const a = this.cpu();
    this.counters = (await this.ask('log', { cmd: 'log' })).log.counters;
    this.phase();
    const connected = await this.ask('connected', {
      cmd: 'connect',
      url: this.broker.url,
      base: BASE,
      lockers: n,
      rampMs: options.rampSeconds * 1000,
    });
    this.counters = connected.counters;
    const { missing, at } = await this.drained();
    await sleep(1_000); // the streams' last batch
    const b = this.cpu();
    const log = (await this.ask('log', { cmd: 'log' })).log;
    const delays = new Map<Flow, number[]>(FLOWS.map((f) => [f, []]));
    const online: number[] = [];
    for (const s of this.streams) {
      addStaleness(s, log, 0, Infinity, delays);
      log.online.forEach((t, locker) => online.push(onlineShownAt(s.lockers.get(log.lockerIds[locker]), t, 1) - t));
    }
    return {
      instances: this.fleets.length,
      publishedS: (connected.lastAckMs - connected.firstMs) / 1000,
      storedS: (at - connected.firstMs) / 1000,
      messages: n * (RETAINED_PER_LOCKER + 1),
      staleness: stat(delays.get('connect')!),
      online: stat(online),
      neverArrived: missing,
      brokerDropped: await this.brokerDroppedNow(),
      fleetReconnects: this.fleetReconnects(),
      fleetCpu: this.fleets.map((_, i) => (100 * (b.fleet[i] - a.fleet[i])) / ((b.at - a.at) / 1000)),
    };
  }

  async traffic(): Promise<WindowResult> {
    const load0 = os.loadavg()[0];
    const W = options.seconds * 1000;
    const plan: TrafficPlan = {
      seconds: options.seconds,
      rate: options.rate,
      doorRate: options.doorRate,
      dropEveryMs: 2_000,
      downMs: [4_000, 8_000],
      stepMs: 200,
      roundStepMs: 100,
      roundsAtMs: ROUNDS_S.slice(0, options.rounds).map((s) => (s / DAY_S) * W),
      dueLeadMs: (DUE_LEAD_S / DAY_S) * W,
    };
    const dropped0 = await this.brokerDroppedNow();
    const sent0 = sentTotal(this.counters!);
    const reconnects0 = this.fleetReconnects();
    const stream0 = this.streamTotals();
    this.phase();
    const a = this.cpu();
    this.pgCpu?.mark();
    const pgA = await pgCounters(this.db);
    const start = Date.now();
    const done = await this.ask('trafficDone', { cmd: 'traffic', plan });
    this.counters = done.counters;
    const { missing, at } = await this.drained();
    const b = this.cpu();
    const pgSeconds = this.pgCpu?.mark() ?? null;
    const pgB = await pgCounters(this.db);
    const intake = this.intake();
    // The streams' last batches (gathered 200 ms, then read).
    for (
      const deadline = Date.now() + 5_000;
      Date.now() < deadline && Date.now() - Math.max(...this.streams.map((s) => s.lastArrival)) < 1_000;
    ) {
      await sleep(100);
    }
    const ingest = (await Promise.all(this.fleets.map((f) => health(f.url)))).map((h, i) => h ?? this.ingest[i]);
    const dropped = (await this.brokerDroppedNow()) - dropped0;

    const log = (await this.ask('log', { cmd: 'log' })).log;
    const inTable = await withClient(
      this.db.url,
      async (q) => new Set((await q.query<{ id: string }>('SELECT id::text FROM fleet_events')).rows.map((r) => r.id)),
    );
    const delays = new Map<Flow, number[]>(FLOWS.map((f) => [f, []]));
    const will: number[] = [];
    const back: number[] = [];
    for (const s of this.streams) {
      addStaleness(s, log, start, done.lastPublishMs, delays);
      log.drops.locker.forEach((locker, i) => {
        if (log.drops.at[i] < start) return;
        const t = s.lockers.get(log.lockerIds[locker]);
        will.push(onlineShownAt(t, log.drops.at[i], 0) - log.drops.at[i]);
        if (log.drops.back[i]) back.push(onlineShownAt(t, log.drops.back[i], 1) - log.drops.back[i]);
      });
    }
    const staleness = Object.fromEntries(FLOWS.map((f) => [f, stat(delays.get(f)!)])) as Record<Flow | 'all', Stat>;
    staleness.all = stat(FLOWS.filter((f) => f !== 'connect').flatMap((f) => delays.get(f)!));
    const events = { published: 0, unacked: 0, lost: 0, inTable: inTable.size };
    for (let i = 0; i < log.events.id.length; i++) {
      if (log.events.at[i] < start || log.events.flow[i] === FLOWS.indexOf('connect')) continue;
      events.published += 1;
      if (!log.events.acked[i]) events.unacked += 1;
      else if (!inTable.has(log.events.id[i])) events.lost += 1;
    }
    const sum = (k: 'stored' | 'duplicates' | 'superseded' | 'rejected' | 'failed' | 'batches' | 'inHand') =>
      ingest.reduce((s, h) => s + h[k], 0);
    const pct = (seconds: number) => (100 * seconds) / ((b.at - a.at) / 1000);
    const stream1 = this.streamTotals();
    return {
      instances: this.fleets.length,
      load: [load0, os.loadavg()[0]],
      ops: done.ops,
      messages: sentTotal(done.counters) - sent0,
      events,
      staleness,
      will: stat(will),
      back: stat(back),
      neverArrived: missing,
      brokerDropped: dropped,
      fleetReconnects: this.fleetReconnects() - reconnects0,
      ingest: {
        connected: ingest.every((h) => h.connected),
        stored: sum('stored'),
        duplicates: sum('duplicates'),
        superseded: sum('superseded'),
        rejected: sum('rejected'),
        failed: sum('failed'),
        batches: sum('batches'),
        largestBatch: Math.max(...ingest.map((h) => h.largestBatch)),
        inHand: sum('inHand'),
      },
      drainS: (at - done.lastPublishMs) / 1000,
      seconds: (b.at - a.at) / 1000,
      cpu: {
        fleet: this.fleets.map((_, i) => pct(b.fleet[i] - (a.fleet[i] ?? 0))),
        postgres: pgSeconds === null ? null : pct(pgSeconds),
        broker: pct(b.broker - a.broker),
        generator: pct(b.generator - a.generator),
      },
      rss: this.fleets.map((f) => statusMiB(f.pid, 'VmHWM')),
      backlogPeak: intake.backlogPeak,
      ingestSustained: intake.sustained,
      ingestPeak: intake.peak,
      pg:
        pgA && pgB
          ? {
              commits: pgB.commits - pgA.commits,
              walSyncs: pgB.walSyncs - pgA.walSyncs,
              walMiB: (pgB.walBytes - pgA.walBytes) / 1048576,
              lockers: tableFigures(pgA.tables.fleet_lockers, pgB.tables.fleet_lockers),
              trays: tableFigures(pgA.tables.fleet_trays, pgB.tables.fleet_trays),
            }
          : null,
      stream: {
        batches: stream1.batches - stream0.batches,
        summaries: stream1.summaries - stream0.summaries,
        fulls: stream1.fulls - stream0.fulls,
        reconnects: stream1.reconnects - stream0.reconnects,
        mib: (stream1.bytes - stream0.bytes) / 1048576,
      },
    };
  }

  private streamTotals() {
    const t = { batches: 0, summaries: 0, fulls: 0, reconnects: 0, bytes: 0 };
    for (const s of this.streams) {
      t.batches += s.batches;
      t.summaries += s.summaries;
      t.fulls += s.fulls;
      t.reconnects += s.reconnects;
      t.bytes += s.bytes;
    }
    return t;
  }

  /**
   * Starts `count` more instances, as a rolling restart or a scale-out does, with no traffic:
   * each must receive every locker's retained state (ADR 0022). `keep`: they stay for the next window.
   */
  async join(count: number, keep: boolean): Promise<JoinResult> {
    const start = Date.now();
    const added: FleetInstance[] = [];
    for (let i = 0; i < count; i++) added.push(await this.addInstance());
    const want = options.lockers * RETAINED_PER_LOCKER;
    const received = added.map(() => 0);
    for (let last = -1, lastChange = Date.now(); Date.now() - lastChange < 3_000; await sleep(250)) {
      const all = await Promise.all(added.map((f) => health(f.url)));
      all.forEach((h, i) => (received[i] = h ? h.stored + h.duplicates + h.rejected : received[i]));
      const total = received.reduce((s, x) => s + x, 0);
      if (received.every((x) => x >= want)) break;
      if (total !== last) {
        last = total;
        lastChange = Date.now();
      }
    }
    const seconds = (Date.now() - start) / 1000;
    if (!keep) {
      for (const f of added) {
        await f.stop();
        const i = this.fleets.indexOf(f);
        this.fleets.splice(i, 1);
        this.streams.splice(i, 1)[0].close();
      }
    }
    // What the new instances read is not traffic: the next phase counts from here.
    await sleep(600);
    this.phase();
    return { names: added.map((f) => f.name), received, expected: want, seconds };
  }
}

/** Staleness of what was published in [from, to], per flow, from one stream. */
function addStaleness(s: StreamReader, log: PublishLog, from: number, to: number, delays: Map<Flow, number[]>): void {
  for (const [kind, rows] of [
    ['stateAt', log.states],
    ['eventAt', log.events],
  ] as const) {
    const perLocker = new Map<number, number[]>();
    rows.locker.forEach((locker, i) => {
      if (rows.at[i] < from || rows.at[i] > to) return;
      const list = perLocker.get(locker) ?? [];
      list.push(i);
      perLocker.set(locker, list);
    });
    for (const [locker, indices] of perLocker) {
      const ats = indices.map((i) => rows.at[i]);
      const shown = shownAt(s.lockers.get(log.lockerIds[locker]), kind, ats);
      indices.forEach((i, k) => delays.get(FLOWS[rows.flow[i]])!.push(shown[k] - ats[k]));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The report

const fmt = (v: number, digits = 0): string => (Number.isNaN(v) ? '—' : v.toFixed(digits));
let failed = 0;
function line(what: string, cells: string[], target = '', pass?: boolean): void {
  if (pass === false) failed += 1;
  const verdict = pass === undefined ? '' : pass ? 'PASS' : 'FAIL';
  console.log(`${what.padEnd(62)} ${cells.map((c) => c.padStart(8)).join(' ')}  ${target.padEnd(16)} ${verdict}`.trimEnd());
}
const ms = (s: Stat) => [fmt(s.p50), fmt(s.p99), fmt(s.max)];
const never = (s: Stat) => (s.shown < s.n ? `, ${s.n - s.shown} never shown` : '');
const one = (v: string) => ['', '', v];
const zero = (what: string, v: number) => line(what, one(String(v)), '= 0', v === 0);

function header(): void {
  const n = options.lockers;
  const at = (s: number) => ((s / DAY_S) * options.seconds).toFixed(1);
  console.log(
    `fleet bench: ${n} lockers (${n * 90} trays), one generator process with ${n} MQTT clients (MQTT 3.1.1, QoS 1, persistent ` +
      `sessions, last will), connecting over ${options.rampSeconds} s; Mosquitto 2 (queue limits as deploy/fleet/mosquitto.conf); ` +
      `${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(2)}`,
  );
  console.log(
    `traffic window ${options.seconds} s = an office day 7:30–17:00 compressed ${(DAY_S / options.seconds).toFixed(0)}×: ` +
      `${options.rate} flows/s (deposits 50 %, result loads 25 %, pickups 25 %: ${((options.rate * options.seconds) / n).toFixed(1)} a locker), ` +
      `${options.doorRate} door events/s; ` +
      (options.rounds
        ? `rounds at ${ROUNDS_S.slice(0, options.rounds).map(at).join(' / ')} s for every locker at once ` +
          `(drawn ${((DUE_LEAD_S / DAY_S) * options.seconds).toFixed(1)} s before, 100 ms between an officer's steps); `
        : 'no rounds; ') +
      `a locker dropped every 2 s, back after 4–8 s`,
  );
}

function reportConnect(r: ConnectResult): void {
  console.log(`\n── connect, ${r.instances} instance${r.instances > 1 ? 's' : ''}`);
  console.log(
    `${options.lockers} lockers, ${r.messages} messages (availability, locker.started, 90 trays/<n>, rounds/next, occupancy each), ` +
      `published in ${r.publishedS.toFixed(1)} s, handled by the fleet ${r.storedS.toFixed(1)} s after the first connect`,
  );
  console.log(`${'figure'.padEnd(62)} ${['p50', 'p99', 'max'].map((h) => h.padStart(8)).join(' ')}  target`);
  line(`publish → stream, ms${never(r.staleness)}`, ms(r.staleness));
  line(`online → stream, ms${never(r.online)}`, ms(r.online));
  zero('messages the fleet never received', r.neverArrived);
  zero('messages the broker dropped (queue limit)', r.brokerDropped);
  zero('fleet MQTT links lost and made again (broker log)', r.fleetReconnects);
  line('fleet CPU, % of one core', one(r.fleetCpu.map((x) => fmt(x, 1)).join(' + ')));
}

function reportJoin(r: JoinResult): void {
  line(
    `${r.names.join(', ')} started: retained messages received (${r.seconds.toFixed(0)} s)`,
    one(r.received.join(', ')),
    `= ${r.expected} each`,
    r.received.every((x) => x >= r.expected),
  );
}

function reportWindow(r: WindowResult): void {
  const o = r.ops;
  console.log(
    `\n── traffic, ${r.instances} instance${r.instances > 1 ? 's' : ''} (same FLEET_GROUP, own FLEET_INSTANCE); load average ` +
      `${r.load[0].toFixed(2)} → ${r.load[1].toFixed(2)}`,
  );
  console.log(
    `${o.deposit} deposits, ${o.result} result loads, ${o.pickup} pickups, ${o.door} door events, ${o.round} locker rounds, ` +
      `${r.will.n} drops: ${r.messages} messages (${r.events.published} events); at most ${r.backlogPeak} waited for the fleet; ` +
      `the last handled ${r.drainS.toFixed(1)} s after the last publish`,
  );
  console.log(`${'figure'.padEnd(62)} ${['p50', 'p99', 'max'].map((h) => h.padStart(8)).join(' ')}  target`);
  const all = r.staleness.all;
  line(`staleness, publish → stream, ms (${all.n} samples)`, ms(all), `p99 ≤ ${STALENESS_TARGET_MS} ms`, all.p99 <= STALENESS_TARGET_MS);
  for (const f of ['deposit', 'result', 'pickup', 'door', 'round'] as const) line(`  ${f}${never(r.staleness[f])}`, ms(r.staleness[f]));
  line(`last will → shown offline, ms${never(r.will)}`, ms(r.will));
  line(`return → shown online, ms${never(r.back)}`, ms(r.back));
  zero('publishes never shown on a stream', all.n - all.shown);
  zero(`events lost (of ${r.events.published} the broker acknowledged)`, r.events.lost);
  zero('events the broker did not acknowledge', r.events.unacked);
  zero('messages outside the contract (fleet /health rejected)', r.ingest.rejected);
  zero('messages the fleet never received', r.neverArrived);
  zero('messages the broker dropped (queue limit)', r.brokerDropped);
  zero('fleet MQTT links lost and made again (broker log)', r.fleetReconnects);
  line('fleet /health since its start: stored (superseded state among them), duplicates, failed', [
    `${r.ingest.stored} (${r.ingest.superseded})`,
    String(r.ingest.duplicates),
    String(r.ingest.failed),
  ]);
  line('fleet batches since its start: transactions, messages each, largest', [
    String(r.ingest.batches),
    fmt((r.ingest.stored + r.ingest.duplicates + r.ingest.rejected) / Math.max(1, r.ingest.batches), 1),
    String(r.ingest.largestBatch),
  ]);
  const each = (v: number[]) => one(v.map((x) => fmt(x, 1)).join(' + '));
  line(`fleet CPU over ${r.seconds.toFixed(0)} s (window + drain), % of one core`, each(r.cpu.fleet));
  line('fleet peak RSS (VmHWM), MiB', each(r.rss));
  line('PostgreSQL CPU (bench database + server processes), %', one(r.cpu.postgres === null ? 'n/a' : fmt(r.cpu.postgres, 1)));
  line('Mosquitto CPU, %', one(fmt(r.cpu.broker, 1)));
  line(`generator CPU (${options.lockers} MQTT clients), %`, one(fmt(r.cpu.generator, 1)));
  line('fleet intake: while > 1,000 waited, best second, messages/s', [
    '',
    r.ingestSustained === null ? '—' : fmt(r.ingestSustained),
    fmt(r.ingestPeak),
  ]);
  if (r.pg) {
    line('PostgreSQL: commits (bench database), WAL flushes, WAL MiB', [fmt(r.pg.commits), fmt(r.pg.walSyncs), fmt(r.pg.walMiB)]);
    for (const [name, t] of [
      ['fleet_lockers', r.pg.lockers],
      ['fleet_trays', r.pg.trays],
    ] as const) {
      line(`PostgreSQL: ${name} rows updated, HOT %, table MiB (no index) at end`, [fmt(t.updates), fmt(t.hotPct), fmt(t.mib, 1)]);
    }
  }
  line(
    `streams: ${r.stream.batches} batches, ${r.stream.summaries} summaries, ${r.stream.fulls} full lists, MiB`,
    one(fmt(r.stream.mib, 1)),
  );
  zero('stream reconnects', r.stream.reconnects);
}

let code = 2;
let run: Run | undefined;
try {
  header();
  run = await Run.open();
  const counts = [...new Set(options.instances)].sort((a, b) => a - b);
  for (let i = 0; i < counts[0]; i++) await run.addInstance();
  reportConnect(await run.connect());
  let joined = false;
  for (const k of counts) {
    if (run.fleets.length < k) {
      reportJoin(await run.join(k - run.fleets.length, true));
      joined = true;
    }
    reportWindow(await run.traffic());
  }
  // A restart, when no window added an instance: one more starts and stops again.
  if (!joined) reportJoin(await run.join(1, false));
  if (run.generatorErrors.length)
    throw new Error(`the generator reported ${run.generatorErrors.length} error(s), the first: ${run.generatorErrors[0]}`);
  console.log(`\n${((Date.now() - began) / 1000).toFixed(0)} s; run directory ${run.runDir}`);
  console.log(failed === 0 ? 'PASS' : `FAIL (${failed})`);
  code = failed === 0 ? 0 : 1;
} catch (err) {
  console.error(`the bench could not run: ${(err as Error).stack ?? err}`);
  code = 2;
} finally {
  if (run?.generator.connected) run.generator.send({ cmd: 'stop' });
  await cleanUp();
  if (run && code === 0 && !options.keep) rmSync(run.runDir, { recursive: true, force: true });
  process.exit(code);
}
