/**
 * A fresh, migrated database for one test: the embedded PostgreSQL (PGlite, in memory) by default,
 * or a new database on the server named by TEST_DATABASE_URL (dropped afterwards).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Db } from '../../src/store/db.js';
import { startEmbeddedPostgres } from '../../src/store/embedded.js';
import { migrate } from '../../src/store/migrate.js';
import { EMBEDDED_POOL_SIZE } from '../../src/store/open.js';
import { silentLogger } from '../../src/log.js';

export const realDatabaseUrl = process.env.TEST_DATABASE_URL || null;
export const dbKind = realDatabaseUrl ? 'postgresql server' : 'embedded PGlite';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Creates an empty database; returns its URL and a function that drops it. */
export async function freshDatabaseUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const logger = silentLogger();
  if (!realDatabaseUrl) {
    const embedded = await startEmbeddedPostgres({ dataDir: null, logger });
    return { url: embedded.url, drop: () => embedded.stop() };
  }
  const name = `atm247_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: realDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(realDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: realDatabaseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A migrated database, closed and dropped when the test ends. */
export async function testDb(t: Teardown, opts: { migrate?: boolean } = {}): Promise<Db> {
  const logger = silentLogger();
  const fresh = await freshDatabaseUrl();
  const db = createDb({ connectionString: fresh.url, logger, max: realDatabaseUrl ? 8 : EMBEDDED_POOL_SIZE, onClose: fresh.drop });
  if (opts.migrate !== false) await migrate(db, logger);
  t.teardown(() => db.close());
  return db;
}
