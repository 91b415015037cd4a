/**
 * Staff accounts: admins create and disable officers' accounts and rotate their tokens; an officer
 * with a touchscreen account signs in at the locker with a PIN and a code from an authenticator app
 * and gets a session token for the working day.
 *
 * At rest: bearer and session tokens as SHA-256 digests, the PIN as scrypt with a salt of its own,
 * the authenticator (TOTP) secret sealed with AES-256-GCM under a key that is not in the database.
 * Wrong sign-ins are counted per account (the count is taken before the factors are checked, so
 * attempts made at once cannot together try more than the limit); the fifth locks the account.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import type { AuditStore, Database, Queryable } from './ports.js';

export type StaffRole = 'admin' | 'staff';

/** Who a token belongs to (the shape HTTP auth expects). */
export interface SignedInAccount {
  id: number;
  name: string;
  role: StaffRole;
}

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

/** The accounts and sessions tables as this service needs them (src/store/accounts.ts). */
export interface StaffAccountStore {
  findByToken(q: Queryable, token: string): Promise<SignedInAccount | null>;
  insert(q: Queryable, a: NewAccount): Promise<number>;
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
  findBySessionToken(q: Queryable, token: string, now: Date): Promise<(SignedInAccount & { expiresAt: Date }) | null>;
  revokeSession(q: Queryable, token: string, at: Date): Promise<number | null>;
  revokeSessions(q: Queryable, accountId: number, at: Date): Promise<number>;
  pruneSessions(q: Queryable, before: Date): Promise<void>;
}

export interface StaffAccountServiceDeps {
  db: Database;
  accounts: StaffAccountStore;
  audit: AuditStore;
  clock: Clock;
  logger: Logger;
  /** 32 bytes: seals the TOTP secrets */
  totpKey: Buffer;
  /** how long a touchscreen session lasts (default 12) */
  sessionHours?: number;
  /** random bytes (tests may fix them); default node:crypto */
  randomBytes?: (n: number) => Buffer;
}

export interface NewStaffAccount {
  name: string;
  role: StaffRole;
  withTouchscreen: boolean;
  pin?: string;
}

export interface CreatedStaffAccount extends SignedInAccount {
  /** the permanent bearer token: shown once, stored as a digest */
  token: string;
  /** with the touchscreen: for the authenticator app, shown once */
  totpUri?: string;
  totpSecret?: string;
}

export interface StaffAccountView extends SignedInAccount {
  touchscreen: boolean;
  createdAt: Date;
  createdBy: string | null;
  disabledAt: Date | null;
  /** set while wrong sign-ins keep the account locked */
  lockedUntil: Date | null;
}

export interface SignIn {
  token: string;
  expiresAt: Date;
  account: SignedInAccount;
}

export const TOTP_ISSUER = 'ATM 24/7';
export const MAX_SIGN_IN_FAILURES = 5;
export const LOCK_MS = 15 * 60_000;
/** Ended sessions are kept this long (for the audit trail's sake), then deleted. */
const SESSION_RETENTION_MS = 30 * 86_400_000;
const TOTP_PERIOD_SEC = 30;
const NAME = /^[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N} .'-]{0,79}$/u;

// ---------------------------------------------------------------------------------------------
// PIN policy and hashing

/** Why a PIN is refused, or null when it is acceptable: 6–8 digits, not a trivial pattern. */
export function pinWeakness(pin: string): string | null {
  if (!/^[0-9]{6,8}$/.test(pin)) return 'a PIN is 6 to 8 digits';
  const digits = [...pin].map(Number);
  const steps = digits.slice(1).map((d, i) => (d - digits[i] + 10) % 10);
  if (steps.every((s) => s === 0)) return 'a PIN of one repeated digit is too easy to guess';
  if (steps.every((s) => s === 1) || steps.every((s) => s === 9)) return 'a PIN of consecutive digits is too easy to guess';
  for (const period of [2, 3, 4]) {
    if (pin.length > period && [...pin].every((c, i) => c === pin[i % period])) {
      return 'a PIN that repeats a short group of digits is too easy to guess';
    }
  }
  return null;
}

const SCRYPT = { log2N: 15, r: 8, p: 1, keyLen: 32 };

