/**
 * Tray use cases shared by every flow: releasing a lock, following doors, taking trays out of
 * service (by an admin or because their board stopped answering), reconciling at start-up and
 * after every gap in the watch.
 *
 * Door truth (docs/adr/0012-uncertain-tray-outcomes.md): each lock release opens a *window*, kept
 * in memory and timed by the monotonic clock. A window is *watched* only while this process runs,
 * the tray's board answers without a gap, and every door change seen has been recorded. Flows ask
 * `verdict()` before they conclude "the door never opened": a window with a gap is `uncertain`,
 * and the flow holds the tray for an officer instead of freeing it. A window opened by an earlier
 * process is not in memory: after a restart every open flow is uncertain by construction.
 *
 * Bus events are applied one at a time, in the order the bus saw them; one that cannot be written
 * (the database is down) is retried until it can, and the events behind it wait their turn.
 */
import type { Logger } from 'pino';
import { monotonicMs, type Clock } from '../domain/clock.js';
import { AppError, isAppError } from '../domain/errors.js';
import { displayState, isUnexpectedOpening, type Tray } from '../domain/tray.js';
import type {
  AuditStore, BoardFaultEvent, BoardRecoveredEvent, Database, DoorEvent, EventOutbox, LockBus, Queryable,
  TrayReading, TrayStatePublisher, TrayStore, WatchGapEvent,
} from './ports.js';
import type { TrayOpenReason } from '../events/topics.js';

export interface TrayServiceDeps {
  db: Database;
  trays: TrayStore;
  audit: AuditStore;
  outbox: EventOutbox;
  bus: LockBus;
  state: TrayStatePublisher;
  clock: Clock;
  logger: Logger;
  /** A door may open this long after its lock was released without raising an alarm. */
  releaseWindowMs?: number;
  /** The controller's version, carried by `locker.started`. */
  version?: string;
  /** First and longest pause between two tries of a bus event the database refused, ms. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** What is known of a lock release once its time is up. */
export type WindowVerdict =
  /** Still within its time, or door changes seen but not yet recorded: ask again later. */
  | { kind: 'running' }
  /** Watched throughout: the records say all that happened at the door. */
  | { kind: 'watched' }
  /** A gap in the watch: the door may have moved unseen. */
  | { kind: 'uncertain'; gap: string };

interface ReleaseWindow {
  startedMs: number;
  /** Why the watch was interrupted, once it was. */
  gap: string | null;
}

/**
 * Called in the transaction that records a door change, so that a flow's transition (a deposit
 * made, a result picked up) commits with it. May return work to do after commit (an SMS).
 */
export type DoorHandler = (q: Queryable, tray: Tray, open: boolean, at: Date) => Promise<AfterCommit | void>;
export type AfterCommit = () => Promise<void>;

export interface TrayView {
  number: number;
  cabinet: string;
  size: Tray['size'];
  role: Tray['role'];
  state: ReturnType<typeof displayState>;
  door: Tray['door'];
  board: string;
  outOfServiceReason: string | null;
  fault: string | null;
}

/** True when an unlock failed before any command could reach the board. */
function notSent(err: unknown): boolean {
  return isAppError(err) && (err.code === 'BOARD_OFFLINE' || err.code === 'BUS_UNAVAILABLE' || err.code === 'TRAY_NOT_FOUND')
    && !('faultCause' in (err as object));
}

export function trayView(t: Tray): TrayView {
  return {
    number: t.number,
    cabinet: t.cabinet,
    size: t.size,
    role: t.role,
    state: displayState(t),
    door: t.door,
    board: t.board,
    outOfServiceReason: t.disabledReason,
    fault: t.fault,
  };
}

export class TrayService {
  private readonly releaseWindowMs: number;
  /** Door, fault and recovery events are applied one at a time, in the order the bus saw them. */
  private chain: Promise<void> = Promise.resolve();
  /** Bus events received and not yet recorded. */
  private pending = 0;
  private readonly windows = new Map<number, ReleaseWindow>();
  /** Monotonic time this process started watching: windows of earlier processes count from here. */
  private watchStartedMs = 0;
  private stopped = false;
  private readonly listeners: { event: string; fn: (...args: any[]) => void }[] = [];
  private readonly log: Logger;
  private readonly doorHandlers: DoorHandler[] = [];
  private readonly changeListeners = new Set<(all: Tray[], changed: number[]) => void>();

