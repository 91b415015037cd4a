/**
 * A fresh, migrated database for one test: a new database on the embedded PostgreSQL server by
 * default (one server per test process, started on first use, on a temporary data directory that
 * goes when the process ends), or a new database on the server named by TEST_DATABASE_URL.
 * Either way the database is dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Db } from '../../src/store/db.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded.js';
import { migrate } from '../../src/store/migrate.js';
import { silentLogger } from '../../src/log.js';

export const realDatabaseUrl = process.env.TEST_DATABASE_URL || null;
export const dbKind = realDatabaseUrl ? 'postgresql server' : 'embedded PostgreSQL';

interface Teardown {
  teardown(fn: () => unknown): void;
}

let shared: Promise<EmbeddedPostgres> | null = null;

/**
 * This process's embedded server. It is disposed when the event loop runs dry ('beforeExit', the
 * way a tap test process ends); should the process exit otherwise, embedded.ts stops the server
 * and removes its directory on 'exit', and if the process is killed (a test timing out), the
 * server's watchdog does.
 */
export function sharedEmbeddedServer(): Promise<EmbeddedPostgres> {
  if (!shared) {
    shared = startEmbeddedPostgres({ dataDir: null, logger: silentLogger() });
    const server = shared;
    process.once('beforeExit', () => void server.then((s) => s.dispose()).catch(() => undefined));
  }
  return shared;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates an empty database; returns its URL and a function that drops it. */
export async function freshDatabaseUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `atm247_t_${randomBytes(6).toString('hex')}`;
  if (!realDatabaseUrl) {
    const server = await sharedEmbeddedServer();
    await withClient(server.url, (c) => c.query(`CREATE DATABASE ${name}`));
    return {
      url: server.urlFor(name),
      async drop() {
        if (server.pid() === null) return; // disposed already, or stopped by the test
        await withClient(server.url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      },
    };
  }
  await withClient(realDatabaseUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(realDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withClient(realDatabaseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A migrated database, closed and dropped when the test ends. */
export async function testDb(t: Teardown, opts: { migrate?: boolean } = {}): Promise<Db> {
  const logger = silentLogger();
  const fresh = await freshDatabaseUrl();
  const db = createDb({ connectionString: fresh.url, logger, max: 8, onClose: fresh.drop });
  if (opts.migrate !== false) await migrate(db, logger);
  t.teardown(() => db.close());
  return db;
}
