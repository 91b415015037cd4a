import t from 'tap';
import Fastify, { type FastifyInstance } from 'fastify';
import { generate } from 'otplib';
import { silentLogger } from '../../src/log.js';
import { authHooks } from '../../src/http/auth.js';
import { installErrorHandling } from '../../src/http/errors.js';
import { staffAccountRoutes } from '../../src/http/routes/staff-accounts.js';
import { AccountRepository } from '../../src/store/accounts.js';
import { AuditRepository } from '../../src/store/audit.js';
import { StaffAccountService } from '../../src/services/staff-accounts.js';
import { testDb } from '../helpers/db.js';

const ADMIN_TOKEN = 'route-test-admin-token-0000000000';
const STAFF_TOKEN = 'route-test-staff-token-0000000000';
const PIN = '274930';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const db = await testDb(t);
  const clock = {
    ms: Date.parse('2026-03-02T01:00:10Z'),
    now() {
      return new Date(this.ms);
    },
  };
  const accounts = new AccountRepository();
  await accounts.seed(db, 'admin (seed)', 'admin', ADMIN_TOKEN);
  await accounts.seed(db, 'staff (seed)', 'staff', STAFF_TOKEN);
  const staff = new StaffAccountService({
    db,
    accounts,
    audit: new AuditRepository('test-locker'),
    clock,
    logger: silentLogger(),
    totpKey: Buffer.alloc(32, 9),
  });
  const app: FastifyInstance = Fastify({
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
  });
  installErrorHandling(app);
  app.removeContentTypeParser('text/plain');
  await app.register(staffAccountRoutes, { staff, auth: authHooks((token) => staff.findByToken(token)) });
  t.teardown(() => app.close());
  const call = (method: 'GET' | 'POST', url: string, token: string | null, payload?: unknown) =>
    app.inject({
      method,
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(payload === undefined ? {} : { payload: payload as any }),
    });
  const code = (secret: string) => generate({ secret, epoch: Math.floor(clock.ms / 1000) });
  return { app, call, clock, code, db };
}

t.test('an admin creates an officer; the officer signs in at the touchscreen, asks who they are and signs out', async (t) => {
  const { call, code, clock } = await setup(t);
  const created = await call('POST', '/api/admin/staff', ADMIN_TOKEN, {
    name: 'Nguyễn Văn An',
    role: 'staff',
    withTouchscreen: true,
    pin: PIN,
  });
  t.equal(created.statusCode, 201, created.body);
  const officer = created.json();
  t.match(officer, {
    id: Number,
    name: 'Nguyễn Văn An',
    role: 'staff',
    token: String,
    totpSecret: /^[A-Z2-7]+$/,
    totpUri: /^otpauth:\/\/totp\/ATM%2024%2F7:/,
  });

  const list = await call('GET', '/api/admin/staff', ADMIN_TOKEN);
  t.equal(list.statusCode, 200);
  t.equal(list.json().length, 3, 'two seeded accounts and the new one');
  t.notOk(/token|secret|pin|totp/i.test(list.body), 'no secret in the list');

  const signIn = await call('POST', '/api/staff/sign-in', null, { name: 'Nguyễn Văn An', pin: PIN, totp: await code(officer.totpSecret) });
  t.equal(signIn.statusCode, 200, signIn.body);
  const session = signIn.json();
  t.same(session.account, { id: officer.id, name: 'Nguyễn Văn An', role: 'staff' });
  t.equal(session.expiresAt, new Date(clock.ms + 12 * 3_600_000).toISOString());

  const me = await call('GET', '/api/staff/me', session.token);
  t.same(me.json(), { id: officer.id, name: 'Nguyễn Văn An', role: 'staff', via: 'session', expiresAt: session.expiresAt });
  t.match((await call('GET', '/api/staff/me', officer.token)).json(), { via: 'token', expiresAt: null });
  t.equal((await call('GET', '/api/admin/staff', session.token)).statusCode, 403, 'a staff session is not an admin');

  const out = await call('POST', '/api/staff/sign-out', session.token);
  t.same(out.json(), { signedOut: true });
  t.equal((await call('GET', '/api/staff/me', session.token)).statusCode, 401, 'the session is over');

  const replay = await call('POST', '/api/staff/sign-in', null, { name: 'Nguyễn Văn An', pin: PIN, totp: await code(officer.totpSecret) });
  t.equal(replay.statusCode, 401);
  t.equal(replay.json().error.code, 'SIGN_IN_FAILED', 'the same code twice');
});

