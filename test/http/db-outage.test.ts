/**
 * The whole controller while its database is stopped, then frozen: requests that need the
 * database get 503 DB_UNAVAILABLE with Retry-After within the configured bounds (never a 500, never
 * a hang), /health answers within a few seconds with db down, and once the database is back the
 * next requests succeed without a restart. The database is an embedded server of this test's own
 * (it is stopped and frozen), with the default bounds of config/default.yaml; the broker is the
 * usual test broker.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { startEmbeddedPostgres } from '../../src/store/embedded.js';
import { silentLogger } from '../../src/log.js';
import { startTestLocker } from '../helpers/controller.js';
import { brokerKind } from '../helpers/mqtt.js';
import type { LightMyRequestResponse } from 'fastify';

const defaults = loadConfig({ env: {} }).database;
const CONNECT_MS = defaults.connectTimeoutMs!;
const STATEMENT_MS = defaults.statementTimeoutMs!;

interface Asserts {
  equal(...args: any[]): unknown;
  ok(...args: any[]): unknown;
}

async function timed(p: Promise<LightMyRequestResponse>): Promise<{ res: LightMyRequestResponse; ms: number }> {
  const start = Date.now();
  const res = await p;
  return { res, ms: Date.now() - start };
}

t.test(`the controller through a database outage (embedded PostgreSQL of its own, ${brokerKind})`, async (t) => {
  const server = await startEmbeddedPostgres({ dataDir: null, logger: silentLogger() });
  t.teardown(() => server.dispose());
  const locker = await startTestLocker(t, {}, { databaseUrl: server.url });
  const db = locker.controller.database;

  const assertUnavailable = (t: Asserts, { res, ms }: { res: LightMyRequestResponse; ms: number }, bound: number, what: string) => {
    t.equal(res.statusCode, 503, `${what}: 503 (${ms} ms)`);
    t.equal(res.json().error?.code, 'DB_UNAVAILABLE', `${what}: DB_UNAVAILABLE`);
    t.equal(res.headers['retry-after'], '5', `${what}: Retry-After`);
    t.ok(ms <= bound, `${what}: within ${bound} ms (${ms} ms)`);
  };

  t.test('up', async (t) => {
    t.equal((await locker.staff.get('/api/trays')).statusCode, 200, 'GET /api/trays');
    t.match((await locker.anonymous.get('/health')).json(), { db: 'ok' }, '/health db ok');
  });

  t.test('stopped', async (t) => {
    await server.stop();
    assertUnavailable(t, await timed(locker.staff.get('/api/trays')), 5_000, 'GET /api/trays');
    assertUnavailable(t, await timed(locker.anonymous.get(`/api/deposits/${randomUUID()}`)), 5_000, 'GET /api/deposits/:id');
    const health = await timed(locker.anonymous.get('/health'));
    t.equal(health.res.statusCode, 200, '/health still answers 200');
    t.match(health.res.json(), { status: 'degraded', db: 'down' }, '/health: db down');
    t.ok(health.ms < 2_500, `/health within ${health.ms} ms`);

    await server.start();
    t.equal((await locker.staff.get('/api/trays')).statusCode, 200, 'after start() the next request succeeds');
    t.match((await locker.anonymous.get('/health')).json(), { db: 'ok' }, '/health db ok again');
  });

  t.test('frozen', async (t) => {
    // Every server process stops dead: the postmaster, the pool's backends, the auxiliaries.
    const pids = [server.pid()!, ...(await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity')).rows.map((r) => r.pid)];
    const signal = (s: NodeJS.Signals) =>
      pids.forEach((pid) => {
        try {
          process.kill(pid, s);
        } catch {
          /* gone */
        }
      });
    signal('SIGSTOP');
    t.teardown(() => signal('SIGCONT'));

    const bound = STATEMENT_MS + 1_000 + CONNECT_MS + 1_000;
    const [trays, lookup, health] = await Promise.all([
      timed(locker.staff.get('/api/trays')),
      timed(locker.anonymous.get(`/api/deposits/${randomUUID()}`)),
      timed(locker.anonymous.get('/health')),
    ]);
    assertUnavailable(t, trays, bound, 'GET /api/trays');
    assertUnavailable(t, lookup, bound, 'GET /api/deposits/:id');
    t.equal(health.res.statusCode, 200, '/health answers 200');
    t.match(health.res.json(), { status: 'degraded', db: 'down' }, '/health: db down');
    t.ok(health.ms <= 2_500, `/health within a few seconds (${health.ms} ms)`);

    signal('SIGCONT');
    const after = await timed(locker.staff.get('/api/trays'));
    t.equal(after.res.statusCode, 200, `after SIGCONT the next request succeeds (${after.ms} ms)`);
    t.match((await locker.anonymous.get('/health')).json(), { db: 'ok' }, '/health db ok again');
  });
});
