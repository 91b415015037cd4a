/**
 * Enumeration by timing: a pickup request for a number with results waiting and one for a number
 * with none must not be told apart by how long the request takes, nor by how long the next request
 * takes (work left running in the background shows there). The attacker's rule: "the slower of
 * the two has results" (the leak seen before), or its reverse. Over many pairs, in random order,
 * neither may do better than chance: the rule right between 45 and 55 % of the time. With 1,000
 * pairs chance alone leaves that band about twice in a thousand runs; `TIMING_PAIRS` sets another
 * number.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startTestLocker } from '../helpers/controller.js';
import { loadResult } from '../helpers/citizens.js';

const PAIRS = Number(process.env.TIMING_PAIRS ?? 1000);
const WARM_UP = 30;
const UNLIMITED = [{ count: 100_000, windowMin: 1 }];

t.test('a pickup request does the same work whether or not results wait', async (t) => {
  const locker = await startTestLocker(t, {
    citizens: { otp: { perPhone: UNLIMITED, perLocker: UNLIMITED } },
    http: { rateLimits: { codeRequests: { max: 1_000_000, windowSec: 1 } } },
  });
  const withResults = '0987100001';
  const without = '0987100002';
  await loadResult(locker, '+84987100001', 40);
  await loadResult(locker, '+84987100001', 41);

  const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;
  /** The request's own time, and the next request's (a lookup that reads the database). */
  const measure = async (phone: string) => {
    const t0 = process.hrtime.bigint();
    const res = await locker.anonymous.post('/api/pickups', { phone });
    const own = ms(t0);
    if (res.statusCode !== 202) throw new Error(`pickup ${res.statusCode} ${res.body}`);
    const t1 = process.hrtime.bigint();
    const probe = await locker.anonymous.get(`/api/deposits/${randomUUID()}`);
    const next = ms(t1);
    if (probe.statusCode !== 404) throw new Error(`probe ${probe.statusCode} ${probe.body}`);
    return { own, next };
  };

  const right = { own: 0, next: 0 };
  const sum = { with: 0, without: 0 };
  for (let i = 0; i < WARM_UP + PAIRS; i++) {
    const withFirst = Math.random() < 0.5;
    const a = await measure(withFirst ? withResults : without);
    const b = await measure(withFirst ? without : withResults);
    const [w, wo] = withFirst ? [a, b] : [b, a];
    if (i < WARM_UP) continue;
    // The attacker's guess: the slower one has results (ties: a coin).
    for (const k of ['own', 'next'] as const) {
      if (w[k] > wo[k] || (w[k] === wo[k] && Math.random() < 0.5)) right[k]++;
    }
    sum.with += w.own;
    sum.without += wo.own;
  }
  const rate = { own: right.own / PAIRS, next: right.next / PAIRS };
  t.comment(
    `${PAIRS} pairs: told apart by the request's time ${(rate.own * 100).toFixed(1)} %, by the next request's ${(rate.next * 100).toFixed(1)} %; ` +
      `mean ${(sum.with / PAIRS).toFixed(2)} ms with results, ${(sum.without / PAIRS).toFixed(2)} ms without`,
  );
  // A rule right 45 % of the time is its reverse right 55 %: either way the attacker learns.
  t.ok(Math.abs(rate.own - 0.5) <= 0.05, `the request's own time: ${(rate.own * 100).toFixed(1)} %, within 50 ± 5 %`);
  t.ok(Math.abs(rate.next - 0.5) <= 0.05, `the next request's time: ${(rate.next * 100).toFixed(1)} %, within 50 ± 5 %`);
});
