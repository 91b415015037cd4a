/**
 * Staff accounts: admins create and disable officers' accounts and rotate their tokens; an officer
 * with a touchscreen account signs in at the locker with a PIN and a code from an authenticator app
 * and gets a session token for the working day.
 *
 * At rest: bearer and session tokens as SHA-256 digests, the PIN as scrypt with a salt of its own,
 * the authenticator (TOTP) secret sealed with AES-256-GCM under a key that is not in the database.
 * The touchscreen sign-in itself, with its count of wrong attempts, is in staff-sign-in.ts.
 */
import { randomBytes } from 'node:crypto';
import { generateSecret, generateURI } from 'otplib';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import {
  ACCOUNT_NAME,
  actorFor,
  generateToken,
  hashPin,
  normaliseName,
  pinWeakness,
  type SignedInAccount,
  type StaffRole,
} from '../domain/accounts.js';
import { SecretBox } from '../domain/sealing.js';
import type { AccountRecord, AuditStore, Database, StaffAccountStore } from './ports.js';
import { TouchscreenSignIn, type SignIn } from './staff-sign-in.js';

export type { SignedInAccount, StaffRole } from '../domain/accounts.js';
export { hashPin, pinMatches, pinWeakness } from '../domain/accounts.js';
export { LOCK_MS, MAX_SIGN_IN_FAILURES, type SignIn } from './staff-sign-in.js';

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
  /**
   * True only when the hardware driver is the simulator: demo accounts (the simulator's demo
   * route) may then be made and used. Otherwise their tokens are refused like unknown ones.
   */
  demoAccounts?: boolean;
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

export const TOTP_ISSUER = 'ATM 24/7';

/** What an admin sees of an account (never its token, PIN or TOTP secret). */
function accountView(a: AccountRecord, now: Date): StaffAccountView {
  return {
    id: a.id,
    name: a.name,
    role: a.role,
    touchscreen: a.pinHash !== null,
    createdAt: a.createdAt,
    createdBy: a.createdBy,
    disabledAt: a.disabledAt,
    lockedUntil: a.lockedUntil && a.lockedUntil > now ? a.lockedUntil : null,
  };
}

export class StaffAccountService {
  private readonly box: SecretBox;
  private readonly log: Logger;
  private readonly random: (n: number) => Buffer;
  private readonly touchscreen: TouchscreenSignIn;

  constructor(private readonly deps: StaffAccountServiceDeps) {
    this.box = new SecretBox(deps.totpKey, 'TOTP');
    this.log = deps.logger.child({ module: 'staff-accounts' });
    this.random = deps.randomBytes ?? randomBytes;
    this.touchscreen = new TouchscreenSignIn({
      db: deps.db,
      accounts: deps.accounts,
      audit: deps.audit,
      clock: deps.clock,
      log: this.log,
      box: this.box,
      sessionMs: (deps.sessionHours ?? 12) * 3_600_000,
      newToken: () => this.newToken(),
    });
  }

  private newToken(): string {
    return generateToken(this.random);
  }

  async create(input: NewStaffAccount, actor: string): Promise<CreatedStaffAccount> {
    const { db, accounts, audit, clock } = this.deps;
    const name = normaliseName(input.name);
    if (!ACCOUNT_NAME.test(name)) {
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
          name,
          role: input.role,
          token,
          pinHash,
          totpSecretEnc: totpSecret ? this.box.seal(totpSecret) : null,
          createdBy: actor,
          at: now,
        });
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw new AppError('ACCOUNT_NAME_TAKEN', 'a live account already has this name');
        throw err;
      }
      await audit.record(q, {
        actor,
        action: 'staff.created',
        subject: `account:${newId}`,
        at: now,
        details: { role: input.role, touchscreen: input.withTouchscreen },
        // A person's name: kept, outside the hashed details (ADR 0013).
        personal: { name },
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
    return (await this.deps.accounts.list(this.deps.db)).map((a) => accountView(a, now));
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
    return { ...accountView(result.account, now), lockedUntil: null, sessionsRevoked: result.sessionsRevoked };
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

  /** Touchscreen sign-in with PIN and TOTP (staff-sign-in.ts): a session token, or SIGN_IN_FAILED / SIGN_IN_LOCKED. */
  signIn(input: { accountId?: number; name?: string; pin: string; totp: string }): Promise<SignIn> {
    return this.touchscreen.signIn(input);
  }

  /**
   * A demo account for the simulator's demo route: its permanent token. Nobody signed in to ask
   * for it, so it exists only for the simulator: with any other driver it is neither made nor
   * accepted (`demoAccounts`).
   */
  async createDemo(role: StaffRole): Promise<string> {
    const { db, accounts, audit, clock } = this.deps;
    if (!this.deps.demoAccounts) throw new AppError('NOT_FOUND', 'demo accounts exist only with the simulated cabinet');
    const token = this.newToken();
    const now = clock.now();
    const id = await db.tx(async (q) => {
      const newId = await accounts.insertDemo(q, role, token, now);
      await audit.record(q, { actor: 'simulator', action: 'staff.demo_created', subject: `account:${newId}`, at: now, details: { role } });
      return newId;
    });
    this.log.info({ account: id, role }, 'demo account created');
    return token;
  }

  /**
   * The account of a permanent token or of a live session; null otherwise, and for a demo
   * account unless the driver is the simulator. For HTTP auth.
   */
  async findByToken(token: string): Promise<SignedInAccount | null> {
    const { db, accounts, clock } = this.deps;
    const account = (await accounts.findByToken(db, token)) ?? (await accounts.findBySessionToken(db, token, clock.now()));
    if (!account || (account.demo && !this.deps.demoAccounts)) return null;
    return { id: account.id, name: account.name, role: account.role };
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
