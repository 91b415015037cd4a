/**
 * The fault campaign (`npm run chaos`): tries to break the locker's one promise — a dossier put in
 * a tray is never lost — by running citizens and officers against the real daemon while a fault
 * loop kills it, silences lock boards, stops and freezes the database, cuts the broker link and
 * steps the wall clock. The physical truth (doors, latches, paper) lives here, in the campaign
 * process, so it survives every SIGKILL of the daemon; the invariants are checked against it.
 * Here: the set-up and the run's course; its parts are in bench/chaos/ (the options, the people in
 * actors/citizens/officers, the cycles, the quiescent phase, the checks, the report, the teardown).
 *
 *   npm run chaos -- [--cycles 1000] [--seed S] [--concurrency 6] [--db embedded|url]
 *                    [--max-minutes M] [--faults kind,kind] [--keep] [--verbose]
 *
 * Exits 0 when every invariant held, 1 when one broke (the seed, the tray and its timeline are
 * printed), 2 when the campaign itself could not run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { CabinetSimulator } from '../hardware/simulator.js';
import { loadConfig } from '../src/config/load.js';
import { EmbeddedBroker } from '../src/events/broker.js';
import { createLogger, silentLogger } from '../src/log.js';
import { TcpProxy } from '../test/helpers/tcp-proxy.js';
import { CYCLE_KINDS, type CycleKind, type CycleStats, type Ctx, type Procedure } from './chaos/actors.js';
import { Api } from './chaos/api.js';
import { campaignPool, LostLedger, Watcher } from './chaos/checks.js';
import { runCycles } from './chaos/cycles.js';
import { openCampaignDatabase, type CampaignDatabase } from './chaos/database.js';
import { CampaignClock, FaultLoop } from './chaos/faults.js';
import { parseOptions } from './chaos/options.js';
import { quiesce } from './chaos/quiescence.js';
import { explainUnexpected5xx, invariantsBroken, printReport } from './chaos/report.js';
import { Rng } from './chaos/rng.js';
import { FakeSmsProvider } from './chaos/sms-provider.js';
import { DaemonSupervisor } from './chaos/supervisor.js';
import { exitHooks, handleExit, interrupted, shutdownAll, stops } from './chaos/teardown.js';
import { duration } from './chaos/time.js';
import { World } from './chaos/world.js';

// ---------------------------------------------------------------------------------------------
// The campaign

const options = parseOptions(process.argv.slice(2));
const startedMs = Date.now();
const seconds = () => (Date.now() - startedMs) / 1000;
const root = new Rng(options.seed);
const runDir = mkdtempSync(path.join(os.tmpdir(), `atm247-chaos-${options.seed}-`));
const logger = createLogger({
  level: 'info',
  destination: pino.destination({ dest: path.join(runDir, 'campaign.log'), sync: false, mkdir: true }),
});
const notes: string[] = [];
const note = (line: string) => {
  const text = `${seconds().toFixed(1).padStart(7)}s ${line}`;
  notes.push(text);
  logger.info(line);
  if (options.verbose) console.log(text);
};

console.log(
  `fault campaign: seed ${options.seed}, ${options.cycles} cycles, concurrency ${options.concurrency}, database ${options.db}` +
    `${options.faults ? `, faults ${options.faults.join(',')} only` : ''}` +
    ` (replay: npm run chaos -- --seed ${options.seed} --cycles ${options.cycles} --concurrency ${options.concurrency}` +
    `${options.db === 'url' ? ' --db url' : ''}${options.faults ? ` --faults ${options.faults.join(',')}` : ''})`,
);
console.log(`run directory: ${runDir} (daemon.log, daemon.stderr, campaign.log, timelines.txt)`);

const LATCH_HOLD_MS = 4_000;
/** The schema's minimum; the latch (4 s) locks again well before (the physical contract of ADR 0012). */
const DOOR_OPEN_TIMEOUT_SEC = 10;
const STAFF_TOKEN = 'chaos-staff-token-0000000000';
const ADMIN_TOKEN = 'chaos-admin-token-0000000000';
const lockerId = `chaos-${options.seed.toString(16)}`;

handleExit();

