/** Dossiers and their transitions in PostgreSQL. Every status change writes a transition row. */
import { AppError } from '../domain/errors.js';
import { canMove, type Dossier, type DossierKind, type DossierStatus } from '../domain/dossier.js';
import type { DossierStore, NewDossierRow, Queryable } from '../services/ports.js';

/** Result statuses that keep a code taken (the index dossiers_code_kind_live, migrations 006 and 018, says the same). */
const LIVE_RESULT: DossierStatus[] = ['loading', 'loaded', 'notified', 'expired', 'to_check'];

const COLUMNS: [keyof Dossier, string][] = [
  ['id', 'id'],
  ['code', 'code'],
  ['kind', 'kind'],
  ['procedureCode', 'procedure_code'],
  ['phoneHash', 'phone_hash'],
  ['phoneEnc', 'phone_enc'],
  ['holderEnc', 'holder_enc'],
  ['status', 'status'],
  ['tray', 'tray'],
  ['challengeId', 'challenge_id'],
  ['createdAt', 'created_at'],
  ['openedAt', 'opened_at'],
  ['doorOpenedAt', 'door_opened_at'],
  ['depositedAt', 'deposited_at'],
  ['collectedAt', 'collected_at'],
  ['loadedAt', 'loaded_at'],
  ['notifiedAt', 'notified_at'],
  ['pickupDeadline', 'pickup_deadline'],
  ['remindedAt', 'reminded_at'],
  ['pickedUpAt', 'picked_up_at'],
  ['expiredAt', 'expired_at'],
  ['returnedAt', 'returned_at'],
  ['cancelledAt', 'cancelled_at'],
  ['checkSince', 'check_since'],
  ['checkFrom', 'check_from'],
  ['updatedAt', 'updated_at'],
];
const COLUMN_OF = new Map(COLUMNS);
const SELECT = `SELECT ${COLUMNS.map(([, c]) => c).join(', ')} FROM dossiers`;

/** The SQL type of a dossier column (for parameters where PostgreSQL cannot infer it). */
function columnType(column: string): string {
  if (column === 'id' || column === 'challenge_id') return 'uuid';
  if (column === 'tray') return 'integer';
  return column.endsWith('_at') || column === 'check_since' || column === 'pickup_deadline' ? 'timestamptz' : 'text';
}

function toDossier(row: Record<string, any>): Dossier {
  const d: Record<string, unknown> = {};
  for (const [key, column] of COLUMNS) d[key] = row[column];
  return d as unknown as Dossier;
}

export class DossierRepository implements DossierStore {
  constructor(private readonly lockerId: string) {}

