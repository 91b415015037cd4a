import t from 'tap';
import { MANY_REQUESTS, startTestLocker, type TestLocker } from '../helpers/controller.js';
import { dbKind } from '../helpers/db.js';

/** Characters no free-text field accepts, each inside otherwise good text. */
const BAD: [string, string][] = [
  ['U+0000', '\u0000'],
  ['BEL', '\u0007'],
  ['ESC sequence', '\u001b[31m'],
  ['tab', '\t'],
  ['newline', '\n'],
  ['carriage return', '\r'],
  ['DEL', '\u007f'],
  ['C1 NEL', '\u0085'],
  ['C1 CSI', '\u009b'],
  ['line separator', '\u2028'],
  ['right-to-left override', '\u202e'],
  ['first-strong isolate', '\u2068'],
];
/** Only in JSON bodies: a lone surrogate cannot be written in a UTF-8 URL. */
const SURROGATES: [string, string][] = [
  ['lone high surrogate', '\ud800'],
  ['lone low surrogate', '\udfff'],
  ['reversed pair', '\ude00\ud83d'],
];

/** Everything a refused request might have left behind, to compare before and after. */
async function effects(locker: TestLocker) {
  const q = async (sql: string) => (await locker.controller.database.query(sql)).rows;
  const count = async (table: string) => Number((await q(`SELECT count(*) AS n FROM ${table}`))[0].n);
  const tables = ['audit_log', 'outbox', 'challenges', 'otp_sends', 'dossiers', 'sms_messages', 'accounts', 'sessions'];
  const counts = Object.fromEntries(await Promise.all(tables.map(async (table) => [table, await count(table)])));
  const trays = await q(`SELECT number, content, released_at, disabled_reason FROM trays ORDER BY number`);
  return { counts, trays, pulses: locker.controller.cabinet!.pulses().length };
}

