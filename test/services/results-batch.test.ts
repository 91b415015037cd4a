/**
 * Loading an armful of results (POST /api/staff/results/batch): every item is answered for itself,
 * a malformed one included, and a batch of good items keeps the answer it always had.
 */
import t from 'tap';
import { startTestLocker } from '../helpers/controller.js';

const item = (n: number, over: Record<string, unknown> = {}) => ({
  dossierCode: `HCM-2025-000${300 + n}`,
  phone: `0903000${String(n).padStart(3, '0')}`,
  procedureCode: 'CT-BS',
  ...over,
});

t.test('a batch with malformed items loads the good ones and refuses each bad one with a stable code', async (t) => {
  const locker = await startTestLocker(t);
  const res = await locker.staff.post('/api/staff/results/batch', {
    items: [
      item(1),
      item(2, { dossierCode: 'x' }), // too short for a dossier code
      { dossierCode: 'HCM-2025-000303', procedureCode: 'CT-BS' }, // no phone
      'HCM-2025-000304', // not an item at all
      item(5, { phone: '0903\u0000005' }), // a control character
      item(6, { procedureCode: 'NOPE' }), // well formed, not in the catalogue
      item(7, { phone: '+1 202 555 0143' }), // not a Vietnamese mobile
      item(8, { procedureCode: 'ct-bs' }), // lower case is taken
    ],
  });
  t.equal(res.statusCode, 200, res.body);
  const results = res.json().results;
  t.same(
    results.map((r: any) => r.ok),
    [true, false, false, false, false, false, false, true],
    'one bad entry does not stop the others',
  );
  t.same(
    results.map((r: any) => (r.ok ? null : r.error.code)),
    [
      null,
      'VALIDATION_FAILED',
      'VALIDATION_FAILED',
      'VALIDATION_FAILED',
      'VALIDATION_FAILED',
      'PROCEDURE_NOT_FOUND',
      'PHONE_NOT_VIETNAMESE_MOBILE',
      null,
    ],
  );
  t.same(
    results.map((r: any) => r.dossierCode),
    ['HCM-2025-000301', 'x', 'HCM-2025-000303', '', 'HCM-2025-000305', 'HCM-2025-000306', 'HCM-2025-000307', 'HCM-2025-000308'],
    'each answer names the code as sent ("" when there was none)',
  );
  t.match(results[1].error.message, /dossierCode/, 'the refusal names the field');
  t.match(results[2].error.message, /phone/);
  t.match(results[4].error.message, /phone.*printable/);
  const loaded = results.filter((r: any) => r.ok);
  t.not(loaded[0].tray, loaded[1].tray, 'each loaded result has its own tray');
  for (const r of loaded) {
    t.equal((await locker.staff.get(`/api/trays/${r.tray}`)).json().state, 'reserved', `tray ${r.tray} is open for the officer`);
  }
});

t.test('a refused code is echoed without what no screen may show', async (t) => {
  const locker = await startTestLocker(t);
  const res = await locker.staff.post('/api/staff/results/batch', { items: [item(9, { dossierCode: 'HCM-2025\u202e-000309\u0007' })] });
  t.equal(res.statusCode, 200, res.body);
  t.match(res.json().results, [
    { ok: false, dossierCode: 'HCM-2025-000309', error: { code: 'VALIDATION_FAILED', details: { field: 'dossierCode' } } },
  ]);
});

t.test('a batch of good items keeps its answer: {results: [{ok, resultId, tray, dossierCode}]}', async (t) => {
  const locker = await startTestLocker(t);
  const res = await locker.staff.post('/api/staff/results/batch', { items: [item(11), item(12)] });
  t.equal(res.statusCode, 200, res.body);
  const body = res.json();
  t.same(Object.keys(body), ['results']);
  for (const r of body.results) t.same(Object.keys(r).sort(), ['dossierCode', 'ok', 'resultId', 'tray']);
  t.same(
    body.results.map((r: any) => r.dossierCode),
    ['HCM-2025-000311', 'HCM-2025-000312'],
  );
});

t.test('the batch itself must be a list of 1 to 30 items', async (t) => {
  const locker = await startTestLocker(t);
  for (const body of [
    {},
    { items: [] },
    { items: Array.from({ length: 31 }, (_, i) => item(i)) },
    { items: 'x' },
    { items: [item(1)], more: 1 },
  ]) {
    const res = await locker.staff.post('/api/staff/results/batch', body);
    t.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 60));
    t.equal(res.json().error.code, 'VALIDATION_FAILED');
  }
});

t.test('a failure that is not about an item stops the batch: thrown before any load, else the rest refused', async (t) => {
  const { ResultService } = await import('../../src/services/results.js');
  const { AppError } = await import('../../src/domain/errors.js');
  const { silentLogger } = await import('../../src/log.js');
  const service = new ResultService({ logger: silentLogger() } as any);
  const down = new AppError('DB_UNAVAILABLE', 'the database is not available');
  let calls = 0;
  const loads: ((code: string) => unknown)[] = [
    (code) => ({ resultId: `r-${code}`, tray: 31, dossierCode: code }),
    () => {
      throw new AppError('BOARD_OFFLINE', 'board b2 does not answer');
    },
    () => {
      throw down;
    },
  ];
  service.load = async (item) => loads[calls++](item.dossierCode) as any;
  const items = ['A-0001', 'A-0002', 'A-0003', 'A-0004'].map((dossierCode) => ({
    dossierCode,
    phone: '0903000001',
    procedureCode: 'CT-BS',
  }));
  const out = await service.loadBatch(items, 'staff:1:test');
  t.same(
    out.map((o) => (o.ok ? o.tray : o.error.code)),
    [31, 'BOARD_OFFLINE', 'SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE'],
    'the tray opened is reported; a board fault is one item; the database stops the rest',
  );
  t.equal(calls, 3, 'the items after the failure are not tried');

  calls = 2;
  await t.rejects(service.loadBatch(items, 'staff:1:test'), down, 'nothing loaded: the request fails as a whole');
});
