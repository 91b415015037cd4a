/**
 * What the bus reports, recorded: door changes (with the flows' transitions in the same
 * transaction), boards going silent and coming back, gaps in the watch, and the start-up reading.
 * Events go through the door watch's ordered, retrying queue (src/services/door-watch.ts).
 */
import type { Logger } from 'pino';
import { isUnexpectedOpening, type Tray } from '../domain/tray.js';
import type { DoorWatch } from './door-watch.js';
import type { BoardFaultEvent, BoardRecoveredEvent, DoorEvent, Queryable, TrayReading, WatchGapEvent } from './ports.js';
import type { AfterCommit, DoorHandler, TrayServiceDeps } from './trays.js';

interface DoorWrite {
  seenMs: number;
  releaseAge: number | null;
  beforeRelease: boolean;
}

export interface BusEventRecorderDeps extends TrayServiceDeps {
  watch: DoorWatch;
  /** Retained state and live views for the trays that changed (null: all). */
  publish: (changed: number[] | null) => Promise<void>;
}

export class BusEventRecorder {
  private readonly releaseWindowMs: number;
  private readonly watch: DoorWatch;
  private readonly log: Logger;
  private readonly doorHandlers: DoorHandler[] = [];
  private readonly listeners: { event: string; fn: (...args: any[]) => void }[] = [];

  constructor(private readonly deps: BusEventRecorderDeps) {
    this.releaseWindowMs = deps.releaseWindowMs ?? 60_000;
    this.watch = deps.watch;
    this.log = deps.logger;
  }

  /** Flows (deposit, pickup, loading) register here to follow their trays' doors. */
  addDoorHandler(handler: DoorHandler): void {
    this.doorHandlers.push(handler);
  }

  private publish(changed: number[] | null): Promise<void> {
    return this.deps.publish(changed);
  }

  /** Subscribes to the bus and reconciles every tray with what the bus reads now. */
  async start(): Promise<void> {
    this.watch.start();
    const on = <E extends 'door' | 'fault' | 'recovered' | 'gap'>(
      event: E,
      fn: (e: any, seenMs: number) => Promise<void>,
      trays: (e: any) => number[],
      now?: (e: any) => void,
    ) => {
      const listener = (e: unknown) => {
        // When the bus reported it, on the monotonic clock: the event may be recorded much later.
        const seenMs = this.watch.nowMs();
        now?.(e);
        const affected = trays(e);
        void this.watch.record(
          () => fn(e, seenMs),
          affected,
          () => this.rereadLater(affected, 'a door change could not be recorded'),
        );
      };
      this.deps.bus.on(event, listener as any);
      this.listeners.push({ event, fn: listener });
    };
    on(
      'door',
      (e: DoorEvent, seenMs: number) => this.onDoor(e, seenMs),
      (e: DoorEvent) => [e.tray],
    );
    // A silent board interrupts the watch at once, before its event is even recorded.
    on(
      'fault',
      (e: BoardFaultEvent) => this.onFault(e),
      (e: BoardFaultEvent) => e.trays,
      (e: BoardFaultEvent) => this.watch.markGap(e.trays, `board ${e.board} offline (${e.cause})`),
    );
    on(
      'recovered',
      (e: BoardRecoveredEvent) => this.onRecovered(e),
      (e: BoardRecoveredEvent) => e.trays,
    );
    on(
      'gap',
      (e: WatchGapEvent) => this.onGap(e),
      (e: WatchGapEvent) => e.trays,
      (e: WatchGapEvent) => this.watch.markGap(e.trays, `board ${e.board} unread for ${e.unwatchedMs} ms`),
    );
    await this.watch.record(() => this.reconcile(this.deps.bus.snapshot()), []);
  }

  async stop(): Promise<void> {
    for (const { event, fn } of this.listeners) this.deps.bus.off(event as any, fn);
    this.listeners.length = 0;
    await this.watch.stop();
  }

