/**
 * Cheap floods (docs/api.md, "Floods and the kiosk's address"): per-address limits checked before
 * any other work, and the one-time-code routes kept for the kiosk's own addresses.
 */
import t, { type Test } from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import { addressMatcher } from '../../src/domain/client-addresses.js';
import { startTestLocker, type TestLocker } from '../helpers/controller.js';
import { depositProcedure, inbox } from '../helpers/citizens.js';
import { dbKind } from '../helpers/db.js';
import { until } from '../helpers/mqtt.js';

const LAN = '192.168.1.50';

function call(locker: TestLocker, method: 'GET' | 'POST', url: string, from = '127.0.0.1', body?: unknown, headers = {}) {
  return locker.http.inject({ method, url, remoteAddress: from, headers, ...(body === undefined ? {} : { payload: body as any }) });
}

function phone(i: number): string {
  return `0912${String(100_000 + i)
    .slice(1)
    .padStart(6, '0')}`;
}

async function count(locker: TestLocker, sql: string): Promise<number> {
  return (await locker.controller.database.query(sql, [locker.lockerId])).rows[0].n;
}

const challenges = (locker: TestLocker) => count(locker, `SELECT count(*)::int n FROM challenges WHERE locker_id = $1`);

function tooMany(t: Test, res: LightMyRequestResponse, windowSec: number, what: string): void {
  t.equal(res.statusCode, 429, `${what}: 429`);
  t.equal(res.json().error.code, 'TOO_MANY_REQUESTS', `${what}: TOO_MANY_REQUESTS`);
  const retryAfter = Number(res.headers['retry-after']);
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= windowSec, `${what}: Retry-After ${res.headers['retry-after']}`);
  t.equal(res.json().error.details.retryAfterSec, retryAfter, `${what}: details.retryAfterSec as the header`);
}

function notLimited(t: Test, res: LightMyRequestResponse, what: string): void {
  t.not(res.json()?.error?.code, 'TOO_MANY_REQUESTS', `${what}: not limited (${res.statusCode})`);
  t.ok(res.statusCode < 500, `${what}: never a 5xx`);
}

t.test('the defaults', async (t) => {
  const { http } = loadConfig({ env: {} });
  t.same(http.kioskClients, ['127.0.0.1', '::1']);
  t.same(http.rateLimits, {
    codeRequests: { max: 10, windowSec: 60 },
    dossierLookup: { max: 30, windowSec: 60 },
    signIn: { max: 10, windowSec: 60 },
  });
  const env = { KIOSK_CLIENTS: ' 127.0.0.1, 172.30.247.1 ,10.0.0.0/8,fd00::/8' };
  t.same(loadConfig({ env }).http.kioskClients, ['127.0.0.1', '172.30.247.1', '10.0.0.0/8', 'fd00::/8'], 'KIOSK_CLIENTS, comma-separated');
  t.throws(() => loadConfig({ env: { KIOSK_CLIENTS: '127.0.0.1,kiosk.local' } }), /http\.kioskClients\[1\] "kiosk\.local" is not an IP/);
  t.throws(() => loadConfig({ env: { KIOSK_CLIENTS: '10.0.0.0/33' } }), /http\.kioskClients\[0\] .*prefix length must be 0 to 32/);
  t.throws(() => loadConfig({ env: {}, overrides: { http: { rateLimits: { signIn: { max: 0, windowSec: 60 } } } } }), /rateLimits/);
});

t.test('addresses and ranges', async (t) => {
  const isKiosk = addressMatcher(['127.0.0.1', '::1', '192.168.10.0/24', 'fd00:1::/32']);
  for (const a of ['127.0.0.1', '::ffff:127.0.0.1', '::1', '192.168.10.1', '::ffff:192.168.10.254', 'fd00:1:2::9']) t.ok(isKiosk(a), a);
  for (const a of ['127.0.0.2', '192.168.11.1', '::2', 'fd00:2::1', 'fe80::1%eth0', 'not-an-address', '', undefined])
    t.notOk(isKiosk(a), JSON.stringify(a));
});

