/**
 * One-time codes sent by SMS: the policy, as pure functions of counts and times.
 * See docs/otp.md for how this follows NIST SP 800-63B (out-of-band authenticators) and where it
 * differs.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * At most `count` codes in any `windowMs`; with `thenEveryMs`, once the count is reached one more
 * may go every `thenEveryMs` instead of none (a cap that slows down rather than shuts: a stranger
 * who used it up cannot keep the owner of the number waiting longer than that).
 */
export interface SendLimit {
  count: number;
  windowMs: number;
  thenEveryMs?: number;
}

export interface OtpPolicy {
  /** digits in a code */
  length: number;
  /** a code is valid this long */
  ttlMs: number;
  /** wrong entries allowed per code before it is dead */
  maxAttemptsPerCode: number;
  /** a new code for the same challenge no sooner than this */
  resendAfterMs: number;
  /** codes sent per phone and purpose (several limits, all must allow) */
  perPhone: SendLimit[];
  /** codes sent by this locker per purpose (SMS pumping through the kiosk) */
  perLocker: SendLimit[];
  /**
   * Wrong entries per phone, across codes (a right code resets them), from which each code of that
   * phone allows a single try. Failures never lock a number: a stranger's wrong entries cost the
   * citizen their spare tries, not their code (docs/adr/0014-code-policy-without-lock-outs.md).
   */
  failuresBeforeSingleTry: number;
}

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

/** Tries a code allows, given the phone's failures so far (across codes). */
export function triesAllowed(policy: OtpPolicy, failures: number): number {
  return failures >= policy.failuresBeforeSingleTry ? 1 : policy.maxAttemptsPerCode;
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
export function sendWaitMs(limits: SendLimit[], sentAt: Date[], now: Date): number {
  let wait = 0;
  // A send recorded "in the future" was timed by a clock that has since stepped back: when it was
  // really sent cannot be told, and counting it would block the number until the clock catches up
  // (a fortnight, after a wrong RTC). It is not counted; the caps hold again from the step on.
  const times = sentAt
    .map((d) => d.getTime())
    .filter((t) => t <= now.getTime() + CLOCK_TOLERANCE_MS)
    .sort((a, b) => b - a);
  for (const { count, windowMs, thenEveryMs } of limits) {
    const inWindow = times.filter((t) => t > now.getTime() - windowMs);
    if (inWindow.length < count) continue;
    // Slowed down: one more once the newest is old enough. Shut: the oldest send inside the
    // window must leave it first.
    // A send dated slightly ahead (within the tolerance) is taken as sent now: no wait is longer
    // than the window or the spacing.
    const at = (t: number) => Math.min(t, now.getTime());
    const until = thenEveryMs !== undefined ? at(inWindow[0]) + thenEveryMs : at(inWindow[count - 1]) + windowMs;
    wait = Math.max(wait, until - now.getTime());
  }
  return wait;
}
