/**
 * The code policy's figures (docs/otp.md, "The figures"), computed from the configuration the
 * locker ships with, and checked against the enforcing function itself: a stranger who asks for a
 * code whenever the limits allow gets no more codes than the figures say, and leaves a citizen
 * waiting no longer.
 */
import t from 'tap';
import { loadCalendar } from '../../src/config/calendar.js';
import { codePolicyFigures, durations } from '../../src/config/durations.js';
import { longestDaysOff } from '../../src/domain/calendar.js';
import { loadConfig } from '../../src/config/load.js';
import { maxSends, otpViolations, OTP_TARGETS } from '../../src/domain/otp-figures.js';
import { sendWaitMs, type SendLimit } from '../../src/domain/otp.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

t.test('the shipped configuration meets every target', async (t) => {
  const config = loadConfig({ env: {} });
  const calendar = loadCalendar();
  const f = codePolicyFigures(config, calendar);
  t.comment(
    `over ${f.citizenHorizonMs / DAY} days (one citizen) and ${f.horizonMs / DAY} (the locker): ` +
      `${f.codesPerPhone} codes per phone and purpose, ${f.codesPerLocker} per locker and purpose; ` +
      `guessing one citizen ${f.pCitizen.toExponential(2)}, anyone ${f.pLocker.toExponential(2)}; ` +
      `longest wait a stranger leaves ${f.lockoutMs / MINUTE} min; at most ${f.smsPerPhonePerDay} codes a day to one phone, ${f.smsPerLockerPerDay} from the locker`,
  );
  t.same(otpViolations(f), [], 'no target missed');
  t.ok(f.pCitizen <= OTP_TARGETS.pCitizen);
  t.ok(f.pLocker <= OTP_TARGETS.pLocker);
  t.ok(f.lockoutMs <= OTP_TARGETS.lockoutMs);
  t.equal(f.horizonMs, (config.staff.pickupWindowDays + 1) * DAY, 'the whole pickup window, in calendar days');
  t.equal(longestDaysOff(calendar), 9, 'Tết 2026: nine days without a round, weekends included');
  t.equal(f.citizenHorizonMs, (config.staff.pickupWindowDays + 1 + 9) * DAY, 'a result can wait that much longer for its round');
});

t.test('a setting that breaks a target fails the check, naming it', async (t) => {
  const broken = (otp: Record<string, unknown>, http?: Record<string, unknown>) =>
    otpViolations(codePolicyFigures(loadConfig({ env: {}, overrides: { citizens: { otp }, ...(http ? { http } : {}) } }), loadCalendar()));
  t.match(broken({ length: 6 }), [/one citizen/, /the locker/], 'six digits: too easy to guess');
  t.match(broken({ maxAttemptsPerCode: 10 }), [/one citizen/, /the locker/], 'ten tries per code');
  t.match(
    broken({
      perPhone: [
        { count: 3, windowMin: 15 },
        { count: 10, windowMin: 1440 },
      ],
    }),
    [/waiting 1440 min/],
    'a daily cap that shuts',
  );
  t.match(broken({ perLocker: [{ count: 60, windowMin: 60 }] }), [/the locker/, /waiting 60 min/], 'an hourly locker cap');
  t.match(
    broken({}, { rateLimits: { codeRequests: { max: 10, windowSec: 3600 } } }),
    [/waiting 60 min/],
    "the kiosk's request limit counts too",
  );
});

/** A stranger asking as often as the limits allow, from `start` for `horizonMs`: the send times. */
function greedy(limits: SendLimit[], horizonMs: number, start = Date.parse('2026-12-01T00:00:00Z')): number[] {
  const sent: number[] = [];
  let now = start;
  while (now < start + horizonMs) {
    const wait = sendWaitMs(
      limits,
      sent.map((s) => new Date(s)),
      new Date(now),
    );
    if (wait === 0) {
      sent.push(now);
      now += 1_000;
    } else now += wait;
  }
  return sent;
}

t.test('the figures hold against the limits as enforced', async (t) => {
  const otp = durations(loadConfig({ env: {} })).otp;
  const horizon = 4 * DAY;
  for (const [name, limits] of [
    ['per phone', otp.perPhone],
    ['per locker', otp.perLocker],
  ] as const) {
    const sent = greedy(limits, horizon);
    t.ok(sent.length <= maxSends(limits, horizon), `${name}: ${sent.length} sends in 4 days ≤ ${maxSends(limits, horizon)}`);
    const day = greedy(limits, DAY);
    t.ok(day.length <= maxSends(limits, DAY), `${name}: ${day.length} in a day ≤ ${maxSends(limits, DAY)}`);
    // The stranger stops at any moment; the citizen then waits for a slot no longer than the target.
    let longest = 0;
    for (let stop = 1; stop < sent.length; stop += 7) {
      const before = sent.slice(0, stop);
      const arrival = before[before.length - 1] + 1_000;
      longest = Math.max(
        longest,
        sendWaitMs(
          limits,
          before.map((s) => new Date(s)),
          new Date(arrival),
        ),
      );
    }
    t.ok(longest <= OTP_TARGETS.lockoutMs, `${name}: the longest wait left behind is ${Math.round(longest / 1000)} s`);
  }
});

t.test('no limit can do better than one code per lock-out span: the bound on texts to one phone is tight', async (t) => {
  // A stranger cannot be told from the citizen: if the citizen never waits more than 15 minutes,
  // the stranger can have a code sent every 15 minutes, 96 a day per purpose.
  const otp = durations(loadConfig({ env: {} })).otp;
  t.ok(maxSends(otp.perPhone, DAY) >= DAY / OTP_TARGETS.lockoutMs, `${maxSends(otp.perPhone, DAY)} ≥ 96`);
  t.ok(greedy(otp.perPhone, DAY).length >= DAY / OTP_TARGETS.lockoutMs - 1, 'and the greedy stranger gets about that many');
});
