/**
 * The fault loop: at random moments, for random durations, it breaks one part of the locker —
 * the daemon (SIGKILL, then started again), a lock board (no answer, CRC errors, garbage, slow,
 * powered off), the RS-485 gateway link (every connection dropped, new ones refused), the database (stopped, frozen with SIGSTOP, restarted, crashed), the broker link
 * (cut at the proxy), the wall clock (stepped forward or back) — and puts it right afterwards.
 * Citizens can also ask for the board of their tray to fail while they are at the door, so that
 * door movements fall inside gaps of the watch on purpose, not only by chance.
 */
import type { CabinetSimulator, SimFaultKind } from '../../hardware/simulator.js';
import type { TcpProxy } from '../../test/helpers/tcp-proxy.js';
import type { CampaignDatabase } from './database.js';
import type { Rng } from './rng.js';
import type { DaemonSupervisor } from './supervisor.js';

export const FAULT_KINDS = [
  'daemon_kill',
  'board_no_answer',
  'board_crc_error',
  'board_garbage',
  'board_slow',
  'board_offline',
  'bus_unplug',
  'db_stop',
  'db_freeze',
  'db_restart',
  'db_crash',
  'broker_cut',
  'clock_forward',
  'clock_back',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The daemon's wall clock: a base the rounds move on, plus a step a fault adds for a while. */
export class CampaignClock {
  private base = 0;
  private step = 0;
  /** The moves of the base for rounds (wall-clock steps too, though no fault's). */
  readonly advances: { atS: number; byMs: number }[] = [];

  constructor(
    private readonly daemon: DaemonSupervisor,
    private readonly seconds: () => number = () => 0,
  ) {}

  /** The daemon's wall-clock time now, ms since the epoch. */
  now(): number {
    return Date.now() + this.base + this.step;
  }

  setStep(ms: number): void {
    this.step = ms;
    this.daemon.setClockOffset(this.base + this.step);
  }

  /** Moves the base on so that the daemon's clock reads at least `wallMs` (a round's time has come). */
  advanceTo(wallMs: number): number {
    const by = wallMs - this.now();
    if (by > 0) {
      this.base += by;
      this.advances.push({ atS: this.seconds(), byMs: by });
      this.daemon.setClockOffset(this.base + this.step);
    }
    return Math.max(0, by);
  }

  get offsetMs(): number {
    return this.base + this.step;
  }
}

interface ActiveFault {
  id: number;
  kind: FaultKind;
  label: string;
  startS: number;
  board?: string;
}

export interface FaultLogEntry {
  label: string;
  startS: number;
  endS: number | null;
}

export interface FaultLoopDeps {
  sim: CabinetSimulator;
  daemon: DaemonSupervisor;
  db: CampaignDatabase;
  proxy: TcpProxy;
  clock: CampaignClock;
  rng: Rng;
  seconds: () => number;
  note: (line: string) => void;
  /** At most this many faults at once (default 3). */
  maxActive?: number;
  /** Only these kinds (a targeted campaign); all by default. */
  only?: FaultKind[];
}

const BOARD_KINDS: Record<string, SimFaultKind> = {
  board_no_answer: 'no_answer',
  board_crc_error: 'crc_error',
  board_garbage: 'garbage',
  board_slow: 'slow',
  board_offline: 'offline',
};

export class FaultLoop {
  readonly counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  readonly log: FaultLogEntry[] = [];
  readonly targeted = { asked: 0, done: 0 };
  private readonly active = new Map<number, ActiveFault>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  private wakeStop: (() => void)[] = [];
  private nextId = 1;
  private dbBusy = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly deps: FaultLoopDeps) {}

  /** What is broken now, for the timelines ("board_no_answer b2", "db_freeze", "daemon_down"). */
  labels(): string[] {
    const out = [...this.active.values()].map((f) => f.label);
    if (!this.deps.daemon.isUp && !out.some((l) => l.startsWith('daemon_kill'))) out.push('daemon_down');
    return out;
  }

  get activeCount(): number {
    return this.active.size;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Ends every fault (each puts its part right) and stops injecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakeStop.splice(0)) wake();
    await this.loop;
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Sleeps `ms`, or less if the loop is stopped meanwhile. */
  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.wakeStop = this.wakeStop.filter((w) => w !== wake);
        resolve();
      }, ms);
      this.wakeStop.push(wake);
    });
  }

  private async run(): Promise<void> {
    const { rng } = this.deps;
    while (!this.stopped) {
      await this.sleep(rng.between(300, 2_200));
      if (this.stopped) break;
      if (this.active.size >= (this.deps.maxActive ?? 3)) continue;
      const weights = this.weights();
      if (!Object.values(weights).some((w) => w > 0)) continue;
      this.launch(rng.weighted(weights));
    }
  }

  private weights(): Record<FaultKind, number> {
    const { daemon, db } = this.deps;
    const has = (prefix: string) => [...this.active.values()].some((f) => f.kind.startsWith(prefix));
    const dbOk = db.canFault && !this.dbBusy;
    const weights: Record<FaultKind, number> = {
      daemon_kill: daemon.isUp ? 9 : 0,
      board_no_answer: 8,
      board_crc_error: 5,
      board_garbage: 4,
      board_slow: 5,
      board_offline: 6,
      bus_unplug: has('bus') ? 0 : 3,
      db_stop: dbOk ? 7 : 0,
      db_freeze: dbOk ? 8 : 0,
      db_restart: dbOk ? 4 : 0,
      db_crash: dbOk ? 4 : 0,
      broker_cut: has('broker') ? 0 : 10,
      clock_forward: has('clock') ? 0 : 5,
      clock_back: has('clock') ? 0 : 5,
    };
    if (this.deps.only) for (const kind of FAULT_KINDS) if (!this.deps.only.includes(kind)) weights[kind] = 0;
    return weights;
  }

  /** A citizen at a tray asks for its board to fail now, for about `ms`. */
  targetBoard(board: string, ms: number): boolean {
    this.targeted.asked += 1;
    if (this.stopped || this.active.size >= (this.deps.maxActive ?? 3) + 1) return false;
    // A targeted campaign without board faults has none at the door either.
    const kinds = (['board_no_answer', 'board_offline', 'board_crc_error', 'board_garbage'] as const).filter(
      (k) => !this.deps.only || this.deps.only.includes(k),
    );
    if (!kinds.length) return false;
    if ([...this.active.values()].some((f) => f.board === board)) return false;
    const kind = this.deps.rng.pick(kinds);
    this.targeted.done += 1;
    this.launch(kind, { board, ms });
    return true;
  }

  private launch(kind: FaultKind, forced: { board?: string; ms?: number } = {}): void {
    const p = this.inject(kind, forced).catch((err) => this.deps.note(`fault ${kind} failed: ${(err as Error).message}`));
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private begin(kind: FaultKind, label: string, board?: string): ActiveFault {
    const fault = { id: this.nextId++, kind, label, startS: this.deps.seconds(), board };
    this.active.set(fault.id, fault);
    this.counts[kind] += 1;
    this.log.push({ label, startS: fault.startS, endS: null });
    return fault;
  }

  private end(fault: ActiveFault): void {
    this.active.delete(fault.id);
    const entry = [...this.log].reverse().find((e) => e.label === fault.label && e.startS === fault.startS);
    if (entry) entry.endS = this.deps.seconds();
  }

  private async inject(kind: FaultKind, forced: { board?: string; ms?: number }): Promise<void> {
    const { rng, sim, daemon, db, proxy, clock } = this.deps;
    if (kind.startsWith('board_')) {
      const faulted = new Set([...this.active.values()].map((f) => f.board));
      const boards = sim
        .boardStates()
        .map((b) => b.id)
        .filter((b) => !faulted.has(b));
      const board = forced.board ?? (boards.length ? rng.pick(boards) : null);
      if (!board) return;
      const ms = forced.ms ?? rng.between(300, 6_000);
      const delayMs = kind === 'board_slow' ? rng.int(20, 300) : undefined;
      const fault = this.begin(
        kind,
        `${kind} ${board}${delayMs ? ` +${delayMs}ms` : ''}${forced.board ? " (at a citizen's door)" : ''}`,
        board,
      );
      sim.setFault(board, BOARD_KINDS[kind], { delayMs });
      await this.sleep(ms);
      sim.setFault(board, 'none');
      this.end(fault);
      return;
    }
    if (kind === 'daemon_kill') {
      const holdMs = rng.chance(0.5) ? 0 : rng.between(200, 4_000);
      const fault = this.begin(kind, 'daemon_kill');
      if (!daemon.kill(holdMs)) {
        this.end(fault);
        this.counts[kind] -= 1;
        return;
      }
      // Down until it is up again (a start that fails while the database is down takes longer).
      const until = Date.now() + 90_000;
      while (!daemon.isUp && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      this.end(fault);
      return;
    }
    if (kind.startsWith('db_')) {
      if (this.dbBusy) return;
      this.dbBusy = true;
      try {
        const ms = rng.between(500, 6_000);
        const fault = this.begin(kind, kind);
        try {
          if (kind === 'db_stop') {
            await db.stop();
            await this.sleep(ms);
            await this.startDb();
          } else if (kind === 'db_freeze') {
            db.freeze();
            await this.sleep(ms);
            db.thaw();
          } else if (kind === 'db_restart') {
            await db.stop();
            await this.startDb();
          } else {
            await db.crashAndRestart().catch(() => this.startDb());
          }
        } finally {
          this.end(fault);
        }
      } finally {
        this.dbBusy = false;
      }
      return;
    }
    if (kind === 'bus_unplug') {
      // The gateway's link drops (an adapter unplugged): connections cut, refused for a while.
      const bus = rng.pick([...sim.endpoints().keys()]);
      const ms = rng.between(300, 5_000);
      const fault = this.begin(kind, `bus_unplug ${bus}`);
      await sim.closeConnections(bus, { refuseMs: ms });
      await this.sleep(ms + 100);
      this.end(fault);
      return;
    }
    if (kind === 'broker_cut') {
      const fault = this.begin(kind, 'broker_cut');
      proxy.cut();
      await this.sleep(rng.between(500, 8_000));
      proxy.resume();
      this.end(fault);
      return;
    }
    // Clock steps: forward up to 6 h, back up to 3 h, for a few seconds, then back to the base.
    const minutes = kind === 'clock_forward' ? rng.between(1, 360) : -rng.between(1, 180);
    const ms = Math.round(minutes * 60_000);
    const fault = this.begin(kind, `${kind} ${minutes > 0 ? '+' : ''}${Math.round(minutes)}min`);
    clock.setStep(ms);
    await this.sleep(rng.between(1_000, 8_000));
    clock.setStep(0);
    this.end(fault);
  }

  /** The database must come back: keep trying (a start can fail while the old server winds down). */
  private async startDb(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.db.start();
        return;
      } catch (err) {
        this.deps.note(`database start failed (attempt ${attempt}): ${(err as Error).message.split('\n')[0]}`);
        if (attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }
}