  private async onDoor(e: DoorEvent, seenMs: number): Promise<void> {
    const { db, trayStore, outbox } = this.deps;
    const afterCommit: AfterCommit[] = [];
    const changed = await db.tx(async (q) => {
      // The tray locked, read as it was and its door written, in one round trip (the door
      // changes: else nothing is written and nothing follows).
      const written = this.doorWrite(e.tray, { seenMs });
      const tray = await trayStore.setDoorFrom(q, e.tray, e.open ? 'open' : 'closed', e.at, { keepRelease: written.beforeRelease });
      if (!tray) return false;
      afterCommit.push(...(await this.applyDoor(q, tray, e.open, e.at, { seenMs }, written)));
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
   * `seen`: as it happened (`seenMs`: when the bus reported it, monotonic), or found by reading
   * the door after a gap in the watch.
   */
  /** When a door change was seen, against the tray's last release (memory only, no record read). */
  private doorWrite(tray: number, seen: { seenMs: number } | 'after_a_gap'): DoorWrite {
    const seenMs = seen === 'after_a_gap' ? this.watch.nowMs() : seen.seenMs;
    const releaseAge = this.watch.releaseAge(tray, seenMs);
    // Seen before the tray's last release, recorded only now: it neither uses that release nor
    // belongs to the flow that made it.
    return { seenMs, releaseAge, beforeRelease: releaseAge !== null && releaseAge < 0 };
  }

  /**
   * `written`: the door is already recorded (`setDoorFrom`, with this `doorWrite`); `tray` is then
   * the tray as it was before.
   */
  private async applyDoor(
    q: Queryable,
    tray: Tray,
    open: boolean,
    at: Date,
    seen: { seenMs: number } | 'after_a_gap',
    written?: DoorWrite,
  ): Promise<AfterCommit[]> {
    const { trayStore, outbox } = this.deps;
    const afterGap = seen === 'after_a_gap';
    const { seenMs, releaseAge, beforeRelease } = written ?? this.doorWrite(tray.number, seen);
    const unexpected = open && isUnexpectedOpening(tray, releaseAge, this.releaseWindowMs, { afterGap });
    this.watch.doorSeen(tray.number, open, seenMs);
    if (!written) await trayStore.setDoor(q, tray.number, open ? 'open' : 'closed', at, { keepRelease: beforeRelease });
    await outbox.enqueue(q, open ? 'tray.door_opened' : 'tray.door_closed', { tray: tray.number }, at);
    if (unexpected) {
      this.log.warn({ tray: tray.number }, 'door open without a release');
      await outbox.enqueue(q, 'alarm.door_open_unexpected', { tray: tray.number, content: tray.content }, at);
    }
    const work: AfterCommit[] = [];
    for (const handler of this.doorHandlers) {
      const after = await handler(q, tray, open, at, { beforeRelease });
      if (after) work.push(after);
    }
    return work;
  }

  private async onFault(e: BoardFaultEvent): Promise<void> {
    const { db, trayStore, outbox } = this.deps;
    const fault = `board ${e.board} not answering (${e.cause})`;
    const affected = await db.tx(async (q) => {
      const changed = await trayStore.setBoardFault(q, e.board, fault, e.at);
      await outbox.enqueue(q, 'board.fault', { board: e.board, cause: e.cause, message: e.message, trays: e.trays }, e.at);
      return changed;
    });
    this.log.warn({ board: e.board, cause: e.cause, trays: affected.length }, 'board fault: trays out of service');
    outbox.committed();
    await this.publish(affected);
  }

  private async onRecovered(e: BoardRecoveredEvent): Promise<void> {
    const { db, trayStore, outbox } = this.deps;
    const affected = await db.tx(async (q) => {
      const changed = await trayStore.setBoardFault(q, e.board, null, e.at);
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
  private onGap(e: WatchGapEvent): Promise<void> {
    return this.reread(e.trays, `board ${e.board} unread for ${e.unwatchedMs} ms`);
  }

  /** Queues a new reading of these doors (after a bus event about them was given up). */
  private rereadLater(trays: number[], why: string): void {
    if (!trays.length) return;
    void this.watch.record(() => this.reread(trays, why), trays);
  }

  /** Reads these doors now and records those that differ from the records, as found after a gap. */
  private async reread(trays: number[], why: string): Promise<void> {
    const { db, trayStore, outbox, clock } = this.deps;
    const at = clock.now();
    const wanted = new Set(trays);
    const readings = this.deps.bus.snapshot().filter((r) => wanted.has(r.tray) && r.online && r.door !== 'unknown');
    const afterCommit: AfterCommit[] = [];
    const changed: number[] = [];
    await db.tx(async (q) => {
      for (const reading of readings) {
        const tray = await trayStore.get(q, reading.tray, { forUpdate: true });
        if (!tray) continue;
        const open = reading.door === 'open';
        this.watch.doorSeen(tray.number, open, this.watch.nowMs());
        if ((tray.door === 'open') !== open || tray.door === 'unknown') {
          afterCommit.push(...(await this.applyDoor(q, tray, open, at, 'after_a_gap')));
          changed.push(tray.number);
        }
      }
    });
    this.log.info({ trays, why, doorsChanged: changed }, 'doors read again after a gap');
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
    const { db, trayStore, outbox, clock } = this.deps;
    const at = clock.now();
    const changed: number[] = [];
    const afterCommit: AfterCommit[] = [];
    await db.tx(async (q) => {
      const known = new Map((await trayStore.list(q)).map((t) => [t.number, t]));
      const boardsDown = new Set<string>();
      const boardsUp = new Set<string>();
      for (const reading of readings) {
        const tray = known.get(reading.tray);
        if (!tray) continue;
        (reading.online ? boardsUp : boardsDown).add(tray.board);
        if (reading.door === 'unknown') continue;
        const open = reading.door === 'open';
        this.watch.doorSeen(tray.number, open, this.watch.nowMs());
        if ((tray.door === 'open') !== open || tray.door === 'unknown') {
          afterCommit.push(...(await this.applyDoor(q, tray, open, at, 'after_a_gap')));
          changed.push(tray.number);
        }
      }
      for (const board of boardsDown) {
        changed.push(...(await trayStore.setBoardFault(q, board, `board ${board} not answering (start-up)`, at)));
      }
      for (const board of boardsUp) {
        if (!boardsDown.has(board)) changed.push(...(await trayStore.setBoardFault(q, board, null, at)));
      }
      await outbox.enqueue(
        q,
        'locker.started',
        { version: this.deps.version ?? 'unknown', trays: known.size, boardsOffline: [...boardsDown] },
        at,
      );
    });
    outbox.committed();
    await this.publish(null);
    await this.runAfterCommit(afterCommit);
  }
}