async function main(): Promise<number> {
  const map = structuredClone(loadConfig({ env: {} }).hardware.map);
  const trayBoard = new Map(map.trays.map((t) => [t.number, t.board]));
  const trayRole = new Map(map.trays.map((t) => [t.number, t.role]));

  // The cabinet: the physical truth, in this process.
  const simRng = root.fork(1);
  const sim = new CabinetSimulator({
    map,
    latchHoldMs: LATCH_HOLD_MS,
    paceWireTime: false,
    logger: silentLogger(),
    random: () => simRng.next(),
  });
  await sim.start();
  stops.push({ name: 'simulator', fn: () => sim.stop() });
  const endpoints = Object.fromEntries([...sim.endpoints()].map(([bus, at]) => [bus, at]));

  const sms = new FakeSmsProvider();
  await sms.start();
  stops.push({ name: 'SMS provider', fn: () => sms.stop() });

  const broker = new EmbeddedBroker({ port: 0, logger: silentLogger() });
  const { url: brokerUrl } = await broker.start();
  stops.push({ name: 'broker', fn: () => broker.stop() });
  const brokerAt = new URL(brokerUrl);
  const proxy = await TcpProxy.start({ host: brokerAt.hostname, port: Number(brokerAt.port) });
  stops.push({ name: 'broker proxy', fn: () => proxy.close() });

  // Every event the daemon publishes, straight from the broker (never through the proxy).
  const received = new Set<string>();
  let duplicates = 0;
  const subscriber = await mqtt.connectAsync(brokerUrl, { clientId: `chaos-sub-${options.seed}`, clean: false, reconnectPeriod: 200 });
  subscriber.on('message', (_topic, payload) => {
    try {
      const id = JSON.parse(payload.toString()).id;
      if (typeof id !== 'string') return;
      if (received.has(id)) duplicates += 1;
      received.add(id);
    } catch {
      // not an event
    }
  });
  await subscriber.subscribeAsync(`atm247/${lockerId}/events/#`, { qos: 1 });
  stops.push({ name: 'subscriber', fn: () => subscriber.endAsync(true) });

  const dbStarted = Date.now();
  const db: CampaignDatabase = await openCampaignDatabase(options.db, logger.child({ module: 'campaign-db' }));
  stops.push({ name: 'database', fn: () => db.dispose() });
  exitHooks.push(() => db.thawSync());
  console.log(
    `database: ${db.kind === 'embedded' ? `embedded PostgreSQL (started in ${duration(Date.now() - dbStarted)})` : 'server at TEST_DATABASE_URL/DATABASE_URL'}` +
      (db.canFault ? '' : "; database faults skipped (--db url: the campaign has no control of that server's process)"),
  );

  const daemon = new DaemonSupervisor(
    {
      lockerId,
      databaseUrl: db.url,
      mqttUrl: proxy.urlFor(brokerUrl),
      smsUrl: sms.url,
      endpoints,
      staffToken: STAFF_TOKEN,
      adminToken: ADMIN_TOKEN,
      secretKey: `chaos-secret-key-${options.seed}-0000000000000000`,
      runDir,
      logLevel: options.verbose ? 'debug' : 'info',
      latchHoldMs: LATCH_HOLD_MS,
      doorOpenTimeoutSec: DOOR_OPEN_TIMEOUT_SEC,
    },
    note,
  );
  stops.push({ name: 'daemon', fn: () => daemon.stop() });
  exitHooks.push(() => daemon.killSync());
  daemon.start();
  if (!(await daemon.waitUp(180_000))) {
    console.error('the daemon did not start; see daemon.log in the run directory');
    return 2;
  }
  console.log(`daemon up after ${duration(Date.now() - startedMs)}; campaign starts`);

  const pool = campaignPool(db.url);
  stops.push({ name: 'campaign pool', fn: () => pool.end() });

  const clock = new CampaignClock(daemon, seconds);
  const faults = new FaultLoop({ sim, daemon, db, proxy, clock, rng: root.fork(2), seconds, note, only: options.faults });
  const world = new World(sim, startedMs, () => faults.labels());
  const lost = new LostLedger();
  const watcher = new Watcher(pool, lockerId, world, lost);
  const api = new Api(daemon, { staff: STAFF_TOKEN, admin: ADMIN_TOKEN }, seconds);

  const cycles = Object.fromEntries(CYCLE_KINDS.map((k) => [k, { completed: 0, abandoned: 0, reasons: {} }])) as Record<
    CycleKind,
    CycleStats
  >;
  const phones = new Set<string>();
  let onlineCodes = 0;
  const procedureCache: Partial<Record<'deposit' | 'result', Procedure[]>> = {};
  const ctx: Ctx = {
    api,
    world,
    sms,
    faults,
    clock,
    latchHoldMs: LATCH_HOLD_MS,
    boardOf: (tray) => trayBoard.get(tray)!,
    roleOf: (tray) => trayRole.get(tray)!,
    cycles,
    answers: {},
    officerHand: [],
    collectedCodes: [],
    busyPhones: new Set(),
    pickupTries: new Map(),
    wantRound: false,
    newPhone: (rng) => {
      for (;;) {
        // Vietnamese mobile ranges that are assigned (090, 091, 093, 094, 096, 097, 098).
        const phone = `${rng.pick(['090', '091', '093', '094', '096', '097', '098'])}${String(rng.int(0, 9_999_999)).padStart(7, '0')}`;
        if (!phones.has(phone)) {
          phones.add(phone);
          return phone;
        }
      }
    },
    newOnlineCode: (rng) => `000.00.22.H29-${String(rng.int(0, 999_999)).padStart(6, '0')}-${String(++onlineCodes).padStart(4, '0')}`,
    procedures: async (kind) => {
      if (procedureCache[kind]) return procedureCache[kind]!;
      const r = await api.retry('GET', `/api/procedures?${kind}=true`, undefined, { deadlineMs: 30_000 });
      if (!r.ok || !Array.isArray(r.body) || !r.body.length) return null;
      procedureCache[kind] = r.body.map((p: any) => ({
        code: p.code,
        traySize: p.traySize,
        ...(p.pickupProof ? { pickupProof: p.pickupProof } : {}),
      }));
      return procedureCache[kind]!;
    },
    note,
  };

  watcher.start(1_000);
  faults.start();

  // Bounded whatever happens: the quiescent phase has its own limits, and this is the last one.
  const hung = setTimeout(
    () => {
      console.error(`the campaign is still running ${options.maxMinutes + 15} minutes after its start: stopping it (seed ${options.seed})`);
      void shutdownAll().finally(() => process.exit(2));
    },
    (options.maxMinutes + 15) * 60_000,
  );
  hung.unref();

  // Actors: `concurrency` loops taking cycles until the count (or the time) is reached.
  const { finished, stoppedAtDeadline } = await runCycles({ options, startedMs, root, ctx, watcher, lost, pool, lockerId });
  if (interrupted()) return 130;
  const runMs = Date.now() - startedMs;
  if (stoppedAtDeadline) console.log(`time limit (${options.maxMinutes} min) reached after ${finished} cycles: no new cycles`);

  // ---- Quiescence: faults off, daemon up, windows concluded, a last round, the outbox drained.
  console.log(`cycles done in ${duration(runMs)}; quiescent phase: faults off, a last round, outbox drained`);
  const { report, quietMs, finalRounds } = await quiesce({
    ctx,
    sim,
    proxy,
    daemon,
    pool,
    lockerId,
    root,
    watcher,
    lost,
    received,
    runDir,
  });
  await explainUnexpected5xx(pool, lockerId, api);

  printReport({
    options,
    startedMs,
    logger,
    report,
    clock,
    runMs,
    quietMs,
    finalRounds,
    cycles,
    faults,
    world,
    api,
    daemon,
    duplicates,
    ctx,
    db,
    stoppedAtDeadline,
    finished,
  });
  const broken = [
    ...invariantsBroken(report),
    ...(api.unexpected5xx.length ? [`${api.unexpected5xx.length} answer(s) 5xx other than 503`] : []),
    ...(api.bare503.length ? [`${api.bare503.length} 503 answer(s) without a stable code`] : []),
    ...(daemon.stats.unexpectedExits.length ? [`${daemon.stats.unexpectedExits.length} daemon exit(s) nobody asked for`] : []),
  ];
  await shutdownAll();
  if (!broken.length && !options.keep) rmSync(runDir, { recursive: true, force: true });
  else console.log(`run directory kept: ${runDir}`);
  console.log(broken.length ? `FAIL: ${broken.join('; ')} (seed ${options.seed})` : 'PASS: every invariant held');
  return broken.length ? 1 : 0;
}

let code = 2;
try {
  code = await main();
} catch (err) {
  console.error(`the campaign could not run: ${(err as Error).stack ?? err}`);
  code = 2;
} finally {
  if (!interrupted()) {
    await shutdownAll();
    process.exit(code);
  }
}
