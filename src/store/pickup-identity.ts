/** The holders' ID hashes of ID-card results and the tries against them (migrations/017_result_holder_id.sql). */
import type { PickupIdentityStore, Queryable, ResultIdentity } from '../services/ports.js';

export class PickupIdentityRepository implements PickupIdentityStore {
  constructor(private readonly lockerId: string) {}

  async setHolder(q: Queryable, resultId: string, holderIdHash: string): Promise<void> {
    await q.query(`UPDATE dossiers SET holder_id_hash = $3 WHERE locker_id = $1 AND id = $2 AND kind = 'result'`, [
      this.lockerId,
      resultId,
      holderIdHash,
    ]);
  }

  async ofResults(q: Queryable, resultIds: string[], opts: { forUpdate?: boolean } = {}): Promise<ResultIdentity[]> {
    if (!resultIds.length) return [];
    // Locked in id order: two codes of one phone tried at once take turns (their counts and holds add up).
    const { rows } = await q.query(
      `SELECT id, holder_id_hash, identity_failures, identity_held_at, opened_at, status FROM dossiers
        WHERE locker_id = $1 AND id = ANY($2::uuid[]) AND holder_id_hash IS NOT NULL
        ORDER BY id${opts.forUpdate ? ' FOR UPDATE' : ''}`,
      [this.lockerId, resultIds],
    );
    return rows.map((r: any) => ({
      resultId: r.id,
      holderIdHash: r.holder_id_hash,
      failures: Number(r.identity_failures),
      heldAt: r.identity_held_at,
      openedAt: r.opened_at,
      status: r.status,
    }));
  }

  async addFailure(q: Queryable, resultIds: string[]): Promise<Map<string, number>> {
    if (!resultIds.length) return new Map();
    const { rows } = await q.query(
      `UPDATE dossiers SET identity_failures = identity_failures + 1
        WHERE locker_id = $1 AND id = ANY($2::uuid[]) RETURNING id, identity_failures`,
      [this.lockerId, resultIds],
    );
    return new Map(rows.map((r: any) => [r.id as string, Number(r.identity_failures)]));
  }

  async clearFailures(q: Queryable, resultIds: string[]): Promise<void> {
    if (!resultIds.length) return;
    await q.query(`UPDATE dossiers SET identity_failures = 0 WHERE locker_id = $1 AND id = ANY($2::uuid[])`, [this.lockerId, resultIds]);
  }

  async hold(q: Queryable, resultId: string, at: Date): Promise<boolean> {
    const { rowCount } = await q.query(
      `UPDATE dossiers SET identity_held_at = $3 WHERE locker_id = $1 AND id = $2 AND identity_held_at IS NULL`,
      [this.lockerId, resultId, at],
    );
    return rowCount === 1;
  }

  async codeFailures(q: Queryable, challengeId: string): Promise<number | null> {
    const { rows } = await q.query(`SELECT identity_failures FROM challenges WHERE locker_id = $1 AND id = $2 FOR UPDATE`, [
      this.lockerId,
      challengeId,
    ]);
    return rows.length ? Number((rows[0] as any).identity_failures) : null;
  }

  async setCodeFailures(q: Queryable, challengeId: string, failures: number): Promise<void> {
    await q.query(`UPDATE challenges SET identity_failures = $3 WHERE locker_id = $1 AND id = $2`, [this.lockerId, challengeId, failures]);
  }
}
