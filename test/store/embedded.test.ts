/**
 * The embedded PostgreSQL server (src/store/embedded.ts): a real server with a normal pool, reached
 * only through its private Unix socket and only with the password, that survives restarts and a
 * killed postmaster. Always the embedded server, whatever TEST_DATABASE_URL says.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import t from 'tap';
import { createDb } from '../../src/store/db.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded.js';
import { migrate } from '../../src/store/migrate.js';
import { silentLogger } from '../../src/log.js';
import { freePort } from '../helpers/net.js';

const EMBEDDED_MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/store/embedded.ts');

async function one<T extends pg.QueryResultRow>(url: string, sql: string, values?: unknown[]): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows[0];
  } finally {
    await client.end();
  }
}

async function connectError(config: pg.ClientConfig): Promise<any> {
  const client = new pg.Client({ connectionTimeoutMillis: 5_000, ...config });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return null;
  } catch (err) {
    return err;
  }
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Inodes of the TCP sockets listening on this machine (Linux), and of the sockets `pid` holds. */
function tcpListeningInodesOf(pid: number): string[] | null {
  if (!existsSync('/proc/net/tcp')) return null;
  const listening = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') listening.add(cols[9]); // state LISTEN, inode
    }
  }
  const held = readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? null;
      } catch {
        return null;
      }
    })
    .filter((x): x is string => x !== null);
  return held.filter((inode) => listening.has(inode));
}

t.test('the embedded server', async (t) => {
  const port = await freePort();
  const began = Date.now();
  const server = await startEmbeddedPostgres({ dataDir: null, logger: silentLogger(), port });
  t.comment(`initdb and start of a temporary server: ${Date.now() - began} ms`);
  t.teardown(() => server.dispose());

  t.test('serves many connections at once through the pool', async (t) => {
    const db = createDb({ connectionString: server.url, max: 20, logger: silentLogger() });
    t.teardown(() => db.close());
    const started = Date.now();
    const rows = await Promise.all(
      Array.from({ length: 20 }, () => db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)')),
    );
    const elapsed = Date.now() - started;
    const backends = new Set(rows.map((r) => r.rows[0].pid));
    t.comment(`20 × pg_sleep(0.2) in ${elapsed} ms on ${backends.size} connections`);
    t.ok(elapsed < 2_000, `20 sleeps of 0.2 s overlap (${elapsed} ms, one after another would be 4000 ms)`);
    t.ok(backends.size >= 10, 'on many server backends');
  });

  t.test('refuses a client without the password', async (t) => {
    const wrong = new URL(server.url);
    wrong.password = 'not-the-password';
    const refused = await connectError({ connectionString: wrong.toString() });
    t.equal(refused?.code, '28P01', 'a wrong password is refused (invalid_password)');
    const bare = await connectError({ host: server.socketDir, port: server.port, user: 'atm247', database: 'atm247' });
    t.ok(bare, `no password, no connection (${bare?.message})`);
    const asPostgres = await connectError({
      host: server.socketDir,
      port: server.port,
      user: 'postgres',
      database: 'postgres',
      password: 'postgres',
    });
    t.ok(asPostgres, 'no other role gets in either');
    const rules = await one<{ rules: string }>(
      server.url,
      `SELECT string_agg(type || ' ' || auth_method, ', ') AS rules FROM pg_hba_file_rules WHERE error IS NULL`,
    );
    t.equal(rules.rules, 'local scram-sha-256', 'pg_hba.conf: the socket only, scram-sha-256 only, no trust');
    const password = readFileSync(path.join(server.dataDir, 'db.password'), 'utf8').trim();
    t.equal(decodeURIComponent(new URL(server.url).password), password, 'the URL carries the generated password');
    t.ok(password.length >= 24, 'a long random password');
    t.equal(statSync(path.join(server.dataDir, 'db.password')).mode & 0o777, 0o600, 'db.password is mode 0600');
  });

  t.test('listens on no TCP port', async (t) => {
    const row = await one<{ listen_addresses: string }>(server.url, 'SHOW listen_addresses');
    t.equal(row.listen_addresses, '', "listen_addresses = ''");
    const tcp = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: server.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    t.equal(tcp, 'ECONNREFUSED', `nothing answers on 127.0.0.1:${server.port}, the port naming the socket`);
    const listening = tcpListeningInodesOf(server.pid()!);
    if (listening) t.same(listening, [], 'the postmaster holds no listening TCP socket');
    t.equal(statSync(server.socketDir).mode & 0o777, 0o700, 'the socket directory is mode 0700');
    t.ok(existsSync(path.join(server.socketDir, `.s.PGSQL.${server.port}`)), 'the socket is in it');
    t.equal(statSync(server.pgdata).mode & 0o777, 0o700, 'the data directory is mode 0700');
    t.equal(server.socketDir, path.join(server.dataDir, 'pgsocket'), 'inside the data directory');
  });

  t.test('keeps its data across stop and start', async (t) => {
    await one(server.url, 'CREATE TABLE kept (v text)');
    await one(server.url, 'INSERT INTO kept VALUES ($1)', ['before the stop']);
    const before = server.pid();
    await server.stop();
    t.equal(server.pid(), null, 'no pid while stopped');
    const down = await connectError({ connectionString: server.url });
    t.equal(down?.code, 'ENOENT', 'while stopped the socket is gone');
    const began = Date.now();
    await server.start();
    t.comment(`restart on the same data: ${Date.now() - began} ms`);
    t.not(server.pid(), before, 'a new postmaster');
    const row = await one<{ v: string }>(server.url, 'SELECT v FROM kept');
    t.equal(row.v, 'before the stop', 'the data is still there');
  });

  t.test('starts again after its postmaster was killed', async (t) => {
    await one(server.url, 'INSERT INTO kept VALUES ($1)', ['before the kill']);
    const killed = server.pid()!;
    process.kill(killed, 'SIGKILL');
    await waitFor(() => server.pid() === null, 'the postmaster to be gone');
    const lock = readFileSync(path.join(server.pgdata, 'postmaster.pid'), 'utf8').split('\n')[0];
    t.equal(Number(lock), killed, 'the killed postmaster left its postmaster.pid behind');
    const began = Date.now();
    await server.start();
    t.comment(`start after SIGKILL (crash recovery): ${Date.now() - began} ms`);
    const { n } = await one<{ n: string }>(server.url, 'SELECT count(*) AS n FROM kept');
    t.equal(Number(n), 2, 'what was committed before the kill is there');
  });

  t.test('starts when postmaster.pid names a pid now used by another program', async (t) => {
    await server.stop();
    const owner = statSync(server.pgdata);
    const asServerUser = process.getuid?.() === 0 ? { uid: owner.uid, gid: owner.gid } : {};
    const other = spawn('sleep', ['30'], { stdio: 'ignore', ...asServerUser });
    t.teardown(() => void other.kill('SIGKILL'));
    await new Promise((resolve) => other.once('spawn', resolve));
    const lockFile = path.join(server.pgdata, 'postmaster.pid');
    writeFileSync(lockFile, `${other.pid}\n${server.pgdata}\n0\n${server.port}\n${server.socketDir}\n\n  0 0\nready\n`);
    await server.start();
    t.ok(server.pid(), 'started');
    t.equal(Number(readFileSync(lockFile, 'utf8').split('\n')[0]), server.pid(), 'with a lock file of its own');
  });
});

