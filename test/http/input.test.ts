import t from 'tap';
import { startTestLocker, STAFF_TOKEN } from '../helpers/controller.js';

t.test('auth and bad input get a 4xx with a stable code, never a 5xx', async (t) => {
  const locker = await startTestLocker(t);
  const { http } = locker;

  t.test('staff and admin routes need a valid bearer token', async (t) => {
    const cases: [string, Record<string, string>, number, string][] = [
      ['no header', {}, 401, 'UNAUTHORIZED'],
      ['wrong token', { authorization: 'Bearer not-a-real-token-123456' }, 401, 'UNAUTHORIZED'],
      ['not bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 401, 'UNAUTHORIZED'],
      ['empty bearer', { authorization: 'Bearer ' }, 401, 'UNAUTHORIZED'],
      ['staff token on an admin route', { authorization: `Bearer ${STAFF_TOKEN}` }, 403, 'FORBIDDEN'],
    ];
    for (const [name, headers, status, code] of cases) {
      const res = await http.inject({ method: 'POST', url: '/api/admin/trays/3/open', headers });
      t.equal(res.statusCode, status, name);
      t.equal(res.json().error.code, code, name);
    }
    t.equal((await locker.anonymous.get('/api/trays')).statusCode, 401, 'GET /api/trays needs a token');
    t.equal((await locker.staff.get('/api/trays')).statusCode, 200, 'a staff token reads the trays');
    t.equal(locker.controller.cabinet!.pulses().length, 0, 'no lock was pulsed by a refused call');
  });

  t.test('bad input', async (t) => {
    const json = { 'content-type': 'application/json' };
    const admin = { authorization: 'Bearer test-admin-token-000000000000' };
    const cases: {
      name: string;
      method: 'GET' | 'POST' | 'DELETE';
      url: string;
      payload?: string;
      headers?: any;
      status: number;
      code: string;
    }[] = [
      {
        name: 'tray number not a number',
        method: 'POST',
        url: '/api/admin/trays/abc/open',
        headers: admin,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'tray number SQL-looking',
        method: 'POST',
        url: '/api/admin/trays/1;DROP%20TABLE%20trays/open',
        headers: admin,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'tray that does not exist',
        method: 'POST',
        url: '/api/admin/trays/999/open',
        headers: admin,
        status: 404,
        code: 'TRAY_NOT_FOUND',
      },
      { name: 'tray 0', method: 'GET', url: '/api/trays/0', headers: admin, status: 404, code: 'TRAY_NOT_FOUND' },
      {
        name: 'huge tray number',
        method: 'GET',
        url: '/api/trays/99999999999999999999',
        headers: admin,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'malformed JSON',
        method: 'POST',
        url: '/api/sim/trays/3/door',
        payload: '{"open": tru',
        headers: json,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'missing field',
        method: 'POST',
        url: '/api/sim/trays/3/door',
        payload: '{}',
        headers: json,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'wrong type',
        method: 'POST',
        url: '/api/sim/trays/3/door',
        payload: '{"open":"yes"}',
        headers: json,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'extra field',
        method: 'POST',
        url: '/api/sim/trays/3/door',
        payload: '{"open":false,"x":1}',
        headers: json,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'array body',
        method: 'POST',
        url: '/api/sim/trays/3/door',
        payload: '[true]',
        headers: json,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'body too large',
        method: 'POST',
        url: '/api/sim/trays/3/door',
        payload: JSON.stringify({ open: true, pad: 'x'.repeat(20_000) }),
        headers: json,
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      },
      {
        name: '10 kB reason',
        method: 'POST',
        url: '/api/admin/trays/3/out-of-service',
        payload: JSON.stringify({ reason: 'x'.repeat(10_000) }),
        headers: { ...json, ...admin },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'reason with U+0000',
        method: 'POST',
        url: '/api/admin/trays/3/out-of-service',
        payload: '{"reason":"hinge\\u0000broken"}',
        headers: { ...json, ...admin },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'reason with a lone surrogate',
        method: 'POST',
        url: '/api/admin/trays/3/open',
        payload: '{"reason":"\\ud800"}',
        headers: { ...json, ...admin },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'reason with a C1 control',
        method: 'POST',
        url: '/api/admin/trays/3/open',
        payload: JSON.stringify({ reason: 'x\u009b2J' }),
        headers: { ...json, ...admin },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'reason not a string',
        method: 'POST',
        url: '/api/admin/trays/3/out-of-service',
        payload: JSON.stringify({ reason: 42 }),
        headers: { ...json, ...admin },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'text body',
        method: 'POST',
        url: '/api/sim/trays/3/door',
        payload: 'open',
        headers: { 'content-type': 'text/plain' },
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'unknown fault',
        method: 'POST',
        url: '/api/sim/boards/b1/fault',
        payload: '{"fault":"melted"}',
        headers: json,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'unknown board',
        method: 'POST',
        url: '/api/sim/boards/zz/fault',
        payload: '{"fault":"none"}',
        headers: json,
        status: 404,
        code: 'NOT_FOUND',
      },
      {
        name: 'clock not an integer',
        method: 'POST',
        url: '/api/sim/clock',
        payload: '{"offsetMs":"1e9"}',
        headers: json,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      { name: 'unknown route', method: 'GET', url: '/api/nothing', status: 404, code: 'NOT_FOUND' },
    ];
    for (const c of cases) {
      const res = await http.inject({ method: c.method, url: c.url, payload: c.payload, headers: c.headers });
      t.equal(res.statusCode, c.status, `${c.name}: ${res.body.slice(0, 120)}`);
      t.equal(res.json().error?.code, c.code, `${c.name}: code`);
      t.type(res.json().error?.message, 'string', `${c.name}: message`);
    }
    const reason = "'; DROP TABLE trays; --";
    const ok = await locker.admin.post('/api/admin/trays/3/out-of-service', { reason });
    t.equal(ok.statusCode, 200, 'SQL-looking text is just text');
    t.equal(ok.json().outOfServiceReason, reason);
    t.equal((await locker.staff.get('/api/trays')).json().length, 90, 'and the trays are all still there');
  });

  t.test('the clock shift moves the controller clock', async (t) => {
    const res = await locker.anonymous.post('/api/sim/clock', { offsetMs: 86_400_000 });
    t.equal(res.statusCode, 200);
    const shifted = Date.parse(res.json().now);
    t.ok(Math.abs(shifted - Date.now() - 86_400_000) < 5_000, 'a day ahead');
    await locker.anonymous.post('/api/sim/clock', { offsetMs: 0 });
  });
});

t.test('without the simulator the simulator routes do not exist', async (t) => {
  // The modbus driver against a gateway nobody listens on: the bus is down, but the controller runs.
  const locker = await startTestLocker(t, { hardware: { driver: 'modbus' } });
  const res = await locker.anonymous.post('/api/sim/trays/3/door', { open: true });
  t.equal(res.statusCode, 404);
  const health = (await locker.anonymous.get('/health')).json();
  t.equal(health.bus, 'down', 'no serial adapter here: the bus is down and /health says so');
  t.equal(health.status, 'degraded');
});