t.test(`asking for codes: counted per address, refused past the limit before anything is sent (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t, { http: { port: 0, kioskClients: ['127.0.0.1', '::1', '192.168.10.0/24'] } });
  const { max, windowSec } = locker.config.http.rateLimits.codeRequests;
  const procedureCode = await depositProcedure(locker);
  const deposits: string[] = [];
  // The four routes share one count: deposits, then a pickup, then both resends.
  for (let i = 0; i < max - 3; i++) {
    const res = await call(locker, 'POST', '/api/deposits', '127.0.0.1', { phone: phone(i), procedureCode });
    t.equal(res.statusCode, 202, res.body);
    deposits.push(res.json().challengeId);
  }
  const pickup = await call(locker, 'POST', '/api/pickups', '127.0.0.1', { phone: phone(90) });
  t.equal(pickup.statusCode, 202, pickup.body);
  notLimited(t, await call(locker, 'POST', `/api/deposits/${deposits[0]}/resend`), 'deposit resend');
  notLimited(t, await call(locker, 'POST', `/api/pickups/${pickup.json().challengeId}/resend`), `pickup resend (request ${max})`);
  const sent = await until(async () => {
    const texts = (await inbox(locker)).length;
    return texts >= max - 3 ? texts : null;
  }, 'the codes texted');
  const started = await challenges(locker);

  tooMany(t, await call(locker, 'POST', '/api/deposits', '127.0.0.1', { phone: phone(50), procedureCode }), windowSec, 'deposit');
  tooMany(t, await call(locker, 'POST', '/api/pickups', '127.0.0.1', { phone: phone(51) }), windowSec, 'pickup');
  tooMany(t, await call(locker, 'POST', `/api/deposits/${deposits[1]}/resend`), windowSec, 'resend');
  tooMany(t, await call(locker, 'POST', '/api/deposits', '127.0.0.1', 'not json'), windowSec, 'refused before the body is read');
  tooMany(
    t,
    await call(locker, 'POST', '/api/deposits', '::ffff:127.0.0.1', { phone: phone(52), procedureCode }),
    windowSec,
    'IPv4-mapped',
  );
  const forwarded = { 'x-forwarded-for': '192.168.10.77' };
  tooMany(t, await call(locker, 'POST', '/api/deposits', '127.0.0.1', { phone: phone(53), procedureCode }, forwarded), windowSec, 'XFF');
  await new Promise((r) => setTimeout(r, 300));
  t.equal((await inbox(locker)).length, sent, 'no text sent past the limit');
  t.equal(await challenges(locker), started, 'no code issued past the limit');

  // Checking a code is not counted: its guessing is bounded by the tries per code.
  notLimited(t, await call(locker, 'POST', `/api/deposits/${deposits[2]}/verify`, '127.0.0.1', { otp: '000000' }), 'verify');
  notLimited(t, await call(locker, 'GET', `/api/deposits/${deposits[2]}`), 'deposit status');
  for (let i = 0; i < 3 * max; i++) notLimited(t, await call(locker, 'GET', '/health'), `health ${i}`);

  // Another kiosk address (a range entry) has its own count.
  const other = await call(locker, 'POST', '/api/deposits', '192.168.10.20', { phone: phone(60), procedureCode });
  t.equal(other.statusCode, 202, `another address: ${other.body}`);
});

t.test(`lookups by dossier code: counted per address (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const { max, windowSec } = locker.config.http.rateLimits.dossierLookup;
  for (let i = 0; i < max; i++) {
    notLimited(t, await call(locker, 'GET', '/api/dossiers/K7M3-9P2X5'), `lookup ${i + 1}`);
  }
  tooMany(t, await call(locker, 'GET', '/api/dossiers/K7M3-9P2X4'), windowSec, `lookup ${max + 1}`);
  tooMany(t, await call(locker, 'GET', '/api/dossiers/K7M3-9P2X4', '::ffff:127.0.0.1'), windowSec, 'IPv4-mapped');
  notLimited(t, await call(locker, 'GET', '/api/dossiers/K7M3-9P2X5', LAN), 'another address has its own count (lookups are open to any)');
  notLimited(t, await call(locker, 'GET', '/api/procedures?deposit=true'), 'the catalogue');
  notLimited(t, await call(locker, 'POST', '/api/deposits', '127.0.0.1', { phone: phone(1), procedureCode: 'XX-NONE' }), 'codes');
});

