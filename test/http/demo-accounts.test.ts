import t from 'tap';
import pino from 'pino';
import { ADMIN_TOKEN, STAFF_TOKEN, startTestLocker, type TestLocker } from '../helpers/controller.js';
import { dbKind } from '../helpers/db.js';

/** A logger whose warnings and errors the test can read. */
function capturingLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

async function demoToken(locker: TestLocker, role: 'admin' | 'staff'): Promise<string> {
  const res = await locker.anonymous.post('/api/sim/demo-token', { role });
  if (res.statusCode !== 200) throw new Error(`demo token: ${res.body}`);
  return res.json().token;
}

/** The answers a token gets: a staff read, an admin read, an admin tray opening. */
async function answers(locker: TestLocker, token: string) {
  return {
    trays: (await locker.as(token).get('/api/trays/3')).statusCode,
    staffList: (await locker.as(token).get('/api/admin/staff')).statusCode,
    open: (await locker.as(token).post('/api/admin/trays/3/open')).statusCode,
  };
}

t.test(`demo accounts work only with the simulator; a disabled seeded account stays disabled (${dbKind})`, async (t) => {
  const first = await startTestLocker(t);
  const reuse = { databaseUrl: first.databaseUrl, lockerId: first.lockerId };
  const demoAdmin = await demoToken(first, 'admin');
  const demoStaff = await demoToken(first, 'staff');
  t.equal((await first.as(demoAdmin).get('/api/admin/staff')).statusCode, 200, 'a demo admin works with the simulator');
  t.equal((await first.as(demoStaff).get('/api/trays')).statusCode, 200, 'so does a demo officer');
  const { rows: demo } = await first.controller.database.query(`SELECT name, role FROM accounts WHERE demo ORDER BY id`);
  t.same(demo, [
    { name: 'demo admin (simulator)', role: 'admin' },
    { name: 'demo staff (simulator)', role: 'staff' },
  ]);
  const { rows: audited } = await first.controller.database.query(
    `SELECT actor, details FROM audit_log WHERE action = 'staff.demo_created' ORDER BY id`,
  );
  t.match(audited, [
    { actor: 'simulator', details: { role: 'admin' } },
    { actor: 'simulator', details: { role: 'staff' } },
  ]);

  // An admin disables the account seeded from ATM247_STAFF_TOKEN.
  const seeded = (await first.admin.get('/api/admin/staff')).json().find((a: any) => a.name === 'staff (ATM247_STAFF_TOKEN)');
  t.equal((await first.admin.post(`/api/admin/staff/${seeded.id}/disable`)).statusCode, 200);
  t.equal((await first.staff.get('/api/trays')).statusCode, 401, 'its token stops at once');
  await first.controller.stop();

  // The same data directory on the real bus: demo tokens are refused everywhere.
  const { logger, lines } = capturingLogger();
  const real = await startTestLocker(t, { hardware: { driver: 'modbus' } }, { reuse, logger });
  t.same(await answers(real, demoAdmin), { trays: 401, staffList: 401, open: 401 }, 'the demo admin token is refused');
  t.same(await answers(real, demoStaff), { trays: 401, staffList: 401, open: 401 }, 'the demo staff token is refused');
  for (const token of [demoAdmin, demoStaff]) {
    t.equal((await real.anonymous.get(`/api/admin/stream?token=${token}`)).statusCode, 401, 'on the stream too');
  }
  t.equal((await real.anonymous.post('/api/sim/demo-token', { role: 'admin' })).statusCode, 404, 'and no new one can be had');
  t.equal((await real.as(ADMIN_TOKEN).get('/api/admin/staff')).statusCode, 200, 'the seeded admin works');
  t.equal((await real.as(STAFF_TOKEN).get('/api/trays')).statusCode, 401, 'the disabled seeded account stays disabled');
  const listed = (await real.admin.get('/api/admin/staff')).json().find((a: any) => a.id === seeded.id);
  t.type(listed.disabledAt, 'string', 'the list still shows it disabled');
  t.match(
    lines.filter((l) => /seeded from the environment/.test(l.msg)),
    [{ level: 40, account: seeded.id, name: 'staff (ATM247_STAFF_TOKEN)', msg: /disabled by an admin and stays disabled/ }],
    'a warning at start says so',
  );
  t.equal(real.controller.cabinet, undefined, 'no simulator here');
  await real.controller.stop();

  // Back on the simulator, the demo accounts work again; the disabled account does not.
  const again = await startTestLocker(t, {}, { reuse });
  t.same(await answers(again, demoAdmin), { trays: 200, staffList: 200, open: 200 }, 'the demo admin, with the simulator');
  t.equal((await again.as(STAFF_TOKEN).get('/api/trays')).statusCode, 401, 'still disabled');
  await again.controller.stop();
});
