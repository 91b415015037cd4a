import t from 'tap';
import { generate } from 'otplib';
import { silentLogger } from '../../src/log.js';
import { AccountRepository } from '../../src/store/accounts.js';
import { AuditRepository } from '../../src/store/audit.js';
import { StaffAccountService, pinWeakness } from '../../src/services/staff-accounts.js';
import { testDb } from '../helpers/db.js';

const ADMIN = 'admin:1:Trưởng phòng';
const PIN = '274930';

/** A clock the test moves by hand; 10 s into a TOTP step. */
class HandClock {
  ms = Date.parse('2026-03-02T01:00:10Z');
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const db = await testDb(t);
  const clock = new HandClock();
  const accounts = new AccountRepository();
  /** The service on this database; `demoAccounts`: whether the driver is the simulator. */
  const serviceWith = (opts: { demoAccounts?: boolean } = {}) =>
    new StaffAccountService({
      db,
      accounts,
      audit: new AuditRepository('test-locker'),
      clock,
      logger: silentLogger(),
      totpKey: Buffer.alloc(32, 7),
      ...opts,
    });
  const service = serviceWith();
  const code = (secret: string, offsetSec = 0) => generate({ secret, epoch: Math.floor(clock.ms / 1000) + offsetSec });
  return { db, clock, accounts, service, serviceWith, code };
}

t.test('an admin creates an officer with touchscreen sign-in; the officer signs in with PIN and code', async (t) => {
  const { service, code, clock } = await setup(t);
  const officer = await service.create({ name: '  Nguyễn  Văn An ', role: 'staff', withTouchscreen: true, pin: PIN }, ADMIN);
  t.match(officer, { name: 'Nguyễn Văn An', role: 'staff' }, 'the name is tidied');
  t.type(officer.token, 'string');
  t.ok(officer.token.length >= 40, 'a long random token');
  t.match(officer.totpSecret, /^[A-Z2-7]{32}$/, 'a base32 secret for the authenticator app');
  const uri = new URL(officer.totpUri!);
  t.equal(uri.protocol, 'otpauth:');
  t.match(decodeURIComponent(officer.totpUri!), /^otpauth:\/\/totp\/ATM 24\/7:Nguyễn Văn An\?/, 'issuer and account name in the label');
  t.equal(uri.searchParams.get('issuer'), 'ATM 24/7');
  t.equal(uri.searchParams.get('secret'), officer.totpSecret);

  t.same(await service.findByToken(officer.token), { id: officer.id, name: 'Nguyễn Văn An', role: 'staff' }, 'the permanent token works');

  const signIn = await service.signIn({ name: 'Nguyễn Văn An', pin: PIN, totp: await code(officer.totpSecret!) });
  t.same(signIn.account, { id: officer.id, name: 'Nguyễn Văn An', role: 'staff' });
  t.equal(signIn.expiresAt.getTime(), clock.ms + 12 * 3_600_000, 'a session of 12 hours');
  t.not(signIn.token, officer.token);
  t.same(await service.findByToken(signIn.token), signIn.account, 'the session token works');
  t.same(await service.sessionExpiry(signIn.token), signIn.expiresAt);
  t.equal(await service.sessionExpiry(officer.token), null, 'a permanent token has no session');

  clock.advance(30_000);
  const byId = await service.signIn({ accountId: officer.id, pin: PIN, totp: await code(officer.totpSecret!) });
  t.ok(byId.token, 'by account id too, with the code of the next step');

  const list = await service.list();
  t.equal(list.length, 1);
  t.same(Object.keys(list[0]).sort(), ['createdAt', 'createdBy', 'disabledAt', 'id', 'lockedUntil', 'name', 'role', 'touchscreen']);
  t.match(list[0], { touchscreen: true, createdBy: ADMIN, disabledAt: null, lockedUntil: null });
});