t.test(`sign-in: counted per address, refused before any hashing or audit row (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const { max, windowSec } = locker.config.http.rateLimits.signIn;
  const failures = () => count(locker, `SELECT count(*)::int n FROM audit_log WHERE locker_id = $1 AND action LIKE 'staff.sign_in%'`);
  const attempt = { name: 'Nobody Here', pin: '123456', totp: '123456' };
  for (let i = 0; i < max; i++) {
    const res = await call(locker, 'POST', '/api/staff/sign-in', '127.0.0.1', attempt);
    t.equal(res.json().error.code, 'SIGN_IN_FAILED', `attempt ${i + 1}`);
  }
  t.equal(await failures(), max, 'one audit row per attempt');
  tooMany(t, await call(locker, 'POST', '/api/staff/sign-in', '127.0.0.1', attempt), windowSec, `attempt ${max + 1}`);
  tooMany(t, await call(locker, 'POST', '/api/staff/sign-in', '127.0.0.1', { name: 'x' }), windowSec, 'before the body is checked');
  t.equal(await failures(), max, 'no audit row past the limit');

  const lan = await call(locker, 'POST', '/api/staff/sign-in', LAN, attempt);
  t.equal(lan.json().error.code, 'SIGN_IN_FAILED', 'another address has its own count (an officer may sign in from a tablet)');
  t.equal(await failures(), max + 1);
  t.equal((await locker.staff.get('/api/staff/me')).statusCode, 200, 'signed-in routes are not counted');
});

t.test(`codes are asked for and checked from the kiosk's addresses only (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const procedureCode = await depositProcedure(locker);
  const own = await call(locker, 'POST', '/api/deposits', '127.0.0.1', { phone: phone(1), procedureCode });
  t.equal(own.statusCode, 202, own.body);
  const { challengeId } = own.json();
  await until(async () => (await inbox(locker)).length === 1, 'the code texted');
  const routes: [string, unknown][] = [
    ['/api/deposits', { phone: phone(2), procedureCode }],
    [`/api/deposits/${challengeId}/verify`, { otp: '000000' }],
    [`/api/deposits/${challengeId}/resend`, undefined],
    ['/api/pickups', { phone: phone(3) }],
    [`/api/pickups/${challengeId}/verify`, { otp: '000000' }],
    [`/api/pickups/${challengeId}/resend`, undefined],
  ];
  for (const from of [LAN, '::ffff:192.168.1.50', 'fd00::50', '127.0.0.2']) {
    for (const [url, body] of routes) {
      const res = await call(locker, 'POST', url, from, body, { 'x-forwarded-for': '127.0.0.1' });
      t.equal(res.statusCode, 403, `${from} ${url}: 403`);
      t.equal(res.json().error.code, 'KIOSK_ONLY', `${from} ${url}: KIOSK_ONLY`);
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  t.equal((await inbox(locker)).length, 1, 'nothing texted');
  t.equal(await challenges(locker), 1, 'no code issued');
  const followed = await call(locker, 'GET', '/api/pickups/results/00000000-0000-4000-8000-000000000000', LAN);
  t.equal(followed.json().error?.code, 'KIOSK_ONLY', "following a pickup's results: the kiosk's too");
  t.equal(
    (await call(locker, 'GET', '/api/pickups/results/00000000-0000-4000-8000-000000000000', '127.0.0.1')).statusCode,
    404,
    'from the kiosk: no such result',
  );
  t.equal((await call(locker, 'GET', `/api/deposits/${challengeId}`, LAN)).statusCode, 404, 'other kiosk routes stay open');
  t.equal((await call(locker, 'GET', '/api/procedures', LAN)).statusCode, 200);
  t.equal((await call(locker, 'GET', '/health', LAN)).statusCode, 200);

  for (const from of ['::1', '::ffff:127.0.0.1']) {
    const res = await call(locker, 'POST', '/api/pickups', from, { phone: phone(4) });
    t.equal(res.statusCode, 202, `${from}: ${res.body}`);
  }
});

t.test(`a kiosk on a LAN range (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t, { http: { port: 0, kioskClients: ['127.0.0.1', '192.168.1.0/24'] } });
  const procedureCode = await depositProcedure(locker);
  const res = await call(locker, 'POST', '/api/deposits', LAN, { phone: phone(1), procedureCode });
  t.equal(res.statusCode, 202, res.body);
  const verify = await call(locker, 'POST', `/api/deposits/${res.json().challengeId}/verify`, '::ffff:192.168.1.50', { otp: '000000' });
  t.not(verify.statusCode, 403, `verify from the range: ${verify.statusCode}`);
  const outside = await call(locker, 'POST', '/api/pickups', '192.168.2.50', { phone: phone(2) });
  t.equal(outside.json().error.code, 'KIOSK_ONLY', 'outside the range');
  t.equal((await call(locker, 'POST', '/api/pickups', '::1', { phone: phone(3) })).json().error.code, 'KIOSK_ONLY', '::1 not listed');
});