  constructor(private readonly deps: TrayServiceDeps) {
    this.releaseWindowMs = deps.releaseWindowMs ?? 60_000;
    this.log = deps.logger;
  }

  /** Subscribes to the bus and reconciles every tray with what the bus reads now. */
  async start(): Promise<void> {
    this.stopped = false;
    this.watchStartedMs = monotonicMs(this.deps.clock);
    const on = <E extends 'door' | 'fault' | 'recovered' | 'gap'>(
      event: E, fn: (e: any) => Promise<void>, trays: (e: any) => number[], now?: (e: any) => void,
    ) => {
      const listener = (e: unknown) => {
        now?.(e);
        void this.enqueue(() => fn(e), trays(e));
      };
      this.deps.bus.on(event, listener as any);
      this.listeners.push({ event, fn: listener });
    };
    on('door', (e: DoorEvent) => this.onDoor(e), (e: DoorEvent) => [e.tray]);
    // A silent board interrupts the watch at once, before its event is even recorded.
    on('fault', (e: BoardFaultEvent) => this.onFault(e), (e: BoardFaultEvent) => e.trays,
      (e: BoardFaultEvent) => this.markGap(e.trays, `board ${e.board} offline (${e.cause})`));
    on('recovered', (e: BoardRecoveredEvent) => this.onRecovered(e), (e: BoardRecoveredEvent) => e.trays);
    on('gap', (e: WatchGapEvent) => this.onGap(e), (e: WatchGapEvent) => e.trays,
      (e: WatchGapEvent) => this.markGap(e.trays, `board ${e.board} unread for ${e.unwatchedMs} ms`));
    await this.enqueue(() => this.reconcile(this.deps.bus.snapshot()), []);
  }

  async stop(): Promise<void> {
    for (const { event, fn } of this.listeners) this.deps.bus.off(event as any, fn);
    this.listeners.length = 0;
    this.stopped = true;
    await this.chain;
  }

  /** Waits until every bus event received so far has been applied (tests, shutdown). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Bus events received and not yet recorded (waiting for the database). */
  get unrecorded(): number {
    return this.pending;
  }

  /**
   * Queues a bus event. A failure is retried with backoff for as long as the database does not
   * answer (the event is kept, in order); a failure with the database up is a defect: after a
   * few tries the event is dropped, and its trays' windows are marked as not watched, so no flow
   * concludes anything from the hole it leaves.
   */
  private enqueue(task: () => Promise<void>, trays: number[]): Promise<void> {
    this.pending += 1;
    const run = async () => {
      let delay = this.deps.retryMinMs ?? 200;
      for (let attempt = 1; ; attempt += 1) {
        try {
          await task();
          return;
        } catch (err) {
          const dbUp = await this.deps.db.ping().catch(() => false);
          const definite = isAppError(err) && (err.code as string) !== 'DB_UNAVAILABLE';
          if (this.stopped || (dbUp && attempt >= 3) || definite) {
            this.log.error({ err, trays, attempt }, 'a bus event could not be recorded; its trays are to be checked');
            this.markGap(trays, 'a door change could not be recorded');
            return;
          }
          if (attempt === 1 || attempt % 20 === 0) {
            this.log.warn({ err: (err as Error).message, trays, attempt }, 'a bus event waits for the database');
          }
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, this.deps.retryMaxMs ?? 2000);
        }
      }
    };
    const next = this.chain.then(run).finally(() => {
      this.pending -= 1;
    });
    this.chain = next;
    return next;
  }

  // ---------------------------------------------------------------------------------------------
  // Windows: what is known of a released lock.

  /** Opens a tray's window (at the release, before the pulse). */
  private openWindow(tray: number): void {
    this.windows.set(tray, { startedMs: monotonicMs(this.deps.clock), gap: null });
  }

  /** True while a release of this tray is being watched for its flow's outcome. */
  hasWindow(tray: number): boolean {
    return this.windows.has(tray);
  }

  /** Forgets a tray's window once its flow has concluded. */
  closeWindow(tray: number): void {
    this.windows.delete(tray);
  }