t.test('codes of the previous and next step are accepted; older, newer and replayed ones are not', async (t) => {
  const { service, code, clock } = await setup(t);
  const a = await service.create({ name: 'Le Thi Binh', role: 'staff', withTouchscreen: true, pin: PIN }, ADMIN);
  const secret = a.totpSecret!;
  const signIn = async (totp: string) => service.signIn({ name: 'le thi binh', pin: PIN, totp });

  await t.rejects(signIn(await code(secret, -60)), { code: 'SIGN_IN_FAILED' }, 'two steps old');
  await t.rejects(signIn(await code(secret, 60)), { code: 'SIGN_IN_FAILED' }, 'two steps ahead');
  const previous = await code(secret, -30);
  t.ok(await signIn(previous), 'the previous step (a slow hand)');
  await t.rejects(
    signIn(previous),
    { code: 'SIGN_IN_FAILED', message: /check the name, PIN and authenticator code/ },
    'the same code again',
  );
  const current = await code(secret);
  t.ok(await signIn(current), 'the current step');
  await t.rejects(signIn(current), { code: 'SIGN_IN_FAILED' }, 'replayed within its step');
  clock.advance(20_000);
  await t.rejects(signIn(current), { code: 'SIGN_IN_FAILED' }, 'replayed in the next step, still inside the window');
  t.ok(await signIn(await code(secret)), 'a fresh code of a later step');
});

t.test('wrong sign-ins are counted; the fifth locks the account for 15 minutes', async (t) => {
  const { service, code, clock, db } = await setup(t);
  const a = await service.create({ name: 'Tran Van Cuong', role: 'staff', withTouchscreen: true, pin: PIN }, ADMIN);
  const secret = a.totpSecret!;
  const failures = async () => Number((await db.query('SELECT pin_failures FROM accounts WHERE id = $1', [a.id])).rows[0].pin_failures);

  await t.rejects(service.signIn({ name: 'Tran Van Cuong', pin: '849301', totp: await code(secret) }), { code: 'SIGN_IN_FAILED' });
  t.equal(await failures(), 1, 'a wrong PIN is counted');
  const wrongCode = service.signIn({ name: 'Tran Van Cuong', pin: PIN, totp: (await code(secret)) === '000000' ? '111111' : '000000' });
  await t.rejects(wrongCode, { code: 'SIGN_IN_FAILED' });
  t.equal(await failures(), 2, 'a wrong code is counted');
  const messages = new Set<string>();
  for (const attempt of [
    service.signIn({ name: 'Tran Van Cuong', pin: '849301', totp: await code(secret) }).catch((e) => e.message),
    service.signIn({ name: 'Tran Van Cuong', pin: PIN, totp: '000001' }).catch((e) => e.message),
  ])
    messages.add(await attempt);
  t.equal(messages.size, 1, 'the answer does not say which factor was wrong');
  t.equal(await failures(), 4);

  await t.rejects(
    service.signIn({ name: 'Tran Van Cuong', pin: '849301', totp: await code(secret) }),
    { code: 'SIGN_IN_LOCKED', status: 429, details: { retryAfterSec: 900 } },
    'the fifth locks',
  );
  await t.rejects(
    service.signIn({ name: 'Tran Van Cuong', pin: PIN, totp: await code(secret) }),
    { code: 'SIGN_IN_LOCKED', details: { retryAfterSec: 900 } },
    'even the right PIN and code wait',
  );
  t.ok((await service.list())[0].lockedUntil, 'the admin list shows the lock');
  clock.advance(10 * 60_000);
  await t.rejects(service.signIn({ name: 'Tran Van Cuong', pin: PIN, totp: await code(secret) }), {
    code: 'SIGN_IN_LOCKED',
    details: { retryAfterSec: 300 },
  });
  clock.advance(5 * 60_000);
  t.ok(await service.signIn({ name: 'Tran Van Cuong', pin: PIN, totp: await code(secret) }), 'after 15 minutes the right factors work');
  t.equal(await failures(), 0, 'and clear the count');
  t.equal((await service.list())[0].lockedUntil, null);
});

