/**
 * The invariants of the fault campaign, checked against the records through the campaign's own
 * connection to the database (never through the daemon):
 *   - during the run, about every second: no tray that physically holds paper is recorded `free`
 *     (read with a guard: the tray must not have moved while the records were read);
 *   - at the end, after a quiescent period: the same for every tray; no lock output left on; every
 *     outbox event received by the campaign's subscriber and none left unsent; every dossier's
 *     transitions chained; none left in verified / tray_open / loading / to_check; and every sheet
 *     of paper where its dossier's records say it is.
 */
import pg from 'pg';
import type { CabinetSimulator } from '../../hardware/simulator.js';
import { normalizeCode, type Paper, type World } from './world.js';

export const HOLDING_STATES = new Set(['holding_deposit', 'holding_result', 'reserved', 'to_check']);

export function campaignPool(url: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 3,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 5_000,
    statement_timeout: 4_000,
    query_timeout: 5_000,
  } as pg.PoolConfig);
  pool.on('error', () => undefined);
  return pool;
}

/** Papers found lying in a tray recorded free: the promise broken. */
export class LostLedger {
  readonly papers = new Map<number, { paper: Paper; tray: number; atS: number; phase: 'run' | 'end' }>();
  add(paper: Paper, tray: number, atS: number, phase: 'run' | 'end'): boolean {
    if (this.papers.has(paper.id)) return false;
    this.papers.set(paper.id, { paper, tray, atS, phase });
    return true;
  }
}

export class Watcher {
  freeByRole: Record<string, number> = {};
  states = new Map<number, string>();
  reads = 0;
  failedReads = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly lockerId: string,
    private readonly world: World,
    private readonly lost: LostLedger,
  ) {}

  start(everyMs = 1_000): void {
    this.timer = setInterval(() => void this.tick(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.check('run');
    } finally {
      this.busy = false;
    }
  }

  /** Reads every tray's recorded state and compares it with the paper lying in it. */
  async check(phase: 'run' | 'end'): Promise<boolean> {
    const before = new Map<number, number>();
    for (const s of this.world.sim.trays()) before.set(s.tray, this.world.version(s.tray));
    let rows: { number: number; content: string; role: string; disabled_reason: string | null; fault: string | null }[];
    try {
      ({ rows } = await this.pool.query(`SELECT number, content, role, disabled_reason, fault FROM trays WHERE locker_id = $1`, [
        this.lockerId,
      ]));
    } catch {
      this.failedReads += 1;
      return false;
    }
    this.reads += 1;
    const free: Record<string, number> = {};
    for (const row of rows) {
      this.states.set(row.number, row.content);
      if (row.content === 'free' && !row.disabled_reason && !row.fault) free[row.role] = (free[row.role] ?? 0) + 1;
      const papers = this.world.papersIn(row.number);
      if (!papers.length || HOLDING_STATES.has(row.content)) continue;
      // The tray moved while its record was read: no conclusion from this reading.
      if (this.world.version(row.number) !== before.get(row.number)) continue;
      for (const paper of papers) {
        if (this.lost.add(paper, row.number, this.world.seconds(), phase)) {
          this.world.find(
            `lost:${paper.id}`,
            'dossier lost',
            row.number,
            `tray ${row.number} is recorded ${row.content} while it holds ${paper.kind} ${paper.display} (${phase === 'run' ? 'seen during the run' : 'at the end'})`,
          );
        }
      }
    }
    this.freeByRole = free;
    return true;
  }
}

export interface FinalReport {
  lost: number;
  doubleAssigned: number;
  eventsInOutbox: number;
  eventsReceived: number;
  eventsLost: string[];
  outboxUnsent: number;
  coilsOn: string[];
  brokenChains: string[];
  leftInFlight: string[];
  leftToCheck: string[];
  /** Sheets whose place disagrees with their dossier's records. */
  disagreements: string[];
  toCheckByKind: Record<string, number>;
  /**
   * Alarms about doors (held open, opened without a release): in the campaign no door stays open
   * 10 s and none opens unreleased, so each one is a false alarm.
   */
  doorAlarms: Record<string, number>;
  /** Each of them: its type, tray and when it was written (ms since the epoch, the server's clock). */
  doorAlarmList: { type: string; tray: number; atMs: number }[];
  checkedByOutcome: Record<string, number>;
  dossierStatuses: Record<string, number>;
  trayStates: Record<string, number>;
}

/** Where a sheet may be for each final status of its dossier. */
function placeAgrees(paper: Paper, status: string | undefined): boolean {
  const at = paper.place.at;
  if (paper.kind === 'deposit') {
    if (at === 'hand') return status === undefined || status === 'cancelled';
    if (at === 'tray') return status === 'deposited' || status === 'to_check';
    if (at === 'counter' || at === 'satchel') return status === 'collected';
    return false;
  }
  if (at === 'hand') return status === undefined || status === 'cancelled';
  if (at === 'tray') return status === 'loaded' || status === 'notified' || status === 'expired' || status === 'to_check';
  if (at === 'citizen') return status === 'picked_up';
  if (at === 'counter' || at === 'satchel') return status === 'returned_to_counter';
  return false;
}

