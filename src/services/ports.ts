/**
 * Ports the use cases drive. Adapters (hardware/, src/store, src/events, src/sms) implement them;
 * nothing here imports an adapter.
 */
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
}

// ---------------------------------------------------------------------------------------------
// Persistence and events, as the use cases need them. src/store and src/events implement these.

import type { CabinetMap } from '../domain/cabinet.js';
import type { Door, Tray, TrayContent } from '../domain/tray.js';

/** One statement runner: a pool, or the client of an open transaction. */
export interface Queryable {
  query<R extends { [column: string]: any } = any>(text: string, values?: any[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface Database extends Queryable {
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<boolean>;
}

export interface TrayStore {
  applyMap(q: Queryable, name: string, map: CabinetMap): Promise<void>;
  list(q: Queryable): Promise<Tray[]>;
  get(q: Queryable, number: number, opts?: { forUpdate?: boolean }): Promise<Tray | null>;
  setDoor(q: Queryable, number: number, door: Door, at: Date): Promise<void>;
  markReleased(q: Queryable, number: number, at: Date): Promise<void>;
  /** Forgets a release whose pulse failed (the door was not opened). */
  clearRelease(q: Queryable, number: number): Promise<void>;
  setDisabled(q: Queryable, number: number, reason: string | null, at: Date): Promise<void>;
  setContent(q: Queryable, number: number, content: TrayContent, at: Date): Promise<void>;
  reserveFree(q: Queryable, role: 'deposit' | 'result', minSize: Tray['size'], at: Date): Promise<number | null>;
  countFree(q: Queryable, role: 'deposit' | 'result', minSize: Tray['size']): Promise<number>;
  markHeldOpen(q: Queryable, now: Date, heldMs: number): Promise<{ number: number; openSince: Date }[]>;
  setBoardFault(q: Queryable, board: string, fault: string | null, at: Date): Promise<number[]>;
}

export interface AuditStore {
  record(q: Queryable, entry: { actor: string; action: string; subject?: string | null; details?: Record<string, unknown>; at: Date }): Promise<void>;
}

/** The transactional outbox: events written in the caller's transaction, published after commit. */
export interface EventOutbox {
  enqueue(q: Queryable, type: string, data: Record<string, unknown>, at: Date): Promise<{ id: string }>;
  /** Call after the transaction committed: wakes the relay. */
  committed(): void;
}

/** Retained state on MQTT (`occupancy`, `trays/<n>`), published when trays change. */
export interface TrayStatePublisher {
  publishTrays(all: Tray[], changed: number[]): void;
}