t.test(`free text is clean or refused with 400 before any effect (${dbKind})`, async (t) => {
  // Hundreds of requests from one address: the per-address limits (test/http/rate-limits.test.ts) would answer first.
  const locker = await startTestLocker(t, { http: { rateLimits: MANY_REQUESTS } });
  const admin = { authorization: 'Bearer test-admin-token-000000000000', 'content-type': 'application/json' };
  const json = { 'content-type': 'application/json' };
  const procedureCode = (await locker.anonymous.get('/api/procedures?deposit=true')).json()[0].code;
  const before = await effects(locker);

  /** Every free-text field of a JSON body, with the text to put in it. */
  const bodies: { field: string; url: string; headers: Record<string, string>; body: (text: string) => unknown }[] = [
    { field: 'tray opening reason', url: '/api/admin/trays/3/open', headers: admin, body: (s) => ({ reason: `hinge ${s} check` }) },
    { field: 'out-of-service reason', url: '/api/admin/trays/4/out-of-service', headers: admin, body: (s) => ({ reason: `broken${s}` }) },
    { field: 'deposit phone', url: '/api/deposits', headers: json, body: (s) => ({ phone: `0912${s}345678`, procedureCode }) },
    { field: 'pickup phone', url: '/api/pickups', headers: json, body: (s) => ({ phone: `0912345678${s}` }) },
    {
      field: 'result phone',
      url: '/api/staff/results',
      headers: admin,
      body: (s) => ({ dossierCode: 'KQ-2026-0001', phone: `${s}0912345678`, procedureCode }),
    },
    {
      field: 'account name',
      url: '/api/admin/staff',
      headers: admin,
      body: (s) => ({ name: `Nguyễn${s}An`, role: 'staff', withTouchscreen: false }),
    },
    { field: 'sign-in name', url: '/api/staff/sign-in', headers: json, body: (s) => ({ name: `An${s}`, pin: '274930', totp: '123456' }) },
  ];
  for (const { field, url, headers, body } of bodies) {
    for (const [what, s] of [...BAD, ...SURROGATES]) {
      const res = await locker.http.inject({ method: 'POST', url, headers, payload: JSON.stringify(body(s)) });
      t.equal(res.statusCode, 400, `${field}, ${what}: ${res.body.slice(0, 160)}`);
      t.equal(res.json().error?.code, 'VALIDATION_FAILED', `${field}, ${what}: code`);
    }
  }

  // A batch answers item by item (docs/api.md, "A batch of results"): the item is refused, before any effect.
  for (const [what, s] of [...BAD, ...SURROGATES]) {
    const items = [{ dossierCode: 'KQ-2026-0002', phone: `0912 345${s}678`, procedureCode }];
    const res = await locker.http.inject({
      method: 'POST',
      url: '/api/staff/results/batch',
      headers: admin,
      payload: JSON.stringify({ items }),
    });
    t.equal(res.statusCode, 200, `result batch phone, ${what}: ${res.body.slice(0, 160)}`);
    t.match(
      res.json().results,
      [{ ok: false, dossierCode: 'KQ-2026-0002', error: { code: 'VALIDATION_FAILED', details: { field: 'phone' } } }],
      `result batch phone, ${what}: the item refused`,
    );
  }
  const said = await locker.http.inject({
    method: 'POST',
    url: '/api/staff/results/batch',
    headers: admin,
    payload: JSON.stringify({ items: [{ dossierCode: 'KQ-2026-0002', phone: '0912\u0000', procedureCode }] }),
  });
  t.match(
    said.json().results[0].error.message,
    /^items\[0\]\.phone must be printable text \(no control characters/,
    'the answer names the field',
  );

  // The escape written out in the JSON text, as a client would send it.
  for (const payload of ['{"reason":"\\ud800"}', '{"reason":"ok \\udc00 ok"}', '{"reason":"\\u0000"}']) {
    const res = await locker.http.inject({ method: 'POST', url: '/api/admin/trays/3/open', headers: admin, payload });
    t.equal(res.statusCode, 400, `${payload}: ${res.body.slice(0, 160)}`);
    t.equal(res.json().error?.code, 'VALIDATION_FAILED', `${payload}: code`);
  }

  const long: [string, string, unknown][] = [
    ['tray opening reason of 201', '/api/admin/trays/3/open', { reason: 'x'.repeat(201) }],
    ['out-of-service reason of 201', '/api/admin/trays/4/out-of-service', { reason: 'é'.repeat(201) }],
    ['phone of 33', '/api/pickups', { phone: '9'.repeat(33) }],
  ];
  for (const [what, url, body] of long) {
    const res = await locker.http.inject({
      method: 'POST',
      url,
      headers: url.includes('admin') ? admin : json,
      payload: JSON.stringify(body),
    });
    t.equal(res.statusCode, 400, `${what}: ${res.body.slice(0, 160)}`);
    t.equal(res.json().error?.code, 'VALIDATION_FAILED', `${what}: code`);
  }

  /** The free-text parts of URLs: a path parameter and query strings. */
  const urls: [string, (s: string) => string, Record<string, string>][] = [
    ['dossier code to look up', (s) => `/api/dossiers/${encodeURIComponent(`2345${s}6789`)}`, {}],
    ['simulator inbox number', (s) => `/api/sim/sms?to=${encodeURIComponent(`0912${s}`)}`, {}],
  ];
  for (const [field, url, headers] of urls) {
    for (const [what, s] of BAD) {
      const res = await locker.http.inject({ method: 'GET', url: url(s), headers });
      t.equal(res.statusCode, 400, `${field}, ${what}: ${res.body.slice(0, 160)}`);
      t.equal(res.json().error?.code, 'VALIDATION_FAILED', `${field}, ${what}: code`);
    }
  }

  // A token is checked before anything else (ADR 0017): one with a control character is simply not a token.
  for (const [what, s] of BAD) {
    const res = await locker.http.inject({ method: 'GET', url: `/api/admin/stream?token=${encodeURIComponent(`test-admin-token${s}`)}` });
    t.equal(res.statusCode, 401, `stream token, ${what}: ${res.body.slice(0, 160)}`);
    t.equal(res.json().error?.code, 'UNAUTHORIZED', `stream token, ${what}: code`);
  }

  t.same(await effects(locker), before, 'no pulse, no record, no event, no code, no SMS, no account: nothing happened');

  // The same fields take any printable text: letters with their marks, emoji (a surrogate pair), symbols.
  const good = 'Bản lề hỏng 🔧 — “gấp” & <ok>';
  const out = await locker.admin.post('/api/admin/trays/4/out-of-service', { reason: good });
  t.equal(out.statusCode, 200, out.body);
  t.equal(out.json().outOfServiceReason, good, 'kept as written');
  t.equal((await locker.admin.delete('/api/admin/trays/4/out-of-service')).statusCode, 200);
  t.equal((await locker.anonymous.get(`/api/sim/sms?to=0912345678`)).statusCode, 200, 'a clean query is answered');
  t.equal((await locker.anonymous.get(`/api/dossiers/${encodeURIComponent('2345 6789')}`)).json().error.code, 'DOSSIER_CODE_INVALID');
});