function scrypt(secret: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(secret, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const scryptOptions = (log2N: number, r: number, p: number): ScryptOptions => ({
  N: 2 ** log2N, r, p, maxmem: 256 * 2 ** log2N * r,
});

export async function hashPin(pin: string, salt: Buffer): Promise<string> {
  const { log2N, r, p, keyLen } = SCRYPT;
  const key = await scrypt(pin, salt, keyLen, scryptOptions(log2N, r, p));
  return `scrypt$${log2N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function pinMatches(pin: string, stored: string): Promise<boolean> {
  const [scheme, log2N, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(pin, Buffer.from(salt, 'base64'), expected.length, scryptOptions(Number(log2N), Number(r), Number(p)));
  return timingSafeEqual(actual, expected);
}

/** Compared against when the account does not exist, so that the answer takes as long. */
const DUMMY_PIN_HASH = `scrypt$${SCRYPT.log2N}$${SCRYPT.r}$${SCRYPT.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;

// ---------------------------------------------------------------------------------------------
// TOTP secrets at rest: AES-256-GCM, the scheme of PhoneVault (src/domain/phone-vault.ts).

class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the TOTP key must be 32 bytes');
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string): string {
    if (!sealed.startsWith('v1.')) throw new Error('unknown TOTP secret encryption version');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

// ---------------------------------------------------------------------------------------------

function actorFor(a: SignedInAccount): string {
  return `${a.role}:${a.id}:${a.name}`;
}

function normaliseName(raw: string): string {
  return raw.normalize('NFC').trim().replace(/\s+/g, ' ');
}

export class StaffAccountService {
  private readonly box: SecretBox;
  private readonly log: Logger;
  private readonly sessionMs: number;
  private readonly random: (n: number) => Buffer;

  constructor(private readonly deps: StaffAccountServiceDeps) {
    this.box = new SecretBox(deps.totpKey);
    this.log = deps.logger.child({ module: 'staff-accounts' });
    this.sessionMs = (deps.sessionHours ?? 12) * 3_600_000;
    this.random = deps.randomBytes ?? randomBytes;
  }

  private newToken(): string {
    return this.random(32).toString('base64url');
  }

  async create(input: NewStaffAccount, actor: string): Promise<CreatedStaffAccount> {
    const { db, accounts, audit, clock } = this.deps;
    const name = normaliseName(input.name);
    if (!NAME.test(name)) {
      throw new AppError('VALIDATION_FAILED', 'a name is 1 to 80 letters, digits, spaces, dots, apostrophes or hyphens');
    }
    if (input.role !== 'staff' && input.role !== 'admin') throw new AppError('VALIDATION_FAILED', 'role is "staff" or "admin"');
    if (input.withTouchscreen && input.pin === undefined) {
      throw new AppError('VALIDATION_FAILED', 'an account with touchscreen sign-in needs a PIN');
    }
    if (!input.withTouchscreen && input.pin !== undefined) {
      throw new AppError('VALIDATION_FAILED', 'a PIN is only for touchscreen sign-in (withTouchscreen: true)');
    }
    let pinHash: string | null = null;
    let totpSecret: string | null = null;
    if (input.withTouchscreen) {
      if (!/^[0-9]{6,8}$/.test(input.pin!)) throw new AppError('VALIDATION_FAILED', 'a PIN is 6 to 8 digits');
      const weakness = pinWeakness(input.pin!);
      if (weakness) throw new AppError('PIN_TOO_WEAK', weakness);
      pinHash = await hashPin(input.pin!, this.random(16));
      totpSecret = generateSecret();
    }
    const token = this.newToken();
    const now = clock.now();
    const id = await db.tx(async (q) => {
      if (await accounts.findLiveByName(q, name)) {
        throw new AppError('ACCOUNT_NAME_TAKEN', 'a live account already has this name');
      }
      let newId: number;
      try {
        newId = await accounts.insert(q, {
          name, role: input.role, token, pinHash,
          totpSecretEnc: totpSecret ? this.box.seal(totpSecret) : null, createdBy: actor, at: now,
        });
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw new AppError('ACCOUNT_NAME_TAKEN', 'a live account already has this name');
        throw err;
      }
      await audit.record(q, {
        actor, action: 'staff.created', subject: `account:${newId}`, at: now,
        details: { name, role: input.role, touchscreen: input.withTouchscreen },
      });
      return newId;
    });
    this.log.info({ account: id, role: input.role, touchscreen: input.withTouchscreen }, 'account created');
    const created: CreatedStaffAccount = { id, name, role: input.role, token };
    if (totpSecret) {
      created.totpSecret = totpSecret;
      created.totpUri = generateURI({ issuer: TOTP_ISSUER, label: name, secret: totpSecret });
    }
    return created;
  }

  async list(): Promise<StaffAccountView[]> {
    const now = this.deps.clock.now();
    return (await this.deps.accounts.list(this.deps.db)).map((a) => ({
      id: a.id, name: a.name, role: a.role, touchscreen: a.pinHash !== null,
      createdAt: a.createdAt, createdBy: a.createdBy, disabledAt: a.disabledAt,
      lockedUntil: a.lockedUntil && a.lockedUntil > now ? a.lockedUntil : null,
    }));
  }

  /** Disables an account: its token and every session stop working at once. Idempotent. */
  async disable(id: number, actor: string): Promise<StaffAccountView & { sessionsRevoked: number }> {
    const { db, accounts, audit, clock } = this.deps;
    const now = clock.now();
    const result = await db.tx(async (q) => {
      const account = await accounts.get(q, id, { forUpdate: true });
      if (!account) throw new AppError('ACCOUNT_NOT_FOUND', `no account ${id}`);
      const sessionsRevoked = await accounts.revokeSessions(q, id, now);
      if (account.disabledAt) return { account, sessionsRevoked };
      await accounts.setDisabled(q, id, now);
      await audit.record(q, { actor, action: 'staff.disabled', subject: `account:${id}`, at: now, details: { sessionsRevoked } });
      return { account: { ...account, disabledAt: now }, sessionsRevoked };
    });
    this.log.info({ account: id, sessionsRevoked: result.sessionsRevoked }, 'account disabled');
    const a = result.account;
    return {
      id: a.id, name: a.name, role: a.role, touchscreen: a.pinHash !== null, createdAt: a.createdAt,
      createdBy: a.createdBy, disabledAt: a.disabledAt, lockedUntil: null, sessionsRevoked: result.sessionsRevoked,
    };
  }

  /** A new permanent token for an account; the old one stops working. Sessions are not touched. */
  async rotateToken(id: number, actor: string): Promise<SignedInAccount & { token: string }> {
    const { db, accounts, audit, clock } = this.deps;
    const token = this.newToken();
    const now = clock.now();
    const account = await db.tx(async (q) => {
      const a = await accounts.get(q, id, { forUpdate: true });
      if (!a) throw new AppError('ACCOUNT_NOT_FOUND', `no account ${id}`);
      if (a.disabledAt) throw new AppError('ACCOUNT_DISABLED', `account ${id} is disabled`);
      await accounts.setToken(q, id, token);
      await audit.record(q, { actor, action: 'staff.token_rotated', subject: `account:${id}`, at: now });
      return a;
    });
    this.log.info({ account: id }, 'account token rotated');
    return { id: account.id, name: account.name, role: account.role, token };
  }

  /**
   * Touchscreen sign-in with PIN and TOTP. Whatever is wrong (name, PIN, code, replayed code,
   * disabled account) the answer is the same SIGN_IN_FAILED; the fifth wrong sign-in in a row
   * locks the account for 15 minutes (SIGN_IN_LOCKED with retryAfterSec).
   */
  async signIn(input: { accountId?: number; name?: string; pin: string; totp: string }): Promise<SignIn> {
    const { db, accounts, audit, clock } = this.deps;
    const now = clock.now();
    const failed = () => new AppError('SIGN_IN_FAILED', 'sign-in failed: check the name, PIN and authenticator code');

    const account = input.accountId !== undefined
      ? await accounts.get(db, input.accountId)
      : input.name !== undefined ? await accounts.findLiveByName(db, normaliseName(input.name)) : null;
    if (!account || account.disabledAt || !account.pinHash || !account.totpSecretEnc) {
      await pinMatches(input.pin, DUMMY_PIN_HASH);
      await audit.record(db, {
        actor: 'touchscreen', action: 'staff.sign_in_failed', subject: account ? `account:${account.id}` : null, at: now,
        details: { reason: account ? 'no touchscreen sign-in' : 'unknown account' },
      });
      this.log.info({ account: account?.id ?? null }, 'sign-in refused');
      throw failed();
    }
    const subject = `account:${account.id}`;

    const attempt = await accounts.countAttempt(db, account.id, now);
    if (attempt === null) {
      const current = await accounts.get(db, account.id);
      if (current?.lockedUntil && current.lockedUntil > now) {
        await audit.record(db, { actor: 'touchscreen', action: 'staff.sign_in_refused_locked', subject, at: now });
        throw this.locked(current.lockedUntil, now);
      }
      throw failed();
    }

    // Past the limit, other attempts are being checked right now: this one is not.
    const pinOk = attempt <= MAX_SIGN_IN_FAILURES && (await pinMatches(input.pin, account.pinHash));
    const step = pinOk ? await this.totpStep(account.totpSecretEnc, input.totp, now) : null;

    if (step !== null) {
      const token = this.newToken();
      const expiresAt = new Date(now.getTime() + this.sessionMs);
      const accepted = await db.tx(async (q) => {
        if (!(await accounts.acceptSignIn(q, account.id, step))) return false;
        await accounts.insertSession(q, { token, accountId: account.id, createdAt: now, expiresAt });
        await accounts.pruneSessions(q, new Date(now.getTime() - SESSION_RETENTION_MS));
        await audit.record(q, {
          actor: actorFor(account), action: 'staff.signed_in', subject, at: now,
          details: { expiresAt: expiresAt.toISOString() },
        });
        return true;
      });
      if (accepted) {
        this.log.info({ account: account.id }, 'signed in at the touchscreen');
        return { token, expiresAt, account: { id: account.id, name: account.name, role: account.role } };
      }
    }

    // Wrong PIN, wrong code or a code already used: the attempt stays counted.
    if (attempt >= MAX_SIGN_IN_FAILURES) {
      const until = new Date(now.getTime() + LOCK_MS);
      await db.tx(async (q) => {
        await accounts.lock(q, account.id, until);
        await audit.record(q, {
          actor: 'touchscreen', action: 'staff.sign_in_locked', subject, at: now,
          details: { failures: MAX_SIGN_IN_FAILURES, lockedUntil: until.toISOString() },
        });
      });
      this.log.warn({ account: account.id, lockedUntil: until }, 'sign-in locked after repeated failures');
      throw this.locked(until, now);
    }
    await audit.record(db, { actor: 'touchscreen', action: 'staff.sign_in_failed', subject, at: now, details: { failures: attempt } });
    this.log.info({ account: account.id, failures: attempt }, 'sign-in refused');
    throw failed();
  }

  /** The TOTP time step the code belongs to (current ±1), or null when it matches none. */
  private async totpStep(sealedSecret: string, code: string, now: Date): Promise<number | null> {
    if (!/^[0-9]{6}$/.test(code)) return null;
    const result = await verify({
      secret: this.box.open(sealedSecret), token: code, period: TOTP_PERIOD_SEC,
      epoch: Math.floor(now.getTime() / 1000), epochTolerance: TOTP_PERIOD_SEC,
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  }

  private locked(until: Date, now: Date): AppError {
    const retryAfterSec = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
    return new AppError('SIGN_IN_LOCKED', 'too many wrong sign-ins: this account is locked for a while', {
      retryAfterSec, lockedUntil: until.toISOString(),
    });
  }

  /** The account of a permanent token or of a live session; null otherwise. For HTTP auth. */
  async findByToken(token: string): Promise<SignedInAccount | null> {
    const { db, accounts, clock } = this.deps;
    const account = await accounts.findByToken(db, token);
    if (account) return account;
    const session = await accounts.findBySessionToken(db, token, clock.now());
    return session ? { id: session.id, name: session.name, role: session.role } : null;
  }

  /** When the session of this token ends; null for a permanent token or no live session. */
  async sessionExpiry(token: string): Promise<Date | null> {
    return (await this.deps.accounts.findBySessionToken(this.deps.db, token, this.deps.clock.now()))?.expiresAt ?? null;
  }

  /** Ends a touchscreen session. False when the token is no live session (a permanent token stays valid). */
  async signOut(token: string): Promise<boolean> {
    const { db, accounts, audit, clock } = this.deps;
    const now = clock.now();
    const session = await accounts.findBySessionToken(db, token, now);
    if (!session) return false;
    await db.tx(async (q) => {
      await accounts.revokeSession(q, token, now);
      await audit.record(q, { actor: actorFor(session), action: 'staff.signed_out', subject: `account:${session.id}`, at: now });
    });
    this.log.info({ account: session.id }, 'signed out');
    return true;
  }
}
