/**
 * A database that is down or frozen must not hang the controller: every call through `Db` fails
 * within its bounds with an error `isDbUnavailable()` recognises, `ping()` says false within its
 * own short bound, and the pool recovers by itself when the server is back. Always on an embedded
 * server of this file's own (it is stopped and frozen), whatever TEST_DATABASE_URL says.
 */
import net from 'node:net';
import t from 'tap';
import { createDb, isDbUnavailable, type Db } from '../../src/store/db.js';
import { startEmbeddedPostgres } from '../../src/store/embedded.js';
import { silentLogger } from '../../src/log.js';

const BOUNDS = { connectTimeoutMs: 1_000, statementTimeoutMs: 1_000, healthTimeoutMs: 500 };

async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: any }> {
  const start = Date.now();
  try {
    const value = await p;
    return { ms: Date.now() - start, value };
  } catch (error) {
    return { ms: Date.now() - start, error };
  }
}

/** Every process of the server but the postmaster: backends, the pool's included, and auxiliaries. */
async function serverProcesses(db: Db): Promise<number[]> {
  return (await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity')).rows.map((r) => r.pid);
}

t.test('isDbUnavailable: connection-level failures, not query errors', async (t) => {
  const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code, severity: 'FATAL' });
  const sys = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${code} x`), { code, ...extra });
  for (const [what, err] of [
    ['57P01 admin shutdown', pgError('57P01', 'terminating connection due to administrator command')],
    ['57P03 starting up', pgError('57P03', 'the database system is starting up')],
    ['08006 connection failure', pgError('08006')],
    ['57014 statement timeout', pgError('57014', 'canceling statement due to statement timeout')],
    ['53300 too many connections', pgError('53300')],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['connection terminated', new Error('Connection terminated unexpectedly')],
    ['query read timeout', new Error('Query read timeout')],
    ['missing socket', sys('ENOENT', { syscall: 'connect', address: '/var/x/pgsocket/.s.PGSQL.5432' })],
    ['refused socket', sys('ECONNREFUSED', { syscall: 'connect', address: '/var/x/pgsocket/.s.PGSQL.5432' })],
    ['wrapped as a cause', new Error('lookup failed', { cause: pgError('57P01') })],
    ['in an AggregateError', new AggregateError([sys('ECONNREFUSED', { address: '/x/.s.PGSQL.5432' })], 'all failed')],
  ] as const) {
    t.ok(isDbUnavailable(err), what);
  }
  for (const [what, err] of [
    ['a unique violation', pgError('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', pgError('42601')],
    ['a missing file', sys('ENOENT', { syscall: 'open', path: '/etc/x.yaml' })],
    ['some other service refusing', sys('ECONNREFUSED', { syscall: 'connect', address: '127.0.0.1', port: 502 })],
    ['nothing', undefined],
  ] as const) {
    t.notOk(isDbUnavailable(err), what);
  }
});

t.test('a stopped, then frozen, embedded server: bounded failures and recovery', async (t) => {
  const logger = silentLogger();
  const server = await startEmbeddedPostgres({ dataDir: null, logger });
  t.teardown(() => server.dispose());
  const db: Db = createDb({ connectionString: server.url, max: 4, logger, ...BOUNDS });
  t.teardown(() => db.close());
  await db.query('CREATE TABLE marks (n int)');
  await Promise.all([1, 2, 3, 4].map((n) => db.query('INSERT INTO marks SELECT $1::int FROM pg_sleep(0.05)', [n])));
  t.ok(await db.ping(), 'up: ping says true');

  t.test('stopped', async (t) => {
    await server.stop();
    const q = await timed(db.query('SELECT count(*) FROM marks'));
    t.ok(q.error, `a query fails (${q.error?.message})`);
    t.ok(isDbUnavailable(q.error), 'as "database unavailable"');
    t.ok(q.ms < 2_000, `at once (${q.ms} ms)`);
    const tx = await timed(db.tx((c) => c.query('SELECT 1')));
    t.ok(isDbUnavailable(tx.error), `a transaction fails as unavailable too (${tx.ms} ms)`);
    const ping = await timed(db.ping());
    t.equal(ping.value, false, `ping says false (${ping.ms} ms)`);

    await server.start();
    const back = await db.query<{ n: string }>('SELECT count(*) AS n FROM marks');
    t.equal(Number(back.rows[0].n), 4, 'after start() the same pool answers again, data intact');
    t.ok(await db.ping(), 'and ping says true');
  });

  t.test('frozen (postmaster and backends SIGSTOPped)', async (t) => {
    // Fill the pool with live connections first: the frozen server holds them open.
    await Promise.all([1, 2, 3, 4].map(() => db.query('SELECT pg_sleep(0.05)')));
    const frozen = [server.pid()!, ...(await serverProcesses(db))];
    const signal = (s: NodeJS.Signals) =>
      frozen.forEach((pid) => {
        try {
          process.kill(pid, s);
        } catch {
          /* gone */
        }
      });
    signal('SIGSTOP');
    t.teardown(() => signal('SIGCONT'));

    const started = Date.now();
    const results = await Promise.all([
      timed(db.query('SELECT count(*) FROM marks')),
      timed(db.tx((c) => c.query('SELECT count(*) FROM marks'))),
      ...Array.from({ length: 6 }, () => timed(db.query('SELECT 1'))),
    ]);
    const slowest = Math.max(...results.map((r) => r.ms));
    t.ok(
      results.every((r) => r.error && isDbUnavailable(r.error)),
      `8 calls fail as unavailable: ${[...new Set(results.map((r) => r.error?.message))].join('; ')}`,
    );
    t.ok(
      slowest < BOUNDS.statementTimeoutMs + 1_000 + BOUNDS.connectTimeoutMs + 1_000,
      `all within the bounds (slowest ${slowest} ms, ${Date.now() - started} ms in all)`,
    );
    const ping = await timed(db.ping());
    t.equal(ping.value, false, 'ping says false');
    t.ok(ping.ms < BOUNDS.healthTimeoutMs + 300, `within its own bound (${ping.ms} ms)`);

    signal('SIGCONT');
    const back = await db.query<{ n: string }>('SELECT count(*) AS n FROM marks');
    t.equal(Number(back.rows[0].n), 4, 'after SIGCONT the pool answers again');
    t.ok(await db.ping(), 'and ping says true');
  });
});

t.test('a TCP peer that accepts and never answers', async (t) => {
  const sockets = new Set<net.Socket>();
  const blackHole = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    blackHole.close();
  });
  const { port } = blackHole.address() as net.AddressInfo;
  const db = createDb({ connectionString: `postgres://u:p@127.0.0.1:${port}/x`, logger: silentLogger(), ...BOUNDS });
  t.teardown(() => db.close());
  const q = await timed(db.query('SELECT 1'));
  t.ok(isDbUnavailable(q.error), `a query fails as unavailable (${q.error?.message})`);
  t.ok(q.ms < BOUNDS.connectTimeoutMs + 500, `after the connect timeout (${q.ms} ms)`);
  const ping = await timed(db.ping());
  t.equal(ping.value, false, `ping says false (${ping.ms} ms)`);
  t.ok(ping.ms < BOUNDS.healthTimeoutMs + 300, 'within its bound');
});
