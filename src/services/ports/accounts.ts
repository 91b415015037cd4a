/** Ports: Staff accounts. */
import type { SignedInAccount, StaffRole } from '../../domain/accounts.js';
import type { Queryable } from './persistence.js';

/** An account row, secrets included: for this service only, never sent out. */
export interface AccountRecord extends SignedInAccount {
  createdAt: Date;
  createdBy: string | null;
  disabledAt: Date | null;
  /** scrypt string; null when the account has no touchscreen sign-in */
  pinHash: string | null;
  /** sealed TOTP secret; null when the account has no touchscreen sign-in */
  totpSecretEnc: string | null;
  totpLastStep: number | null;
  pinFailures: number;
  lockedUntil: Date | null;
}

export interface NewAccount {
  name: string;
  role: StaffRole;
  /** the permanent bearer token; the store keeps only its digest */
  token: string;
  pinHash: string | null;
  totpSecretEnc: string | null;
  createdBy: string;
  at: Date;
}

/** A live account found by a token; `demo`: made by the simulator's demo route (migration 009). */
export type TokenAccount = SignedInAccount & { demo: boolean };

/** The accounts and sessions tables (src/store/accounts.ts). */
export interface StaffAccountStore {
  findByToken(q: Queryable, token: string): Promise<TokenAccount | null>;
  insert(q: Queryable, a: NewAccount): Promise<number>;
  /** A demo account with this permanent token (the store keeps only its digest). */
  insertDemo(q: Queryable, role: StaffRole, token: string, at: Date): Promise<number>;
  list(q: Queryable): Promise<AccountRecord[]>;
  get(q: Queryable, id: number, opts?: { forUpdate?: boolean }): Promise<AccountRecord | null>;
  findLiveByName(q: Queryable, name: string): Promise<AccountRecord | null>;
  setDisabled(q: Queryable, id: number, at: Date): Promise<void>;
  /** Replaces the permanent token (the store keeps only its digest). */
  setToken(q: Queryable, id: number, token: string): Promise<void>;
  countAttempt(q: Queryable, id: number, now: Date): Promise<number | null>;
  lock(q: Queryable, id: number, until: Date): Promise<void>;
  acceptSignIn(q: Queryable, id: number, totpStep: number): Promise<boolean>;
  insertSession(q: Queryable, s: { token: string; accountId: number; createdAt: Date; expiresAt: Date }): Promise<void>;
  findBySessionToken(q: Queryable, token: string, now: Date): Promise<(TokenAccount & { expiresAt: Date }) | null>;
  revokeSession(q: Queryable, token: string, at: Date): Promise<number | null>;
  revokeSessions(q: Queryable, accountId: number, at: Date): Promise<number>;
  pruneSessions(q: Queryable, before: Date): Promise<void>;
}
