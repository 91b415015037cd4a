/** The log of texts sent: kind, status, provider id, segments, last error. Never the phone or a code. */
import type { Queryable, SmsLog, SmsLogEntry } from '../services/ports.js';

export class SmsLogRepository implements SmsLog {
  constructor(private readonly lockerId: string) {}

  async started(q: Queryable, e: SmsLogEntry): Promise<void> {
    await q.query(
      `INSERT INTO sms_messages (id, locker_id, kind, phone_hash, dossier_id, status, created_at)
       VALUES ($1, $2, $3, $4, $5, 'sending', $6)`,
      [e.id, this.lockerId, e.kind, e.phoneHash, e.dossierId, e.at],
    );
  }

  async sent(q: Queryable, id: string, r: { providerMessageId: string | null; segments: number; attempts: number }, at: Date) {
    await q.query(
      `UPDATE sms_messages SET status = 'sent', provider_message_id = $2, segments = $3, attempts = $4, sent_at = $5,
         last_error = NULL WHERE id = $1`,
      [id, r.providerMessageId, r.segments, r.attempts, at],
    );
  }

  async failed(q: Queryable, id: string, error: string, attempts: number): Promise<void> {
    await q.query(`UPDATE sms_messages SET status = 'failed', last_error = $2, attempts = $3 WHERE id = $1`, [
      id,
      error.slice(0, 500),
      attempts,
    ]);
  }

  async delivered(q: Queryable, providerMessageId: string, ok: boolean, at: Date): Promise<void> {
    await q.query(`UPDATE sms_messages SET status = $2, delivered_at = $3 WHERE locker_id = $4 AND provider_message_id = $1`, [
      providerMessageId,
      ok ? 'delivered' : 'undelivered',
      at,
      this.lockerId,
    ]);
  }

  async recent(q: Queryable, limit: number): Promise<Record<string, unknown>[]> {
    const { rows } = await q.query(
      `SELECT id, kind, dossier_id AS "dossierId", status, attempts, provider_message_id AS "providerMessageId",
         segments, last_error AS "lastError", created_at AS "createdAt", sent_at AS "sentAt", delivered_at AS "deliveredAt"
       FROM sms_messages WHERE locker_id = $1 ORDER BY created_at DESC LIMIT $2`,
      [this.lockerId, limit],
    );
    return rows;
  }
}
