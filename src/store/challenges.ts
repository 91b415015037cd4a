/** One-time-code challenges, code sends (for the send limits) and per-phone failure counts. */
import type { Challenge, ChallengePurpose, ChallengeStore, PhoneGuard, Queryable } from '../services/ports.js';

const FIELDS: Record<string, string> = {
  otpHash: 'otp_hash',
  status: 'status',
  attempts: 'attempts',
  sends: 'sends',
  sentAt: 'sent_at',
  expiresAt: 'expires_at',
  verifiedAt: 'verified_at',
};

function toChallenge(r: Record<string, any>): Challenge {
  return {
    id: r.id,
    purpose: r.purpose,
    phoneHash: r.phone_hash,
    phoneEnc: r.phone_enc,
    procedureCode: r.procedure_code,
    onlineNumber: r.online_number ?? null,
    holderEnc: r.holder_enc ?? null,
    otpHash: r.otp_hash,
    status: r.status,
    attempts: r.attempts,
    sends: r.sends,
    createdAt: r.created_at,
    sentAt: r.sent_at,
    expiresAt: r.expires_at,
    verifiedAt: r.verified_at,
  };
}

export class ChallengeRepository implements ChallengeStore {
  constructor(private readonly lockerId: string) {}

  async insert(q: Queryable, c: Omit<Challenge, 'status' | 'attempts' | 'sends' | 'verifiedAt'>): Promise<void> {
    await q.query(
      `INSERT INTO challenges (id, locker_id, purpose, phone_hash, phone_enc, procedure_code, otp_hash, created_at, sent_at, expires_at, status, holder_enc,
         online_number)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'sending', $11, $12)`,
      [
        c.id,
        this.lockerId,
        c.purpose,
        c.phoneHash,
        c.phoneEnc,
        c.procedureCode,
        c.otpHash,
        c.createdAt,
        c.sentAt,
        c.expiresAt,
        c.holderEnc ?? null,
        c.onlineNumber ?? null,
      ],
    );
  }

  async get(q: Queryable, id: string, opts: { forUpdate?: boolean } = {}): Promise<Challenge | null> {
    const { rows } = await q.query(`SELECT * FROM challenges WHERE locker_id = $1 AND id = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`, [
      this.lockerId,
      id,
    ]);
    return rows[0] ? toChallenge(rows[0]) : null;
  }

  async update(q: Queryable, id: string, fields: Parameters<ChallengeStore['update']>[2]): Promise<void> {
    const sets: string[] = [];
    const values: unknown[] = [this.lockerId, id];
    for (const [key, value] of Object.entries(fields)) {
      values.push(value);
      sets.push(`${FIELDS[key]} = $${values.length}`);
    }
    if (sets.length) await q.query(`UPDATE challenges SET ${sets.join(', ')} WHERE locker_id = $1 AND id = $2`, values);
  }

  async recordSend(q: Queryable, send: { challengeId: string; purpose: ChallengePurpose; phoneHash: string; at: Date }): Promise<void> {
    await q.query(`INSERT INTO otp_sends (locker_id, phone_hash, at, purpose, challenge_id) VALUES ($1, $2, $3, $4, $5)`, [
      this.lockerId,
      send.phoneHash,
      send.at,
      send.purpose,
      send.challengeId,
    ]);
  }

  async settleSend(q: Queryable, id: string, sentAt: Date, status: 'pending' | 'failed'): Promise<void> {
    await q.query(`UPDATE challenges SET status = $4 WHERE locker_id = $1 AND id = $2 AND status = 'sending' AND sent_at = $3`, [
      this.lockerId,
      id,
      sentAt,
      status,
    ]);
  }

  async lockSends(q: Queryable, phoneHash: string, purpose: ChallengePurpose): Promise<void> {
    // Always the phone's lock first, then the locker's: concurrent requests wait in turn, and never
    // for each other in the opposite order.
    await q.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`otp-sends:phone:${phoneHash}:${purpose}`]);
    await q.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`otp-sends:locker:${this.lockerId}:${purpose}`]);
  }

  async forgetSend(q: Queryable, challengeId: string, at: Date): Promise<void> {
    await q.query(`DELETE FROM otp_sends WHERE locker_id = $1 AND challenge_id = $2 AND at = $3`, [this.lockerId, challengeId, at]);
  }

  async sendsSince(q: Queryable, scope: { phoneHash: string } | 'locker', purpose: ChallengePurpose, since: Date): Promise<Date[]> {
    // A phone's sends count across the lockers of the database; the locker's are its own. Sends
    // recorded before purposes were (migration 011) count for both.
    const [column, key] = scope === 'locker' ? ['locker_id', this.lockerId] : ['phone_hash', scope.phoneHash];
    const { rows } = await q.query(
      `SELECT at FROM otp_sends WHERE ${column} = $1 AND at > $2 AND (purpose = $3 OR purpose IS NULL) ORDER BY at DESC`,
      [key, since, purpose],
    );
    return rows.map((r: any) => r.at);
  }

  async guard(q: Queryable, phoneHash: string): Promise<PhoneGuard> {
    // The row is created and locked in one statement, so that concurrent wrong entries for one phone
    // count one by one, and a guard deleted by the retention purge meanwhile is simply created again.
    const { rows } = await q.query(
      `INSERT INTO phone_guards (phone_hash) VALUES ($1)
       ON CONFLICT (phone_hash) DO UPDATE SET failures = phone_guards.failures
       RETURNING failures, last_failure_at`,
      [phoneHash],
    );
    return { failures: rows[0].failures, lastFailureAt: rows[0].last_failure_at };
  }

  async markVerified(q: Queryable, id: string, at: Date, phoneHash: string, g: PhoneGuard): Promise<void> {
    await q.query(
      `WITH verified AS (
         UPDATE challenges SET status = 'verified', verified_at = $3 WHERE locker_id = $1 AND id = $2
       )
       UPDATE phone_guards SET failures = $5, last_failure_at = $6, locked_until = NULL WHERE phone_hash = $4`,
      [this.lockerId, id, at, phoneHash, g.failures, g.lastFailureAt],
    );
  }

  async setGuard(q: Queryable, phoneHash: string, g: PhoneGuard): Promise<void> {
    await q.query(`UPDATE phone_guards SET failures = $2, last_failure_at = $3, locked_until = NULL WHERE phone_hash = $1`, [
      phoneHash,
      g.failures,
      g.lastFailureAt,
    ]);
  }
}