t.test('admin routes: disable revokes the token and sessions; rotate replaces the token', async (t) => {
  const { call, code } = await setup(t);
  const officer = (
    await call('POST', '/api/admin/staff', ADMIN_TOKEN, { name: 'Le Thi Binh', role: 'staff', withTouchscreen: true, pin: PIN })
  ).json();
  const session = (
    await call('POST', '/api/staff/sign-in', null, { name: 'Le Thi Binh', pin: PIN, totp: await code(officer.totpSecret) })
  ).json();

  const rotated = await call('POST', `/api/admin/staff/${officer.id}/token`, ADMIN_TOKEN);
  t.equal(rotated.statusCode, 200, rotated.body);
  t.equal((await call('GET', '/api/staff/me', officer.token)).statusCode, 401, 'the old token is refused');
  t.equal((await call('GET', '/api/staff/me', rotated.json().token)).statusCode, 200, 'the new one works');

  const disabled = await call('POST', `/api/admin/staff/${officer.id}/disable`, ADMIN_TOKEN, {});
  t.equal(disabled.statusCode, 200, disabled.body);
  t.match(disabled.json(), { id: officer.id, disabledAt: String, sessionsRevoked: 1 });
  t.equal((await call('GET', '/api/staff/me', rotated.json().token)).statusCode, 401);
  t.equal((await call('GET', '/api/staff/me', session.token)).statusCode, 401);

  const rotateDisabled = await call('POST', `/api/admin/staff/${officer.id}/token`, ADMIN_TOKEN);
  t.equal(rotateDisabled.statusCode, 409);
  t.equal(rotateDisabled.json().error.code, 'ACCOUNT_DISABLED');
  const missing = await call('POST', '/api/admin/staff/99999/disable', ADMIN_TOKEN);
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().error.code, 'ACCOUNT_NOT_FOUND');
});

t.test('five wrong sign-ins answer 429 with Retry-After', async (t) => {
  const { call, code } = await setup(t);
  const officer = (
    await call('POST', '/api/admin/staff', ADMIN_TOKEN, { name: 'Tran Van Cuong', role: 'staff', withTouchscreen: true, pin: PIN })
  ).json();
  for (let i = 1; i <= 4; i++) {
    const res = await call('POST', '/api/staff/sign-in', null, {
      name: 'Tran Van Cuong',
      pin: '849301',
      totp: await code(officer.totpSecret),
    });
    t.equal(res.statusCode, 401, `wrong sign-in ${i}`);
    t.notOk('details' in res.json().error, 'no hint about which factor');
  }
  const locked = await call('POST', '/api/staff/sign-in', null, {
    name: 'Tran Van Cuong',
    pin: '849301',
    totp: await code(officer.totpSecret),
  });
  t.equal(locked.statusCode, 429);
  t.match(locked.json().error, { code: 'SIGN_IN_LOCKED', details: { retryAfterSec: 900 } });
  t.equal(locked.headers['retry-after'], '900');
});

t.test('401 without a token, 403 for staff on admin routes', async (t) => {
  const { call } = await setup(t);
  const routes: ['GET' | 'POST', string, unknown?][] = [
    ['POST', '/api/admin/staff', { name: 'X', role: 'staff', withTouchscreen: false }],
    ['GET', '/api/admin/staff'],
    ['POST', '/api/admin/staff/1/disable'],
    ['POST', '/api/admin/staff/1/token'],
  ];
  for (const [method, url, body] of routes) {
    const anonymous = await call(method, url, null, body);
    t.equal(anonymous.statusCode, 401, `${method} ${url} without a token`);
    t.equal(anonymous.json().error.code, 'UNAUTHORIZED');
    const wrong = await call(method, url, 'not-a-real-token-1234567890', body);
    t.equal(wrong.statusCode, 401, `${method} ${url} with a wrong token`);
    const staff = await call(method, url, STAFF_TOKEN, body);
    t.equal(staff.statusCode, 403, `${method} ${url} as staff`);
    t.equal(staff.json().error.code, 'FORBIDDEN');
  }
  t.equal((await call('GET', '/api/staff/me', null)).statusCode, 401);
  t.equal((await call('POST', '/api/staff/sign-out', null)).statusCode, 401);
  t.same((await call('POST', '/api/staff/sign-out', STAFF_TOKEN)).json(), { signedOut: false }, 'a permanent token is not signed out');
  t.equal((await call('GET', '/api/staff/me', STAFF_TOKEN)).statusCode, 200, 'and still works');
});

