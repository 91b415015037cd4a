/**
 * One-time codes sent by SMS: the policy, as pure functions of counts and times.
 * See docs/otp.md for how this follows NIST SP 800-63B (out-of-band authenticators) and where it
 * differs.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

export interface OtpPolicy {
  /** digits in a code */
  length: number;
  /** a code is valid this long */
  ttlMs: number;
  /** wrong entries allowed per code before it is dead */
  maxAttemptsPerCode: number;
  /** a new code for the same challenge no sooner than this */
  resendAfterMs: number;
  /** codes per phone: at most `count` in `windowMs` (several windows) */
  perPhone: { count: number; windowMs: number }[];
  /** codes per locker (SMS pumping through the kiosk) */
  perLocker: { count: number; windowMs: number }[];
  /** consecutive failures per phone, across codes, after which a cool-down starts */
  failuresBeforeCooldown: number;
  /** first cool-down; doubles with each further failure, up to `maxCooldownMs` */
  cooldownMs: number;
  maxCooldownMs: number;
}

const MINUTE = 60_000;

export const DEFAULT_OTP_POLICY: OtpPolicy = {
  length: 6,
  ttlMs: 5 * MINUTE,
  maxAttemptsPerCode: 5,
  resendAfterMs: MINUTE,
  perPhone: [
    { count: 3, windowMs: 15 * MINUTE },
    { count: 10, windowMs: 24 * 60 * MINUTE },
  ],
  perLocker: [
    { count: 60, windowMs: 60 * MINUTE },
    { count: 300, windowMs: 24 * 60 * MINUTE },
  ],
  failuresBeforeCooldown: 5,
  cooldownMs: MINUTE,
  maxCooldownMs: 24 * 60 * MINUTE,
};

/** A code of `length` digits from node:crypto (uniform, leading zeros kept). */
export function newOtp(length = 6, random: (n: number) => number = (n) => randomInt(n)): string {
  let code = '';
  for (let i = 0; i < length; i++) code += String(random(10));
  return code;
}

/** The only form in which a code is stored: HMAC-SHA256 under a key kept outside the database. */
export function hashOtp(key: Buffer, challengeId: string, code: string): string {
  return createHmac('sha256', key).update(`otp:${challengeId}:${code}`).digest('hex');
}

export function otpMatches(key: Buffer, challengeId: string, code: string, storedHash: string | null): boolean {
  const candidate = Buffer.from(hashOtp(key, challengeId, code), 'hex');
  // A challenge without a code (a pickup with nothing waiting) is compared against a dummy hash:
  // the answer and the time it takes are those of a wrong code.
  const stored = Buffer.from(storedHash ?? '0'.repeat(64), 'hex');
  return stored.length === candidate.length && timingSafeEqual(stored, candidate) && storedHash !== null;
}

/**
 * The cool-down after `failures` consecutive failed entries for one phone (0 before the
 * threshold): 1 min at the 5th, then 2, 4, 8 … minutes, capped at a day.
 */
export function cooldownMs(policy: OtpPolicy, failures: number): number {
  if (failures < policy.failuresBeforeCooldown) return 0;
  const steps = failures - policy.failuresBeforeCooldown;
  return Math.min(policy.cooldownMs * 2 ** Math.min(steps, 30), policy.maxCooldownMs);
}

/**
 * How long a lock-out still runs, bounded by the cool-down its failures earn: a lock recorded by a
 * clock that stepped back since (a fortnight ahead, then corrected) would otherwise last for the
 * whole step. 0 when not locked.
 */
export function lockRemainingMs(policy: OtpPolicy, guard: { failures: number; lockedUntil: Date | null }, now: Date): number {
  if (!guard.lockedUntil) return 0;
  const left = guard.lockedUntil.getTime() - now.getTime();
  return left > 0 ? Math.min(left, cooldownMs(policy, guard.failures)) : 0;
}

/**
 * Whether a code is past its time: expired, or sent "in the future" by more than a minute (the
 * clock stepped back since: how long it has been valid cannot be told, so it is not trusted).
 */
export function codeExpired(policy: OtpPolicy, c: { sentAt: Date; expiresAt: Date }, now: Date): boolean {
  return (
    c.expiresAt <= now ||
    c.sentAt.getTime() - now.getTime() > CLOCK_TOLERANCE_MS ||
    c.expiresAt.getTime() - now.getTime() > policy.ttlMs + CLOCK_TOLERANCE_MS
  );
}

const CLOCK_TOLERANCE_MS = 60_000;

/**
 * Whether one more code may be sent, given the send times already counted (newest first or any
 * order). Returns 0 if it may, or how long until it may.
 */
export function sendWaitMs(limits: { count: number; windowMs: number }[], sentAt: Date[], now: Date): number {
  let wait = 0;
  // A send recorded "in the future" was timed by a clock that has since stepped back: when it was
  // really sent cannot be told, and counting it would block the number until the clock catches up
  // (a fortnight, after a wrong RTC). It is not counted; the caps hold again from the step on.
  const times = sentAt
    .map((d) => d.getTime())
    .filter((t) => t <= now.getTime() + CLOCK_TOLERANCE_MS)
    .sort((a, b) => b - a);
  for (const { count, windowMs } of limits) {
    const inWindow = times.filter((t) => t > now.getTime() - windowMs);
    if (inWindow.length >= count) {
      // The oldest send inside the window must leave it before another is allowed.
      const oldest = inWindow[count - 1];
      wait = Math.max(wait, oldest + windowMs - now.getTime());
    }
  }
  return wait;
}
