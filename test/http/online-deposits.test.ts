import t from 'tap';
import { formatDossierCode, newDossierCode } from '../../src/domain/dossier-code.js';
import { MANY_REQUESTS, outboxEvents, startTestLocker } from '../helpers/controller.js';
import { codeFor, door, inbox } from '../helpers/citizens.js';
import { testSubscriber, until } from '../helpers/mqtt.js';
import { dbKind } from '../helpers/db.js';

/** A number the city's online system gives (ADR 0029). */
const NUMBER = '000.00.22.H29-251120-0042';
const NUMBER_PATH = `/api/dossiers/${encodeURIComponent(NUMBER)}`;

type Locker = Awaited<ReturnType<typeof startTestLocker>>;

/** The code request and the code check of a deposit; the verify answer. */
async function deposit(locker: Locker, phone: string, body: Record<string, unknown>, after = 0) {
  const start = await locker.anonymous.post('/api/deposits', { phone, ...body });
  if (start.statusCode !== 202) throw new Error(`deposit start: ${start.statusCode} ${start.body}`);
  return locker.anonymous.post(`/api/deposits/${start.json().challengeId}/verify`, { otp: await codeFor(locker, phone, after) });
}

async function depositedStatus(locker: Locker, depositId: string) {
  return until(
    async () => {
      const d = (await locker.anonymous.get(`/api/deposits/${depositId}`)).json();
      return d.status === 'deposited' ? d : null;
    },
    'deposited',
    3_000,
  );
}

