/**
 * The watch over the doors (docs/adr/0012-uncertain-tray-outcomes.md): each lock release opens a
 * *window*, kept in memory and timed by the monotonic clock; a window is *watched* only while this
 * process runs, the tray's board answers without a gap, and every door change seen has been
 * recorded. A window opened by an earlier process is not in memory: after a restart every open
 * flow is uncertain by construction.
 *
 * Bus events are recorded one at a time, in the order the bus saw them; one that cannot be written
 * (the database is down) is retried until it can, and the events behind it wait their turn.
 */
import type { Logger } from 'pino';
import { monotonicMs, type Clock } from '../domain/clock.js';
import { isAppError } from '../domain/errors.js';
import type { Database, LockBus } from './ports.js';

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

export interface DoorWatchDeps {
  db: Pick<Database, 'ping'>;
  /**
   * True for an error that says the database cannot be reached or answer now (down, frozen, out
   * of connections): such a failure is retried for as long as it lasts, whatever a ping says.
   */
  dbUnavailable?: (err: unknown) => boolean;
  bus: Pick<LockBus, 'watching'>;
  clock: Clock;
  logger: Logger;
  /** First and longest pause between two tries of a bus event the database refused, ms. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class DoorWatch {
  private readonly windows = new Map<number, ReleaseWindow>();
  /** Monotonic time of each tray's last lock release recorded by this process. */
  private readonly releasedMs = new Map<number, number>();
  /** Monotonic time since which this process knows each open door to be open. */
  private readonly openSinceMs = new Map<number, number>();
  /** Bus events are recorded one at a time, in the order the bus saw them. */
  private chain: Promise<void> = Promise.resolve();
  /** Bus events received and not yet recorded. */
  private pending = 0;
  /** The same, per tray. */
  private readonly pendingByTray = new Map<number, number>();
  /** Monotonic time this process started watching: windows of earlier processes count from here. */
  private startedMs = 0;
  private stopped = false;

  constructor(private readonly deps: DoorWatchDeps) {}

  start(): void {
    this.stopped = false;
    this.startedMs = this.nowMs();
  }

  /** Stops retrying; resolves once the events queued so far are recorded or given up. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
  }

  /** Resolves once every bus event received so far has been recorded (or given up). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Bus events received and not yet recorded (waiting for the database). */
  get unrecorded(): number {
    return this.pending;
  }

  /** True while a door change of this tray is seen and not yet recorded. */
  hasUnrecorded(tray: number): boolean {
    return this.pendingByTray.has(tray);
  }

  /** Trays with a door change seen and not yet recorded: their records may be stale. */
  unrecordedTrays(): number[] {
    return [...this.pendingByTray.keys()].sort((a, b) => a - b);
  }

  /**
   * Queues the recording of a bus event. A failure is retried with backoff for as long as the
   * database does not answer (the event is kept, in order), even if a ping gets through between
   * two failures (a database thawing out, a pool still full of dead connections). A failure with
   * the database up is a defect: after a few tries the event is given up, its trays' windows are
   * marked as not watched (no flow concludes anything from the hole it leaves), and `onGiveUp`
   * runs (the recorder queues a new reading of those doors, so the records do not keep a door as
   * the lost event found it).
   */
  record(task: () => Promise<void>, trays: number[], onGiveUp?: () => void): Promise<void> {
    this.pending += 1;
    for (const tray of trays) this.pendingByTray.set(tray, (this.pendingByTray.get(tray) ?? 0) + 1);
    const { logger } = this.deps;
    const run = async () => {
      let delay = this.deps.retryMinMs ?? 200;
      for (let attempt = 1; ; attempt += 1) {
        try {
          await task();
          return;
        } catch (err) {
          const unavailable = (this.deps.dbUnavailable?.(err) ?? false) || (isAppError(err) && err.code === 'DB_UNAVAILABLE');
          const definite = isAppError(err) && !unavailable;
          const dbUp = !unavailable && (await this.deps.db.ping().catch(() => false));
          if (this.stopped || (dbUp && attempt >= 3) || definite) {
            logger.error({ err, trays, attempt }, 'a bus event could not be recorded; its trays are to be checked');
            this.markGap(trays, 'a door change could not be recorded');
            if (!this.stopped) onGiveUp?.();
            return;
          }
          if (attempt === 1 || attempt % 20 === 0) {
            logger.warn({ err: (err as Error).message, trays, attempt }, 'a bus event waits for the database');
          }
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, this.deps.retryMaxMs ?? 2000);
        }
      }
    };
    const next = this.chain.then(run).finally(() => {
      this.pending -= 1;
      for (const tray of trays) {
        const left = (this.pendingByTray.get(tray) ?? 1) - 1;
        if (left > 0) this.pendingByTray.set(tray, left);
        else this.pendingByTray.delete(tray);
      }
    });
    this.chain = next;
    return next;
  }

  /** Monotonic milliseconds now: the time base of windows, releases and open doors. */
  nowMs(): number {
    return monotonicMs(this.deps.clock);
  }

  /** Opens a tray's window (at the release, before the pulse). */
  open(tray: number): void {
    const now = this.nowMs();
    this.windows.set(tray, { startedMs: now, gap: null });
    this.releasedMs.set(tray, now);
  }

  /**
   * How long before `atMs` this process recorded the tray's last lock release; null when it did
   * not (a release recorded by an earlier process: its age cannot be measured on this clock).
   */
  releaseAge(tray: number, atMs: number): number | null {
    const released = this.releasedMs.get(tray);
    return released === undefined ? null : atMs - released;
  }

  /**
   * A door seen open or closed at `atMs` (as it happened, or read after a gap). An open door keeps
   * the time it was first seen open; a door read open after a gap counts from that reading, so a
   * held-open alarm may come late but never early.
   */
  doorSeen(tray: number, open: boolean, atMs: number): void {
    if (!open) this.openSinceMs.delete(tray);
    else if (!this.openSinceMs.has(tray)) this.openSinceMs.set(tray, atMs);
  }

  /** Trays whose door this process has known open for longer than `ms`. */
  openLongerThan(ms: number): number[] {
    const now = this.nowMs();
    return [...this.openSinceMs]
      .filter(([, since]) => now - since > ms)
      .map(([tray]) => tray)
      .sort((a, b) => a - b);
  }

  /** True while a release of this tray is being watched for its flow's outcome. */
  has(tray: number): boolean {
    return this.windows.has(tray);
  }

  /** Forgets a tray's window once its flow has concluded. */
  close(tray: number): void {
    this.windows.delete(tray);
  }

  /** The watch over these trays was interrupted (`why` is kept for the record). */
  markGap(trays: number[], why: string): void {
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
    const window = this.windows.get(tray) ?? { startedMs: this.startedMs, gap: 'the controller restarted' };
    if (this.nowMs() - window.startedMs < timeoutMs) return { kind: 'running' };
    // Door changes seen but not yet written: they may conclude the flow themselves (an opening and
    // a shutting after a gap complete it), so nothing is decided before they are.
    if (this.pending > 0) return { kind: 'running' };
    if (window.gap) return { kind: 'uncertain', gap: window.gap };
    if (!this.deps.bus.watching(tray)) return { kind: 'running' };
    return { kind: 'watched' };
  }
}
