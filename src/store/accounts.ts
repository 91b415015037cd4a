/**
 * Staff and admin accounts. A bearer token is stored only as its SHA-256 digest: tokens are long
 * random strings (at least 16 characters, 32 random bytes when generated), so a fast digest is
 * enough; a slow password hash is for the low-entropy PINs that come with touchscreen sign-in.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './db.js';

export type Role = 'admin' | 'staff';

export interface Account {
  id: number;
  name: string;
  role: Role;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export class AccountRepository {
  async findByToken(q: Queryable, token: string): Promise<Account | null> {
    const { rows } = await q.query(
      `SELECT id, name, role FROM accounts WHERE token_hash = $1 AND disabled_at IS NULL`,
      [hashToken(token)],
    );
    return rows[0] ? { id: Number(rows[0].id), name: rows[0].name, role: rows[0].role } : null;
  }

  /** Ensures an account with this token exists (the ATM247_*_TOKEN seeds); idempotent. */
  async seed(q: Queryable, name: string, role: Role, token: string): Promise<Account> {
    const { rows } = await q.query(
      `INSERT INTO accounts (name, role, token_hash) VALUES ($1, $2, $3)
       ON CONFLICT (token_hash) DO UPDATE SET role = EXCLUDED.role, disabled_at = NULL
       RETURNING id, name, role`,
      [name, role, hashToken(token)],
    );
    return { id: Number(rows[0].id), name: rows[0].name, role: rows[0].role };
  }
}