  private markGap(trays: number[], why: string): void {
    for (const tray of trays) {
      const window = this.windows.get(tray);
      if (window && !window.gap) window.gap = why;
    }
  }

  /**
   * What is known of the door since the tray's lock was released, `timeoutMs` after the release.
   * A release by an earlier process counts from this process's start and is uncertain.
   */
  verdict(tray: number, timeoutMs: number): WindowVerdict {
    const window = this.windows.get(tray) ?? { startedMs: this.watchStartedMs, gap: 'the controller restarted' };
    if (monotonicMs(this.deps.clock) - window.startedMs < timeoutMs) return { kind: 'running' };
    if (window.gap) return { kind: 'uncertain', gap: window.gap };
    // Seen but not yet written, or a board failing right now: no conclusion yet.
    if (this.pending > 0) return { kind: 'running' };
    if (!this.deps.bus.watching(tray)) return { kind: 'running' };
    return { kind: 'watched' };
  }

  /** Flows (deposit, pickup, loading) register here to follow their trays' doors. */
  addDoorHandler(handler: DoorHandler): void {
    this.doorHandlers.push(handler);
  }

  async list(): Promise<Tray[]> {
    return this.deps.trays.list(this.deps.db);
  }

  async get(number: number): Promise<Tray> {
    const tray = await this.deps.trays.get(this.deps.db, number);
    if (!tray) throw new AppError('TRAY_NOT_FOUND', `tray ${number} does not exist`, { tray: number });
    return tray;
  }

  /**
   * Records a lock release in the caller's transaction: the intent, its audit row and its event,
   * and opens the tray's window. The pulse (`pulse()`) comes only after that transaction commits:
   * journal before dispense. A crash between the two leaves a recorded release whose door
   * nobody watched, which the flows treat as uncertain, never as "not opened".
   */
  async recordRelease(
    q: Queryable, number: number, actor: string, reason: TrayOpenReason, extra: Record<string, unknown> = {},
  ): Promise<void> {
    const { trays, audit, outbox, clock } = this.deps;
    const tray = await trays.get(q, number, { forUpdate: true });
    if (!tray) throw new AppError('TRAY_NOT_FOUND', `tray ${number} does not exist`, { tray: number });
    if (tray.fault) {
      throw new AppError('BOARD_OFFLINE', `tray ${number} cannot be opened: its board ${tray.board} does not answer`, {
        tray: number, board: tray.board,
      });
    }
    const at = clock.now();
    this.openWindow(number);
    await trays.markReleased(q, number, at);
    await audit.record(q, { actor, action: 'tray.open', subject: `tray:${number}`, details: { reason, ...extra }, at });
    // Free text (an admin's note) stays in the audit row, out of the published event.
    const { note: _note, ...published } = extra;
    await outbox.enqueue(q, 'tray.opened', { tray: number, reason, by: actor, ...published }, at);
  }

  /**
   * Sends the pulse of a release recorded and committed by `recordRelease`. On failure the
   * event `tray.open_failed` says whether the command may have reached the board; a release that
   * certainly did not is forgotten (its window closed), one that may have is left to run its
   * course, watched like any other. Rethrows.
   */
  async pulse(number: number, reason: TrayOpenReason): Promise<void> {
    const { db, trays, outbox, bus, clock } = this.deps;
    try {
      await bus.unlock(number);
    } catch (err) {
      const sent = !notSent(err);
      if (!sent) this.closeWindow(number);
      await db.tx(async (q) => {
        if (!sent) await trays.clearRelease(q, number);
        await outbox.enqueue(q, 'tray.open_failed', {
          tray: number, reason, code: isAppError(err) ? err.code : 'BUS_ERROR', sent,
        }, clock.now());
      }).then(() => outbox.committed(), (dbErr) => this.log.error({ err: dbErr, tray: number }, 'a failed pulse was not recorded'));
      throw err;
    }
  }

  /** Records a release and pulses: for releases that are not part of a flow's own transaction. */
  async release(number: number, actor: string, reason: TrayOpenReason, extra: Record<string, unknown> = {}): Promise<void> {
    await this.deps.db.tx((q) => this.recordRelease(q, number, actor, reason, extra));
    this.deps.outbox.committed();
    await this.pulse(number, reason);
  }