export async function finalChecks(opts: {
  pool: pg.Pool;
  lockerId: string;
  world: World;
  sim: CabinetSimulator;
  watcher: Watcher;
  lost: LostLedger;
  received: Set<string>;
}): Promise<FinalReport> {
  const { pool, lockerId, world, sim, watcher, lost, received } = opts;
  await watcher.check('end');
  const q = <T extends pg.QueryResultRow = any>(text: string, values: unknown[] = []) => pool.query<T>(text, values);

  const outbox = await q<{ id: string; sent: boolean }>(`SELECT id, sent_at IS NOT NULL AS sent FROM outbox WHERE locker_id = $1`, [
    lockerId,
  ]);
  const eventsLost = outbox.rows.filter((r) => !received.has(r.id)).map((r) => r.id);
  const outboxUnsent = outbox.rows.filter((r) => !r.sent).length;

  const coilsOn: string[] = [];
  for (const board of sim.boardStates()) {
    board.coils.forEach((on, channel) => {
      if (on) coilsOn.push(`${board.id}/${channel}`);
    });
  }

  const dossiers = await q<{ id: string; code: string; kind: string; status: string; tray: number | null }>(
    `SELECT id, code, kind, status, tray FROM dossiers WHERE locker_id = $1`,
    [lockerId],
  );
  const transitions = await q<{ dossier_id: string; from_status: string | null; to_status: string }>(
    `SELECT t.dossier_id, t.from_status, t.to_status FROM dossier_transitions t JOIN dossiers d ON d.id = t.dossier_id
      WHERE d.locker_id = $1 ORDER BY t.dossier_id, t.id`,
    [lockerId],
  );
  const chains = new Map<string, { from: string | null; to: string }[]>();
  for (const t of transitions.rows) {
    const list = chains.get(t.dossier_id) ?? [];
    list.push({ from: t.from_status, to: t.to_status });
    chains.set(t.dossier_id, list);
  }
  const brokenChains: string[] = [];
  const dossierStatuses: Record<string, number> = {};
  for (const d of dossiers.rows) {
    dossierStatuses[d.status] = (dossierStatuses[d.status] ?? 0) + 1;
    const chain = chains.get(d.id) ?? [];
    let previous: string | null = null;
    let ok = chain.length > 0;
    chain.forEach((step, i) => {
      if (step.from !== (i === 0 ? null : previous)) ok = false;
      previous = step.to;
    });
    if (previous !== d.status) ok = false;
    if (!ok) brokenChains.push(`${d.kind} ${d.code} (${d.status}): ${chain.map((s) => `${s.from ?? '∅'}→${s.to}`).join(' ')}`);
  }
  const leftInFlight = dossiers.rows
    .filter((d) => ['verified', 'tray_open', 'loading'].includes(d.status))
    .map((d) => `${d.kind} ${d.code} ${d.status} tray ${d.tray}`);
  const leftToCheck = dossiers.rows.filter((d) => d.status === 'to_check').map((d) => `${d.kind} ${d.code} tray ${d.tray}`);

  // Each sheet against its dossier's records (codes compared normalised; a result and a deposit may share one).
  const byCode = new Map<string, string>();
  for (const d of dossiers.rows) {
    const key = `${d.kind}:${normalizeCode(d.code)}`;
    // A code used twice (a load tried again after it was cancelled): the live one counts.
    if (!byCode.has(key) || d.status !== 'cancelled') byCode.set(key, d.status);
  }
  const disagreements: string[] = [];
  for (const paper of world.papers.values()) {
    const status = byCode.get(`${paper.kind}:${paper.code}`);
    if (!placeAgrees(paper, status)) {
      const where =
        paper.place.at === 'tray'
          ? `in tray ${paper.place.tray}`
          : paper.place.at === 'hand'
            ? `in the hand of ${paper.place.who}`
            : `with the ${paper.place.at}`;
      disagreements.push(
        `${paper.kind} ${paper.display} is ${where}; its record says ${status ?? 'nothing'} (trays ${paper.trays.join(',') || '-'})`,
      );
    }
  }

  const toCheck = await q<{ kind: string; n: number }>(
    `SELECT payload->'data'->>'kind' AS kind, count(*)::int AS n FROM outbox WHERE locker_id = $1 AND type = 'tray.to_check' GROUP BY 1`,
    [lockerId],
  );
  const checked = await q<{ outcome: string; n: number }>(
    `SELECT payload->'data'->>'outcome' AS outcome, count(*)::int AS n FROM outbox WHERE locker_id = $1 AND type = 'tray.checked' GROUP BY 1`,
    [lockerId],
  );
  const alarms = await q<{ type: string; tray: number; at_ms: number }>(
    `SELECT type, (payload->'data'->>'tray')::int AS tray, (extract(epoch FROM created_at) * 1000)::float8 AS at_ms
       FROM outbox WHERE locker_id = $1 AND type IN ('alarm.door_held_open', 'alarm.door_open_unexpected') ORDER BY seq`,
    [lockerId],
  );
  const doorAlarms: Record<string, number> = {};
  for (const a of alarms.rows) doorAlarms[a.type] = (doorAlarms[a.type] ?? 0) + 1;
  const trays = await q<{ content: string; n: number }>(`SELECT content, count(*)::int AS n FROM trays WHERE locker_id = $1 GROUP BY 1`, [
    lockerId,
  ]);

  return {
    lost: lost.papers.size,
    doubleAssigned: world.findings.filter((f) => f.kind === 'double-assigned').length,
    eventsInOutbox: outbox.rows.length,
    eventsReceived: outbox.rows.length - eventsLost.length,
    eventsLost,
    outboxUnsent,
    coilsOn,
    brokenChains,
    leftInFlight,
    leftToCheck,
    disagreements,
    toCheckByKind: Object.fromEntries(toCheck.rows.map((r) => [r.kind, r.n])),
    doorAlarms,
    doorAlarmList: alarms.rows.map((a) => ({ type: a.type, tray: a.tray, atMs: a.at_ms })),
    checkedByOutcome: Object.fromEntries(checked.rows.map((r) => [r.outcome, r.n])),
    dossierStatuses,
    trayStates: Object.fromEntries(trays.rows.map((r) => [r.content, r.n])),
  };
}
