import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { startTestLocker } from '../helpers/controller.js';
import { codeFor, depositProcedure, door } from '../helpers/citizens.js';
import { dbKind } from '../helpers/db.js';
import { brokerKind, testSubscriber, until } from '../helpers/mqtt.js';

const run = promisify(execFile);

/** `npm run audit:verify` on the locker's database: exit status and what it printed. */
async function verifyCli(databaseUrl: string, lockerId: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'src/store/audit-verify-cli.ts', ...args], {
      env: { ...process.env, DATABASE_URL: databaseUrl, LOCKER_ID: lockerId, LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (err: any) {
    if (typeof err.code !== 'number') throw err;
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

t.test(`the audit chain on a running locker (${dbKind}, ${brokerKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const db = locker.controller.database;
  const headTopic = `${locker.base}/audit/head`;
  const sub = await testSubscriber(t, locker.mqttUrl, headTopic);

  // The head is published at start, retained: a subscriber that comes after it gets it from the
  // broker (the first one may have subscribed before the start published it, and got it live).
  const first = await sub.waitFor(headTopic);
  const late = await testSubscriber(t, locker.mqttUrl, headTopic);
  t.equal((await late.waitFor(headTopic)).retain, true, 'retained');
  t.match(JSON.parse(first.payload), { seq: Number, hash: /^[0-9a-f]{64}$/, at: String });

  // A deposit, from the code to the closed door.
  const procedureCode = await depositProcedure(locker);
  const start = (await locker.anonymous.post('/api/deposits', { phone: '0912 345 678', procedureCode })).json();
  const verified = await locker.anonymous.post(`/api/deposits/${start.challengeId}/verify`, { otp: await codeFor(locker, '0912345678') });
  t.equal(verified.statusCode, 200, verified.body);
  const { tray, depositId } = verified.json();
  await door(locker, tray, true);
  await door(locker, tray, false);
  await until(async () => (await locker.anonymous.get(`/api/deposits/${depositId}`)).json().status === 'deposited', 'deposited');

  // Twenty admin actions at once, each in a transaction that locks its tray row.
  const trays = Array.from({ length: 20 }, (_, i) => i + 60);
  const answers = await Promise.all(trays.map((n) => locker.admin.post(`/api/admin/trays/${n}/out-of-service`, { reason: `hinge ${n}` })));
  t.same(
    answers.map((a) => a.statusCode),
    trays.map(() => 200),
    'all twenty taken out of service',
  );

  const res = await locker.admin.get('/api/admin/audit/verify');
  t.equal(res.statusCode, 200, res.body);
  const verdict = res.json();
  const { rows } = await db.query(`SELECT id, seq, hash, action FROM audit_log WHERE locker_id = $1 ORDER BY seq`, [locker.lockerId]);
  t.ok(
    rows.some((r: any) => r.action === 'tray.open'),
    'the deposit was audited',
  );
  t.equal(rows.filter((r: any) => r.action === 'tray.out_of_service').length, 20);
  t.same(verdict, {
    lockerId: locker.lockerId,
    ok: true,
    rows: rows.length,
    head: { seq: rows.length, id: Number(rows.at(-1).id), hash: rows.at(-1).hash },
    broken: null,
  });
  t.equal((await locker.staff.get('/api/admin/audit/verify')).statusCode, 403, 'admins only');
  t.equal((await locker.anonymous.get('/api/admin/audit/verify')).statusCode, 401);
  t.equal((await locker.admin.get('/api/admin/audit/verify?head=12')).statusCode, 400, 'a head is <seq>:<hash>');

  // The timer's publication: the head as it is now.
  const published = await locker.controller.auditTrail.publishHead();
  t.same(published, verdict.head);
  const latest = await sub.waitFor(headTopic, (p) => JSON.parse(p).seq === rows.length);
  t.match(JSON.parse(latest.payload), { seq: rows.length, id: Number(rows.at(-1).id), hash: rows.at(-1).hash });

  const cli = await verifyCli(locker.databaseUrl, locker.lockerId, '--head', latest.payload);
  t.equal(cli.code, 0, cli.err);
  t.match(cli.out, `${locker.lockerId}: chain intact, ${rows.length} row(s)`);

  // The last row deleted: the chain alone is intact, the published head says otherwise.
  const last = rows.at(-1);
  await db.query(`DELETE FROM audit_log WHERE id = $1`, [last.id]);
  const truncated = (await locker.admin.get('/api/admin/audit/verify')).json();
  t.match(
    truncated,
    { ok: false, broken: { kind: 'missing', id: null, seq: rows.length } },
    'the head published by this process is checked',
  );
  const cliTruncated = await verifyCli(locker.databaseUrl, locker.lockerId, '--head', latest.payload);
  t.equal(cliTruncated.code, 1, 'the command line checks the broker copy given to it');
  t.match(cliTruncated.out, `BROKEN at row - (seq ${rows.length}): missing`);

  // A row edited in the middle: named by both.
  const middle = rows[Math.floor(rows.length / 2)];
  await db.query(`UPDATE audit_log SET subject = 'tray:1' WHERE id = $1`, [middle.id]);
  const edited = (await locker.admin.get(`/api/admin/audit/verify?head=${middle.seq}:${middle.hash}`)).json();
  t.match(edited, { ok: false, rows: Number(middle.seq) - 1, broken: { kind: 'edited', id: Number(middle.id), seq: Number(middle.seq) } });
  const cliEdited = await verifyCli(locker.databaseUrl, locker.lockerId);
  t.equal(cliEdited.code, 1);
  t.match(cliEdited.out, `${locker.lockerId}: BROKEN at row ${middle.id} (seq ${middle.seq}): edited`);
});
