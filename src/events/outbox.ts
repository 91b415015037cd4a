/**
 * The transactional outbox (ADR 0004): a use case writes its event in the same transaction as the
 * state change that causes it, then tells the relay, after commit, that there is something to send.
 *
 *   await db.tx(async (tx) => {
 *     await trays.markOpened(tx, tray);
 *     await enqueueEvent(tx, { lockerId, type: 'tray.opened', data: { tray, reason: 'deposit' }, at });
 *   });
 *   outboxSignal.notify();
 *
 * A forgotten `notify()` only delays the event until the relay's next poll. Through the events
 * unit's port (`EventsUnit.outbox()`), the events a transaction wrote are handed to the relay the
 * moment its COMMIT succeeds: published at once, without the relay reading them back.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Queryable } from '../store/db.js';
import { AppError } from '../domain/errors.js';
import { isEventType, type EventEnvelope, type EventPayload, type EventType } from './topics.js';

export interface NewEvent<T extends EventType> {
  lockerId: string;
  type: T;
  data: EventPayload<T>;
  /** When it happened; take it from the injected clock. Defaults to now. */
  at?: Date;
  /** Event id; a fresh UUID unless given (tests, or an idempotent replay). */
  id?: string;
}

/** An event as written in the outbox: what the relay publishes, and the row it marks sent. */
export interface OutboxEntry {
  /** The row's `seq`, as text (bigint). */
  seq: string;
  id: string;
  type: EventType;
  payload: EventEnvelope<EventType>;
}

/**
 * Inserts one event into the outbox using the caller's connection, so it commits or rolls back
 * with the caller's transaction. Returns the event id subscribers will dedupe by.
 */
export async function enqueueEvent<T extends EventType>(q: Queryable, event: NewEvent<T>): Promise<{ id: string }> {
  const { id } = await writeEvent(q, event);
  return { id };
}

/** `enqueueEvent`, returning the row written (its `seq` too): what the events unit hands the relay at commit. */
export async function writeEvent<T extends EventType>(q: Queryable, event: NewEvent<T>): Promise<OutboxEntry> {
  if (!isEventType(event.type)) {
    throw new AppError('INTERNAL', `event type "${String(event.type)}" is not in the MQTT contract`, { type: event.type });
  }
  const envelope: EventEnvelope<T> = {
    id: event.id ?? randomUUID(),
    type: event.type,
    at: (event.at ?? new Date()).toISOString(),
    lockerId: event.lockerId,
    data: event.data,
  };
  const res = await q.query(`INSERT INTO outbox (id, locker_id, type, payload) VALUES ($1, $2, $3, $4) RETURNING seq::text AS seq`, [
    envelope.id,
    envelope.lockerId,
    envelope.type,
    JSON.stringify(envelope),
  ]);
  return { seq: String(res?.rows?.[0]?.seq ?? ''), id: envelope.id, type: envelope.type, payload: envelope as EventEnvelope<EventType> };
}

export interface OutboxSignalEvents {
  committed: [];
}

/** Rung by use cases after a commit that wrote to the outbox; the relay listens. */
export class OutboxSignal extends EventEmitter<OutboxSignalEvents> {
  notify(): void {
    this.emit('committed');
  }
}

/** Unsent events still waiting in the outbox for one locker (for /health and shutdown). */
export async function countPending(q: Queryable, lockerId: string): Promise<number> {
  const { rows } = await q.query(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL AND locker_id = $1`, [lockerId]);
  return rows[0].n as number;
}
