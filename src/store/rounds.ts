/** Collection rounds, their manifests (items) and what the manifest is drawn from. */
import type { TraySize } from '../domain/cabinet.js';
import { randomUUID } from 'node:crypto';
import type { Queryable, RoundItemRow, RoundRow, RoundStore } from '../services/ports.js';

function toRound(r: any): RoundRow {
  return {
    id: r.id,
    scheduledAt: r.scheduled_at,
    status: r.status,
    drawnAt: r.drawn_at,
    startedAt: r.started_at,
    startedBy: r.started_by,
    completedAt: r.completed_at,
    completedBy: r.completed_by,
    counts: r.counts,
  };
}

function toItem(r: any): RoundItemRow {
  return {
    roundId: r.round_id,
    dossierId: r.dossier_id,
    tray: r.tray,
    kind: r.kind,
    status: r.status,
    dossierCode: r.code,
    procedureCode: r.procedure_code,
    depositedAt: r.deposited_at,
    expiredAt: r.expired_at,
    dossierStatus: r.dossier_status,
    openedAt: r.opened_at,
    confirmedAt: r.confirmed_at,
    confirmedBy: r.confirmed_by,
    fee:
      r.fee_amount === null || r.fee_amount === undefined
        ? null
        : { amount: r.fee_amount, paid: r.fee_status === 'paid' || r.fee_status === 'paid_at_counter' },
  };
}

const ITEM_SELECT = `SELECT i.*, d.code, d.procedure_code, d.deposited_at, d.expired_at, d.status AS dossier_status,
    p.amount AS fee_amount, p.status AS fee_status
  FROM round_items i JOIN dossiers d ON d.id = i.dossier_id LEFT JOIN payments p ON p.dossier_id = d.id`;

export class RoundRepository implements RoundStore {
  constructor(private readonly lockerId: string) {}

  async ensure(q: Queryable, scheduledAt: Date): Promise<RoundRow> {
    await q.query(`INSERT INTO rounds (id, locker_id, scheduled_at, status) VALUES ($1, $2, $3, 'upcoming') ON CONFLICT DO NOTHING`, [
      randomUUID(),
      this.lockerId,
      scheduledAt,
    ]);
    const { rows } = await q.query(`SELECT * FROM rounds WHERE locker_id = $1 AND scheduled_at = $2`, [this.lockerId, scheduledAt]);
    return toRound(rows[0]);
  }

  async get(q: Queryable, id: string, opts: { forUpdate?: boolean } = {}): Promise<RoundRow | null> {
    const { rows } = await q.query(`SELECT * FROM rounds WHERE locker_id = $1 AND id = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`, [
      this.lockerId,
      id,
    ]);
    return rows[0] ? toRound(rows[0]) : null;
  }

  /** The round staff should be doing now: the latest one due or running. */
  async active(q: Queryable): Promise<RoundRow | null> {
    const { rows } = await q.query(
      `SELECT * FROM rounds WHERE locker_id = $1 AND status IN ('due', 'running') ORDER BY scheduled_at DESC LIMIT 1`,
      [this.lockerId],
    );
    return rows[0] ? toRound(rows[0]) : null;
  }

  /** Upcoming rounds whose lead time has come. */
  async becomingDue(q: Queryable, now: Date, leadMs: number): Promise<RoundRow[]> {
    const { rows } = await q.query(
      `SELECT * FROM rounds WHERE locker_id = $1 AND status = 'upcoming'
         AND scheduled_at <= $2::timestamptz + make_interval(secs => $3::double precision / 1000)
       ORDER BY scheduled_at FOR UPDATE`,
      [this.lockerId, now, leadMs],
    );
    return rows.map(toRound);
  }

  async update(q: Queryable, id: string, fields: Partial<RoundRow>): Promise<void> {
    const columns: Record<string, string> = {
      status: 'status',
      drawnAt: 'drawn_at',
      startedAt: 'started_at',
      startedBy: 'started_by',
      completedAt: 'completed_at',
      completedBy: 'completed_by',
      counts: 'counts',
    };
    const sets: string[] = [];
    const values: unknown[] = [this.lockerId, id];
    for (const [key, value] of Object.entries(fields)) {
      values.push(key === 'counts' ? JSON.stringify(value) : value);
      sets.push(`${columns[key]} = $${values.length}`);
    }
    await q.query(`UPDATE rounds SET ${sets.join(', ')} WHERE locker_id = $1 AND id = $2`, values);
  }

  /** Rounds drawn but never started before `before`: they are skipped (their items go to the next). */
  async skipUnstarted(q: Queryable, before: Date): Promise<string[]> {
    const { rows } = await q.query(
      `UPDATE rounds SET status = 'skipped' WHERE locker_id = $1 AND status IN ('due', 'upcoming') AND scheduled_at < $2 RETURNING id`,
      [this.lockerId, before],
    );
    return rows.map((r: any) => r.id);
  }

