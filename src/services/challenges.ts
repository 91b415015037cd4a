/**
 * Proving a phone number with a one-time code (deposit and pickup). The policy lives in
 * src/domain/otp.ts; here it meets the database: codes stored only as keyed hashes, attempts per
 * code, failures per phone across codes with a growing cool-down, send caps per phone and locker.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import { codeExpired, cooldownMs, hashOtp, lockRemainingMs, newOtp, otpMatches, sendWaitMs, type OtpPolicy } from '../domain/otp.js';
import type { VnMobile } from '../domain/phone.js';
import type { PhoneVault } from '../domain/phone-vault.js';
import type { Challenge, ChallengePurpose, ChallengeStore, Database, Queryable } from './ports.js';
import type { SmsService } from './sms.js';

export interface ChallengeServiceDeps {
  db: Database;
  challenges: ChallengeStore;
  vault: PhoneVault;
  otpKey: Buffer;
  policy: OtpPolicy;
  sms: SmsService;
  clock: Clock;
  logger: Logger;
  random?: (n: number) => number;
}

export interface IssuedChallenge {
  challengeId: string;
  expiresAt: Date;
  /** When a new code may be asked for. */
  resendAt: Date;
}

export type VerifyOutcome = { ok: true; challenge: Challenge } | { ok: false; error: AppError };

export class ChallengeService {
  constructor(private readonly deps: ChallengeServiceDeps) {}

  private get policy(): OtpPolicy {
    return this.deps.policy;
  }

  /**
   * Opens a challenge for `phone`. With `sendCode` false (a pickup with nothing waiting) no code
   * is sent, but everything else — caps, rows, answer — is the same, so the answer does not tell
   * whether results wait for a number.
   */
  async issue(
    purpose: ChallengePurpose,
    phone: VnMobile,
    opts: { procedureCode?: string | null; sendCode: boolean; delivery?: 'await' | 'background' },
  ): Promise<IssuedChallenge> {
    const { db, challenges, vault, clock } = this.deps;
    const now = clock.now();
    const phoneHash = vault.hash(phone.e164);
    const id = randomUUID();
    const code = newOtp(this.policy.length, this.deps.random);
    const expiresAt = new Date(now.getTime() + this.policy.ttlMs);
    await db.tx(async (q) => {
      await this.checkCaps(q, phoneHash, now);
      await challenges.insert(q, {
        id,
        purpose,
        phoneHash,
        phoneEnc: vault.encrypt(phone.e164),
        procedureCode: opts.procedureCode ?? null,
        otpHash: opts.sendCode ? hashOtp(this.deps.otpKey, id, code) : null,
        createdAt: now,
        sentAt: now,
        expiresAt,
      });
      await challenges.recordSend(q, phoneHash, now);
    });
    if (opts.sendCode) await this.send(phone.e164, phoneHash, code, id, opts.delivery ?? 'await');
    return { challengeId: id, expiresAt, resendAt: new Date(now.getTime() + this.policy.resendAfterMs) };
  }

  /** A new code for a pending challenge (the old one stops working), no sooner than the resend delay. */
  async resend(id: string, purpose: ChallengePurpose): Promise<IssuedChallenge> {
    const { db, challenges, vault, clock } = this.deps;
    const now = clock.now();
    const code = newOtp(this.policy.length, this.deps.random);
    const expiresAt = new Date(now.getTime() + this.policy.ttlMs);
    const challenge = await db.tx(async (q) => {
      const c = await challenges.get(q, id, { forUpdate: true });
      if (!c || c.purpose !== purpose) throw new AppError('CHALLENGE_NOT_FOUND', 'this request is not known; start again');
      if (c.status !== 'pending') throw new AppError('OTP_USED', 'this request is finished; start again');
      const wait = c.sentAt.getTime() + this.policy.resendAfterMs - now.getTime();
      if (wait > 0) {
        throw new AppError('RESEND_TOO_SOON', `a new code can be sent in ${Math.ceil(wait / 1000)} s`, {
          retryAfterSec: Math.ceil(wait / 1000),
        });
      }
      await this.checkCaps(q, c.phoneHash, now);
      await challenges.update(q, id, {
        otpHash: c.otpHash === null ? null : hashOtp(this.deps.otpKey, id, code),
        sentAt: now,
        expiresAt,
        attempts: 0,
        sends: c.sends + 1,
      });
      await challenges.recordSend(q, c.phoneHash, now);
      return c;
    });
    if (challenge.otpHash !== null) {
      await this.send(
        vault.decrypt(challenge.phoneEnc),
        challenge.phoneHash,
        code,
        id,
        challenge.purpose === 'pickup' ? 'background' : 'await',
      );
    }
    return { challengeId: id, expiresAt, resendAt: new Date(now.getTime() + this.policy.resendAfterMs) };
  }

