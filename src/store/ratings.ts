/** Rating tokens (digests, until they expire) and the ratings themselves (migrations/014_ratings.sql). */
import type { Queryable, RatingRow, RatingStore, RatingTokenGrant } from '../services/ports.js';

export class RatingRepository implements RatingStore {
  constructor(private readonly lockerId: string) {}

  async addToken(q: Queryable, tokenHash: string, grant: RatingTokenGrant): Promise<void> {
    await q.query(`INSERT INTO rating_tokens (locker_id, token_hash, service, procedure_code, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
      this.lockerId,
      tokenHash,
      grant.service,
      grant.procedureCode,
      grant.expiresAt,
    ]);
  }

  async lockToken(q: Queryable, tokenHash: string): Promise<(RatingTokenGrant & { used: boolean }) | null> {
    const { rows } = await q.query(
      `SELECT service, procedure_code, expires_at, used FROM rating_tokens WHERE locker_id = $1 AND token_hash = $2 FOR UPDATE`,
      [this.lockerId, tokenHash],
    );
    const r = rows[0];
    return r ? { service: r.service, procedureCode: r.procedure_code, expiresAt: r.expires_at, used: r.used } : null;
  }

  async markUsed(q: Queryable, tokenHash: string): Promise<void> {
    // Its expiry moved to the next full hour: the used row shares its transaction with the rating
    // (xmin), and an exact expiry would give away when the visit's code was checked.
    await q.query(
      `UPDATE rating_tokens SET used = true, expires_at = date_trunc('hour', expires_at) + interval '1 hour'
        WHERE locker_id = $1 AND token_hash = $2`,
      [this.lockerId, tokenHash],
    );
  }

  async insert(q: Queryable, rating: RatingRow): Promise<void> {
    await q.query(`INSERT INTO ratings (locker_id, service, procedure_code, rating, reasons, hour) VALUES ($1, $2, $3, $4, $5, $6)`, [
      this.lockerId,
      rating.service,
      rating.procedureCode,
      rating.rating,
      rating.reasons,
      rating.hour,
    ]);
  }

  async deleteExpired(q: Queryable, now: Date): Promise<number> {
    const res = await q.query(`DELETE FROM rating_tokens WHERE locker_id = $1 AND expires_at <= $2`, [this.lockerId, now]);
    return res.rowCount ?? 0;
  }
}
