/**
 * Tray use cases shared by every flow: releasing a lock, following doors, taking trays out of
 * service (by an admin or because their board stopped answering), reconciling at start-up.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import { displayState, isUnexpectedOpening, type Tray } from '../domain/tray.js';
import type {
  AuditStore, BoardFaultEvent, BoardRecoveredEvent, Database, DoorEvent, EventOutbox, LockBus, Queryable,
  TrayReading, TrayStatePublisher, TrayStore,
} from './ports.js';

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
    const on = <E extends 'door' | 'fault' | 'recovered'>(event: E, fn: (e: any) => Promise<void>) => {
      const listener = (e: unknown) => this.enqueue(() => fn(e));
      this.deps.bus.on(event, listener as any);
      this.listeners.push({ event, fn: listener });
    };
    on('door', (e: DoorEvent) => this.onDoor(e));
    on('fault', (e: BoardFaultEvent) => this.onFault(e));
    on('recovered', (e: BoardRecoveredEvent) => this.onRecovered(e));
    await this.enqueue(() => this.reconcile(this.deps.bus.snapshot()));
  }

  async stop(): Promise<void> {
    for (const { event, fn } of this.listeners) this.deps.bus.off(event as any, fn);
    this.listeners.length = 0;
    await this.chain;
  }

  /** Waits until every bus event received so far has been applied (tests, shutdown). */
  settled(): Promise<void> {
    return this.chain;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.chain.then(task).catch((err) => this.log.error({ err }, 'applying a bus event failed'));
    this.chain = next;
    return next;
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
   * Releases a tray's lock and records that its door may now open. The release is recorded
   * before the pulse so that the door event that follows is never taken for a forced door.
   */
  async release(number: number, actor: string, reason: string, extra: Record<string, unknown> = {}): Promise<void> {
    const { db, trays, audit, outbox, bus, clock } = this.deps;
    const tray = await this.get(number);
    if (tray.fault) {
      throw new AppError('BOARD_OFFLINE', `tray ${number} cannot be opened: its board ${tray.board} does not answer`, {
        tray: number, board: tray.board,
      });
    }
    await db.tx((q) => trays.markReleased(q, number, clock.now()));
    try {
      await bus.unlock(number);
    } catch (err) {
      await trays.clearRelease(db, number);
      throw err;
    }
    await db.tx(async (q) => {
      const at = clock.now();
      await audit.record(q, { actor, action: 'tray.open', subject: `tray:${number}`, details: { reason, ...extra }, at });
      await outbox.enqueue(q, 'tray.opened', { tray: number, reason, by: actor, ...extra }, at);
    });
    outbox.committed();
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

  /** Records a door change, its event, and the alarm if the door opened without a release. */
  private async applyDoor(q: Queryable, tray: Tray, open: boolean, at: Date): Promise<AfterCommit[]> {
    const { trays, outbox } = this.deps;
    const unexpected = open && isUnexpectedOpening(tray, at, this.releaseWindowMs);
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
    const { db, trays, outbox, clock } = this.deps;
    const now = clock.now();
    const held = await db.tx(async (q) => {
      const found = await trays.markHeldOpen(q, now, heldOpenMs);
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
          afterCommit.push(...(await this.applyDoor(q, tray, open, at)));
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
