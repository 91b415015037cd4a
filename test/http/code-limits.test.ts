/**
 * The locker's send limits count codes that were sent, not requests (docs/otp.md): codes the SMS
 * provider refused do not use up the locker's limit (before, requests that sent nothing stopped
 * every citizen for an hour), and a limit used up slows the locker down instead of shutting it.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { MANY_REQUESTS, startTestLocker } from '../helpers/controller.js';
import { depositProcedure } from '../helpers/citizens.js';
import { until } from '../helpers/mqtt.js';

/** An SMS provider on loopback that takes texts or refuses them (400: not retried), as told. */
async function provider(t: Test) {
  const state = { accept: false, taken: 0, refused: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (state.accept) state.taken++;
      else state.refused++;
      res.writeHead(state.accept ? 200 : 400, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state.accept ? { CodeResult: '100', SMSID: `m${state.taken}` } : { CodeResult: '99' }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/send` };
}

t.test('codes the provider refused are not counted; a used-up locker limit slows down, never shuts', async (t) => {
  const sms = await provider(t);
  const locker = await startTestLocker(t, {
    http: { rateLimits: MANY_REQUESTS },
    sms: { gateway: 'http', http: { url: sms.url, retries: 0, timeoutMs: 2000 } },
    citizens: {
      otp: {
        perPhone: [{ count: 100, windowMin: 15 }],
        perLocker: [
          { count: 2, windowMin: 15 },
          { count: 3, windowMin: 1440, thenEveryMin: 10 },
        ],
      },
    },
  });
  const procedureCode = await depositProcedure(locker, 'S');
  const deposit = (i: number) => locker.anonymous.post('/api/deposits', { phone: `09131000${String(i).padStart(2, '0')}`, procedureCode });

  // The provider refuses: five requests, five SMS_FAILED, none counted.
  for (let i = 0; i < 5; i++) {
    const res = await deposit(i);
    t.equal(res.json().error?.code, 'SMS_FAILED', `refused text ${i + 1}: ${res.body}`);
  }
  // Pickups send in the background: refused too, and then not counted either.
  for (let i = 0; i < 3; i++) t.equal((await locker.anonymous.post('/api/pickups', { phone: `09132000${i}0` })).statusCode, 202);
  await until(async () => sms.state.refused === 8, 'the pickup codes refused');
  const counted = async () => (await locker.controller.database.query(`SELECT count(*)::int n FROM otp_sends`)).rows[0].n;
  await until(async () => (await counted()) === 0, 'no refused code counted');
  const pickups = await locker.controller.database.query(`SELECT status FROM challenges WHERE purpose = 'pickup'`);
  t.same(
    pickups.rows.map((r: any) => r.status),
    ['failed', 'failed', 'failed'],
    'a pickup whose code did not leave can no longer be answered',
  );

  // The provider takes them: the locker's 2 in 15 minutes are there, whole.
  sms.state.accept = true;
  t.equal((await deposit(10)).statusCode, 202);
  t.equal((await deposit(11)).statusCode, 202);
  const third = await deposit(12);
  t.equal(third.json().error?.code, 'RATE_LIMITED', 'two in 15 minutes');
  t.ok(Number(third.headers['retry-after']) <= 15 * 60);
  t.equal((await locker.anonymous.post('/api/pickups', { phone: '0913200090' })).statusCode, 202, 'pickups are counted apart');

  // A day's 3 used up: one more every 10 minutes, never a longer wait.
  locker.controller.clock.setOffset(16 * 60_000);
  t.equal((await deposit(13)).statusCode, 202, 'the third of the day');
  locker.controller.clock.setOffset(27 * 60_000);
  t.equal((await deposit(14)).statusCode, 202, "past the day's count, ten minutes after the last");
  const slowed = await deposit(15);
  t.equal(slowed.json().error?.code, 'RATE_LIMITED');
  t.ok(Number(slowed.headers['retry-after']) <= 10 * 60, `slowed, not shut: Retry-After ${slowed.headers['retry-after']} s`);
  locker.controller.clock.setOffset(37 * 60_000 + 1_000);
  t.equal((await deposit(16)).statusCode, 202, 'and one more ten minutes later');
  locker.controller.clock.setOffset(0);
});
