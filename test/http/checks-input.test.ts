/** Bad input on the trays-to-check routes: a 4xx with a stable code, before any work is done. */
import t from 'tap';
import { startTestLocker } from '../helpers/controller.js';

t.test('the trays-to-check routes refuse bad input with stable codes', async (t) => {
  const locker = await startTestLocker(t);
  const cases: [string, () => ReturnType<typeof locker.staff.get>, number, string][] = [
    ['no token', () => locker.anonymous.get('/api/staff/checks'), 401, 'UNAUTHORIZED'],
    ['no token, answer', () => locker.anonymous.post('/api/staff/checks/3', { outcome: 'found' }), 401, 'UNAUTHORIZED'],
    ['tray not a number', () => locker.staff.post('/api/staff/checks/abc', { outcome: 'found' }), 400, 'VALIDATION_FAILED'],
    ['tray too long', () => locker.staff.post('/api/staff/checks/1234/open'), 400, 'VALIDATION_FAILED'],
    ['no outcome', () => locker.staff.post('/api/staff/checks/3', {}), 400, 'VALIDATION_FAILED'],
    ['unknown outcome', () => locker.staff.post('/api/staff/checks/3', { outcome: 'maybe' }), 400, 'VALIDATION_FAILED'],
    ['extra field', () => locker.staff.post('/api/staff/checks/3', { outcome: 'found', note: 'x' }), 400, 'VALIDATION_FAILED'],
    ['a tray not to check', () => locker.staff.post('/api/staff/checks/3', { outcome: 'empty' }), 404, 'ITEM_NOT_FOUND'],
    ['open a tray not to check', () => locker.staff.post('/api/staff/checks/999/open'), 404, 'ITEM_NOT_FOUND'],
  ];
  for (const [name, call, status, code] of cases) {
    const res = await call();
    t.equal(res.statusCode, status, `${name}: ${res.body.slice(0, 120)}`);
    t.equal(res.json().error.code, code, name);
  }
  t.same((await locker.staff.get('/api/staff/checks')).json(), [], 'nothing to check on a fresh locker');
});