t.test('a data directory is created once, reused, and survives its owner being killed', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'atm247-pgtest-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const logger = silentLogger();

  let began = Date.now();
  let server: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir, logger });
  t.comment(`first start with initdb (durable): ${Date.now() - began} ms`);
  t.equal(server.dataDir, dataDir);
  t.equal(server.pgdata, path.join(dataDir, 'pgdata'), 'data under <dataDir>/pgdata');
  let db = createDb({ connectionString: server.url, logger, embedded: server, onClose: () => server.dispose() });
  t.ok((await migrate(db, logger)).length > 0, 'the production migrations apply');
  const version = statSync(path.join(dataDir, 'pgdata', 'PG_VERSION'));
  await db.close();
  t.equal(server.pid(), null, 'closing the database stops the server');
  t.ok(existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION')), 'dispose() keeps a given data directory');

  began = Date.now();
  server = await startEmbeddedPostgres({ dataDir, logger });
  t.comment(`second start on the same data: ${Date.now() - began} ms`);
  t.equal(statSync(path.join(dataDir, 'pgdata', 'PG_VERSION')).ino, version.ino, 'no second initdb');
  db = createDb({ connectionString: server.url, logger, onClose: () => server.dispose() });
  t.same(await migrate(db, logger), [], 'the migrations are already there');
  await db.close();

  // A daemon killed with SIGKILL leaves its server running; the next start takes over.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `
    const { startEmbeddedPostgres } = await import(${JSON.stringify(EMBEDDED_MODULE)});
    const { default: pino } = await import('pino');
    const s = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, logger: pino({ level: 'silent' }) });
    console.log('READY ' + s.pid());
    setInterval(() => {}, 1000);
  `,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: path.resolve(path.dirname(EMBEDDED_MODULE), '../..') },
  );
  const orphan = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the owner process exited (${code}) before it was ready`)));
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  t.doesNotThrow(() => process.kill(orphan, 0), 'its server outlived the killed owner');
  server = await startEmbeddedPostgres({ dataDir, logger });
  t.teardown(() => server.dispose());
  t.not(server.pid(), orphan, 'the next start shut the orphan down and started its own');
  await waitFor(() => {
    try {
      process.kill(orphan, 0);
      return /\) Z/.test(readFileSync(`/proc/${orphan}/stat`, 'utf8'));
    } catch {
      return true;
    }
  }, 'the orphan to exit');
  const { n } = await one<{ n: string }>(server.url, 'SELECT count(*) AS n FROM schema_migrations');
  t.ok(Number(n) > 0, 'on the same data');
});
