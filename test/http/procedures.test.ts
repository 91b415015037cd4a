import t from 'tap';
import Fastify from 'fastify';
import { loadProcedures } from '../../src/config/procedures.js';
import type { Procedure } from '../../src/domain/procedures.js';
import { installErrorHandling } from '../../src/http/errors.js';
import { procedureRoutes } from '../../src/http/routes/procedures.js';
import { startTestLocker } from '../helpers/controller.js';
import { dbKind } from '../helpers/db.js';
import { brokerKind } from '../helpers/mqtt.js';

/** The route alone, with the same validation settings as src/http/app.ts. */
async function appWith(procedures: Procedure[]) {
  const app = Fastify({
    logger: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
  });
  installErrorHandling(app);
  await app.register(procedureRoutes, { procedures });
  await app.ready();
  return app;
}

t.test('GET /api/procedures over the real catalogue', async (t) => {
  const catalogue = loadProcedures();
  // The entry for dossiers filed online is listed only when asked for (ADR 0029).
  const listed = catalogue.filter((p) => !p.online);
  const app = await appWith(catalogue);
  t.teardown(() => app.close());
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json() };
  };

  const all = await get('/api/procedures');
  t.equal(all.status, 200);
  t.equal(all.body.length, listed.length, 'every procedure');
  t.same(
    all.body.find((p: any) => p.code === 'CT-BS'),
    catalogue.find((p) => p.code === 'CT-BS'),
    'an entry carries every field, feeNote included',
  );
  t.notOk('feeNote' in all.body.find((p: any) => p.code === 'HT-KS'), 'no feeNote where the catalogue has none');
  const order = all.body.map((p: any) => `${p.field}|${p.name.vi}`);
  const expected = [...all.body]
    .sort((a: any, b: any) => a.field.localeCompare(b.field, 'vi') || a.name.vi.localeCompare(b.name.vi, 'vi'))
    .map((p: any) => `${p.field}|${p.name.vi}`);
  t.same(order, expected, 'sorted by field, then Vietnamese name');

  const deposits = await get('/api/procedures?deposit=true');
  t.equal(deposits.status, 200);
  t.equal(deposits.body.length, 49, 'received at the machine');
  t.ok(deposits.body.every((p: any) => p.deposit));

  const results = await get('/api/procedures?result=true');
  t.equal(results.body.length, 42, 'returned through the machine');
  t.ok(results.body.every((p: any) => p.result));

  const resultOnly = await get('/api/procedures?deposit=false&result=true');
  t.same(
    resultOnly.body.map((p: any) => p.code).sort(),
    ['CC-01', 'CC-02', 'CC-03', 'CC-04', 'CC-05'],
    'only the ID cards are result-only',
  );

  const depositOnly = await get('/api/procedures?result=false');
  t.equal(depositOnly.body.length, listed.length - 42);

  const online = await get('/api/procedures?online=true');
  t.equal(online.status, 200);
  t.same(
    online.body,
    catalogue.filter((p) => p.online),
    'the online-dossier entry alone, with its tray size',
  );
  t.equal(online.body.length, 1);
  t.same((await get('/api/procedures?online=false')).body, all.body, 'online=false: as without the filter');
  t.same((await get('/api/procedures?online=true&result=true')).body, [], 'filters combine');
  t.ok(depositOnly.body.every((p: any) => p.deposit && !p.result));
});

t.test('bad filters are refused with 400 VALIDATION_FAILED', async (t) => {
  const app = await appWith(loadProcedures());
  t.teardown(() => app.close());
  for (const url of [
    '/api/procedures?deposit=yes',
    '/api/procedures?deposit=1',
    '/api/procedures?result=TRUE',
    '/api/procedures?online=yes',
    '/api/procedures?deposit=true&deposit=false',
    '/api/procedures?field=Hộ%20tịch',
  ]) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 400, url);
    t.equal(res.json().error.code, 'VALIDATION_FAILED', url);
    t.match(res.json().error.message, /^querystring/, `${url}: names the querystring`);
  }
});

t.test('sorting follows Vietnamese order, not code points', async (t) => {
  const p = (code: string, field: string, vi: string): Procedure => ({
    code,
    field,
    name: { vi, en: code },
    short: { vi, en: code },
    deposit: true,
    result: false,
    fee: 0,
    traySize: 'M',
  });
  // Code-point order would put "Đ" after "Z" and "Ă" after "Y".
  const app = await appWith([
    p('C-3', 'Đất đai', 'Tách thửa'),
    p('C-1', 'Chứng thực', 'Ủy quyền'),
    p('C-2', 'Chứng thực', 'Bản sao'),
    p('C-4', 'Xây dựng', 'Ăn uống'),
    p('C-5', 'Dân số', 'X'),
  ]);
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/api/procedures' });
  t.same(
    res.json().map((x: any) => x.code),
    ['C-2', 'C-1', 'C-5', 'C-3', 'C-4'],
  );
});

t.test(`through the whole controller on ${dbKind} and ${brokerKind}`, async (t) => {
  const locker = await startTestLocker(t);
  const catalogue = loadProcedures().filter((p) => !p.online);

  t.test('the kiosk reads the catalogue without a token', async (t) => {
    const res = await locker.anonymous.get('/api/procedures');
    t.equal(res.statusCode, 200, res.body);
    t.match(res.headers['content-type'], /application\/json/);
    const body = res.json();
    t.equal(body.length, catalogue.length);
    t.same(new Set(body.map((p: any) => p.code)), new Set(catalogue.map((p) => p.code)));
    t.same(
      body.find((p: any) => p.code === 'HT-KS'),
      {
        code: 'HT-KS',
        field: 'Hộ tịch',
        name: { vi: 'Đăng ký khai sinh', en: 'Birth registration' },
        short: { vi: 'Khai sinh', en: 'Birth registration' },
        deposit: true,
        result: true,
        fee: 0,
        traySize: 'M',
      },
    );
    t.equal(body[0].field, 'Căn cước', 'Căn cước sorts before Chứng thực');
  });

  t.test('filters', async (t) => {
    const deposits = (await locker.anonymous.get('/api/procedures?deposit=true')).json();
    t.equal(deposits.length, 49);
    const results = (await locker.anonymous.get('/api/procedures?result=true')).json();
    t.equal(results.length, 42);
    const both = (await locker.anonymous.get('/api/procedures?deposit=true&result=true')).json();
    t.equal(both.length, 49 + 42 - catalogue.length, 'received and returned');
    const idCards = (await locker.anonymous.get('/api/procedures?deposit=false')).json();
    t.same(
      idCards.map((p: any) => p.code),
      ['CC-04', 'CC-05', 'CC-02', 'CC-03', 'CC-01'],
      'the five ID-card returns, in Vietnamese order',
    );
    t.ok(idCards.every((p: any) => p.field === 'Căn cước' && p.traySize === 'S'));
  });

  t.test('a bad filter is refused with 400 VALIDATION_FAILED', async (t) => {
    const res = await locker.anonymous.get('/api/procedures?result=maybe');
    t.equal(res.statusCode, 400);
    t.equal(res.json().error.code, 'VALIDATION_FAILED');
    t.match(res.json().error.message, /querystring\.result/);
  });
});
