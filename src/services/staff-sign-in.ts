/**
 * Touchscreen sign-in for staff accounts (part of the staff accounts use case, staff-accounts.ts):
 * the PIN and a code from an authenticator app give a session token for the working day.
 *
 * Wrong sign-ins are counted per account (the count is taken before the factors are checked, so
 * attempts made at once cannot together try more than the limit); the fifth locks the account.
 * A code counts only for a time step later than the last one used, so each code works once.
 */
import { verify } from 'otplib';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import { actorFor, DUMMY_PIN_HASH, normaliseName, pinMatches, type SignedInAccount } from '../domain/accounts.js';
import type { SecretBox } from '../domain/sealing.js';
import type { AuditStore, Database, StaffAccountStore } from './ports.js';

export interface SignIn {
  token: string;
  expiresAt: Date;
  account: SignedInAccount;
}

export interface TouchscreenSignInDeps {
  db: Database;
  accounts: StaffAccountStore;
  audit: AuditStore;
  clock: Clock;
  log: Logger;
  /** opens the sealed TOTP secrets */
  box: SecretBox;
  /** how long a touchscreen session lasts */
  sessionMs: number;
  newToken: () => string;
}

export const MAX_SIGN_IN_FAILURES = 5;
export const LOCK_MS = 15 * 60_000;
/** Ended sessions are kept this long (for the audit trail's sake), then deleted. */
const SESSION_RETENTION_MS = 30 * 86_400_000;
const TOTP_PERIOD_SEC = 30;

export class TouchscreenSignIn {
  constructor(private readonly deps: TouchscreenSignInDeps) {}

  /**
   * Touchscreen sign-in with PIN and TOTP. Whatever is wrong (name, PIN, code, replayed code,
   * disabled account) the answer is the same SIGN_IN_FAILED; the fifth wrong sign-in in a row
   * locks the account for 15 minutes (SIGN_IN_LOCKED with retryAfterSec).
   */
  async signIn(input: { accountId?: number; name?: string; pin: string; totp: string }): Promise<SignIn> {
    const { db, accounts, audit, clock, log } = this.deps;
    const now = clock.now();
    const failed = () => new AppError('SIGN_IN_FAILED', 'sign-in failed: check the name, PIN and authenticator code');

    const account =
      input.accountId !== undefined
        ? await accounts.get(db, input.accountId)
        : input.name !== undefined
          ? await accounts.findLiveByName(db, normaliseName(input.name))
          : null;
    if (!account || account.disabledAt || !account.pinHash || !account.totpSecretEnc) {
      await pinMatches(input.pin, DUMMY_PIN_HASH);
      await audit.record(db, {
        actor: 'touchscreen',
        action: 'staff.sign_in_failed',
        subject: account ? `account:${account.id}` : null,
        at: now,
        details: { reason: account ? 'no touchscreen sign-in' : 'unknown account' },
      });
      log.info({ account: account?.id ?? null }, 'sign-in refused');
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
      const token = this.deps.newToken();
      const expiresAt = new Date(now.getTime() + this.deps.sessionMs);
      const accepted = await db.tx(async (q) => {
        if (!(await accounts.acceptSignIn(q, account.id, step))) return false;
        await accounts.insertSession(q, { token, accountId: account.id, createdAt: now, expiresAt });
        await accounts.pruneSessions(q, new Date(now.getTime() - SESSION_RETENTION_MS));
        await audit.record(q, {
          actor: actorFor(account),
          action: 'staff.signed_in',
          subject,
          at: now,
          details: { expiresAt: expiresAt.toISOString() },
        });
        return true;
      });
      if (accepted) {
        log.info({ account: account.id }, 'signed in at the touchscreen');
        return { token, expiresAt, account: { id: account.id, name: account.name, role: account.role } };
      }
    }

    // Wrong PIN, wrong code or a code already used: the attempt stays counted.
    if (attempt >= MAX_SIGN_IN_FAILURES) {
      const until = new Date(now.getTime() + LOCK_MS);
      await db.tx(async (q) => {
        await accounts.lock(q, account.id, until);
        await audit.record(q, {
          actor: 'touchscreen',
          action: 'staff.sign_in_locked',
          subject,
          at: now,
          details: { failures: MAX_SIGN_IN_FAILURES, lockedUntil: until.toISOString() },
        });
      });
      log.warn({ account: account.id, lockedUntil: until }, 'sign-in locked after repeated failures');
      throw this.locked(until, now);
    }
    await audit.record(db, { actor: 'touchscreen', action: 'staff.sign_in_failed', subject, at: now, details: { failures: attempt } });
    log.info({ account: account.id, failures: attempt }, 'sign-in refused');
    throw failed();
  }

  /** The TOTP time step the code belongs to (current ±1), or null when it matches none. */
  private async totpStep(sealedSecret: string, code: string, now: Date): Promise<number | null> {
    if (!/^[0-9]{6}$/.test(code)) return null;
    const result = await verify({
      secret: this.deps.box.open(sealedSecret),
      token: code,
      period: TOTP_PERIOD_SEC,
      epoch: Math.floor(now.getTime() / 1000),
      epochTolerance: TOTP_PERIOD_SEC,
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  }

  private locked(until: Date, now: Date): AppError {
    const retryAfterSec = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
    return new AppError('SIGN_IN_LOCKED', 'too many wrong sign-ins: this account is locked for a while', {
      retryAfterSec,
      lockedUntil: until.toISOString(),
    });
  }
}
