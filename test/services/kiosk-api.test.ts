/** What the kiosk reads besides the flows themselves: free trays per size, the time left to open a tray, result numbers it can find again. */
import t from 'tap';
import { startTestLocker } from '../helpers/controller.js';
import { codeFor, depositProcedure, door } from '../helpers/citizens.js';
import { until } from '../helpers/mqtt.js';
import { dbKind } from '../helpers/db.js';

t.test(`GET /api/trays/free: free deposit trays each size fits, for anyone, no personal data (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const trays = locker.config.hardware.map.trays.filter((x) => x.role !== 'result');
  const fits = (size: 'S' | 'M' | 'L') => trays.filter((x) => 'SML'.indexOf(x.size) >= 'SML'.indexOf(size)).length;
  const res = await locker.anonymous.get('/api/trays/free');
  t.equal(res.statusCode, 200, res.body);
  t.same(res.json(), { deposit: { S: fits('S'), M: fits('M'), L: fits('L') } }, 'a size counts the trays it fits: its own and larger');

  for (const tr of trays.filter((x) => x.size === 'L')) {
    await locker.admin.post(`/api/admin/trays/${tr.number}/out-of-service`, { reason: 'test' });
  }
  const after = (await locker.anonymous.get('/api/trays/free')).json();
  t.equal(after.deposit.L, 0, 'no large tray free');
  t.equal(after.deposit.M, fits('M') - fits('L'), 'medium ones still');

  // What a deposit of a size with none free would answer, the list says first.
  const large = (await locker.anonymous.get('/api/procedures?deposit=true')).json().find((p: any) => p.traySize === 'L');
  const refused = await locker.anonymous.post('/api/deposits', { phone: '0912 345 600', procedureCode: large.code });
  t.equal(refused.json().error.code, 'TRAY_UNAVAILABLE');
});

t.test(`a deposit's open tray: the answer and the deposit say until when its door may open (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const timeoutMs = locker.config.citizens.doorOpenTimeoutSec * 1000;
  const procedureCode = await depositProcedure(locker);
  const { challengeId } = (await locker.anonymous.post('/api/deposits', { phone: '0912 345 601', procedureCode })).json();
  const before = Date.now();
  const verify = await locker.anonymous.post(`/api/deposits/${challengeId}/verify`, { otp: await codeFor(locker, '0912345601') });
  t.equal(verify.statusCode, 200, verify.body);
  const { depositId, tray, openBy } = verify.json();
  t.ok(openBy, 'the verify answer carries openBy');
  const left = Date.parse(openBy) - before;
  t.ok(left > timeoutMs - 5_000 && left <= timeoutMs + 1_000, `about ${timeoutMs / 1000} s from now (${left} ms)`);
  const view = (await locker.anonymous.get(`/api/deposits/${depositId}`)).json();
  t.equal(view.openBy, openBy, 'the deposit says the same while its door has not opened');

  await door(locker, tray, true);
  await until(async () => (await locker.anonymous.get(`/api/deposits/${depositId}`)).json().openBy === null, 'no deadline once open');
  await door(locker, tray, false);
  const done = await until(async () => {
    const d = (await locker.anonymous.get(`/api/deposits/${depositId}`)).json();
    return d.status === 'deposited' ? d : null;
  }, 'deposited');
  t.equal(done.openBy, null);
});

t.test(`a result number the kiosk could not find again is refused at loading (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const refused = await locker.staff.post('/api/staff/results', {
    dossierCode: 'ABCD-12345',
    phone: '0903 000 000',
    procedureCode: 'CT-BS',
  });
  t.equal(refused.statusCode, 400, refused.body);
  t.equal(refused.json().error.code, 'DOSSIER_CODE_INVALID', 'shaped like our code, with a wrong check character');
  const batch = await locker.staff.post('/api/staff/results/batch', {
    items: [
      { dossierCode: 'HCM 2025 0009', phone: '0903 000 001', procedureCode: 'CT-BS' },
      { dossierCode: '000.00.22.H29-251120-0042', phone: '0903 000 002', procedureCode: 'CT-BS' },
    ],
  });
  t.match(batch.json(), {
    results: [
      { ok: false, error: { code: 'DOSSIER_CODE_INVALID' } },
      { ok: true, dossierCode: '000.00.22.H29-251120-0042' },
    ],
  });
});

t.test(`a pickup is followed by its results' ids, not by lookups by code (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const loaded = (
    await locker.staff.post('/api/staff/results', { dossierCode: 'HCM-2025-000901', phone: '0903 000 003', procedureCode: 'CT-BS' })
  ).json();
  await door(locker, loaded.tray, true);
  await door(locker, loaded.tray, false);
  await until(async () => (await locker.anonymous.get(`/api/pickups/results/${loaded.resultId}`)).json().status === 'notified', 'notified');

  const { challengeId } = (await locker.anonymous.post('/api/pickups', { phone: '0903000003' })).json();
  const opened = (await locker.anonymous.post(`/api/pickups/${challengeId}/verify`, { otp: await codeFor(locker, '0903000003') })).json();
  t.same(opened.results, [{ resultId: loaded.resultId, dossierCode: 'HCM-2025-000901', tray: loaded.tray }]);
  const before = (await locker.anonymous.get(`/api/pickups/results/${loaded.resultId}`)).json();
  t.same(before, { resultId: loaded.resultId, dossierCode: 'HCM-2025-000901', status: 'notified' }, 'its code and status, nothing else');
  await door(locker, loaded.tray, true);
  await door(locker, loaded.tray, false);
  await until(
    async () => (await locker.anonymous.get(`/api/pickups/results/${loaded.resultId}`)).json().status === 'picked_up',
    'picked up',
  );

  const unknown = await locker.anonymous.get('/api/pickups/results/00000000-0000-4000-8000-000000000000');
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().error.code, 'DOSSIER_NOT_FOUND');
  t.equal((await locker.anonymous.get('/api/pickups/results/HCM-2025-000901')).statusCode, 400, 'an id, not a code');
});