  /**
   * Checks a code inside the caller's transaction. A wrong code is recorded (the caller must
   * commit) and returned as an error, not thrown, so that the count survives.
   */
  async verify(q: Queryable, id: string, purpose: ChallengePurpose, otp: string): Promise<VerifyOutcome> {
    const { challenges, clock } = this.deps;
    const now = clock.now();
    const c = await challenges.get(q, id, { forUpdate: true });
    if (!c || c.purpose !== purpose) {
      return { ok: false, error: new AppError('CHALLENGE_NOT_FOUND', 'this request is not known; start again') };
    }
    if (c.status === 'verified') return { ok: false, error: new AppError('OTP_USED', 'this code was already used; start again') };
    const guard = await challenges.guard(q, c.phoneHash);
    const lockedMs = lockRemainingMs(this.policy, guard, now);
    if (lockedMs > 0) {
      // Bounded by the cool-down the failures earned, whatever the clock did since it was set.
      const until = new Date(now.getTime() + lockedMs);
      if (guard.lockedUntil && until < guard.lockedUntil) await challenges.setGuard(q, c.phoneHash, { ...guard, lockedUntil: until });
      const sec = Math.ceil(lockedMs / 1000);
      return {
        ok: false,
        error: new AppError('OTP_LOCKED', `too many wrong codes for this number; try again in ${Math.ceil(sec / 60)} min`, {
          retryAfterSec: sec,
        }),
      };
    }
    if (c.status === 'failed') {
      return { ok: false, error: new AppError('OTP_INVALID', 'too many wrong codes; ask for a new one', { attemptsLeft: 0 }) };
    }
    if (c.status === 'expired' || codeExpired(this.policy, c, now)) {
      if (c.status !== 'expired') await challenges.update(q, id, { status: 'expired' });
      return { ok: false, error: new AppError('OTP_EXPIRED', 'this code has expired; ask for a new one') };
    }
    if (otpMatches(this.deps.otpKey, id, otp, c.otpHash)) {
      await challenges.update(q, id, { status: 'verified', verifiedAt: now });
      await challenges.setGuard(q, c.phoneHash, { failures: 0, lastFailureAt: guard.lastFailureAt, lockedUntil: null });
      return { ok: true, challenge: { ...c, status: 'verified', verifiedAt: now } };
    }
    const attempts = c.attempts + 1;
    const dead = attempts >= this.policy.maxAttemptsPerCode;
    await challenges.update(q, id, { attempts, ...(dead ? { status: 'failed' as const } : {}) });
    const failures = guard.failures + 1;
    const cooldown = cooldownMs(this.policy, failures);
    await challenges.setGuard(q, c.phoneHash, {
      failures,
      lastFailureAt: now,
      lockedUntil: cooldown ? new Date(now.getTime() + cooldown) : null,
    });
    const attemptsLeft = this.policy.maxAttemptsPerCode - attempts;
    if (cooldown) {
      return {
        ok: false,
        error: new AppError(
          'OTP_LOCKED',
          `wrong code; too many wrong codes for this number: try again in ${Math.ceil(cooldown / 60_000)} min`,
          {
            retryAfterSec: Math.ceil(cooldown / 1000),
            attemptsLeft,
          },
        ),
      };
    }
    return {
      ok: false,
      error: new AppError(
        'OTP_INVALID',
        dead ? 'wrong code; this code can no longer be used, ask for a new one' : `wrong code; ${attemptsLeft} tries left`,
        {
          attemptsLeft,
        },
      ),
    };
  }

  private async checkCaps(q: Queryable, phoneHash: string, now: Date): Promise<void> {
    const { challenges } = this.deps;
    const longest = (limits: { windowMs: number }[]) => Math.max(...limits.map((l) => l.windowMs));
    const phoneSends = await challenges.sendsSince(q, { phoneHash }, new Date(now.getTime() - longest(this.policy.perPhone)));
    const phoneWait = sendWaitMs(this.policy.perPhone, phoneSends, now);
    if (phoneWait > 0) {
      throw new AppError('RATE_LIMITED', `too many codes for this number; try again in ${Math.ceil(phoneWait / 60_000)} min`, {
        retryAfterSec: Math.ceil(phoneWait / 1000),
      });
    }
    const lockerSends = await challenges.sendsSince(q, 'locker', new Date(now.getTime() - longest(this.policy.perLocker)));
    const lockerWait = sendWaitMs(this.policy.perLocker, lockerSends, now);
    if (lockerWait > 0) {
      this.deps.logger.warn({ retryAfterSec: Math.ceil(lockerWait / 1000) }, 'locker code cap reached (SMS pumping?)');
      throw new AppError('RATE_LIMITED', `the machine is sending too many codes; try again in ${Math.ceil(lockerWait / 60_000)} min`, {
        retryAfterSec: Math.ceil(lockerWait / 1000),
      });
    }
  }

  private async send(to: string, phoneHash: string, code: string, challengeId: string, delivery: 'await' | 'background') {
    const minutes = Math.round(this.policy.ttlMs / 60_000);
    const sending = this.deps.sms.sendCode(to, phoneHash, code, minutes);
    if (delivery === 'await') {
      try {
        await sending;
      } catch (err) {
        // The code never left: the challenge cannot be answered.
        await this.deps.challenges.update(this.deps.db, challengeId, { status: 'failed' });
        throw err;
      }
      return;
    }
    sending.catch((err) => this.deps.logger.warn({ err, challengeId }, 'pickup code not sent'));
  }
}