  async setOutOfService(number: number, reason: string | null, actor: string): Promise<Tray> {
    const { db, trays, audit, outbox, clock } = this.deps;
    await this.get(number);
    await db.tx(async (q) => {
      const at = clock.now();
      await trays.setDisabled(q, number, reason, at);
      await audit.record(q, {
        actor, action: reason ? 'tray.out_of_service' : 'tray.back_in_service', subject: `tray:${number}`,
        details: reason ? { reason } : {}, at,
      });
      await outbox.enqueue(
        q,
        reason ? 'tray.out_of_service' : 'tray.back_in_service',
        reason ? { tray: number, reason, cause: 'maintenance', by: actor } : { tray: number, cause: 'maintenance', by: actor },
        at,
      );
    });
    outbox.committed();
    await this.publish([number]);
    return this.get(number);
  }

  private async onDoor(e: DoorEvent): Promise<void> {
    const { db, trays, outbox } = this.deps;
    const afterCommit: AfterCommit[] = [];
    const changed = await db.tx(async (q) => {
      const tray = await trays.get(q, e.tray, { forUpdate: true });
      if (!tray) return false;
      const door = e.open ? 'open' : 'closed';
      if (tray.door === door) return false;
      afterCommit.push(...(await this.applyDoor(q, tray, e.open, e.at)));
      return true;
    });
    if (!changed) return;
    outbox.committed();
    await this.publish([e.tray]);
    await this.runAfterCommit(afterCommit);
  }

  private async runAfterCommit(work: AfterCommit[]): Promise<void> {
    for (const fn of work) {
      try {
        await fn();
      } catch (err) {
        this.log.error({ err }, 'work after a door change failed');
      }
    }
  }

  /**
   * Records a door change, its event, and the alarm if the door opened without a release.
   * `afterGap`: the change was found by reading the door after a gap, not seen as it happened.
   */
  private async applyDoor(q: Queryable, tray: Tray, open: boolean, at: Date, afterGap = false): Promise<AfterCommit[]> {
    const { trays, outbox } = this.deps;
    const unexpected = open && isUnexpectedOpening(tray, at, this.releaseWindowMs, { afterGap });
    await trays.setDoor(q, tray.number, open ? 'open' : 'closed', at);
    await outbox.enqueue(q, open ? 'tray.door_opened' : 'tray.door_closed', { tray: tray.number }, at);
    if (unexpected) {
      this.log.warn({ tray: tray.number }, 'door open without a release');
      await outbox.enqueue(q, 'alarm.door_open_unexpected', { tray: tray.number, content: tray.content }, at);
    }
    const work: AfterCommit[] = [];
    for (const handler of this.doorHandlers) {
      const after = await handler(q, tray, open, at);
      if (after) work.push(after);
    }
    return work;
  }

  /**
   * Raises `alarm.door_held_open` once for each door open longer than `heldOpenMs` (a citizen
   * who walked away, a dossier jammed in the door). Called by the flow timers.
   */
  async sweepHeldOpen(heldOpenMs: number): Promise<number[]> {
    const { db, trays, outbox, clock, bus } = this.deps;
    // A door change seen and not yet recorded would make the records a stale view.
    if (this.pending > 0) return [];
    const now = clock.now();
    const held = await db.tx(async (q) => {
      const unwatched = bus.snapshot().map((r) => r.tray).filter((n) => !bus.watching(n));
      const found = await trays.markHeldOpen(q, now, heldOpenMs, unwatched);
      for (const { number, openSince } of found) {
        await outbox.enqueue(q, 'alarm.door_held_open', { tray: number, openSince: openSince.toISOString() }, now);
      }
      return found.map((f) => f.number);
    });
    if (held.length) {
      this.log.warn({ trays: held }, 'doors held open');
      outbox.committed();
    }
    return held;
  }

  private async onFault(e: BoardFaultEvent): Promise<void> {
    const { db, trays, outbox } = this.deps;
    const fault = `board ${e.board} not answering (${e.cause})`;
    const affected = await db.tx(async (q) => {
      const changed = await trays.setBoardFault(q, e.board, fault, e.at);
      await outbox.enqueue(q, 'board.fault', { board: e.board, cause: e.cause, message: e.message, trays: e.trays }, e.at);
      return changed;
    });
    this.log.warn({ board: e.board, cause: e.cause, trays: affected.length }, 'board fault: trays out of service');
    outbox.committed();
    await this.publish(affected);
  }