t.test('attempts made at the same time cannot get past the limit', async (t) => {
  const { service, code } = await setup(t);
  const a = await service.create({ name: 'Pham Thi Dung', role: 'staff', withTouchscreen: true, pin: PIN }, ADMIN);
  const totp = await code(a.totpSecret!);
  const outcomes = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      service.signIn({ name: 'Pham Thi Dung', pin: String(500000 + i * 7919), totp }).then(
        () => 'ok',
        (e) => e.code,
      ),
    ),
  );
  t.notOk(outcomes.includes('ok'));
  t.ok(outcomes.includes('SIGN_IN_LOCKED'), `locked: ${outcomes.join(' ')}`);
  await t.rejects(service.signIn({ name: 'Pham Thi Dung', pin: PIN, totp }), { code: 'SIGN_IN_LOCKED' });
});

t.test('a session ends after 12 hours and at sign-out; a permanent token is not signed out', async (t) => {
  const { service, code, clock } = await setup(t);
  const a = await service.create({ name: 'Vo Minh Em', role: 'staff', withTouchscreen: true, pin: PIN }, ADMIN);
  const s = await service.signIn({ name: 'Vo Minh Em', pin: PIN, totp: await code(a.totpSecret!) });
  clock.advance(12 * 3_600_000 - 1_000);
  t.ok(await service.findByToken(s.token), 'valid a second before the end');
  clock.advance(1_000);
  t.equal(await service.findByToken(s.token), null, 'expired after 12 hours');
  t.ok(await service.findByToken(a.token), 'the permanent token is not a session');

  const s2 = await service.signIn({ name: 'Vo Minh Em', pin: PIN, totp: await code(a.totpSecret!) });
  t.equal(await service.signOut(s2.token), true);
  t.equal(await service.findByToken(s2.token), null, 'signed out');
  t.equal(await service.signOut(s2.token), false, 'twice is a no-op');
  t.equal(await service.signOut(a.token), false, 'a permanent token is not a session');
  t.ok(await service.findByToken(a.token), 'and keeps working');
});

t.test('a disabled account: its token, its sessions and its sign-in are refused', async (t) => {
  const { service, code } = await setup(t);
  const a = await service.create({ name: 'Hoang Van Phuc', role: 'staff', withTouchscreen: true, pin: PIN }, ADMIN);
  const s = await service.signIn({ name: 'Hoang Van Phuc', pin: PIN, totp: await code(a.totpSecret!, -30) });
  const disabled = await service.disable(a.id, ADMIN);
  t.equal(disabled.sessionsRevoked, 1);
  t.ok(disabled.disabledAt);
  t.equal(await service.findByToken(a.token), null, 'permanent token refused');
  t.equal(await service.findByToken(s.token), null, 'session refused');
  await t.rejects(service.signIn({ name: 'Hoang Van Phuc', pin: PIN, totp: await code(a.totpSecret!) }), { code: 'SIGN_IN_FAILED' });
  await t.rejects(service.signIn({ accountId: a.id, pin: PIN, totp: await code(a.totpSecret!) }), { code: 'SIGN_IN_FAILED' });
  t.match(await service.disable(a.id, ADMIN), { id: a.id, sessionsRevoked: 0 }, 'disabling twice is harmless');
  await t.rejects(service.rotateToken(a.id, ADMIN), { code: 'ACCOUNT_DISABLED' });
  await t.rejects(service.disable(9999, ADMIN), { code: 'ACCOUNT_NOT_FOUND' });
  await t.rejects(service.rotateToken(9999, ADMIN), { code: 'ACCOUNT_NOT_FOUND' });

  const again = await service.create({ name: 'Hoang Van Phuc', role: 'staff', withTouchscreen: true, pin: '580317' }, ADMIN);
  t.not(again.id, a.id, 'the name is free again once the account is disabled');
});

