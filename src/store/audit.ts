/**
 * The audit log: who did what, when. Written in the transaction of the action, as a hash chain per
 * locker (audit-chain.ts, docs/adr/0013-audit-hash-chain.md).
 *
 * Rows recorded in a transaction are appended when it commits (`beforeCommit`): the locker's chain
 * lock is taken then, after every row lock the transaction takes, and held only for the appends
 * and the commit. So concurrent transactions chain their rows one after the other, in a well-defined
 * order, and none holds the chain lock while it waits for another lock (no deadlock, no long wait).
 */
import { beforeCommit, type Queryable } from './db.js';
import type { AuditEntry, AuditStore, Database } from '../services/ports.js';
import { APPEND_SQL, CHAIN_LOCK_SQL } from './audit-chain.js';

interface PendingRow {
  lockerId: string;
  entry: AuditEntry;
}

/** Rows recorded in an open transaction, in the order recorded (whichever repository recorded them). */
const pending = new WeakMap<Queryable, PendingRow[]>();

/** Takes the chain lock of every locker concerned (in one order), then appends the rows in order. */
async function append(q: Queryable, rows: PendingRow[]): Promise<void> {
  for (const lockerId of [...new Set(rows.map((r) => r.lockerId))].sort()) await q.query(CHAIN_LOCK_SQL, [lockerId]);
  for (const { lockerId, entry } of rows) {
    const personal = entry.personal && Object.keys(entry.personal).length ? JSON.stringify(entry.personal) : null;
    await q.query(APPEND_SQL, [
      lockerId,
      entry.at,
      entry.actor,
      entry.action,
      entry.subject ?? null,
      JSON.stringify(entry.details ?? {}),
      personal,
    ]);
  }
}

function isDatabase(q: Queryable): q is Database {
  return typeof (q as Partial<Database>).tx === 'function';
}

export class AuditRepository implements AuditStore {
  constructor(private readonly lockerId: string) {}

  /**
   * In a transaction: the row is appended when the transaction commits (and not at all if it rolls
   * back). On the database itself (no transaction): appended now, in a transaction of its own.
   */
  async record(q: Queryable, entry: AuditEntry): Promise<void> {
    const row: PendingRow = { lockerId: this.lockerId, entry };
    const open = pending.get(q);
    if (open) {
      open.push(row);
      return;
    }
    const rows = [row];
    const deferred = beforeCommit(q, async (tq) => {
      pending.delete(q);
      await append(tq, rows);
    });
    if (deferred) {
      pending.set(q, rows);
      return;
    }
    if (isDatabase(q)) {
      await q.tx((tq) => append(tq, rows));
      return;
    }
    throw new Error('an audit row is recorded in a transaction (Db.tx) or on the database, not on a bare connection');
  }

  async recent(q: Queryable, limit = 100): Promise<(AuditEntry & { id: number })[]> {
    const { rows } = await q.query(
      `SELECT id, at, actor, action, subject, details FROM audit_log WHERE locker_id = $1 ORDER BY id DESC LIMIT $2`,
      [this.lockerId, limit],
    );
    return rows.map((r: any) => ({ id: Number(r.id), at: r.at, actor: r.actor, action: r.action, subject: r.subject, details: r.details }));
  }
}