t.test('bad input is a 400 VALIDATION_FAILED (or a named 4xx), never a 5xx', async (t) => {
  const { app, call } = await setup(t);
  const create = (body: unknown) => call('POST', '/api/admin/staff', ADMIN_TOKEN, body);
  const signIn = (body: unknown) => call('POST', '/api/staff/sign-in', null, body);
  const cases: [string, () => Promise<{ statusCode: number; json(): any; body: string }>, number, string][] = [
    ['missing role', () => create({ name: 'A', withTouchscreen: false }), 400, 'VALIDATION_FAILED'],
    ['unknown role', () => create({ name: 'A', role: 'root', withTouchscreen: false }), 400, 'VALIDATION_FAILED'],
    ['extra field', () => create({ name: 'A', role: 'staff', withTouchscreen: false, isAdmin: true }), 400, 'VALIDATION_FAILED'],
    ['withTouchscreen a string', () => create({ name: 'A', role: 'staff', withTouchscreen: 'yes' }), 400, 'VALIDATION_FAILED'],
    ['name too long', () => create({ name: 'A'.repeat(81), role: 'staff', withTouchscreen: false }), 400, 'VALIDATION_FAILED'],
    ['name with markup', () => create({ name: '<b>A</b>', role: 'staff', withTouchscreen: false }), 400, 'VALIDATION_FAILED'],
    ['name with U+0000', () => create({ name: 'An\u0000', role: 'staff', withTouchscreen: false }), 400, 'VALIDATION_FAILED'],
    ['name with a lone surrogate', () => create({ name: 'An\ud800', role: 'staff', withTouchscreen: false }), 400, 'VALIDATION_FAILED'],
    ['sign-in name with a newline', () => signIn({ name: 'An\nB', pin: PIN, totp: '123456' }), 400, 'VALIDATION_FAILED'],
    ['empty name', () => create({ name: '', role: 'staff', withTouchscreen: false }), 400, 'VALIDATION_FAILED'],
    ['PIN a number', () => create({ name: 'A', role: 'staff', withTouchscreen: true, pin: 274930 }), 400, 'VALIDATION_FAILED'],
    ['PIN of 5 digits', () => create({ name: 'A', role: 'staff', withTouchscreen: true, pin: '27493' }), 400, 'VALIDATION_FAILED'],
    ['PIN of 9 digits', () => create({ name: 'A', role: 'staff', withTouchscreen: true, pin: '274930274' }), 400, 'VALIDATION_FAILED'],
    ['PIN with letters', () => create({ name: 'A', role: 'staff', withTouchscreen: true, pin: '27a930' }), 400, 'VALIDATION_FAILED'],
    ['touchscreen without PIN', () => create({ name: 'A', role: 'staff', withTouchscreen: true }), 400, 'VALIDATION_FAILED'],
    ['trivial PIN', () => create({ name: 'A', role: 'staff', withTouchscreen: true, pin: '123456' }), 400, 'PIN_TOO_WEAK'],
    ['array body', () => create([1]), 400, 'VALIDATION_FAILED'],
    ['sign-in without TOTP', () => signIn({ name: 'A', pin: PIN }), 400, 'VALIDATION_FAILED'],
    ['TOTP of 7 digits', () => signIn({ name: 'A', pin: PIN, totp: '1234567' }), 400, 'VALIDATION_FAILED'],
    ['TOTP a number', () => signIn({ name: 'A', pin: PIN, totp: 123456 }), 400, 'VALIDATION_FAILED'],
    ['sign-in extra field', () => signIn({ name: 'A', pin: PIN, totp: '123456', role: 'admin' }), 400, 'VALIDATION_FAILED'],
    ['sign-in 10 kB name', () => signIn({ name: 'A'.repeat(10_000), pin: PIN, totp: '123456' }), 400, 'VALIDATION_FAILED'],
    ['sign-in unknown name', () => signIn({ name: 'Nobody', pin: PIN, totp: '123456' }), 401, 'SIGN_IN_FAILED'],
    ['id not a number', () => call('POST', '/api/admin/staff/abc/disable', ADMIN_TOKEN), 400, 'VALIDATION_FAILED'],
    ['id 0', () => call('POST', '/api/admin/staff/0/token', ADMIN_TOKEN), 400, 'VALIDATION_FAILED'],
    ['id huge', () => call('POST', '/api/admin/staff/99999999999999999999/disable', ADMIN_TOKEN), 400, 'VALIDATION_FAILED'],
    ['disable with a body', () => call('POST', '/api/admin/staff/1/disable', ADMIN_TOKEN, { reason: 'x' }), 400, 'VALIDATION_FAILED'],
    [
      'malformed JSON',
      () =>
        app.inject({ method: 'POST', url: '/api/staff/sign-in', payload: '{"name": "A', headers: { 'content-type': 'application/json' } }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'text body',
      () =>
        app.inject({ method: 'POST', url: '/api/staff/sign-in', payload: 'A 274930 123456', headers: { 'content-type': 'text/plain' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  ];
  for (const [name, run, status, code] of cases) {
    const res = await run();
    t.equal(res.statusCode, status, `${name}: ${res.body.slice(0, 160)}`);
    t.equal(res.json().error?.code, code, `${name}: code`);
  }
  const first = await create({ name: 'Pham Thi Dung', role: 'staff', withTouchscreen: false });
  t.equal(first.statusCode, 201);
  const again = await create({ name: 'pham thi dung', role: 'admin', withTouchscreen: false });
  t.equal(again.statusCode, 409);
  t.equal(again.json().error.code, 'ACCOUNT_NAME_TAKEN');
});