t.test('rotating a token: the old one stops, the new one works, sessions stay', async (t) => {
  const { service, code } = await setup(t);
  const a = await service.create({ name: 'Dang Thi Giang', role: 'admin', withTouchscreen: true, pin: PIN }, ADMIN);
  const s = await service.signIn({ name: 'Dang Thi Giang', pin: PIN, totp: await code(a.totpSecret!) });
  const rotated = await service.rotateToken(a.id, ADMIN);
  t.not(rotated.token, a.token);
  t.equal(await service.findByToken(a.token), null);
  t.same(await service.findByToken(rotated.token), { id: a.id, name: 'Dang Thi Giang', role: 'admin' });
  t.ok(await service.findByToken(s.token));
});

t.test('accounts without the touchscreen, names and bad input', async (t) => {
  const { service } = await setup(t);
  const plain = await service.create({ name: 'Dashboard', role: 'admin', withTouchscreen: false }, ADMIN);
  t.equal(plain.totpUri, undefined);
  t.equal(plain.totpSecret, undefined);
  await t.rejects(service.signIn({ name: 'Dashboard', pin: PIN, totp: '123456' }), { code: 'SIGN_IN_FAILED' }, 'no touchscreen sign-in');
  await t.rejects(
    service.signIn({ name: 'Nobody', pin: PIN, totp: '123456' }),
    { code: 'SIGN_IN_FAILED' },
    'unknown name: the same answer',
  );
  await t.rejects(service.create({ name: 'dashboard', role: 'staff', withTouchscreen: false }, ADMIN), { code: 'ACCOUNT_NAME_TAKEN' });
  await t.rejects(
    service.create({ name: 'X', role: 'staff', withTouchscreen: true }, ADMIN),
    { code: 'VALIDATION_FAILED' },
    'touchscreen needs a PIN',
  );
  await t.rejects(
    service.create({ name: 'X', role: 'staff', withTouchscreen: false, pin: PIN }, ADMIN),
    { code: 'VALIDATION_FAILED' },
    'a PIN without touchscreen',
  );
  await t.rejects(service.create({ name: 'X', role: 'staff', withTouchscreen: true, pin: '12345' }, ADMIN), { code: 'VALIDATION_FAILED' });
  await t.rejects(service.create({ name: '<script>', role: 'staff', withTouchscreen: false }, ADMIN), { code: 'VALIDATION_FAILED' });
  await t.rejects(service.create({ name: '   ', role: 'staff', withTouchscreen: false }, ADMIN), { code: 'VALIDATION_FAILED' });
});

t.test('trivial PINs are refused', async (t) => {
  const { service } = await setup(t);
  for (const pin of [
    '000000',
    '111111',
    '99999999',
    '123456',
    '234567',
    '12345678',
    '654321',
    '987654',
    '890123',
    '210987',
    '121212',
    '123123',
    '12341234',
    '909090',
  ]) {
    t.ok(pinWeakness(pin), `${pin} is weak`);
    await t.rejects(
      service.create({ name: `Officer ${pin}`, role: 'staff', withTouchscreen: true, pin }, ADMIN),
      { code: 'PIN_TOO_WEAK', status: 400 },
      pin,
    );
  }
  for (const pin of ['274930', '580317', '1357924', '19750412']) t.equal(pinWeakness(pin), null, `${pin} is fine`);
});

