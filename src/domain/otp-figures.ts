/**
 * What the code policy guarantees, derived from its settings alone (docs/otp.md, "The figures";
 * docs/adr/0014-code-policy-without-lock-outs.md). The attacker stands at the kiosk as a citizen
 * does (code routes answer the kiosk only), knows the numbers of the citizens they target, and
 * cannot read those citizens' texts.
 */
import type { OtpPolicy, SendLimit } from './otp.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Purposes with separate counts (deposit, pickup): each has the whole of every limit. */
const PURPOSES = 2;

export const OTP_TARGETS = {
  /** a successful guess against one citizen over the horizon */
  pCitizen: 1e-4,
  /** a successful guess against anyone, anywhere in the locker, over the horizon */
  pLocker: 1e-4,
  /** longest a stranger can keep a citizen from getting a code */
  lockoutMs: 15 * MINUTE,
} as const;

export interface OtpFigures {
  /** the span of the locker's figure: the pickup window */
  horizonMs: number;
  /** the span of one citizen's figure: the longest a result can wait to be picked up */
  citizenHorizonMs: number;
  /** codes one phone can be sent over the citizen's horizon, per purpose */
  codesPerPhone: number;
  /** codes the locker can send over the horizon, per purpose */
  codesPerLocker: number;
  /** wrong entries possible against one citizen's codes over the horizon (both purposes) */
  guessesPerCitizen: number;
  guessesPerLocker: number;
  pCitizen: number;
  pLocker: number;
  /** longest wait for a code a stranger can leave behind: send limits and the kiosk's request limit */
  lockoutMs: number;
  /** the most codes a stranger can have sent to one phone in a day (both purposes) */
  smsPerPhonePerDay: number;
  /** the most codes the locker sends in a day (SMS pumping) */
  smsPerLockerPerDay: number;
}

/**
 * The most sends any `horizonMs` can hold under these limits: each limit alone bounds it, so the
 * smallest bound holds. A slowed-down limit allows its count, then one every `thenEveryMs` (plus
 * one for the edges of the window).
 */
export function maxSends(limits: SendLimit[], horizonMs: number): number {
  return Math.min(
    ...limits.map((l) => {
      const perWindow = l.thenEveryMs === undefined ? l.count : l.count + 1 + Math.floor(l.windowMs / l.thenEveryMs);
      return perWindow * Math.ceil(horizonMs / l.windowMs);
    }),
  );
}

/** The longest a citizen waits for a send slot a stranger used up, under one set of limits. */
export function longestWaitMs(limits: SendLimit[]): number {
  return Math.max(...limits.map((l) => l.thenEveryMs ?? l.windowMs));
}

export function otpFigures(policy: OtpPolicy, opts: { horizonMs: number; citizenHorizonMs: number; clientWindowMs: number }): OtpFigures {
  const space = 10 ** policy.length;
  const codesPerPhone = maxSends(policy.perPhone, opts.citizenHorizonMs);
  const codesPerLocker = maxSends(policy.perLocker, opts.horizonMs);
  // Every code allows at most maxAttemptsPerCode entries (fewer after failures); each wrong entry
  // is one guess at a uniform code: a union bound over all of them.
  const guessesPerCitizen = PURPOSES * codesPerPhone * policy.maxAttemptsPerCode;
  const guessesPerLocker = PURPOSES * codesPerLocker * policy.maxAttemptsPerCode;
  return {
    horizonMs: opts.horizonMs,
    citizenHorizonMs: opts.citizenHorizonMs,
    codesPerPhone,
    codesPerLocker,
    guessesPerCitizen,
    guessesPerLocker,
    pCitizen: guessesPerCitizen / space,
    pLocker: guessesPerLocker / space,
    // Failures lock nothing; what a stranger leaves behind is used-up send slots (the number's, the
    // locker's) and the kiosk's request limit. They cannot act while the citizen is at the screen.
    lockoutMs: Math.max(longestWaitMs(policy.perPhone), longestWaitMs(policy.perLocker), opts.clientWindowMs),
    smsPerPhonePerDay: PURPOSES * maxSends(policy.perPhone, DAY),
    smsPerLockerPerDay: PURPOSES * maxSends(policy.perLocker, DAY),
  };
}

/** The targets a set of figures misses, in words (empty: all met). */
export function otpViolations(f: OtpFigures): string[] {
  const out: string[] = [];
  if (f.pCitizen > OTP_TARGETS.pCitizen) out.push(`guessing one citizen's code: ${f.pCitizen.toExponential(1)} > 1e-4`);
  if (f.pLocker > OTP_TARGETS.pLocker) out.push(`guessing any code of the locker: ${f.pLocker.toExponential(1)} > 1e-4`);
  if (f.lockoutMs > OTP_TARGETS.lockoutMs)
    out.push(`a stranger can keep a citizen waiting ${Math.ceil(f.lockoutMs / MINUTE)} min > 15 min`);
  return out;
}
