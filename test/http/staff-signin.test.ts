import t from 'tap';
import { generate } from 'otplib';
import { startTestLocker } from '../helpers/controller.js';

t.test('an admin creates an officer who signs in at the touchscreen with PIN and authenticator code', async (t) => {
  const locker = await startTestLocker(t);
  const created = await locker.admin.post('/api/admin/staff', {
    name: 'Nguyen Thi Lan',
    role: 'staff',
    withTouchscreen: true,
    pin: '480213',
  });
  t.equal(created.statusCode, 201, created.body);
  const { totpSecret, token } = created.json();
  t.ok(totpSecret && token, 'a token and an authenticator secret, shown once');
  t.equal(
    (await locker.staff.post('/api/admin/staff', { name: 'x', role: 'staff', withTouchscreen: false })).statusCode,
    403,
    'staff cannot create staff',
  );

  const now = Math.floor(locker.controller.clock.now().getTime() / 1000);
  const wrong = await locker.anonymous.post('/api/staff/sign-in', {
    name: 'Nguyen Thi Lan',
    pin: '480214',
    totp: await generate({ secret: totpSecret, epoch: now }),
  });
  t.equal(wrong.statusCode, 401);
  t.equal(wrong.json().error.code, 'SIGN_IN_FAILED');
  const signIn = await locker.anonymous.post('/api/staff/sign-in', {
    name: 'Nguyen Thi Lan',
    pin: '480213',
    totp: await generate({ secret: totpSecret, epoch: now }),
  });
  t.equal(signIn.statusCode, 200, signIn.body);
  const session = locker.as(signIn.json().token);
  const next = await session.get('/api/staff/rounds/next');
  t.equal(next.statusCode, 200, 'the session opens the staff routes');
  t.equal((await session.post('/api/admin/trays/3/open')).statusCode, 403, 'but not the admin ones');
  const started = await session.post(`/api/staff/rounds/${next.json().round.id}/start`, {});
  t.equal(started.statusCode, 200);
  const { rows } = await locker.controller.database.query(`SELECT actor FROM audit_log WHERE locker_id = $1 AND action = 'round.start'`, [
    locker.lockerId,
  ]);
  t.match(rows[0].actor, /Nguyen Thi Lan/, 'the audit log names the officer');

  locker.controller.clock.setOffset(13 * 3_600_000);
  t.equal((await session.get('/api/staff/rounds/next')).statusCode, 401, 'the session ends after 12 hours');
});
