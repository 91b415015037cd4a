/**
 * Staff and admin accounts and touchscreen sessions in PostgreSQL. Tokens are kept only as their
 * digests (`hashToken`, src/domain/accounts.ts).
 */
import { hashToken, type SignedInAccount, type StaffRole } from '../domain/accounts.js';
import type { Queryable } from './db.js';
import type { AccountRecord, NewAccount, StaffAccountStore, TokenAccount } from '../services/ports.js';

// Accounts managed by admins (migration 004) carry touchscreen factors, failures and sessions.
const RECORD_COLUMNS = `id, name, role, created_at, created_by, disabled_at, pin_hash, totp_secret_enc,
  totp_last_step, pin_failures, locked_until`;

function toRecord(r: any): AccountRecord {
  return {
    id: Number(r.id),
    name: r.name,
    role: r.role,
    createdAt: r.created_at,
    createdBy: r.created_by,
    disabledAt: r.disabled_at,
    pinHash: r.pin_hash,
    totpSecretEnc: r.totp_secret_enc,
    totpLastStep: r.totp_last_step === null ? null : Number(r.totp_last_step),
    pinFailures: Number(r.pin_failures),
    lockedUntil: r.locked_until,
  };
}

export class AccountRepository implements StaffAccountStore {
  async findByToken(q: Queryable, token: string): Promise<TokenAccount | null> {
    const { rows } = await q.query(`SELECT id, name, role, demo FROM accounts WHERE token_hash = $1 AND disabled_at IS NULL`, [
      hashToken(token),
    ]);
    return rows[0] ? { id: Number(rows[0].id), name: rows[0].name, role: rows[0].role, demo: rows[0].demo } : null;
  }

  /**
   * Ensures an account with this token exists (the ATM247_*_TOKEN seeds); idempotent. An account
   * an admin disabled stays disabled (`disabled: true`): the seed never re-enables it.
   */
  async seed(q: Queryable, name: string, role: StaffRole, token: string): Promise<SignedInAccount & { disabled: boolean }> {
    const { rows } = await q.query(
      `INSERT INTO accounts (name, role, token_hash) VALUES ($1, $2, $3)
       ON CONFLICT (token_hash) DO UPDATE SET role = EXCLUDED.role
       RETURNING id, name, role, disabled_at`,
      [name, role, hashToken(token)],
    );
    return { id: Number(rows[0].id), name: rows[0].name, role: rows[0].role, disabled: rows[0].disabled_at !== null };
  }

  async insertDemo(q: Queryable, role: StaffRole, token: string, at: Date): Promise<number> {
    const { rows } = await q.query(
      `INSERT INTO accounts (name, role, token_hash, demo, created_at) VALUES ($1, $2, $3, true, $4) RETURNING id`,
      [`demo ${role} (simulator)`, role, hashToken(token), at],
    );
    return Number(rows[0].id);
  }

  async insert(q: Queryable, a: NewAccount): Promise<number> {
    const { rows } = await q.query(
      `INSERT INTO accounts (name, role, token_hash, pin_hash, totp_secret_enc, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [a.name, a.role, hashToken(a.token), a.pinHash, a.totpSecretEnc, a.createdBy, a.at],
    );
    return Number(rows[0].id);
  }

  async list(q: Queryable): Promise<AccountRecord[]> {
    const { rows } = await q.query(`SELECT ${RECORD_COLUMNS} FROM accounts ORDER BY id`);
    return rows.map(toRecord);
  }

  async get(q: Queryable, id: number, opts: { forUpdate?: boolean } = {}): Promise<AccountRecord | null> {
    const { rows } = await q.query(`SELECT ${RECORD_COLUMNS} FROM accounts WHERE id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findLiveByName(q: Queryable, name: string): Promise<AccountRecord | null> {
    const { rows } = await q.query(
      `SELECT ${RECORD_COLUMNS} FROM accounts WHERE lower(name) = lower($1) AND disabled_at IS NULL
       ORDER BY (pin_hash IS NOT NULL) DESC, id LIMIT 1`,
      [name],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async setDisabled(q: Queryable, id: number, at: Date): Promise<void> {
    await q.query(`UPDATE accounts SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL`, [id, at]);
  }

  async setToken(q: Queryable, id: number, token: string): Promise<void> {
    await q.query(`UPDATE accounts SET token_hash = $2 WHERE id = $1`, [id, hashToken(token)]);
  }

  /**
   * Counts a sign-in attempt before its factors are checked (a right one clears the count), so
   * that attempts made at the same time cannot together try more than the limit. Returns the
   * count including this attempt, or null when the account is locked or disabled.
   */
  async countAttempt(q: Queryable, id: number, now: Date): Promise<number | null> {
    const { rows } = await q.query(
      `UPDATE accounts SET pin_failures = pin_failures + 1
       WHERE id = $1 AND disabled_at IS NULL AND (locked_until IS NULL OR locked_until <= $2)
       RETURNING pin_failures`,
      [id, now],
    );
    return rows[0] ? Number(rows[0].pin_failures) : null;
  }

  /** Locks sign-in until `until`; the failures that led to it start again from zero. */
  async lock(q: Queryable, id: number, until: Date): Promise<void> {
    await q.query(`UPDATE accounts SET locked_until = $2, pin_failures = 0 WHERE id = $1`, [id, until]);
  }

  /**
   * Records a right sign-in: clears failures and remembers the TOTP step. False when that step
   * (or a later one) was already used: the code is a replay and nothing changes.
   */
  async acceptSignIn(q: Queryable, id: number, totpStep: number): Promise<boolean> {
    const { rowCount } = await q.query(
      `UPDATE accounts SET pin_failures = 0, locked_until = NULL, totp_last_step = $2
       WHERE id = $1 AND disabled_at IS NULL AND (totp_last_step IS NULL OR totp_last_step < $2)`,
      [id, totpStep],
    );
    return rowCount === 1;
  }

  async insertSession(q: Queryable, s: { token: string; accountId: number; createdAt: Date; expiresAt: Date }): Promise<void> {
    await q.query(`INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`, [
      hashToken(s.token),
      s.accountId,
      s.createdAt,
      s.expiresAt,
    ]);
  }

  /** The account of a live session (not expired, not revoked, account not disabled). */
  async findBySessionToken(q: Queryable, token: string, now: Date): Promise<(TokenAccount & { expiresAt: Date }) | null> {
    const { rows } = await q.query(
      `SELECT a.id, a.name, a.role, a.demo, s.expires_at FROM sessions s JOIN accounts a ON a.id = s.account_id
       WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND a.disabled_at IS NULL`,
      [hashToken(token), now],
    );
    const r = rows[0];
    return r ? { id: Number(r.id), name: r.name, role: r.role, demo: r.demo, expiresAt: r.expires_at } : null;
  }

  /** Revokes one live session; returns its account id, or null when there was none. */
  async revokeSession(q: Queryable, token: string, at: Date): Promise<number | null> {
    const { rows } = await q.query(
      `UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL RETURNING account_id`,
      [hashToken(token), at],
    );
    return rows[0] ? Number(rows[0].account_id) : null;
  }

  async revokeSessions(q: Queryable, accountId: number, at: Date): Promise<number> {
    const { rowCount } = await q.query(
      `UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2`,
      [accountId, at],
    );
    return rowCount ?? 0;
  }

  /** Forgets sessions that ended before `before`. */
  async pruneSessions(q: Queryable, before: Date): Promise<void> {
    await q.query(`DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1`, [before]);
  }
}
