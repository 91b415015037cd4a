/**
 * Personal data that expires (docs/retention.md): when the daily purge runs, and who may see and
 * run it. What it purges: retention.test.ts.
 */
import t from 'tap';
import { startTestLocker, type TestLocker } from '../helpers/controller.js';

const DAY = 86_400_000;

const query = async (locker: TestLocker, sql: string, values: unknown[] = []) => (await locker.controller.database.query(sql, values)).rows;

t.test('the daily purge runs at its local time, not before; a purge missed while stopped runs at the restart', async (t) => {
  const first = await startTestLocker(t);
  await first.controller.retentionTimers.stop();
  const purges = async (locker: TestLocker) =>
    (await query(locker, `SELECT actor, at FROM audit_log WHERE action = 'retention.purged' ORDER BY id`)).map((r: any) => r.actor);
  // With no purge on record, the first is the first 03:00 (local) after the start.
  const next = new Date((await first.staff.get('/api/admin/retention')).json().nextRunAt);
  const started = first.controller.clock.now();
  t.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit' }).format(next), '03:00');
  t.ok(next > new Date(started.getTime() - 60_000) && next.getTime() <= started.getTime() + DAY, `${next.toISOString()} within a day`);
  first.controller.clock.setOffset(next.getTime() - 60_000 - Date.now());
  t.equal(await first.controller.retention.tick(), null, 'a minute before: nothing');
  t.same(await purges(first), []);
  t.equal((await first.staff.get('/api/admin/retention')).json().nextRunAt, next.toISOString());
  first.controller.clock.setOffset(next.getTime() + 1_000 - Date.now());
  t.match(await first.controller.retention.tick(), { actor: 'system' }, 'at 03:00 it runs');
  t.equal(await first.controller.retention.tick(), null, 'once');
  t.same(await purges(first), ['system']);
  const following = new Date(next.getTime() + DAY);
  t.equal((await first.staff.get('/api/admin/retention')).json().nextRunAt, following.toISOString(), 'the next one tomorrow at 03:00');
  await first.controller.stop();

  // Stopped over two nights: the new process purges at its first look.
  const second = await startTestLocker(
    t,
    {},
    {
      reuse: { databaseUrl: first.databaseUrl, lockerId: first.lockerId },
      beforeStart: async (c) => c.clock.setOffset(following.getTime() + DAY + 3_600_000 - Date.now()),
    },
  );
  await second.controller.retentionTimers.stop();
  t.match(await second.controller.retention.tick(), { actor: 'system' }, 'the missed purge runs at once');
  t.same(await purges(second), ['system', 'system']);
});

t.test('the retention routes: staff and admins see it, only an admin runs it', async (t) => {
  const locker = await startTestLocker(t, { retention: { closedDossierDays: 30, runAt: null } });
  await locker.controller.retentionTimers.stop();
  t.equal((await locker.anonymous.get('/api/admin/retention')).statusCode, 401);
  const seen = await locker.staff.get('/api/admin/retention');
  t.equal(seen.statusCode, 200);
  t.match(seen.json(), {
    settings: { closedDossierDays: 30, challengeDays: 1, sentEventDays: 7, runAt: null },
    nextRunAt: String,
    lastRun: null,
  });
  t.equal((await locker.anonymous.post('/api/admin/retention/run')).statusCode, 401);
  const refused = await locker.staff.post('/api/admin/retention/run');
  t.equal(refused.statusCode, 403);
  t.equal(refused.json().error.code, 'FORBIDDEN');
  t.same(
    await query(locker, `SELECT 1 FROM audit_log WHERE action = 'retention.purged'`),
    [],
    'a refused run purges nothing and records nothing',
  );
  t.equal((await locker.admin.post('/api/admin/retention/run')).statusCode, 200);
  t.match((await locker.admin.get('/api/admin/retention')).json(), { lastRun: { actor: /^admin:/ } });
});
