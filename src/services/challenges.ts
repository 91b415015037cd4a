/**
 * Proving a phone number with a one-time code (deposit and pickup). The policy lives in
 * src/domain/otp.ts; here it meets the database: codes stored only as keyed hashes, tries per
 * code (one, once a phone has had too many failures), send limits per phone and locker, counted
 * per purpose and only for codes that were sent.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import { codeExpired, hashOtp, newOtp, otpMatches, sendWaitMs, triesAllowed, type OtpPolicy } from '../domain/otp.js';
import type { VnMobile } from '../domain/phone.js';
import type { PhoneVault } from '../domain/phone-vault.js';
import type { Challenge, ChallengePurpose, ChallengeStore, CodeObserver, Database, Queryable } from './ports.js';
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
  /** Told of each code issued, each wrong entry and each code that runs out of tries (the metrics). */
  observer?: CodeObserver;
}

export interface IssuedChallenge {
  challengeId: string;
  expiresAt: Date;
  /** When a new code may be asked for. */
  resendAt: Date;
  /** Digits in the code. */
  codeLength: number;
}

/** Longer than any gateway takes to answer for a code (HTTP: 3 × 5 s + back-off; SMPP: 2 × 10 s). */
const SEND_SETTLED_MS = 60_000;

export type VerifyOutcome = { ok: true; challenge: Challenge } | { ok: false; error: AppError };

export class ChallengeService {
  constructor(private readonly deps: ChallengeServiceDeps) {}

  private get policy(): OtpPolicy {
    return this.deps.policy;
  }