  private async onRecovered(e: BoardRecoveredEvent): Promise<void> {
    const { db, trays, outbox } = this.deps;
    const affected = await db.tx(async (q) => {
      const changed = await trays.setBoardFault(q, e.board, null, e.at);
      await outbox.enqueue(q, 'board.recovered', { board: e.board, trays: e.trays }, e.at);
      return changed;
    });
    this.log.info({ board: e.board, trays: affected.length }, 'board answers again: trays back in service');
    outbox.committed();
    await this.publish(affected);
  }

  /**
   * A board answers again after a gap: its doors are read now and compared with the records, so
   * a door that moved unseen is recorded as it stands (no alarm for a tray whose lock was
   * released: the opening happened at some moment of the gap).
   */
  private async onGap(e: WatchGapEvent): Promise<void> {
    const { db, trays, outbox } = this.deps;
    const wanted = new Set(e.trays);
    const readings = this.deps.bus.snapshot().filter((r) => wanted.has(r.tray) && r.online && r.door !== 'unknown');
    const afterCommit: AfterCommit[] = [];
    const changed: number[] = [];
    await db.tx(async (q) => {
      for (const reading of readings) {
        const tray = await trays.get(q, reading.tray, { forUpdate: true });
        if (!tray) continue;
        const open = reading.door === 'open';
        if ((tray.door === 'open') !== open || tray.door === 'unknown') {
          afterCommit.push(...(await this.applyDoor(q, tray, open, e.at, true)));
          changed.push(tray.number);
        }
      }
    });
    this.log.info({ board: e.board, unwatchedMs: e.unwatchedMs, doorsChanged: changed }, 'doors read again after a gap');
    if (!changed.length) return;
    outbox.committed();
    await this.publish(changed);
    await this.runAfterCommit(afterCommit);
  }

  /**
   * Start-up: every door is read and compared with the database. A door found open that the
   * database has closed (and no release explains) raises an alarm; boards that do not answer put
   * their trays out of service; boards that answer clear a fault left from the last run.
   */
  async reconcile(readings: TrayReading[]): Promise<void> {
    const { db, trays, outbox, clock } = this.deps;
    const at = clock.now();
    const changed: number[] = [];
    const afterCommit: AfterCommit[] = [];
    await db.tx(async (q) => {
      const known = new Map((await trays.list(q)).map((t) => [t.number, t]));
      const boardsDown = new Set<string>();
      const boardsUp = new Set<string>();
      for (const reading of readings) {
        const tray = known.get(reading.tray);
        if (!tray) continue;
        (reading.online ? boardsUp : boardsDown).add(tray.board);
        if (reading.door === 'unknown') continue;
        const open = reading.door === 'open';
        if ((tray.door === 'open') !== open || tray.door === 'unknown') {
          afterCommit.push(...(await this.applyDoor(q, tray, open, at, true)));
          changed.push(tray.number);
        }
      }
      for (const board of boardsDown) {
        changed.push(...(await trays.setBoardFault(q, board, `board ${board} not answering (start-up)`, at)));
      }
      for (const board of boardsUp) {
        if (!boardsDown.has(board)) changed.push(...(await trays.setBoardFault(q, board, null, at)));
      }
      await outbox.enqueue(q, 'locker.started', { version: this.deps.version ?? 'unknown', trays: known.size, boardsOffline: [...boardsDown] }, at);
    });
    outbox.committed();
    await this.publish(null);
    await this.runAfterCommit(afterCommit);
  }

  /** Publishes retained state for the changed trays (null: all) and the occupancy summary. */
  async publish(changed: number[] | null): Promise<void> {
    const all = await this.list();
    const numbers = changed ?? all.map((t) => t.number);
    this.deps.state.publishTrays(all, numbers);
    for (const listener of this.changeListeners) {
      try {
        listener(all, numbers);
      } catch (err) {
        this.log.error({ err }, 'a tray change listener failed');
      }
    }
  }

  /** Live tray changes in-process (the dashboard's event stream); returns the unsubscribe. */
  onChange(listener: (all: Tray[], changed: number[]) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }
}
