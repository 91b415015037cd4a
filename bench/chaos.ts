/**
 * The fault campaign (`npm run chaos`): tries to break the locker's one promise — a dossier put in
 * a tray is never lost — by running citizens and officers against the real daemon while a fault
 * loop kills it, silences lock boards, stops and freezes the database, cuts the broker link and
 * steps the wall clock. The physical truth (doors, latches, paper) lives here, in the campaign
 * process, so it survives every SIGKILL of the daemon; the invariants are checked against it.
 *
 *   npm run chaos -- [--cycles 1000] [--seed S] [--concurrency 6] [--db embedded|url]
 *                    [--max-minutes M] [--faults kind,kind] [--keep] [--verbose]
 *
 * Exits 0 when every invariant held, 1 when one broke (the seed, the tray and its timeline are
 * printed), 2 when the campaign itself could not run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { CabinetSimulator } from '../hardware/simulator.js';
import { loadConfig } from '../src/config/load.js';
import { EmbeddedBroker } from '../src/events/broker.js';
import { createLogger, silentLogger } from '../src/log.js';
import { TcpProxy } from '../test/helpers/tcp-proxy.js';
import {
  CYCLE_KINDS,
  depositCycle,
  loadCycle,
  pickupCycle,
  pickupPhones,
  roundCycle,
  type CycleKind,
  type CycleStats,
  type Ctx,
  type Outcome,
  type Procedure,
} from './chaos/actors.js';
import { Api } from './chaos/api.js';
import { campaignPool, finalChecks, LostLedger, Watcher, type FinalReport } from './chaos/checks.js';
import { openCampaignDatabase, type CampaignDatabase } from './chaos/database.js';
import { CampaignClock, FAULT_KINDS, FaultLoop, type FaultKind } from './chaos/faults.js';
import { parseSeed, Rng } from './chaos/rng.js';
import { FakeSmsProvider } from './chaos/sms-provider.js';
import { DaemonSupervisor } from './chaos/supervisor.js';
import { World } from './chaos/world.js';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  cycles: number;
  seed: number;
  concurrency: number;
  db: 'embedded' | 'url';
  maxMinutes: number;
  keep: boolean;
  verbose: boolean;
  /** Only these fault kinds (all by default). */
  faults: FaultKind[] | undefined;
}

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(
    'usage: npm run chaos -- [--cycles N] [--seed S] [--concurrency C] [--db embedded|url] [--max-minutes M] [--faults k1,k2] [--keep] [--verbose]',
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) usage(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (name === 'keep' || name === 'verbose') {
      flags.add(name);
      continue;
    }
    if (name === 'help') usage();
    const value = inline ?? argv[++i];
    if (value === undefined) usage(`--${name} needs a value`);
    values.set(name, value);
  }
  for (const name of values.keys()) {
    if (!['cycles', 'seed', 'concurrency', 'db', 'max-minutes', 'faults'].includes(name)) usage(`unknown option --${name}`);
  }
  const int = (name: string, dflt: number, min: number) => {
    const text = values.get(name);
    if (text === undefined) return dflt;
    if (!/^\d+$/.test(text) || Number(text) < min) usage(`--${name} must be an integer of at least ${min}`);
    return Number(text);
  };
  const db = values.get('db') ?? 'embedded';
  if (db !== 'embedded' && db !== 'url') usage('--db is embedded or url');
  const cycles = int('cycles', 1000, 1);
  const faults = values
    .get('faults')
    ?.split(',')
    .map((f) => f.trim()) as FaultKind[] | undefined;
  for (const f of faults ?? []) if (!FAULT_KINDS.includes(f)) usage(`--faults: unknown kind ${f}; one of ${FAULT_KINDS.join(', ')}`);
  return {
    cycles,
    seed: parseSeed(values.get('seed')),
    concurrency: int('concurrency', 6, 1),
    db,
    // Generous: about 1.7 s a cycle was measured at concurrency 6 on a 2-core machine.
    maxMinutes: int('max-minutes', Math.ceil(5 + cycles * 0.05), 1),
    keep: flags.has('keep'),
    verbose: flags.has('verbose'),
    faults,
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r: (string | number)[]) =>
    `| ${r.map((v, c) => (typeof v === 'number' ? String(v).padStart(widths[c]) : String(v).padEnd(widths[c]))).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

// Everything started is stopped in reverse, on the way out however it comes.
const stops: { name: string; fn: () => Promise<unknown> | unknown }[] = [];
const exitHooks: (() => void)[] = [];
let shuttingDown: Promise<void> | null = null;
function shutdownAll(): Promise<void> {
  shuttingDown ??= (async () => {
    for (const { name, fn } of stops.reverse()) {
      try {
        await Promise.race([
          fn(),
          sleep(30_000).then(() => {
            throw new Error('took more than 30 s');
          }),
        ]);
      } catch (err) {
        console.error(`stopping ${name} failed: ${(err as Error).message}`);
      }
    }
  })();
  return shuttingDown;
}
process.on('exit', () => {
  for (const hook of exitHooks) {
    try {
      hook();
    } catch {
      // best effort
    }
  }
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the campaign (daemon, database, broker)...`);
    const guard = setTimeout(() => process.exit(130), 40_000);
    guard.unref();
    void shutdownAll().finally(() => process.exit(130));
  });
}

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
      procedureCache[kind] = r.body.map((p: any) => ({ code: p.code, traySize: p.traySize }));
      return procedureCache[kind]!;
    },
    note,
  };

  watcher.start(1_000);
  faults.start();

  // Actors: `concurrency` loops taking cycles until the count (or the time) is reached.
  const deadline = startedMs + options.maxMinutes * 60_000;
  // Bounded whatever happens: the quiescent phase has its own limits, and this is the last one.
  const hung = setTimeout(
    () => {
      console.error(`the campaign is still running ${options.maxMinutes + 15} minutes after its start: stopping it (seed ${options.seed})`);
      void shutdownAll().finally(() => process.exit(2));
    },
    (options.maxMinutes + 15) * 60_000,
  );
  hung.unref();
  let issued = 0;
  let finished = 0;
  let lastRoundCycle = 0;
  let roundEvery = 20;
  let roundRunning = false;
  let stoppedAtDeadline = false;
  let lastToCheck = 0;
  const progress = async () => {
    try {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM outbox WHERE locker_id = $1 AND type = 'tray.to_check'`, [
        lockerId,
      ]);
      lastToCheck = rows[0].n;
    } catch {
      // the database is down right now
    }
    const ok = CYCLE_KINDS.reduce((s, k) => s + cycles[k].completed, 0);
    const ab = CYCLE_KINDS.reduce((s, k) => s + cycles[k].abandoned, 0);
    const totalFaults = Object.values(faults.counts).reduce((a, b) => a + b, 0);
    const now = faults.labels();
    console.log(
      `[${String(finished).padStart(5)}/${options.cycles}] ${duration(Date.now() - startedMs).padStart(6)}  ` +
        `cycles ${ok} done, ${ab} abandoned · faults ${totalFaults}${now.length ? ` (now: ${now.join(', ')})` : ''} · ` +
        `to check ${lastToCheck} · lost ${lost.papers.size} · double-assigned ${world.findings.filter((f) => f.kind === 'double-assigned').length}`,
    );
  };

  const chooseKind = (rng: Rng, n: number): CycleKind => {
    const free = watcher.freeByRole;
    const freeDeposit = (free.deposit ?? 0) + (free.both ?? 0);
    const freeResult = (free.result ?? 0) + (free.both ?? 0);
    const short = ctx.wantRound || (watcher.reads > 0 && (freeDeposit < 8 || freeResult < 8));
    if (!roundRunning && (n - lastRoundCycle >= roundEvery || (short && n - lastRoundCycle >= 3))) {
      roundRunning = true;
      ctx.wantRound = false;
      lastRoundCycle = n;
      roundEvery = rng.int(15, 30);
      return 'round';
    }
    const waiting = pickupPhones(ctx).length > 0;
    return rng.weighted({ deposit: freeDeposit > 0 ? 45 : 5, load: freeResult > 1 ? 30 : 3, pickup: waiting ? 25 : 0, round: 0 });
  };

  const runCycle = async (kind: CycleKind, rng: Rng, who: string): Promise<Outcome> => {
    switch (kind) {
      case 'deposit':
        return depositCycle(ctx, rng, who);
      case 'load':
        return loadCycle(ctx, rng, who);
      case 'pickup':
        return pickupCycle(ctx, rng, who);
      case 'round':
        return roundCycle(ctx, rng, who);
    }
  };

  const actor = async (i: number) => {
    const rng = root.fork(100 + i);
    while (!interrupted && issued < options.cycles) {
      if (Date.now() > deadline) {
        stoppedAtDeadline = true;
        break;
      }
      const n = ++issued;
      const kind = chooseKind(rng, n);
      const who = kind === 'round' || kind === 'load' ? `officer#${i}` : `citizen#${n}`;
      let outcome: Outcome;
      try {
        outcome = await runCycle(kind, rng, who);
      } catch (err) {
        outcome = { ok: false, reason: `campaign error: ${(err as Error).message}` };
        note(`cycle ${n} (${kind}) failed in the campaign: ${(err as Error).stack}`);
      } finally {
        if (kind === 'round') roundRunning = false;
      }
      const stats = cycles[kind];
      if (outcome.ok) stats.completed += 1;
      else stats.abandoned += 1;
      const reason = outcome.reason.replace(/^round of \d+ \(\d+ answered\)$/, 'round completed');
      stats.reasons[reason] = (stats.reasons[reason] ?? 0) + 1;
      finished += 1;
      if (finished % 50 === 0) await progress();
      // The next person comes a moment later; after someone was turned away (no tray free, the
      // machine down), a while later: a blocked locker must not use the cycles up in a second.
      await sleep(outcome.ok ? rng.between(0, 400) : rng.between(1_000, 4_000));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => actor(i + 1)));
  if (interrupted) return 130;
  const runMs = Date.now() - startedMs;
  if (stoppedAtDeadline) console.log(`time limit (${options.maxMinutes} min) reached after ${finished} cycles: no new cycles`);

  // ---- Quiescence: faults off, daemon up, windows concluded, a last round, the outbox drained.
  console.log(`cycles done in ${duration(runMs)}; quiescent phase: faults off, a last round, outbox drained`);
  await faults.stop();
  clock.setStep(0);
  proxy.resume();
  for (const board of sim.boardStates()) if (board.fault.kind !== 'none') sim.setFault(board.id, 'none');
  const quietStarted = Date.now();
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (interrupted) return false;
      if (await check().catch(() => false)) return true;
      await sleep(250);
    }
    note(`quiescence: ${what} not reached within ${duration(timeoutMs)}`);
    console.log(`warning: ${what} not reached within ${duration(timeoutMs)}`);
    return false;
  };
  await daemon.waitUp(120_000);
  await waitFor(
    'daemon healthy (db, mqtt, bus ok)',
    async () => {
      const r = await api.call('GET', '/health');
      return r.ok && r.body.db === 'ok' && r.body.mqtt === 'ok' && r.body.bus === 'ok';
    },
    120_000,
  );
  // Every released tray's window ends (the door-open timeout, then a sweep).
  await waitFor(
    'every flow concluded (no deposit or loading waiting for its door, no pickup release open)',
    async () => {
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM dossiers WHERE locker_id = $1
         AND (status IN ('verified', 'tray_open', 'loading') OR (kind = 'result' AND opened_at IS NOT NULL AND status IN ('loaded', 'notified', 'expired')))`,
        [lockerId],
      );
      return rows[0].n === 0;
    },
    120_000,
  );
  // The last rounds: until nothing is to check or to collect (an expired result may need a round too).
  const officer = root.fork(3);
  let finalRounds = 0;
  for (; finalRounds < 6 && !interrupted; finalRounds++) {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM dossiers WHERE locker_id = $1 AND (status IN ('to_check', 'deposited', 'expired'))`,
      [lockerId],
    );
    const satchel = [...world.papers.values()].some((p) => p.place.at === 'satchel');
    if (rows[0].n === 0 && !satchel) break;
    const outcome = await roundCycle(ctx, officer, 'officer (last round)');
    note(`last round ${finalRounds + 1}: ${outcome.ok ? 'done' : 'abandoned'} (${outcome.reason})`);
  }
  await waitFor(
    'outbox drained',
    async () => {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL AND locker_id = $1`, [lockerId]);
      return rows[0].n === 0;
    },
    120_000,
  );
  // Then the daemon is stopped in order (SIGTERM: `offline` published, the outbox drained, the pool
  // closed), so that no event is written after the comparison below: the timers would go on
  // writing some (a round coming due, a reminder) as long as it runs.
  await daemon.stop();
  const { rows: unsentAfterStop } = await pool.query(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL AND locker_id = $1`, [
    lockerId,
  ]);
  if (unsentAfterStop[0].n) note(`${unsentAfterStop[0].n} outbox row(s) unsent after the daemon's orderly stop`);
  await waitFor(
    'every outbox event received by the subscriber',
    async () => {
      const { rows } = await pool.query(`SELECT id FROM outbox WHERE locker_id = $1`, [lockerId]);
      return rows.every((r: { id: string }) => received.has(r.id));
    },
    15_000,
  );
  watcher.stop();
  const report = await finalChecks({ pool, lockerId, world, sim, watcher, lost, received });
  writeFileSync(path.join(runDir, 'timelines.txt'), world.dump());
  const quietMs = Date.now() - quietStarted;
  // For a 5xx about a dossier code: what the records held for that code (the story behind it).
  for (const odd of api.unexpected5xx) {
    if (!odd.dossierCode) continue;
    const { rows } = await pool
      .query(
        `SELECT d.kind, d.status, d.tray, array_agg(t.to_status ORDER BY t.id) AS path FROM dossiers d
         JOIN dossier_transitions t ON t.dossier_id = d.id WHERE d.locker_id = $1 AND d.code = upper($2)
        GROUP BY d.id, d.kind, d.status, d.tray, d.created_at ORDER BY d.created_at`,
        [lockerId, odd.dossierCode.replace(/^([0-9A-Z]{4})-([0-9A-Z]{5})$/i, '$1$2')],
      )
      .catch(() => ({ rows: [] as any[] }));
    odd.body += ` — records of ${odd.dossierCode}: ${rows.map((r: any) => `${r.kind} ${r.path.join('→')} (tray ${r.tray})`).join('; ') || 'none'}`;
  }

  printReport({
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

function invariantsBroken(r: FinalReport): string[] {
  const out: string[] = [];
  if (r.lost) out.push(`${r.lost} dossier(s) lost`);
  if (r.doubleAssigned) out.push(`${r.doubleAssigned} tray(s) double-assigned`);
  if (r.eventsLost.length) out.push(`${r.eventsLost.length} event(s) lost`);
  if (r.outboxUnsent) out.push(`${r.outboxUnsent} outbox row(s) unsent`);
  if (r.coilsOn.length) out.push(`lock outputs left on: ${r.coilsOn.join(', ')}`);
  if (r.brokenChains.length) out.push(`${r.brokenChains.length} broken transition chain(s)`);
  if (r.leftInFlight.length) out.push(`${r.leftInFlight.length} dossier(s) left in flight`);
  if (r.leftToCheck.length) out.push(`${r.leftToCheck.length} tray(s) left to check`);
  if (r.disagreements.length) out.push(`${r.disagreements.length} dossier(s) whose paper is not where the records say`);
  // No door in the campaign is held open 10 s or opened without a release: every alarm is false.
  const alarms = Object.values(r.doorAlarms).reduce((a, b) => a + b, 0);
  if (alarms) out.push(`${alarms} false door alarm(s)`);
  return out;
}

function printReport(p: {
  report: FinalReport;
  clock: CampaignClock;
  runMs: number;
  quietMs: number;
  finalRounds: number;
  cycles: Record<CycleKind, CycleStats>;
  faults: FaultLoop;
  world: World;
  api: Api;
  daemon: DaemonSupervisor;
  duplicates: number;
  ctx: Ctx;
  db: CampaignDatabase;
  stoppedAtDeadline: boolean;
  finished: number;
}): void {
  const { report: r, cycles, faults, world, api, daemon } = p;
  const out: string[] = [];
  out.push('');
  out.push(
    `## Fault campaign: seed ${options.seed}, ${p.finished} cycles${p.stoppedAtDeadline ? ` (time limit; ${options.cycles} asked)` : ''}, ` +
      `concurrency ${options.concurrency}, database ${p.db.kind}`,
  );
  out.push('');
  out.push(
    `duration ${duration(p.runMs + p.quietMs)}: cycles ${duration(p.runMs)}, quiescent phase ${duration(p.quietMs)} (${p.finalRounds} last round(s))`,
  );
  out.push('');
  const cycleRows: (string | number)[][] = [['cycles', 'completed', 'abandoned', 'how they ended (most frequent)']];
  for (const kind of CYCLE_KINDS) {
    const c = cycles[kind];
    const reasons = Object.entries(c.reasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ');
    cycleRows.push([kind, c.completed, c.abandoned, reasons]);
  }
  cycleRows.push([
    'total',
    CYCLE_KINDS.reduce((s, k) => s + cycles[k].completed, 0),
    CYCLE_KINDS.reduce((s, k) => s + cycles[k].abandoned, 0),
    '',
  ]);
  out.push(table(cycleRows));
  out.push('');
  const faultRows: (string | number)[][] = [['fault', 'count']];
  for (const kind of FAULT_KINDS) faultRows.push([kind, faults.counts[kind]]);
  faultRows.push(['total', Object.values(faults.counts).reduce((a, b) => a + b, 0)]);
  out.push(table(faultRows));
  if (!p.db.canFault) out.push('database faults skipped: --db url (no control of the server process)');
  const inFault = Object.entries(world.doorMovesInFault)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  out.push(
    `door movements ${world.doorMoves}; during a fault: ${inFault || 'none'}; board faults asked for at a citizen's door ${faults.targeted.done} (of ${faults.targeted.asked})`,
  );
  out.push('');
  const toCheck =
    Object.entries(r.toCheckByKind)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const totalToCheck = Object.values(r.toCheckByKind).reduce((a, b) => a + b, 0);
  const resolved =
    Object.entries(r.checkedByOutcome)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const inv: (string | number)[][] = [['invariant', 'result']];
  inv.push(['dossiers lost (paper in a tray recorded free)', r.lost]);
  inv.push(['trays double-assigned', r.doubleAssigned]);
  inv.push([`events lost (of ${r.eventsInOutbox} in the outbox; ${p.duplicates} duplicates received)`, r.eventsLost.length]);
  inv.push(['outbox rows unsent at the end', r.outboxUnsent]);
  inv.push(['lock outputs left on', r.coilsOn.length]);
  inv.push(['dossiers with a broken transition chain', r.brokenChains.length]);
  inv.push(['dossiers left verified / tray_open / loading', r.leftInFlight.length]);
  inv.push(['trays left to check', r.leftToCheck.length]);
  inv.push(['dossiers whose paper is not where the records say', r.disagreements.length]);
  inv.push([`trays sent to check: ${toCheck}`, totalToCheck]);
  inv.push([`  resolved by the officer: ${resolved}`, Object.values(r.checkedByOutcome).reduce((a, b) => a + b, 0)]);
  inv.push(['door alarms (false: no door is held open or opened unreleased here)', Object.values(r.doorAlarms).reduce((a, b) => a + b, 0)]);
  inv.push(['5xx other than 503', api.unexpected5xx.length]);
  inv.push(['503 without a stable error code', api.bare503.length]);
  out.push(table(inv));
  out.push('');
  const errs = Object.entries(api.errors)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
  out.push(`HTTP: ${api.requests} requests; answers other than 2xx: ${errs || 'none'}`);
  out.push(
    `daemon: ${daemon.stats.starts} starts (${daemon.stats.kills} after a SIGKILL, ${daemon.stats.startFailures} failed while a fault was on), ` +
      `${daemon.stats.unexpectedExits.length} exits it was not asked for`,
  );
  if (Object.keys(r.doorAlarms).length) {
    // A wall-clock step starting or ending within 5 s of the alarm.
    const nearStep = r.doorAlarmList.filter((a) => {
      const atS = (a.atMs - startedMs) / 1000;
      return (
        faults.log.some(
          (e) =>
            e.label.startsWith('clock_') &&
            (Math.abs(e.startS - atS) <= 5 ||
              (e.endS !== null && Math.abs(e.endS - atS) <= 5) ||
              (e.startS <= atS && (e.endS ?? Infinity) >= atS)),
        ) || p.clock.advances.some((step) => Math.abs(step.atS - atS) <= 5)
      );
    }).length;
    out.push(
      `door alarms: ${Object.entries(r.doorAlarms)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}; ${nearStep} of ${r.doorAlarmList.length} within 5 s of a wall-clock step (a fault's, or the clock moved on to a round)`,
    );
  }
  const answers = Object.entries(p.ctx.answers)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  out.push(`officer answers: ${answers || 'none'}`);
  out.push(
    `records at the end: dossiers ${Object.entries(r.dossierStatuses)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; ` +
      `trays ${Object.entries(r.trayStates)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
  );
  const otherFindings = world.findings.filter((f) => !['dossier lost', 'double-assigned'].includes(f.kind));
  if (otherFindings.length) {
    const byKind: Record<string, number> = {};
    for (const f of otherFindings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    out.push(
      `other observations: ${Object.entries(byKind)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  console.log(out.join('\n'));

  // The stories behind anything broken.
  const details: string[] = [];
  const list = (title: string, items: string[]) => {
    if (!items.length) return;
    details.push(`\n${title}:`);
    for (const item of items.slice(0, 20)) details.push(`  - ${item}`);
    if (items.length > 20) details.push(`  ... and ${items.length - 20} more`);
  };
  list(
    '5xx other than 503',
    api.unexpected5xx.map((e) => `${e.atS.toFixed(1)}s ${e.method} ${e.path} → ${e.status} ${e.body}`),
  );
  list(
    '503 without a stable error code',
    api.bare503.map((e) => `${e.atS.toFixed(1)}s ${e.method} ${e.path} → ${e.body}`),
  );
  list(
    'daemon exits it was not asked for (whole stderr in daemon.stderr)',
    daemon.stats.unexpectedExits.map(
      (e) =>
        `${((e.atMs - startedMs) / 1000).toFixed(1)}s code ${e.code} signal ${e.signal}: ${e.stderr.split('\n').slice(-3).join(' / ')}`,
    ),
  );
  list('events lost (outbox ids never received)', r.eventsLost);
  list('broken transition chains', r.brokenChains);
  list('dossiers left in flight', r.leftInFlight);
  list('trays left to check', r.leftToCheck);
  list('paper not where the records say', r.disagreements);
  list('lock outputs left on', r.coilsOn);
  // False door alarms: what was going on at that tray and in the locker at that moment.
  for (const alarm of r.doorAlarmList.slice(0, 6)) {
    const atS = (alarm.atMs - startedMs) / 1000;
    details.push(
      `\n${alarm.type} for tray ${alarm.tray} at ${atS.toFixed(1)}s (seed ${options.seed}): no door is held open 10 s or opened unreleased in the campaign`,
    );
    const active = faults.log.filter((e) => e.startS <= atS + 0.5 && (e.endS ?? Infinity) >= atS - 0.5).map((e) => e.label);
    details.push(`  faults at that moment: ${active.join(', ') || 'none'}`);
    for (const line of world
      .timeline(alarm.tray)
      .filter((l) => Math.abs(Number(l.trim().split('s')[0]) - atS) < 20)
      .slice(-8)) {
      details.push(`    ${line}`);
    }
  }
  if (r.doorAlarmList.length > 6) details.push(`\n(${r.doorAlarmList.length - 6} more door alarms)`);
  const shown = world.findings.filter((f) => f.kind !== 'recorded but not there' || options.verbose).slice(0, 12);
  for (const f of shown) {
    details.push(`\n${f.kind} — tray ${f.tray} at ${f.atS.toFixed(1)}s (seed ${options.seed}): ${f.detail}`);
    details.push('  tray timeline (campaign side):');
    for (const line of f.timeline.slice(-25)) details.push(`    ${line}`);
    const from = Number(f.timeline.at(-25)?.trim().split('s')[0] ?? 0);
    const overlapping = faults.log.filter((e) => (e.endS ?? Infinity) >= from - 5 && e.startS <= f.atS);
    if (overlapping.length) {
      details.push('  faults around it:');
      for (const e of overlapping.slice(-15))
        details.push(`    ${e.startS.toFixed(1)}s–${e.endS === null ? '…' : `${e.endS.toFixed(1)}s`} ${e.label}`);
    }
  }
  if (world.findings.length > shown.length) details.push(`\n(${world.findings.length - shown.length} more observations in campaign.log)`);
  for (const f of world.findings) logger.warn({ finding: f }, 'finding');
  if (details.length) console.log(details.join('\n'));
}

let code = 2;
try {
  code = await main();
} catch (err) {
  console.error(`the campaign could not run: ${(err as Error).stack ?? err}`);
  code = 2;
} finally {
  if (!interrupted) {
    await shutdownAll();
    process.exit(code);
  }
}
