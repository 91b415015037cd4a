import t from 'tap';
import { startTestLocker } from '../helpers/controller.js';
import { codeFor, depositProcedure, inbox, wrongCode } from '../helpers/citizens.js';

t.test('one-time codes: wrong, expired, reused, lockout, caps, resend', async (t) => {
  const locker = await startTestLocker(t);
  const procedureCode = await depositProcedure(locker, 'S');
  const start = async (phone: string) => {
    const res = await locker.anonymous.post('/api/deposits', { phone, procedureCode });
    t.equal(res.statusCode, 202, res.body);
    return res.json().challengeId as string;
  };
  const verify = (id: string, otp: string) => locker.anonymous.post(`/api/deposits/${id}/verify`, { otp });

  t.test('a wrong code says how many tries are left; the right one then works; reuse is refused', async (t) => {
    const id = await start('0913000001');
    const code = await codeFor(locker, '0913000001');
    const wrong = await verify(id, wrongCode(code));
    t.equal(wrong.statusCode, 400);
    t.match(wrong.json().error, { code: 'OTP_INVALID', details: { attemptsLeft: 4 } });
    const ok = await verify(id, code);
    t.equal(ok.statusCode, 200, ok.body);
    const again = await verify(id, code);
    t.equal(again.statusCode, 409);
    t.equal(again.json().error.code, 'OTP_USED');
  });

  t.test('an expired code is refused', async (t) => {
    const id = await start('0913000002');
    const code = await codeFor(locker, '0913000002');
    locker.controller.clock.setOffset(5 * 60_000 + 1_000);
    const res = await verify(id, code);
    locker.controller.clock.setOffset(0);
    t.equal(res.statusCode, 410);
    t.equal(res.json().error.code, 'OTP_EXPIRED');
  });

  t.test('five wrong entries kill a code and lock the phone out, across codes', async (t) => {
    const id = await start('0913000003');
    const code = await codeFor(locker, '0913000003');
    for (let i = 0; i < 4; i++) t.equal((await verify(id, wrongCode(code))).json().error.code, 'OTP_INVALID');
    const fifth = await verify(id, wrongCode(code));
    t.equal(fifth.statusCode, 429, 'the fifth failure starts a cool-down');
    t.equal(fifth.json().error.code, 'OTP_LOCKED');
    t.ok(Number(fifth.headers['retry-after']) >= 59, 'Retry-After says when');
    t.equal((await verify(id, code)).json().error.code, 'OTP_LOCKED', 'even the right code waits out the cool-down');
    locker.controller.clock.setOffset(61_000);
    t.equal((await verify(id, code)).json().error.code, 'OTP_INVALID', 'and the dead code stays dead');
    // A new code does not reset the count: one more failure doubles the cool-down.
    const id2 = await start('0913000003');
    const code2 = await codeFor(locker, '0913000003', 1);
    const sixth = await verify(id2, wrongCode(code2));
    t.equal(sixth.json().error.code, 'OTP_LOCKED');
    t.ok(Number(sixth.headers['retry-after']) >= 119, 'two minutes now');
    locker.controller.clock.setOffset(61_000 + 121_000);
    t.equal((await verify(id2, code2)).statusCode, 200, 'after the cool-down the right code works');
    locker.controller.clock.setOffset(0);
  });

  t.test('sends are capped per phone: 3 in 15 minutes; resend after 60 s', async (t) => {
    const phone = '0913000004';
    const id = await start(phone);
    const early = await locker.anonymous.post(`/api/deposits/${id}/resend`);
    t.equal(early.statusCode, 429);
    t.equal(early.json().error.code, 'RESEND_TOO_SOON');
    locker.controller.clock.setOffset(61_000);
    const resent = await locker.anonymous.post(`/api/deposits/${id}/resend`);
    t.equal(resent.statusCode, 202, resent.body);
    const first = await codeFor(locker, phone, 0);
    const second = await codeFor(locker, phone, 1);
    if (first !== second) t.equal((await verify(id, first)).json().error.code, 'OTP_INVALID', 'the old code stops working');
    await start(phone);
    const fourth = await locker.anonymous.post('/api/deposits', { phone, procedureCode });
    t.equal(fourth.statusCode, 429);
    t.equal(fourth.json().error.code, 'RATE_LIMITED');
    t.equal((await inbox(locker, phone)).filter((m) => m.kind === 'otp').length, 3, 'three codes sent, no more');
    locker.controller.clock.setOffset(61_000 + 15 * 60_000);
    t.equal((await locker.anonymous.post('/api/deposits', { phone, procedureCode })).statusCode, 202, 'after the window');
    locker.controller.clock.setOffset(0);
  });

  t.test('a clock that stepped back from a fortnight ahead locks no one out for longer than the cool-down', async (t) => {
    const fortnight = 14 * 86_400_000;
    const phone = '0913000005';
    locker.controller.clock.setOffset(fortnight);
    const id = await start(phone);
    const code = await codeFor(locker, phone);
    for (let i = 0; i < 5; i++) await verify(id, wrongCode(code));
    t.equal((await verify(id, code)).json().error.code, 'OTP_LOCKED', 'locked a minute, a fortnight ahead');
    // The clock is corrected: the lock and the code were timed by the wrong clock.
    locker.controller.clock.setOffset(0);
    const locked = await verify(id, code);
    t.equal(locked.json().error.code, 'OTP_LOCKED');
    t.ok(Number(locked.headers['retry-after']) <= 60, `at most the minute earned, not a fortnight (${locked.headers['retry-after']} s)`);
    locker.controller.clock.setOffset(61_000);
    const stale = await verify(id, code);
    t.equal(stale.json().error.code, 'OTP_INVALID', `the dead code stays dead: ${stale.body}`);
    const id2 = await start(phone);
    t.equal((await verify(id2, await codeFor(locker, phone, 1))).statusCode, 200, 'a new code works after the minute');

    // Codes sent a fortnight ahead block nobody for a fortnight; the caps hold again from the step on.
    const capped = '0913000006';
    locker.controller.clock.setOffset(fortnight);
    for (let i = 0; i < 3; i++) await start(capped);
    t.equal((await locker.anonymous.post('/api/deposits', { phone: capped, procedureCode })).statusCode, 429, 'capped a fortnight ahead');
    locker.controller.clock.setOffset(0);
    for (let i = 0; i < 3; i++) await start(capped);
    const fourth = await locker.anonymous.post('/api/deposits', { phone: capped, procedureCode });
    t.equal(fourth.json().error?.code, 'RATE_LIMITED', 'and capped again after the step');
    t.ok(Number(fourth.headers['retry-after']) <= 15 * 60, `for the 15-minute window at most (${fourth.headers['retry-after']} s)`);
    locker.controller.clock.setOffset(0);
  });

  t.test('bad input on the kiosk routes: 4xx with a stable code', async (t) => {
    const cases: [string, string, unknown, number, string][] = [
      ['missing phone', '/api/deposits', { procedureCode }, 400, 'VALIDATION_FAILED'],
      ['extra field', '/api/deposits', { phone: '0912345678', procedureCode, name: 'x' }, 400, 'VALIDATION_FAILED'],
      ['phone as number', '/api/deposits', { phone: 912345678, procedureCode }, 400, 'VALIDATION_FAILED'],
      ['10 kB phone', '/api/deposits', { phone: '9'.repeat(10_000), procedureCode }, 400, 'VALIDATION_FAILED'],
      ['foreign number', '/api/deposits', { phone: '+1 202 555 0143', procedureCode }, 400, 'PHONE_NOT_VIETNAMESE_MOBILE'],
      ['malformed number', '/api/deposits', { phone: '09123', procedureCode }, 400, 'PHONE_INVALID'],
      ['SQL in phone', '/api/deposits', { phone: "0912345678' OR '1'='1", procedureCode }, 400, 'PHONE_INVALID'],
      ['phone with U+0000', '/api/deposits', { phone: '0912345678\u0000', procedureCode }, 400, 'VALIDATION_FAILED'],
      ['phone with a lone surrogate', '/api/pickups', { phone: '\udc000912345678' }, 400, 'VALIDATION_FAILED'],
      ['SQL in procedure', '/api/deposits', { phone: '0912345678', procedureCode: "x'; DROP TABLE dossiers;--" }, 400, 'VALIDATION_FAILED'],
      ['unknown procedure', '/api/deposits', { phone: '0912345678', procedureCode: 'NOPE-1' }, 400, 'PROCEDURE_NOT_FOUND'],
      ['otp letters', '/api/deposits/00000000-0000-4000-8000-000000000000/verify', { otp: 'abcdef' }, 400, 'VALIDATION_FAILED'],
      ['otp too long', '/api/deposits/00000000-0000-4000-8000-000000000000/verify', { otp: '1234567' }, 400, 'VALIDATION_FAILED'],
      ['otp as number', '/api/deposits/00000000-0000-4000-8000-000000000000/verify', { otp: 123456 }, 400, 'VALIDATION_FAILED'],
      ['unknown challenge', '/api/deposits/00000000-0000-4000-8000-000000000000/verify', { otp: '123456' }, 404, 'CHALLENGE_NOT_FOUND'],
      ['challenge not a uuid', '/api/deposits/1%20OR%201=1/verify', { otp: '123456' }, 400, 'VALIDATION_FAILED'],
      ['pickup without phone', '/api/pickups', {}, 400, 'VALIDATION_FAILED'],
      ['pickup extra field', '/api/pickups', { phone: '0912345678', all: true }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [name, url, body, status, code] of cases) {
      const res = await locker.anonymous.post(url, body);
      t.equal(res.statusCode, status, `${name}: ${res.body.slice(0, 150)}`);
      t.equal(res.json().error?.code, code, name);
    }
    const result = await locker.anonymous.post('/api/deposits', { phone: '0912345678', procedureCode: await resultOnly() });
    t.equal(result.json().error.code, 'PROCEDURE_NOT_ACCEPTED', 'a result-only procedure cannot be deposited');
    t.equal((await locker.anonymous.get('/api/dossiers/not-a-code')).json().error.code, 'DOSSIER_CODE_INVALID');
    t.equal((await locker.anonymous.get('/api/dossiers/2345-6789A')).statusCode, 400);
    t.equal((await locker.anonymous.get('/api/deposits/nope')).statusCode, 400);
    t.equal((await locker.anonymous.get('/api/deposits/00000000-0000-4000-8000-000000000000')).json().error.code, 'DEPOSIT_NOT_FOUND');
  });

  async function resultOnly(): Promise<string> {
    const list = (await locker.anonymous.get('/api/procedures')).json();
    return list.find((p: any) => !p.deposit && p.result).code;
  }
});
