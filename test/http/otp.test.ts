import t from 'tap';
import { MANY_REQUESTS, startTestLocker } from '../helpers/controller.js';
import { codeFor, depositProcedure, inbox, wrongCode } from '../helpers/citizens.js';

t.test('one-time codes: wrong, expired, reused, no lock-outs, caps, resend', async (t) => {
  const locker = await startTestLocker(t, { http: { rateLimits: MANY_REQUESTS } });
  const procedureCode = await depositProcedure(locker, 'S');
  const start = async (phone: string) => {
    const res = await locker.anonymous.post('/api/deposits', { phone, procedureCode });
    t.equal(res.statusCode, 202, res.body);
    t.equal(res.json().codeLength, 8, 'the kiosk is told how many digits to expect');
    return res.json().challengeId as string;
  };
  const verify = (id: string, otp: string) => locker.anonymous.post(`/api/deposits/${id}/verify`, { otp });
  const pickupVerify = (id: string, otp: string) => locker.anonymous.post(`/api/pickups/${id}/verify`, { otp });

  t.test('a wrong code says how many tries are left; the right one then works; reuse is refused', async (t) => {
    const id = await start('0913000001');
    const code = await codeFor(locker, '0913000001');
    t.equal(code.length, 8);
    const short = await verify(id, code.slice(0, 6));
    t.equal(short.json().error.code, 'VALIDATION_FAILED', 'a code of the wrong length is refused without costing a try');
    const wrong = await verify(id, wrongCode(code));
    t.equal(wrong.statusCode, 400);
    t.match(wrong.json().error, { code: 'OTP_INVALID', details: { attemptsLeft: 2 } });
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

  t.test("a stranger's wrong codes never block the citizen's code; past five, each code allows one try", async (t) => {
    const phone = '0913000003';
    // A stranger asks for three codes for the citizen's number and types wrong ones.
    for (let i = 0; i < 3; i++) {
      const id = await start(phone);
      const code = await codeFor(locker, phone, i);
      for (let k = 0; k < 2; k++) t.equal((await verify(id, wrongCode(code))).json().error.code, 'OTP_INVALID');
      if (i < 2)
        t.match(
          (await verify(id, wrongCode(code))).json().error,
          { code: 'OTP_INVALID', details: { attemptsLeft: 0 } },
          'three kill a code',
        );
    }
    // Six failures on the number: no lock. The number's send slots are used up, for 15 minutes at most.
    const capped = await locker.anonymous.post('/api/deposits', { phone, procedureCode });
    t.equal(capped.json().error.code, 'RATE_LIMITED');
    t.ok(Number(capped.headers['retry-after']) <= 15 * 60, `Retry-After ${capped.headers['retry-after']} s`);
    // The citizen's own pickup (a separate count) gets a code at once, and the right code works.
    const pickup = await locker.anonymous.post('/api/pickups', { phone });
    t.equal(pickup.statusCode, 202, 'deposit and pickup limits are separate');
    const pickupCode = await codeFor(locker, phone, 3);
    t.equal((await pickupVerify(pickup.json().challengeId, pickupCode)).statusCode, 200, 'the code that reached the phone works');

    // Past five failures (across codes), one try per code; a right code resets the count.
    locker.controller.clock.setOffset(15 * 60_000 + 1_000);
    const phone2 = '0913000013';
    for (let i = 0; i < 2; i++) {
      const id = await start(phone2);
      const code = await codeFor(locker, phone2, i);
      for (let k = 0; k < 3; k++) await verify(id, wrongCode(code));
    }
    const id = await start(phone2);
    const code = await codeFor(locker, phone2, 2);
    t.match((await verify(id, wrongCode(code))).json().error, { code: 'OTP_INVALID', details: { attemptsLeft: 0 } }, 'one try');
    t.match((await verify(id, code)).json().error, { code: 'OTP_INVALID', details: { attemptsLeft: 0 } }, 'and the code is dead');
    const next = await locker.anonymous.post('/api/pickups', { phone: phone2 });
    t.equal((await pickupVerify(next.json().challengeId, await codeFor(locker, phone2, 3))).statusCode, 200, 'never a lock');
    locker.controller.clock.setOffset(0);
  });

  t.test('sends per phone: 3 in 15 minutes, then past 6 a day one every 15 minutes; resend after 60 s', async (t) => {
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
    let offset = 61_000 + 15 * 60_000;
    locker.controller.clock.setOffset(offset);
    for (let i = 0; i < 3; i++) await start(phone);
    // Six today: from now on one every 15 minutes, never a longer wait.
    offset += 15 * 60_000 + 1_000;
    locker.controller.clock.setOffset(offset);
    await start(phone);
    const slowed = await locker.anonymous.post('/api/deposits', { phone, procedureCode });
    t.equal(slowed.json().error.code, 'RATE_LIMITED');
    t.ok(Number(slowed.headers['retry-after']) <= 15 * 60, `slowed down, not shut: ${slowed.headers['retry-after']} s`);
    locker.controller.clock.setOffset(offset + 15 * 60_000);
    await start(phone);
    locker.controller.clock.setOffset(0);
  });

  t.test('a clock that stepped back from a fortnight ahead blocks no one for longer than a window', async (t) => {
    const fortnight = 14 * 86_400_000;
    // Codes sent a fortnight ahead block nobody for a fortnight; the caps hold again from the step on.
    const capped = '0913000006';
    locker.controller.clock.setOffset(fortnight);
    for (let i = 0; i < 3; i++) await start(capped);
    t.equal((await locker.anonymous.post('/api/deposits', { phone: capped, procedureCode })).statusCode, 429, 'capped a fortnight ahead');
    const id = await start('0913000005');
    const code = await codeFor(locker, '0913000005');
    locker.controller.clock.setOffset(0);
    t.equal((await verify(id, code)).json().error.code, 'OTP_EXPIRED', 'a code timed by the wrong clock is not trusted');
    for (let i = 0; i < 3; i++) await start(capped);
    const fourth = await locker.anonymous.post('/api/deposits', { phone: capped, procedureCode });
    t.equal(fourth.json().error?.code, 'RATE_LIMITED', 'and capped again after the step');
    t.ok(Number(fourth.headers['retry-after']) <= 15 * 60, `for the 15-minute window at most (${fourth.headers['retry-after']} s)`);
    locker.controller.clock.setOffset(0);
  });

  t.test('a code cannot be answered before the provider took it; an answer that never came is not waited for', async (t) => {
    const phone = '0913000007';
    const id = await start(phone);
    const code = await codeFor(locker, phone);
    // As if the provider's answer were lost (a restart between the send and its record).
    await locker.controller.database.query(`UPDATE challenges SET status = 'sending' WHERE id = $1`, [id]);
    const early = await verify(id, code);
    t.equal(early.statusCode, 409);
    t.equal(early.json().error.code, 'OTP_SENDING', 'still on its way');
    const [row] = (await locker.controller.database.query(`SELECT attempts FROM challenges WHERE id = $1`, [id])).rows;
    t.equal(row.attempts, 0, 'no try used');
    locker.controller.clock.setOffset(61_000);
    t.equal((await verify(id, code)).statusCode, 200, 'a minute on, the code may have left: it is answered');
    // One that stayed 'sending' past its lifetime is expired, not "on its way" for ever.
    const id2 = await start(phone);
    const code2 = await codeFor(locker, phone, 1);
    await locker.controller.database.query(`UPDATE challenges SET status = 'sending' WHERE id = $1`, [id2]);
    locker.controller.clock.setOffset(61_000 + 5 * 60_000 + 1_000);
    t.equal((await verify(id2, code2)).json().error.code, 'OTP_EXPIRED');
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
      ['otp too long', '/api/deposits/00000000-0000-4000-8000-000000000000/verify', { otp: '12345678901' }, 400, 'VALIDATION_FAILED'],
      ['otp as number', '/api/deposits/00000000-0000-4000-8000-000000000000/verify', { otp: 123456 }, 400, 'VALIDATION_FAILED'],
      ['unknown challenge', '/api/deposits/00000000-0000-4000-8000-000000000000/verify', { otp: '12345678' }, 404, 'CHALLENGE_NOT_FOUND'],
      ['challenge not a uuid', '/api/deposits/1%20OR%201=1/verify', { otp: '12345678' }, 400, 'VALIDATION_FAILED'],
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
