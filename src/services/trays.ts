/**
 * Tray use cases shared by every flow: releasing a lock (journal before dispense), listing trays,
 * taking them out of service, publishing their state, raising held-open alarms. What the bus
 * reports is recorded by `BusEventRecorder` (bus-events.ts); what is known of each release, by
 * the door watch (door-watch.ts): flows ask `verdict()` before they conclude "the door never
 * opened" (docs/adr/0012-uncertain-tray-outcomes.md).
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { DoorWatch, type WindowVerdict } from './door-watch.js';
import { BusEventRecorder } from './bus-events.js';
import { AppError, isAppError } from '../domain/errors.js';
import { displayState, type Tray } from '../domain/tray.js';
import type { AuditStore, Database, EventOutbox, LockBus, Queryable, TrayReading, TrayStatePublisher, TrayStore } from './ports.js';
import type { TrayOpenReason } from '../domain/tray.js';

export interface TrayServiceDeps {
  db: Database;
  trayStore: TrayStore;
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
  /** True for an error saying the database is unreachable now (see DoorWatchDeps). */
  dbUnavailable?: (err: unknown) => boolean;
}

export type { WindowVerdict } from './door-watch.js';

/**
 * Called in the transaction that records a door change, so that a flow's transition (a deposit
 * made, a result picked up) commits with it. May return work to do after commit (an SMS).
 */
export type DoorHandler = (q: Queryable, tray: Tray, open: boolean, at: Date, seen: DoorSeen) => Promise<AfterCommit | void>;

/**
 * When a door change was seen: `beforeRelease` is true for a change the bus reported before the
 * tray's last lock release and recorded only after it (it waited for the database): it belongs
 * to whoever used the tray before, never to the flow that released it now.
 */
export interface DoorSeen {
  beforeRelease: boolean;
}
export type AfterCommit = () => Promise<void>;

/** A tray as the API shows it (the domain's contract, src/domain/api.ts). */
export type { TrayView } from '../domain/api.js';
import type { TrayView } from '../domain/api.js';

