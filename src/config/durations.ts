/**
 * The configuration's durations in milliseconds. The file speaks in the units people set them in
 * (seconds, minutes, hours, days); the services take milliseconds, converted here once.
 */
import { otpFigures, type OtpFigures } from '../domain/otp-figures.js';
import type { OtpPolicy } from '../domain/otp.js';
import { longestDaysOff, type WorkCalendar } from '../domain/calendar.js';
import type { RetentionPolicy } from '../domain/retention.js';
import type { Config } from './types.js';

export interface Durations {
  /** A released tray whose door was watched and never opened within this is given up. */
  doorOpenTimeoutMs: number;
  /** A door open longer than this raises alarm.door_held_open. */
  doorHeldOpenMs: number;
  pickupWindowMs: number;
  reminderBeforeMs: number;
  roundLeadMs: number;
  otp: OtpPolicy;
  retention: RetentionPolicy;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function durations(config: Config): Durations {
  const o = config.citizens.otp;
  const limits = (l: { count: number; windowMin: number; thenEveryMin?: number }[]) =>
    l.map((x) => ({
      count: x.count,
      windowMs: x.windowMin * MINUTE,
      ...(x.thenEveryMin !== undefined ? { thenEveryMs: x.thenEveryMin * MINUTE } : {}),
    }));
  const r = config.retention;
  // Code sends are what the send caps count: none may go while a cap's window still looks at it.
  const longestCapMs = Math.max(...[...o.perPhone, ...o.perLocker].map((l) => l.windowMin * MINUTE));
  return {
    doorOpenTimeoutMs: config.citizens.doorOpenTimeoutSec * SECOND,
    doorHeldOpenMs: config.citizens.doorHeldOpenSec * SECOND,
    pickupWindowMs: config.staff.pickupWindowDays * DAY,
    reminderBeforeMs: config.staff.reminderBeforeHours * HOUR,
    roundLeadMs: config.staff.roundLeadMin * MINUTE,
    otp: {
      length: o.length,
      ttlMs: o.ttlSec * SECOND,
      maxAttemptsPerCode: o.maxAttemptsPerCode,
      resendAfterMs: o.resendAfterSec * SECOND,
      failuresBeforeSingleTry: o.failuresBeforeSingleTry,
      perPhone: limits(o.perPhone),
      perLocker: limits(o.perLocker),
    },
    retention: {
      closedDossierMs: r.closedDossierDays * DAY,
      challengeMs: r.challengeDays * DAY,
      otpSendMs: Math.max(r.challengeDays * DAY, longestCapMs),
      sentEventMs: r.sentEventDays * DAY,
      auditPersonalMs: r.auditPersonalDays * DAY,
      endedSessionMs: r.endedSessionDays * DAY,
      runAt: r.runAt,
      timezone: config.locker.timezone,
    },
  };
}

/**
 * The code policy's figures for this configuration (docs/otp.md, "The figures"). The locker's:
 * over the pickup window (in calendar days, so one day more). One citizen's: over the longest their
 * result can wait, the window and then the longest run of days without a round in the calendar
 * (a result past its window waits in the machine for the round that takes it back).
 */
export function codePolicyFigures(config: Config, calendar: WorkCalendar): OtpFigures {
  const windowDays = config.staff.pickupWindowDays + 1;
  return otpFigures(durations(config).otp, {
    horizonMs: windowDays * DAY,
    citizenHorizonMs: (windowDays + longestDaysOff(calendar)) * DAY,
    clientWindowMs: config.http.rateLimits.codeRequests.windowSec * SECOND,
  });
}
