/** Ports: Persistence and events, as the use cases need them. src/store and src/events implement these. */
import type { CabinetMap } from '../../domain/cabinet.js';
import type { Door, Tray, TrayContent } from '../../domain/tray.js';
import type { EventPayload, EventType } from '../../domain/events.js';

/** One statement runner: a pool, or the client of an open transaction. */
export interface Queryable {
  query<R extends { [column: string]: any } = any>(text: string, values?: any[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface Database extends Queryable {
  /** `statementTimeoutMs`: a longer bound for this transaction's statements (a purge), else the pool's. */
  tx<T>(fn: (q: Queryable) => Promise<T>, options?: { statementTimeoutMs?: number }): Promise<T>;
  ping(): Promise<boolean>;
}

export interface TrayStore {
  applyMap(q: Queryable, name: string, map: CabinetMap): Promise<void>;
  list(q: Queryable): Promise<Tray[]>;
  get(q: Queryable, number: number, opts?: { forUpdate?: boolean }): Promise<Tray | null>;
  /**
   * Records a door as open or closed. An opening consumes the tray's lock release, unless
   * `keepRelease` (a change seen before that release, recorded late: the release is still unused).
   */
  setDoor(q: Queryable, number: number, door: Door, at: Date, opts?: { keepRelease?: boolean }): Promise<void>;
  /**
   * `get(…, { forUpdate: true })` then `setDoor` in one round trip, when the door changes: the tray
   * as it was before, or null (no such tray, or the door already so: nothing written).
   */
  setDoorFrom(q: Queryable, number: number, door: Door, at: Date, opts?: { keepRelease?: boolean }): Promise<Tray | null>;
  markReleased(q: Queryable, number: number, at: Date): Promise<void>;
  /**
   * Locks the tray and, unless its board is at fault, records its release, in one round trip; null
   * when there is no such tray.
   */
  markReleasedIfUp(q: Queryable, number: number, at: Date): Promise<{ board: string; fault: string | null; released: boolean } | null>;
  /** Forgets a release whose pulse failed (the door was not opened). */
  clearRelease(q: Queryable, number: number): Promise<void>;
  setDisabled(q: Queryable, number: number, reason: string | null, at: Date): Promise<void>;
  setContent(q: Queryable, number: number, content: TrayContent, at: Date): Promise<void>;
  /** The smallest free tray that fits, reserved; `exclude`: trays not to take now (door changes not yet recorded). */
  reserveFree(q: Queryable, role: 'deposit' | 'result', minSize: Tray['size'], at: Date, exclude?: number[]): Promise<number | null>;
  countFree(q: Queryable, role: 'deposit' | 'result', minSize: Tray['size']): Promise<number>;
  /** Marks those of `trays` recorded open (not at fault, not yet marked) as held open. */
  markHeldOpen(q: Queryable, now: Date, trays: number[]): Promise<{ number: number; openSince: Date }[]>;
  setBoardFault(q: Queryable, board: string, fault: string | null, at: Date): Promise<number[]>;
}

/**
 * The audit log, a hash chain per locker (docs/adr/0013-audit-hash-chain.md). A row recorded in a
 * transaction is written when that transaction commits. `details` are hashed; `personal` (free text
 * an admin typed, a person's name) is not, so that clearing it never breaks the chain.
 */
export interface AuditStore {
  record(q: Queryable, entry: AuditEntry): Promise<void>;
}

/** One audit row. */
export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string | null;
  /** Hashed: no personal data here. */
  details?: Record<string, unknown>;
  /** Not hashed: free text an admin typed, a person's name; may be cleared without breaking the chain. */
  personal?: Record<string, unknown>;
  at: Date;
}

/**
 * The transactional outbox: events written in the caller's transaction, published after commit.
 * Typed by the domain's event catalogue: a payload that leaves the MQTT contract does not compile.
 */
export interface EventOutbox {
  enqueue<K extends EventType>(q: Queryable, type: K, data: EventPayload<K>, at: Date): Promise<{ id: string }>;
  /** Call after the transaction committed: wakes the relay. */
  committed(): void;
}

/** Retained state on MQTT (`occupancy`, `trays/<n>`), published when trays change. */
export interface TrayStatePublisher {
  publishTrays(all: Tray[], changed: number[]): void;
}
