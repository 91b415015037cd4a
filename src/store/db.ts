/**
 * The one way the controller reaches PostgreSQL: a `pg` pool, whether the server is a real one
 * (`DATABASE_URL`) or the embedded server the daemon started (see embedded.ts).
 */
import pg from 'pg';
import type { Logger } from 'pino';

import type { Queryable } from '../services/ports.js';
import type { EmbeddedPostgres } from './embedded.js';
export type { Queryable };

export interface Db {
  /** Runs one statement on a pooled connection. */
  readonly pool: pg.Pool;
  /** Where the pool points, without credentials (for /health and logs). */
  readonly target: string;
  /** The embedded server behind the pool, when there is one (to stop, freeze and restart it in tests). */
  readonly embedded?: EmbeddedPostgres;
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Runs `fn` in one transaction; rolls back if it throws. */
  tx<T>(fn: (client: Queryable) => Promise<T>): Promise<T>;
  /** A cheap round trip, for /health. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DbOptions {
  connectionString: string;
  max?: number;
  logger: Logger;
  /** The embedded server behind the connection string, if any (exposed as `Db.embedded`). */
  embedded?: EmbeddedPostgres;
  /** Extra teardown after the pool closed (the embedded server). */
  onClose?: () => Promise<void>;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

export function createDb(options: DbOptions): Db {
  const log = options.logger;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its server must not crash the daemon: pg emits it on the pool.
  pool.on('error', (err) => log.error({ err }, 'idle database client failed'));

  let closed = false;
  return {
    pool,
    target: redactUrl(options.connectionString),
    embedded: options.embedded,
    query: (text, values) => pool.query(text, values),
    async tx(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
      await options.onClose?.();
    },
  };
}
