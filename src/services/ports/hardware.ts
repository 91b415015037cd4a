/** The cabinet as the use cases see it: the LockBus port and what it reports (hardware/ implements it). */
import type { EventEmitter } from 'node:events';

export type DoorState = 'open' | 'closed' | 'unknown';

export interface DoorEvent {
  tray: number;
  open: boolean;
  at: Date;
}

export type BusFaultCause = 'timeout' | 'crc' | 'exception' | 'port_closed' | 'io';

export interface BoardFaultEvent {
  board: string;
  cause: BusFaultCause;
  message: string;
  trays: number[];
  at: Date;
}

export interface BoardRecoveredEvent {
  board: string;
  trays: number[];
  at: Date;
}

/**
 * A board answered again after its doors went unread for longer than the bus's `watchGapMs`
 * (it was offline, or its polls failed, or the process stalled). A door may have opened and shut
 * meanwhile unseen: flows whose lock release spans a gap cannot trust "never opened".
 */
export interface WatchGapEvent {
  board: string;
  trays: number[];
  /** How long the doors went unread, ms. */
  unwatchedMs: number;
  at: Date;
}

export interface BoardHealth {
  id: string;
  bus: string;
  online: boolean;
  lastError?: string;
  lastSeenAt?: Date;
}

export interface BusHealth {
  /** true when every bus link is open and every board answers */
  ok: boolean;
  buses: { id: string; open: boolean; lastError?: string }[];
  boards: BoardHealth[];
  /** duration of the last complete door scan, ms */
  lastScanMs?: number;
}

export interface TrayReading {
  tray: number;
  door: DoorState;
  /** false while the tray's board does not answer */
  online: boolean;
}

export interface LockBusEvents {
  door: [DoorEvent];
  fault: [BoardFaultEvent];
  recovered: [BoardRecoveredEvent];
  gap: [WatchGapEvent];
  health: [BusHealth];
}

/**
 * The cabinet as the controller sees it: locks to release and doors to watch.
 * `start()` switches every output off and completes one full door scan before it resolves,
 * so `snapshot()` is meaningful right after. Door events are debounced.
 */
export interface LockBus extends EventEmitter<LockBusEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Release one tray's lock. Resolves once the board acknowledged the pulse. */
  unlock(tray: number): Promise<void>;
  snapshot(): TrayReading[];
  health(): BusHealth;
  /**
   * True when this tray's door is being watched right now: the bus runs, its board answers and
   * was read within `watchGapMs`. A gap that is still going on is not yet a `gap` event.
   */
  watching(tray: number): boolean;
}

/** How one Modbus exchange ended (the `BusObserver`'s view; a retry is a later attempt). */
export type ExchangeOutcome = 'ok' | 'timeout' | 'crc' | 'exception' | 'io';

/**
 * Figures the bus driver reports as it works, for the metrics (`GET /metrics`). Every call is
 * synchronous and cheap: the driver calls it on its hot path.
 */
export interface BusObserver {
  /** A complete door scan of one bus took `ms`. */
  scan(bus: string, ms: number): void;
  /** One request/answer exchange with a board ended; `attempt` is 1 for the first try, 2+ for retries. */
  exchange(board: string, outcome: ExchangeOutcome, attempt: number): void;
  /** `unlock(tray)` was called `latencyMs` before its lock frame was written to the wire. */
  lockFrame(tray: number, latencyMs: number): void;
}