t.test(`a dossier filed online: deposited under its number, on the manifest, collected, its result picked up (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const sub = await testSubscriber(t, locker.mqttUrl, `${locker.base}/rounds/next`);

  // The catalogue's entry for it is not a procedure to choose; asked for, it gives the tile's tray size.
  const listed = (await locker.anonymous.get('/api/procedures?deposit=true')).json();
  t.notOk(
    listed.some((p: any) => p.code === 'TRUC-TUYEN' || p.online),
    'not among the procedures',
  );
  const online = await locker.anonymous.get('/api/procedures?online=true');
  t.equal(online.statusCode, 200);
  t.match(online.json(), [{ code: 'TRUC-TUYEN', deposit: true, result: false, fee: 0, traySize: 'M', online: true }]);
  t.equal(online.json().length, 1);

  // Start → code → the tray opens: the dossier is recorded under the online number, unchanged.
  const verify = await deposit(locker, '0912 555 010', { onlineNumber: NUMBER });
  t.equal(verify.statusCode, 200, verify.body);
  const { depositId, dossierCode, tray, payment } = verify.json();
  t.equal(dossierCode, NUMBER, 'the verify answer names the online number unchanged');
  t.equal(payment, undefined, 'no fee at the machine: paid online');
  t.match((await locker.staff.get(`/api/trays/${tray}`)).json(), { size: 'M', state: 'reserved' });
  const stored = await locker.controller.database.query(`SELECT code, procedure_code, status FROM dossiers WHERE id = $1`, [depositId]);
  t.same(stored.rows, [{ code: NUMBER, procedure_code: 'TRUC-TUYEN', status: 'tray_open' }], "the dossier's code is the number");
  t.match(await outboxEvents(locker, 'deposit.opened'), [{ data: { depositId, dossierCode: NUMBER, tray, procedureCode: 'TRUC-TUYEN' } }]);

  // Through the simulated cabinet: the door opened and closed on it.
  await door(locker, tray, true);
  await door(locker, tray, false);
  const view = await depositedStatus(locker, depositId);
  t.match(view, { dossierCode: NUMBER, procedureCode: 'TRUC-TUYEN', tray });
  t.notOk(view.payment, 'no payment');
  const receipt = await until(async () => (await inbox(locker, '0912555010')).find((m) => m.kind === 'deposit_receipt'), 'receipt SMS');
  t.ok(receipt.text.includes(` ${NUMBER} `), `the receipt SMS carries the number unchanged: ${receipt.text}`);
  t.ok(receipt.text.length <= 160, 'one SMS segment');

  // Found by its number at the lookup.
  const lookup = await locker.anonymous.get(NUMBER_PATH);
  t.equal(lookup.statusCode, 200, lookup.body);
  t.match(lookup.json(), { dossierCode: NUMBER, kind: 'deposit', status: 'deposited', procedureCode: 'TRUC-TUYEN' });

  // The same number while it is in the machine: refused before any SMS.
  const again = await locker.anonymous.post('/api/deposits', { phone: '0912555011', onlineNumber: NUMBER.toLowerCase() });
  t.equal(again.statusCode, 409, again.body);
  t.equal(again.json().error.code, 'DOSSIER_ALREADY_DEPOSITED');
  t.same(await inbox(locker, '0912555011'), [], 'no code was sent');

  // On the manifest (the API and the retained topic), marked as filed online.
  const manifest = (await locker.staff.get('/api/staff/rounds/next')).json();
  t.match(manifest.collect, [{ tray, dossierCode: NUMBER, procedureCode: 'TRUC-TUYEN', status: 'pending', online: true }]);
  t.notOk('fee' in manifest.collect[0], 'no fee to take at the counter');
  await locker.controller.rounds.publish();
  const retained = JSON.parse(
    (await sub.waitFor(`${locker.base}/rounds/next`, (p) => JSON.parse(p).collect.some((i: any) => i.dossierCode === NUMBER))).payload,
  );
  t.match(
    retained.collect.find((i: any) => i.tray === tray),
    { dossierCode: NUMBER, online: true },
  );

  // The officer's round: the tray opens, the dossier is taken.
  const roundId = manifest.round.id;
  const started = await locker.staff.post(`/api/staff/rounds/${roundId}/start`, {});
  t.equal(started.statusCode, 200, started.body);
  await door(locker, tray, true);
  await door(locker, tray, false);
  const collected = await locker.staff.post(`/api/staff/rounds/${roundId}/items/${tray}`, { outcome: 'collected' });
  t.equal(collected.statusCode, 200, collected.body);
  t.equal((await locker.anonymous.get(NUMBER_PATH)).json().status, 'collected');

  // Collected, the number may come again (more papers asked for by the department).
  const more = await deposit(locker, '0912555011', { onlineNumber: NUMBER });
  t.equal(more.statusCode, 200, more.body);
  t.equal(more.json().dossierCode, NUMBER);
  await door(locker, more.json().tray, true);
  await door(locker, more.json().tray, false);
  await depositedStatus(locker, more.json().depositId);
  t.match((await locker.anonymous.get(NUMBER_PATH)).json(), { status: 'deposited', kind: 'deposit' }, 'the lookup tells of the newest');

  // The result comes back under the number: loaded and picked up like any other.
  const loaded = await locker.staff.post('/api/staff/results', { dossierCode: NUMBER, phone: '0912555010', procedureCode: 'CT-BS' });
  t.equal(loaded.statusCode, 201, loaded.body);
  t.equal(loaded.json().dossierCode, NUMBER);
  const resultTray = loaded.json().tray;
  await door(locker, resultTray, true);
  await door(locker, resultTray, false);
  const ready = await until(async () => (await inbox(locker, '0912555010')).find((m) => m.kind === 'result_ready'), 'result_ready SMS');
  t.ok(ready.text.includes(NUMBER), `the result text names the number: ${ready.text}`);
  const pickup = (await locker.anonymous.post('/api/pickups', { phone: '0912555010' })).json();
  const opened = await locker.anonymous.post(`/api/pickups/${pickup.challengeId}/verify`, { otp: await codeFor(locker, '0912555010', 1) });
  t.equal(opened.statusCode, 200, opened.body);
  t.same(opened.json().trays, [resultTray]);
  t.match(opened.json().results, [{ dossierCode: NUMBER, tray: resultTray }]);
  await door(locker, resultTray, true);
  await door(locker, resultTray, false);
  const resultId = opened.json().results[0].resultId;
  await until(async () => (await locker.anonymous.get(`/api/pickups/results/${resultId}`)).json().status === 'picked_up', 'picked up');
  t.match((await locker.anonymous.get(NUMBER_PATH)).json(), { kind: 'result', status: 'picked_up', dossierCode: NUMBER });
});

t.test('the number is recorded as the lookup takes it: trimmed and upper-cased, otherwise unchanged', async (t) => {
  const locker = await startTestLocker(t);
  const verify = await deposit(locker, '0912555020', { onlineNumber: ' 000.00.22.h29-251120-0099 ' });
  t.equal(verify.statusCode, 200, verify.body);
  t.equal(verify.json().dossierCode, '000.00.22.H29-251120-0099');
  const lookup = await locker.anonymous.get('/api/dossiers/000.00.22.h29-251120-0099');
  t.match(lookup.json(), { dossierCode: '000.00.22.H29-251120-0099', status: 'tray_open' }, 'found as the lookup takes it');
});

t.test('a result waiting under a number is what its lookup tells, even with papers deposited under it after', async (t) => {
  const locker = await startTestLocker(t);
  const number = '000.00.22.H29-251120-0077';
  const loaded = await locker.staff.post('/api/staff/results', { dossierCode: number, phone: '0912555060', procedureCode: 'CT-BS' });
  t.equal(loaded.statusCode, 201, loaded.body);
  await door(locker, loaded.json().tray, true);
  await door(locker, loaded.json().tray, false);
  await until(async () => (await inbox(locker, '0912555060')).find((m) => m.kind === 'result_ready'), 'result_ready SMS');
  const more = await deposit(locker, '0912555061', { onlineNumber: number });
  t.equal(more.statusCode, 200, more.body);
  await door(locker, more.json().tray, true);
  await door(locker, more.json().tray, false);
  await depositedStatus(locker, more.json().depositId);
  t.match(
    (await locker.anonymous.get(`/api/dossiers/${encodeURIComponent(number)}`)).json(),
    { kind: 'result', status: 'notified', dossierCode: number },
    'the result ready to collect, not the newer deposit',
  );
});

t.test('two citizens with the same number before either checks a code: the second is refused at its code check', async (t) => {
  const locker = await startTestLocker(t);
  const first = (await locker.anonymous.post('/api/deposits', { phone: '0912555030', onlineNumber: NUMBER })).json();
  const second = (await locker.anonymous.post('/api/deposits', { phone: '0912555031', onlineNumber: NUMBER })).json();
  // Both codes checked at once: one wins the number (the unique index decides a tie), the other is told.
  const [otp1, otp2] = [await codeFor(locker, '0912555030'), await codeFor(locker, '0912555031')];
  const answers = await Promise.all([
    locker.anonymous.post(`/api/deposits/${first.challengeId}/verify`, { otp: otp1 }),
    locker.anonymous.post(`/api/deposits/${second.challengeId}/verify`, { otp: otp2 }),
  ]);
  t.same(answers.map((a) => a.statusCode).sort(), [200, 409], answers.map((a) => a.body).join(' / '));
  const ok = answers.find((a) => a.statusCode === 200)!;
  const refused = answers.find((a) => a.statusCode === 409)!;
  t.equal(refused.json().error.code, 'DOSSIER_ALREADY_DEPOSITED');
  const { rows } = await locker.controller.database.query(`SELECT count(*)::int AS n FROM dossiers WHERE code = $1`, [NUMBER]);
  t.equal(rows[0].n, 1, 'one dossier under the number');
  t.equal((await locker.staff.get('/api/trays')).json().filter((tr: any) => tr.state === 'reserved').length, 1, 'one tray held');

  // A cancelled deposit does not hold the number: the door never opened, the tray locks again.
  locker.controller.clock.advance(61_000);
  await locker.controller.flowTimers.tick();
  t.equal((await locker.anonymous.get(`/api/deposits/${ok.json().depositId}`)).json().status, 'cancelled');
  const retry = await deposit(locker, '0912555032', { onlineNumber: NUMBER });
  t.equal(retry.statusCode, 200, retry.body);
  t.equal(retry.json().dossierCode, NUMBER);
});

t.test('bad requests: a clear 400 with a stable code, and no SMS', async (t) => {
  // More requests than a kiosk makes in a minute: the per-address count is not under test here.
  const locker = await startTestLocker(t, { http: { rateLimits: MANY_REQUESTS } });
  const phone = '0912555040';
  const own = formatDossierCode(newDossierCode());
  const cases: [string, Record<string, unknown>, string][] = [
    ['too short', { onlineNumber: '12.34' }, 'DOSSIER_CODE_INVALID'],
    ['too few digits', { onlineNumber: 'ABC.DEF-GH1' }, 'DOSSIER_CODE_INVALID'],
    ['a space inside', { onlineNumber: '000.00.22 H29-251120-0042' }, 'DOSSIER_CODE_INVALID'],
    ['too long', { onlineNumber: `000.${'1'.repeat(40)}` }, 'DOSSIER_CODE_INVALID'],
    ['our code with a typo', { onlineNumber: 'ABCD-12345' }, 'DOSSIER_CODE_INVALID'],
    ['our own code', { onlineNumber: own }, 'ONLINE_NUMBER_EXPECTED'],
    ['our own code without its dash', { onlineNumber: own.replace('-', '').toLowerCase() }, 'ONLINE_NUMBER_EXPECTED'],
    ['both', { onlineNumber: NUMBER, procedureCode: 'HT-KS' }, 'VALIDATION_FAILED'],
    ['neither', {}, 'VALIDATION_FAILED'],
    ['the online entry chosen as a procedure', { procedureCode: 'TRUC-TUYEN' }, 'VALIDATION_FAILED'],
    ['not text', { onlineNumber: 42 }, 'VALIDATION_FAILED'],
    ['a control character', { onlineNumber: `${NUMBER}\u0007` }, 'VALIDATION_FAILED'],
  ];
  for (const [name, body, code] of cases) {
    const res = await locker.anonymous.post('/api/deposits', { phone, ...body });
    t.equal(res.statusCode, 400, `${name}: ${res.body}`);
    t.equal(res.json().error?.code, code, name);
    t.ok(res.json().error?.message, `${name}: says why`);
  }
  const expected = (await locker.anonymous.post('/api/deposits', { phone, onlineNumber: own })).json().error.message;
  t.match(expected, /online system's number/, 'our own code: the answer says an online number is expected');
  t.same(await inbox(locker, phone), [], 'no code was sent for any of them');

  // The procedure deposits keep their contract.
  const ordinary = await locker.anonymous.post('/api/deposits', { phone, procedureCode: 'ht-ks' });
  t.equal(ordinary.statusCode, 202, ordinary.body);
});