/** True when an unlock failed before any command could reach the board. */
function notSent(err: unknown): boolean {
  return (
    isAppError(err) &&
    (err.code === 'BOARD_OFFLINE' || err.code === 'BUS_UNAVAILABLE' || err.code === 'TRAY_NOT_FOUND') &&
    !('faultCause' in (err as object))
  );
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

/** What a release is for: published with `tray.opened`, except `note` (an admin's free text, audit only). */
export interface ReleaseExtra {
  dossierCode?: string;
  roundId?: string;
  note?: string;
}

export class TrayService {
  private readonly watch: DoorWatch;
  private readonly recorder: BusEventRecorder;
  private readonly log: Logger;
  private readonly changeListeners = new Set<(all: Tray[], changed: number[]) => void>();

  constructor(private readonly deps: TrayServiceDeps) {
    this.log = deps.logger;
    this.watch = new DoorWatch(deps);
    this.recorder = new BusEventRecorder({ ...deps, watch: this.watch, publish: (changed) => this.publish(changed) });
  }

  /** Subscribes to the bus and reconciles every tray with what the bus reads now. */
  async start(): Promise<void> {
    await this.recorder.start();
  }

  async stop(): Promise<void> {
    await this.recorder.stop();
  }

  /** Waits until every bus event received so far has been applied (tests, shutdown). */
  settled(): Promise<void> {
    return this.watch.settled();
  }

  /** Bus events received and not yet recorded (waiting for the database). */
  get unrecorded(): number {
    return this.watch.unrecorded;
  }

  /** Trays with a door change seen and not yet recorded (a flow does not take them meanwhile). */
  unrecordedTrays(): number[] {
    return this.watch.unrecordedTrays();
  }

  /** True while a release of this tray is being watched for its flow's outcome. */
  hasWindow(tray: number): boolean {
    return this.watch.has(tray);
  }

  /** Forgets a tray's window once its flow has concluded. */
  closeWindow(tray: number): void {
    this.watch.close(tray);
  }

  /** What is known of the door since the tray's lock was released (see DoorWatch.verdict). */
  verdict(tray: number, timeoutMs: number): WindowVerdict {
    return this.watch.verdict(tray, timeoutMs);
  }

  /** Flows (deposit, pickup, loading) register here to follow their trays' doors. */
  addDoorHandler(handler: DoorHandler): void {
    this.recorder.addDoorHandler(handler);
  }

  async list(): Promise<Tray[]> {
    return this.deps.trayStore.list(this.deps.db);
  }

  async get(number: number): Promise<Tray> {
    const tray = await this.deps.trayStore.get(this.deps.db, number);
    if (!tray) throw new AppError('TRAY_NOT_FOUND', `tray ${number} does not exist`, { tray: number });
    return tray;
  }

  /**
   * Records a lock release in the caller's transaction: the intent, its audit row and its event,
   * and opens the tray's window. The pulse (`pulse()`) comes only after that transaction commits:
   * journal before dispense. A crash between the two leaves a recorded release whose door
   * nobody watched, which the flows treat as uncertain, never as "not opened".
   */
  async recordRelease(q: Queryable, number: number, actor: string, reason: TrayOpenReason, extra: ReleaseExtra = {}): Promise<void> {
    const { trayStore, audit, outbox, clock } = this.deps;
    const at = clock.now();
    // The tray locked and, its board answering, the release written: one round trip. Any refusal
    // below is thrown, which rolls the caller's transaction (and that write) back.
    const tray = await trayStore.markReleasedIfUp(q, number, at);
    if (!tray) throw new AppError('TRAY_NOT_FOUND', `tray ${number} does not exist`, { tray: number });
    if (tray.fault) {
      throw new AppError('BOARD_OFFLINE', `tray ${number} cannot be opened: its board ${tray.board} does not answer`, {
        tray: number,
        board: tray.board,
      });
    }
    // A door change of this tray not yet written (it waits for the database) would be taken for
    // the new user's: the release waits until the records have caught up (ADR 0012).
    if (this.watch.hasUnrecorded(number)) {
      throw new AppError('DOOR_CHANGES_PENDING', `tray ${number}: a door change is still being recorded; try again in a moment`, {
        tray: number,
        retryAfterSec: 2,
      });
    }
    this.watch.open(number);
    // Free text (an admin's note) stays in the audit row, out of its hashed details (it may name a
    // person: ADR 0013) and out of the published event.
    const { note, ...published } = extra;
    await audit.record(q, {
      actor,
      action: 'tray.open',
      subject: `tray:${number}`,
      details: { reason, ...published },
      ...(note === undefined ? {} : { personal: { note } }),
      at,
    });
    await outbox.enqueue(q, 'tray.opened', { tray: number, reason, by: actor, ...published }, at);
  }

  /**
   * Sends the pulse of a release recorded and committed by `recordRelease`. On failure the
   * event `tray.open_failed` says whether the command may have reached the board; a release that
   * certainly did not is forgotten (its window closed), one that may have is left to run its
   * course, watched like any other. Rethrows.
   */
  async pulse(number: number, reason: TrayOpenReason): Promise<void> {
    const { db, trayStore, outbox, bus, clock } = this.deps;
    try {
      await bus.unlock(number);
    } catch (err) {
      const sent = !notSent(err);
      if (!sent) this.watch.close(number);
      await db
        .tx(async (q) => {
          if (!sent) await trayStore.clearRelease(q, number);
          await outbox.enqueue(
            q,
            'tray.open_failed',
            {
              tray: number,
              reason,
              code: isAppError(err) ? err.code : 'BUS_ERROR',
              sent,
            },
            clock.now(),
          );
        })
        .then(
          () => outbox.committed(),
          (dbErr) => this.log.error({ err: dbErr, tray: number }, 'a failed pulse was not recorded'),
        );
      throw err;
    }
  }

  /** Records a release and pulses: for releases that are not part of a flow's own transaction. */
  async release(number: number, actor: string, reason: TrayOpenReason, extra: ReleaseExtra = {}): Promise<void> {
    await this.deps.db.tx((q) => this.recordRelease(q, number, actor, reason, extra));
    this.deps.outbox.committed();
    await this.pulse(number, reason);
  }

  async setOutOfService(number: number, reason: string | null, actor: string): Promise<Tray> {
    const { db, trayStore, audit, outbox, clock } = this.deps;
    await this.get(number);
    await db.tx(async (q) => {
      const at = clock.now();
      await trayStore.setDisabled(q, number, reason, at);
      await audit.record(q, {
        actor,
        action: reason ? 'tray.out_of_service' : 'tray.back_in_service',
        subject: `tray:${number}`,
        // The reason is free text: kept, outside the hashed details (ADR 0013).
        ...(reason ? { personal: { reason } } : {}),
        at,
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

  /**
   * Raises `alarm.door_held_open` once for each door open longer than `heldOpenMs` (a citizen
   * who walked away, a dossier jammed in the door). Called by the flow timers. How long a door
   * has been open is measured on the monotonic clock from when this process saw it open (a
   * wall-clock step raises nothing); the records only confirm it is still open, not at fault.
   */
  async sweepHeldOpen(heldOpenMs: number): Promise<number[]> {
    const { db, trayStore, outbox, clock, bus } = this.deps;
    // A door change seen and not yet recorded would make the records a stale view.
    if (this.watch.unrecorded > 0) return [];
    // A door not watched right now (its board silent): the record may be stale; left for later.
    const candidates = this.watch.openLongerThan(heldOpenMs).filter((n) => bus.watching(n));
    if (!candidates.length) return [];
    const now = clock.now();
    const held = await db.tx(async (q) => {
      const found = await trayStore.markHeldOpen(q, now, candidates);
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

  /** Start-up and after a gap: the doors as read now, compared with the records (see BusEventRecorder). */
  reconcile(readings: TrayReading[]): Promise<void> {
    return this.recorder.reconcile(readings);
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