  /**
   * Draws the manifest: deposits in trays, expired results and trays to check, not already on a
   * running round.
   * Deposits made later wait for the next round.
   */
  async draw(q: Queryable, roundId: string): Promise<void> {
    await q.query(
      `INSERT INTO round_items (round_id, dossier_id, tray, kind)
       SELECT $2, d.id, d.tray, CASE WHEN d.status = 'to_check' THEN 'check' WHEN d.kind = 'deposit' THEN 'collect' ELSE 'take_back' END
       FROM dossiers d
       WHERE d.locker_id = $1 AND d.tray IS NOT NULL
         AND ((d.kind = 'deposit' AND d.status = 'deposited') OR (d.kind = 'result' AND d.status = 'expired') OR d.status = 'to_check')
         AND NOT EXISTS (SELECT 1 FROM round_items i JOIN rounds r ON r.id = i.round_id
                         WHERE i.dossier_id = d.id AND r.status = 'running' AND r.id <> $2)
       ON CONFLICT DO NOTHING`,
      [this.lockerId, roundId],
    );
  }

  async items(q: Queryable, roundId: string): Promise<RoundItemRow[]> {
    const { rows } = await q.query(`${ITEM_SELECT} WHERE i.round_id = $1 ORDER BY i.tray`, [roundId]);
    return rows.map(toItem);
  }

  async item(q: Queryable, roundId: string, tray: number): Promise<RoundItemRow | null> {
    const { rows } = await q.query(`${ITEM_SELECT} WHERE i.round_id = $1 AND i.tray = $2 FOR UPDATE OF i`, [roundId, tray]);
    return rows[0] ? toItem(rows[0]) : null;
  }

  async setItem(
    q: Queryable,
    roundId: string,
    dossierId: string,
    fields: { status: RoundItemRow['status']; openedAt?: Date; confirmedAt?: Date; confirmedBy?: string },
  ) {
    await q.query(
      `UPDATE round_items SET status = $3, opened_at = COALESCE($4, opened_at), confirmed_at = COALESCE($5, confirmed_at),
         confirmed_by = COALESCE($6, confirmed_by) WHERE round_id = $1 AND dossier_id = $2`,
      [roundId, dossierId, fields.status, fields.openedAt ?? null, fields.confirmedAt ?? null, fields.confirmedBy ?? null],
    );
  }

  /** A dossier answered outside its round (a tray checked from the staff list): its open items say so. */
  async settleOpenItems(
    q: Queryable,
    dossierId: string,
    fields: { status: RoundItemRow['status']; confirmedAt: Date; confirmedBy: string },
  ) {
    await q.query(
      `UPDATE round_items i SET status = $2, confirmed_at = $3, confirmed_by = $4
       FROM rounds r WHERE r.id = i.round_id AND r.status IN ('upcoming', 'due', 'running')
         AND i.dossier_id = $1 AND i.status IN ('pending', 'opened')`,
      [dossierId, fields.status, fields.confirmedAt, fields.confirmedBy],
    );
  }

  /** What a manifest drawn now would hold (for a round not yet drawn). */
  async preview(q: Queryable): Promise<Omit<RoundItemRow, 'roundId'>[]> {
    const { rows } = await q.query(
      `SELECT d.id AS dossier_id, d.tray, CASE WHEN d.status = 'to_check' THEN 'check' WHEN d.kind = 'deposit' THEN 'collect' ELSE 'take_back' END AS kind,
         'pending' AS status, d.code, d.procedure_code, d.deposited_at, d.expired_at, d.status AS dossier_status,
         p.amount AS fee_amount, p.status AS fee_status
       FROM dossiers d LEFT JOIN payments p ON p.dossier_id = d.id WHERE d.locker_id = $1 AND d.tray IS NOT NULL
         AND ((d.kind = 'deposit' AND d.status = 'deposited') OR (d.kind = 'result' AND d.status = 'expired') OR d.status = 'to_check')
       ORDER BY d.tray`,
      [this.lockerId],
    );
    return rows.map(toItem);
  }

  async freeTrays(q: Queryable): Promise<Record<TraySize, number>> {
    const { rows } = await q.query(
      `SELECT size, count(*)::int AS n FROM trays WHERE locker_id = $1 AND content = 'free'
         AND disabled_reason IS NULL AND fault IS NULL GROUP BY size`,
      [this.lockerId],
    );
    const out = { S: 0, M: 0, L: 0 };
    for (const r of rows) out[r.size as TraySize] = r.n;
    return out;
  }
}