  async insert(q: Queryable, d: NewDossierRow, actor: string): Promise<void> {
    const extra = Object.entries(d.fields ?? {});
    const columns = [
      'id',
      'locker_id',
      'code',
      'kind',
      'procedure_code',
      'phone_hash',
      'phone_enc',
      'status',
      'tray',
      'challenge_id',
      'created_at',
      'updated_at',
      ...extra.map(([k]) => COLUMN_OF.get(k as keyof Dossier)!),
    ];
    const values = [
      d.id,
      this.lockerId,
      d.code,
      d.kind,
      d.procedureCode,
      d.phoneHash,
      d.phoneEnc,
      d.status,
      d.tray,
      d.challengeId,
      d.at,
      d.at,
      ...extra.map(([, v]) => v),
    ];
    try {
      await q.query(`INSERT INTO dossiers (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, values);
    } catch (err) {
      // Two officers loading the same result at once: both saw no live result, one insert waits on
      // the index and then fails; it is the same answer as the check before it, not a 500.
      const e = err as { code?: string; constraint?: string };
      if (d.kind === 'result' && e.code === '23505' && e.constraint === 'dossiers_code_kind_live') {
        throw new AppError('RESULT_ALREADY_LOADED', 'the result of this dossier is being loaded or is already in a tray');
      }
      // Two citizens depositing the same online number at once (ADR 0029): the same answer as the check before it.
      if (d.kind === 'deposit' && e.code === '23505' && e.constraint === 'dossiers_code_kind_live') {
        throw new AppError('DOSSIER_ALREADY_DEPOSITED', 'a dossier with this number is already in this machine');
      }
      throw err;
    }
    await q.query(`INSERT INTO dossier_transitions (dossier_id, at, from_status, to_status, actor) VALUES ($1, $2, NULL, $3, $4)`, [
      d.id,
      d.at,
      d.status,
      actor,
    ]);
  }

  async insertNewCode(
    q: Queryable,
    d: NewDossierRow,
    actor: string,
    then: { to: DossierStatus; fields?: Partial<Dossier>; details?: Record<string, unknown> },
  ): Promise<boolean> {
    if (!canMove(d.status, then.to)) throw new AppError('INTERNAL', `dossier ${d.id}: ${d.status} → ${then.to} is not a valid move`);
    // The row as the transition leaves it (its status, its fields), written only if no dossier has
    // the code, with the two transition rows `insert` then `transition` would write.
    const row = new Map<string, unknown>([
      ['id', d.id],
      ['locker_id', this.lockerId],
      ['code', d.code],
      ['kind', d.kind],
      ['procedure_code', d.procedureCode],
      ['phone_hash', d.phoneHash],
      ['phone_enc', d.phoneEnc],
      ['status', then.to],
      ['tray', d.tray],
      ['challenge_id', d.challengeId],
      ['created_at', d.at],
      ['updated_at', d.at],
    ]);
    for (const [key, value] of [...Object.entries(d.fields ?? {}), ...Object.entries(then.fields ?? {})]) {
      row.set(COLUMN_OF.get(key as keyof Dossier)!, value);
    }
    const columns = [...row.keys()];
    const values: unknown[] = [...row.values()];
    const param = (value: unknown, type: string) => `$${values.push(value)}::${type}`;
    const code = `$${columns.indexOf('code') + 1}::text`;
    const { rows } = await q.query<{ n: number }>(
      `WITH row AS (
         INSERT INTO dossiers (${columns.join(', ')})
         SELECT ${columns.map((c, i) => `$${i + 1}::${columnType(c)}`).join(', ')}
         WHERE NOT EXISTS (SELECT 1 FROM dossiers WHERE code = ${code})
         RETURNING id
       ), moves AS (
         INSERT INTO dossier_transitions (dossier_id, at, from_status, to_status, actor, details)
         SELECT row.id, ${param(d.at, 'timestamptz')}, m.from_status, m.to_status, ${param(actor, 'text')}, m.details
         FROM row, (VALUES (1, NULL::text, ${param(d.status, 'text')}, '{}'::jsonb),
                           (2, ${param(d.status, 'text')}, ${param(then.to, 'text')}, ${param(JSON.stringify(then.details ?? {}), 'jsonb')}))
                AS m(n, from_status, to_status, details)
         ORDER BY m.n
       )
       SELECT count(*)::int AS n FROM row`,
      values,
    );
    return rows[0].n === 1;
  }

  /**
   * Moves a dossier from `from` to `to`, setting the given timestamp/tray fields, and records the
   * transition. Refuses a move the state machine does not allow, or one from a stale status.
   */
  async transition(
    q: Queryable,
    id: string,
    from: DossierStatus,
    to: DossierStatus,
    opts: { actor: string; at: Date; fields?: Partial<Dossier>; details?: Record<string, unknown> },
  ): Promise<void> {
    if (!canMove(from, to)) throw new AppError('INTERNAL', `dossier ${id}: ${from} → ${to} is not a valid move`);
    const sets = ['status = $3', 'updated_at = $4'];
    // An ID card's holder hash serves its pickup only: gone once the card left the machine (ADR 0028).
    if (to === 'picked_up' || to === 'returned_to_counter' || to === 'cancelled') sets.push('holder_id_hash = NULL');
    const values: unknown[] = [this.lockerId, id, to, opts.at, from];
    for (const [key, value] of Object.entries(opts.fields ?? {})) {
      values.push(value);
      sets.push(`${COLUMN_OF.get(key as keyof Dossier)} = $${values.length}`);
    }
    values.push(opts.actor, JSON.stringify(opts.details ?? {}));
    const n = values.length;
    // The move and its transition row in one statement: no row moved, no transition written.
    const res = await q.query(
      `WITH moved AS (
         UPDATE dossiers SET ${sets.join(', ')} WHERE locker_id = $1 AND id = $2 AND status = $5 RETURNING id
       )
       INSERT INTO dossier_transitions (dossier_id, at, from_status, to_status, actor, details)
       SELECT moved.id, $4, $5, $3, $${n - 1}, $${n}::jsonb FROM moved`,
      values,
    );
    if (res.rowCount !== 1) throw new AppError('CONFLICT', `dossier ${id} is no longer ${from}`);
  }

  /** Sets fields without a status change (e.g. the moment the door opened). */
  async setFields(q: Queryable, id: string, fields: Partial<Dossier>, at: Date): Promise<void> {
    const sets = ['updated_at = $3'];
    const values: unknown[] = [this.lockerId, id, at];
    for (const [key, value] of Object.entries(fields)) {
      values.push(value);
      sets.push(`${COLUMN_OF.get(key as keyof Dossier)} = $${values.length}`);
    }
    await q.query(`UPDATE dossiers SET ${sets.join(', ')} WHERE locker_id = $1 AND id = $2`, values);
  }

  async get(q: Queryable, id: string, opts: { forUpdate?: boolean } = {}): Promise<Dossier | null> {
    const { rows } = await q.query(`${SELECT} WHERE locker_id = $1 AND id = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`, [this.lockerId, id]);
    return rows[0] ? toDossier(rows[0]) : null;
  }

  async getByCode(q: Queryable, code: string): Promise<Dossier | null> {
    const { rows } = await q.query(`${SELECT} WHERE code = $1`, [code]);
    return rows[0] ? toDossier(rows[0]) : null;
  }

  /** The dossiers in `statuses` that occupy a tray, locked for update. */
  async inTray(q: Queryable, tray: number, statuses: DossierStatus[]): Promise<Dossier[]> {
    const { rows } = await q.query(
      `${SELECT} WHERE locker_id = $1 AND tray = $2 AND status = ANY($3::text[]) ORDER BY created_at FOR UPDATE`,
      [this.lockerId, tray, statuses],
    );
    return rows.map(toDossier);
  }

  async byPhone(q: Queryable, phoneHash: string, kind: DossierKind, statuses: DossierStatus[]): Promise<Dossier[]> {
    const { rows } = await q.query(
      `${SELECT} WHERE locker_id = $1 AND phone_hash = $2 AND kind = $3 AND status = ANY($4::text[]) ORDER BY tray`,
      [this.lockerId, phoneHash, kind, statuses],
    );
    return rows.map(toDossier);
  }

  /**
   * Dossiers whose tray's lock was released for a flow and whose door has not opened since: a
   * deposit (`tray_open`), a result being loaded (`loading`), a result released for pickup.
   * Whether their time is up is for the tray's window to say (TrayService.verdict), not the wall clock.
   */
  async awaitingDoor(q: Queryable, flow: 'deposit' | 'loading' | 'pickup'): Promise<Dossier[]> {
    const where = {
      deposit: `status = 'tray_open'`,
      loading: `status = 'loading'`,
      pickup: `kind = 'result' AND status IN ('loaded', 'notified', 'expired') AND opened_at IS NOT NULL`,
    }[flow];
    const { rows } = await q.query(
      `${SELECT} WHERE locker_id = $1 AND ${where} AND door_opened_at IS NULL AND tray IS NOT NULL ORDER BY opened_at`,
      [this.lockerId],
    );
    return rows.map(toDossier);
  }

  /** Dossiers whose tray is to be checked by an officer, oldest first. */
  async toCheck(q: Queryable): Promise<Dossier[]> {
    const { rows } = await q.query(`${SELECT} WHERE locker_id = $1 AND status = 'to_check' ORDER BY check_since, tray`, [this.lockerId]);
    return rows.map(toDossier);
  }

  /** A result with this code still in the machine (or being loaded). */
  async liveResult(q: Queryable, code: string): Promise<Dossier | null> {
    const { rows } = await q.query(`${SELECT} WHERE locker_id = $1 AND code = $2 AND kind = 'result' AND status = ANY($3::text[])`, [
      this.lockerId,
      code,
      LIVE_RESULT,
    ]);
    return rows[0] ? toDossier(rows[0]) : null;
  }

  /**
   * Waiting results whose reminder is due (deadline within `withinMs`) and not yet sent. An ID card
   * held for an officer (too many wrong numbers, ADR 0028) is not: the machine would refuse it.
   */
  async dueForReminder(q: Queryable, now: Date, withinMs: number): Promise<Dossier[]> {
    const { rows } = await q.query(
      `${SELECT} WHERE locker_id = $1 AND kind = 'result' AND status IN ('loaded', 'notified') AND reminded_at IS NULL
         AND identity_held_at IS NULL
         AND pickup_deadline > $2 AND pickup_deadline <= $2::timestamptz + make_interval(secs => $3::double precision / 1000)
       FOR UPDATE SKIP LOCKED`,
      [this.lockerId, now, withinMs],
    );
    return rows.map(toDossier);
  }

  /** Waiting results whose pickup window has ended. */
  async pastDeadline(q: Queryable, now: Date): Promise<Dossier[]> {
    const { rows } = await q.query(
      `${SELECT} WHERE locker_id = $1 AND kind = 'result' AND status IN ('loaded', 'notified') AND pickup_deadline <= $2
       FOR UPDATE SKIP LOCKED`,
      [this.lockerId, now],
    );
    return rows.map(toDossier);
  }

  /** Results in the machine, oldest deadline first. */
  async waitingResults(q: Queryable): Promise<Dossier[]> {
    const { rows } = await q.query(
      `${SELECT} WHERE locker_id = $1 AND kind = 'result' AND status IN ('loaded', 'notified', 'expired')
       ORDER BY pickup_deadline NULLS LAST, tray`,
      [this.lockerId],
    );
    return rows.map(toDossier);
  }

  /** Every dossier with this code (a deposit and the result for it may share one), newest first. */
  async allByCode(q: Queryable, code: string): Promise<Dossier[]> {
    const { rows } = await q.query(`${SELECT} WHERE code = $1 AND locker_id = $2 ORDER BY created_at DESC`, [code, this.lockerId]);
    return rows.map(toDossier);
  }

  async codeExists(q: Queryable, code: string): Promise<boolean> {
    const { rows } = await q.query(`SELECT 1 FROM dossiers WHERE code = $1`, [code]);
    return rows.length > 0;
  }
}