t.test('every action is audited with actor and time, and no secret reaches the audit log or the database in clear', async (t) => {
  const { service, code, db, clock } = await setup(t);
  const a = await service.create({ name: 'Bui Van Hai', role: 'staff', withTouchscreen: true, pin: PIN }, ADMIN);
  const totp = await code(a.totpSecret!);
  const s = await service.signIn({ name: 'Bui Van Hai', pin: PIN, totp });
  await t.rejects(service.signIn({ name: 'Bui Van Hai', pin: '849301', totp }));
  await t.rejects(service.signIn({ name: 'no one', pin: '849301', totp }));
  await service.signOut(s.token);
  const rotated = await service.rotateToken(a.id, ADMIN);
  await service.disable(a.id, ADMIN);

  const { rows } = await db.query('SELECT at, actor, action, subject, details FROM audit_log ORDER BY id');
  t.same(
    rows.map((r: any) => r.action),
    [
      'staff.created',
      'staff.signed_in',
      'staff.sign_in_failed',
      'staff.sign_in_failed',
      'staff.signed_out',
      'staff.token_rotated',
      'staff.disabled',
    ],
  );
  t.ok(
    rows.every((r: any) => r.actor && r.at.getTime() === clock.ms),
    'each with an actor and the clock time',
  );
  t.match(rows[0], { actor: ADMIN, subject: `account:${a.id}`, details: { role: 'staff', touchscreen: true } });
  t.match(rows[1], { actor: `staff:${a.id}:Bui Van Hai` });

  const auditText = JSON.stringify(rows);
  const accountsText = JSON.stringify((await db.query('SELECT * FROM accounts')).rows);
  const sessionsText = JSON.stringify((await db.query('SELECT * FROM sessions')).rows);
  for (const [what, secret] of [
    ['PIN', PIN],
    ['TOTP secret', a.totpSecret!],
    ['TOTP code', totp],
    ['account token', a.token],
    ['rotated token', rotated.token],
    ['session token', s.token],
  ]) {
    t.notOk(auditText.includes(secret), `no ${what} in the audit log`);
    if (what === 'TOTP code') continue; // six digits: too short to look for among hashes and ids
    t.notOk(accountsText.includes(secret), `no ${what} in the accounts table`);
    t.notOk(sessionsText.includes(secret), `no ${what} in the sessions table`);
  }
  const row = (await db.query('SELECT pin_hash, totp_secret_enc FROM accounts WHERE id = $1', [a.id])).rows[0];
  t.match(row.pin_hash, /^scrypt\$15\$8\$1\$/);
  t.match(row.totp_secret_enc, /^v1\./);
});

t.test('demo accounts: made and accepted only when the driver is the simulator', async (t) => {
  const { db, clock, serviceWith } = await setup(t);
  const simulator = serviceWith({ demoAccounts: true });
  const real = serviceWith({ demoAccounts: false });
  const token = await simulator.createDemo('admin');
  const found = await simulator.findByToken(token);
  t.match(found, { name: 'demo admin (simulator)', role: 'admin' }, 'with the simulator');
  t.same(Object.keys(found!).sort(), ['id', 'name', 'role'], 'the flag stays in the store');
  t.equal(await real.findByToken(token), null, 'refused with any other driver');
  await t.rejects(real.createDemo('staff'), { code: 'NOT_FOUND' }, 'and none is made');
  const { rows } = await db.query(`SELECT role, demo, created_at FROM accounts WHERE demo`);
  t.same(rows, [{ role: 'admin', demo: true, created_at: clock.now() }], 'one demo account, marked');
  const rotated = await simulator.rotateToken(found!.id, ADMIN);
  t.equal(await real.findByToken(rotated.token), null, 'a rotated token is still a demo account’s');
});

t.test('an account seeded from the environment that an admin disabled stays disabled', async (t) => {
  const { db, accounts, service } = await setup(t);
  const token = 'seeded-staff-token-0000000000000';
  const seeded = await accounts.seed(db, 'staff (ATM247_STAFF_TOKEN)', 'staff', token);
  t.equal(seeded.disabled, false);
  t.same(await accounts.seed(db, 'staff (ATM247_STAFF_TOKEN)', 'staff', token), seeded, 'seeding again changes nothing');
  await service.disable(seeded.id, ADMIN);
  const again = await accounts.seed(db, 'staff (ATM247_STAFF_TOKEN)', 'staff', token);
  t.same(again, { ...seeded, disabled: true }, 'the seed says it is disabled, and leaves it so');
  t.equal(await service.findByToken(token), null, 'its token is refused');
  const fresh = await accounts.seed(db, 'staff (ATM247_STAFF_TOKEN)', 'staff', 'seeded-staff-token-1111111111111');
  t.not(fresh.id, seeded.id, 'a new value of the variable seeds a new account');
  t.equal(fresh.disabled, false);
  t.ok(await service.findByToken('seeded-staff-token-1111111111111'));
});
