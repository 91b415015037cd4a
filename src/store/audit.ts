/** The audit log: who did what, when. Written in the transaction of the action. */
import type { Queryable } from './db.js';
import type { AuditStore } from '../services/ports.js';

export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string | null;
  details?: Record<string, unknown>;
  at: Date;
}

export class AuditRepository implements AuditStore {
  constructor(private readonly lockerId: string) {}

  async record(q: Queryable, entry: AuditEntry): Promise<void> {
    await q.query(`INSERT INTO audit_log (locker_id, at, actor, action, subject, details) VALUES ($1, $2, $3, $4, $5, $6)`, [
      this.lockerId,
      entry.at,
      entry.actor,
      entry.action,
      entry.subject ?? null,
      JSON.stringify(entry.details ?? {}),
    ]);
  }

  async recent(q: Queryable, limit = 100): Promise<(AuditEntry & { id: number })[]> {
    const { rows } = await q.query(
      `SELECT id, at, actor, action, subject, details FROM audit_log WHERE locker_id = $1 ORDER BY id DESC LIMIT $2`,
      [this.lockerId, limit],
    );
    return rows.map((r: any) => ({ id: Number(r.id), at: r.at, actor: r.actor, action: r.action, subject: r.subject, details: r.details }));
  }
}
