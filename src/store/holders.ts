/** Deposits made with a scanned citizen ID card: their sealed holder (migration 016, docs/id-card.md). */
import type { HolderStore, Queryable, SealedHolderRow } from '../services/ports.js';

export class HolderRepository implements HolderStore {
  constructor(private readonly lockerId: string) {}

  async sealedByCodes(q: Queryable, codes: string[]): Promise<SealedHolderRow[]> {
    if (codes.length === 0) return [];
    // Newest first: an online number deposited again (ADR 0029) names its latest depositor in its tray.
    // With or without a card: a newer deposit without one must not show an older one's holder.
    const { rows } = await q.query<{ code: string; tray: number | null; holder_enc: string | null }>(
      `SELECT code, tray, holder_enc FROM dossiers
        WHERE locker_id = $1 AND kind = 'deposit' AND code = ANY($2::text[])
          AND status NOT IN ('verified', 'cancelled')
        ORDER BY created_at DESC`,
      [this.lockerId, codes],
    );
    return rows.map((r) => ({ code: r.code, tray: r.tray, holderEnc: r.holder_enc }));
  }
}