  /** Opens a challenge for `phone` and sends it a code. */
  async issue(
    purpose: ChallengePurpose,
    phone: VnMobile,
    opts: { procedureCode?: string | null; holderEnc?: string | null; onlineNumber?: string | null; delivery?: 'await' | 'background' },
  ): Promise<IssuedChallenge> {
    const { db, challenges, vault, clock } = this.deps;
    const now = clock.now();
    const phoneHash = vault.hash(phone.e164);
    const id = randomUUID();
    const code = newOtp(this.policy.length, this.deps.random);
    const expiresAt = new Date(now.getTime() + this.policy.ttlMs);
    await db.tx(async (q) => {
      await this.checkCaps(q, purpose, phoneHash, now);
      await challenges.insert(q, {
        id,
        purpose,
        phoneHash,
        phoneEnc: vault.encrypt(phone.e164),
        procedureCode: opts.procedureCode ?? null,
        holderEnc: opts.holderEnc ?? null,
        onlineNumber: opts.onlineNumber ?? null,
        otpHash: hashOtp(this.deps.otpKey, id, code),
        createdAt: now,
        sentAt: now,
        expiresAt,
      });
      await challenges.recordSend(q, { challengeId: id, purpose, phoneHash, at: now });
    });
    this.deps.observer?.code('issued', purpose);
    await this.send(phone.e164, phoneHash, code, { id, sentAt: now }, opts.delivery ?? 'await');
    return this.issued(id, expiresAt, now);
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
      if (c.status !== 'pending' && c.status !== 'sending') throw new AppError('OTP_USED', 'this request is finished; start again');
      const wait = c.sentAt.getTime() + this.policy.resendAfterMs - now.getTime();
      if (wait > 0) {
        throw new AppError('RESEND_TOO_SOON', `a new code can be sent in ${Math.ceil(wait / 1000)} s`, {
          retryAfterSec: Math.ceil(wait / 1000),
        });
      }
      await this.checkCaps(q, purpose, c.phoneHash, now);
      await challenges.update(q, id, {
        otpHash: hashOtp(this.deps.otpKey, id, code),
        status: 'sending',
        sentAt: now,
        expiresAt,
        attempts: 0,
        sends: c.sends + 1,
      });
      await challenges.recordSend(q, { challengeId: id, purpose, phoneHash: c.phoneHash, at: now });
      return c;
    });
    this.deps.observer?.code('issued', purpose);
    await this.send(
      vault.decrypt(challenge.phoneEnc),
      challenge.phoneHash,
      code,
      { id, sentAt: now },
      purpose === 'pickup' ? 'background' : 'await',
    );
    return this.issued(id, expiresAt, now);
  }

  private issued(challengeId: string, expiresAt: Date, now: Date): IssuedChallenge {
    return { challengeId, expiresAt, resendAt: new Date(now.getTime() + this.policy.resendAfterMs), codeLength: this.policy.length };
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
    if (otp.length !== this.policy.length) {
      // Not a guess at this code: refused before it costs a try.
      return { ok: false, error: new AppError('VALIDATION_FAILED', `the code has ${this.policy.length} digits`) };
    }
    if (c.status === 'expired' || codeExpired(this.policy, c, now)) {
      if (c.status !== 'expired') await challenges.update(q, id, { status: 'expired' });
      return { ok: false, error: new AppError('OTP_EXPIRED', 'this code has expired; ask for a new one') };
    }
    if (c.status === 'sending') {
      if (now.getTime() - c.sentAt.getTime() < SEND_SETTLED_MS) {
        // Nobody can hold it yet: not a try, and not a guess either.
        return {
          ok: false,
          error: new AppError('OTP_SENDING', 'the code is still on its way; enter it once the text has come', { retryAfterSec: 5 }),
        };
      }
      // Longer than any gateway takes to answer: the answer was lost (a restart, a database blip).
      // The code may have left, and it is counted: it can be answered.
      await challenges.update(q, id, { status: 'pending' });
    }
    // The phone's failures so far (across codes) decide the tries this code allows; they never
    // lock the number (docs/adr/0014-code-policy-without-lock-outs.md).
    const guard = await challenges.guard(q, c.phoneHash);
    const allowed = triesAllowed(this.policy, guard.failures);
    if (c.status === 'failed' || c.attempts >= allowed) {
      if (c.status !== 'failed') {
        await challenges.update(q, id, { status: 'failed' });
        this.deps.observer?.code('exhausted', purpose);
      }
      return { ok: false, error: new AppError('OTP_INVALID', 'too many wrong codes; ask for a new one', { attemptsLeft: 0 }) };
    }
    if (otpMatches(this.deps.otpKey, id, otp, c.otpHash)) {
      await challenges.markVerified(q, id, now, c.phoneHash, { failures: 0, lastFailureAt: guard.lastFailureAt });
      return { ok: true, challenge: { ...c, status: 'verified', verifiedAt: now } };
    }
    const attempts = c.attempts + 1;
    const failures = guard.failures + 1;
    // The tries left count this failure too: once the phone reaches the threshold, one try per code.
    const attemptsLeft = Math.max(0, Math.min(allowed, triesAllowed(this.policy, failures)) - attempts);
    await challenges.update(q, id, { attempts, ...(attemptsLeft === 0 ? { status: 'failed' as const } : {}) });
    await challenges.setGuard(q, c.phoneHash, { failures, lastFailureAt: now });
    this.deps.observer?.code('failed', purpose);
    if (attemptsLeft === 0) this.deps.observer?.code('exhausted', purpose);
    return {
      ok: false,
      error: new AppError(
        'OTP_INVALID',
        attemptsLeft === 0 ? 'wrong code; this code can no longer be used, ask for a new one' : `wrong code; ${attemptsLeft} tries left`,
        { attemptsLeft },
      ),
    };
  }

  /** The send limits, per purpose: the number's, then the locker's. */
  private async checkCaps(q: Queryable, purpose: ChallengePurpose, phoneHash: string, now: Date): Promise<void> {
    const { challenges } = this.deps;
    // Requests at the same instant are counted one after the other, not all against the same count.
    await challenges.lockSends(q, phoneHash, purpose);
    const longest = (limits: { windowMs: number }[]) => Math.max(...limits.map((l) => l.windowMs));
    const phoneSends = await challenges.sendsSince(q, { phoneHash }, purpose, new Date(now.getTime() - longest(this.policy.perPhone)));
    const phoneWait = sendWaitMs(this.policy.perPhone, phoneSends, now);
    if (phoneWait > 0) {
      throw new AppError('RATE_LIMITED', `too many codes for this number; try again in ${Math.ceil(phoneWait / 60_000)} min`, {
        retryAfterSec: Math.ceil(phoneWait / 1000),
      });
    }
    const lockerSends = await challenges.sendsSince(q, 'locker', purpose, new Date(now.getTime() - longest(this.policy.perLocker)));
    const lockerWait = sendWaitMs(this.policy.perLocker, lockerSends, now);
    if (lockerWait > 0) {
      this.deps.logger.warn({ purpose, retryAfterSec: Math.ceil(lockerWait / 1000) }, 'locker code cap reached (SMS pumping?)');
      throw new AppError('RATE_LIMITED', `the machine is sending too many codes; try again in ${Math.ceil(lockerWait / 60_000)} min`, {
        retryAfterSec: Math.ceil(lockerWait / 1000),
      });
    }
  }

  /**
   * Hands the code to the SMS service. Until the provider has taken it, the code cannot be
   * answered ('sending'). A code that certainly did not leave (refused, never submitted) is not
   * counted by the send limits and its request is over; one whose fate is unknown (a timeout, a lost
   * link) may have reached the phone: it stays counted and, sent in the background, answerable.
   */
  private async send(to: string, phoneHash: string, code: string, c: { id: string; sentAt: Date }, delivery: 'await' | 'background') {
    const { challenges, db, logger } = this.deps;
    const minutes = Math.round(this.policy.ttlMs / 60_000);
    const settle = async (err: unknown | null) => {
      const notSent = err instanceof AppError && err.details?.notSent === true;
      // Sent in the background, a code of unknown fate may have reached the citizen; the kiosk
      // waiting for it has already been told the send failed, so it is over.
      const answerable = err === null || (delivery === 'background' && !notSent);
      await challenges.settleSend(db, c.id, c.sentAt, answerable ? 'pending' : 'failed');
      if (notSent) await challenges.forgetSend(db, c.id, c.sentAt);
    };
    // An outcome that cannot be recorded leaves the code 'sending' until verify finds it stale.
    const unrecorded = (e: unknown) => logger.warn({ err: e, challengeId: c.id }, 'code send outcome not recorded');
    const sending = this.deps.sms.sendCode(to, phoneHash, code, minutes).then(
      () => settle(null).catch(unrecorded),
      async (err: unknown) => {
        await settle(err).catch(unrecorded);
        throw err;
      },
    );
    if (delivery === 'await') return sending;
    sending.catch((err) => logger.warn({ err, challengeId: c.id }, 'pickup code not sent'));
  }
}
