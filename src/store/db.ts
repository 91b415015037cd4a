/**
 * The one way the controller reaches PostgreSQL: a `pg` pool, whether the server is a real one
 * (`DATABASE_URL`) or the embedded server the daemon started (see embedded.ts).
 *
 * A database that is down or frozen must not hang requests: getting a connection is bounded
 * (`connectTimeoutMs`), every statement is bounded on the server (`statement_timeout`) and on the
 * client (`query_timeout`, for a server that does not answer at all), and `ping()` for /health has
 * its own short bound. Errors that mean "the database cannot be reached now" are recognised by
 * `isDbUnavailable()`, which the HTTP layer answers with 503 DB_UNAVAILABLE and a Retry-After.
 */
import pg from 'pg';
import type { Logger } from 'pino';

import type { Queryable } from '../services/ports.js';
import type { EmbeddedPostgres } from './embedded.js';
export type { Queryable };

export const DB_DEFAULTS = {
  poolSize: 10,
  connectTimeoutMs: 3_000,
  statementTimeoutMs: 5_000,
  healthTimeoutMs: 1_500,
} as const;

/** The client gives up on an unanswered statement this long after the server would have cancelled it. */
const CLIENT_TIMEOUT_MARGIN_MS = 1_000;
/** "No limit" for a transaction that must not be cut (migrations): the longest timer Node has. */
const UNLIMITED_MS = 2_147_483_647;

export interface TxOptions {
  /** Statement timeout for this transaction, in ms; `null`: none (migrations). Default: the pool's. */
  statementTimeoutMs?: number | null;
}

export interface Db {
  /** Runs one statement on a pooled connection. */
  readonly pool: pg.Pool;
  /** Where the pool points, without credentials (for /health and logs). */
  readonly target: string;
  /** The embedded server behind the pool, when there is one (to stop, freeze and restart it in tests). */
  readonly embedded?: EmbeddedPostgres;
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Runs `fn` in one transaction; rolls back if it throws. */
  tx<T>(fn: (client: Queryable) => Promise<T>, options?: TxOptions): Promise<T>;
  /** A cheap round trip, for /health; false when it fails or takes longer than `healthTimeoutMs`. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DbOptions {
  connectionString: string;
  max?: number;
  logger: Logger;
  /** Waiting for a connection (new, or free in the pool) fails after this; default 3 s. */
  connectTimeoutMs?: number;
  /** Server-side statement timeout; the client stops waiting 1 s later. Default 5 s. */
  statementTimeoutMs?: number;
  /** `ping()` answers false after this; default 1.5 s. */
  healthTimeoutMs?: number;
  /** The embedded server behind the connection string, if any (exposed as `Db.embedded`). */
  embedded?: EmbeddedPostgres;
  /** Extra teardown after the pool closed (the embedded server). */
  onClose?: () => Promise<void>;
}

export { redactUrl } from '../log.js';
import { redactUrl } from '../log.js';

// ---------------------------------------------------------------------------------------------
// "The database is unavailable": the one classification of connection-level failures.

const UNAVAILABLE = Symbol.for('atm247.dbUnavailable');

/** SQLSTATEs that say the server cannot serve now (class 08 is matched by prefix). */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: terminating connection due to administrator command
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the database system is starting up / shutting down / in recovery
  '57P05', // idle_session_timeout
  '57014', // query_canceled: statement_timeout expired (a busy or locked database)
  '53300', // too_many_connections
  '58030', // io_error
]);

/** Socket-level error codes; counted only for errors that came from the database (see `markIfUnavailable`). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOENT',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

/** Messages `pg` and `pg-pool` produce for a connection that failed, closed or timed out. */
const PG_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /^Connection terminated/i,
  /^Query read timeout/i,
  /^timeout expired$/i,
  /is not queryable/i,
  /^Client has encountered a connection error/i,
  /^the database system is (?:starting up|shutting down|in recovery mode|not yet accepting connections)/i,
];

function classify(err: unknown, fromDb: boolean, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown; address?: unknown; [UNAVAILABLE]?: boolean };
  if (e[UNAVAILABLE]) return true;
  const code = typeof e.code === 'string' ? e.code : '';
  if (/^08[0-9A-Z]{3}$/.test(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
  if (NETWORK_CODES.has(code)) {
    // A refused or missing PostgreSQL socket is the database whatever path the error took.
    if (fromDb || (typeof e.address === 'string' && e.address.includes('.s.PGSQL.'))) return true;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  if (PG_MESSAGES.some((re) => re.test(message))) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => classify(x, fromDb, depth + 1))) return true;
  return classify(e.cause, fromDb, depth + 1);
}

/**
 * True when `err` means the database cannot be reached or cannot serve right now (down, frozen,
 * restarting, out of connections, a statement timed out), as opposed to a bad query or a rule.
 */
export function isDbUnavailable(err: unknown): boolean {
  return classify(err, false);
}

/** Tags a failure of a database call, so that a bare socket error is known to be the database's. */
function markIfUnavailable(err: unknown): unknown {
  if (err && typeof err === 'object' && classify(err, true)) {
    try {
      Object.defineProperty(err, UNAVAILABLE, { value: true });
    } catch {
      // frozen or exotic: the classification above still applies by code and message
    }
  }
  return err;
}

// ---------------------------------------------------------------------------------------------
// Work a transaction does last, just before its COMMIT.

type CommitWork = (q: Queryable) => Promise<void>;
const atCommit = new WeakMap<Queryable, CommitWork[]>();

/**
 * Has `work` run in the transaction of `q` after its body returned, just before COMMIT (in the
 * order registered; a failure rolls the transaction back). Work that takes a lock every
 * transaction needs (the audit chain's) holds it from there to the commit only, and never waits
 * for a lock after it. False when `q` is not an open transaction of `Db.tx` (the pool itself).
 */
export function beforeCommit(q: Queryable, work: CommitWork): boolean {
  const list = atCommit.get(q);
  if (!list) return false;
  list.push(work);
  return true;
}

/**
 * The connection `Db.tx` hands its body: it also takes a callback for the moment the transaction
 * ends, told whether COMMIT succeeded (`false`: rolled back, or its outcome unknown). The callback
 * runs synchronously as the transaction ends, before `tx()` resolves or rejects; it must not throw.
 * Adapters that may not import the store's code see it through this type only.
 */
export interface TxQueryable extends Queryable {
  onEnd(fn: (committed: boolean) => void): void;
}

// ---------------------------------------------------------------------------------------------

export function createDb(options: DbOptions): Db {
  const log = options.logger;
  const statementTimeoutMs = options.statementTimeoutMs ?? DB_DEFAULTS.statementTimeoutMs;
  const healthTimeoutMs = options.healthTimeoutMs ?? DB_DEFAULTS.healthTimeoutMs;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? DB_DEFAULTS.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DB_DEFAULTS.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
  });
  // An idle client losing its server must not crash the daemon: pg emits it on the pool.
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost'));
  // And no client is ever without a listener of its own: pg-pool attaches and detaches its own as a
  // client moves between idle and checked out, and an 'error' emitted at a moment none is attached
  // (a fast shutdown of the server terminating every backend at once) would end the process. The
  // pool's and the transaction's listeners still run and decide what becomes of the client.
  pool.on('connect', (client) => client.on('error', (err) => log.debug({ err: err.message }, 'database connection error')));

  let closed = false;
  return {
    pool,
    target: redactUrl(options.connectionString),
    embedded: options.embedded,
    async query(text, values) {
      try {
        return await pool.query(text, values);
      } catch (err) {
        throw markIfUnavailable(err);
      }
    },
    async tx(fn, txOptions = {}) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw markIfUnavailable(err);
      }
      // A checked-out client has no listener of its own: a connection lost between two statements
      // would be an uncaught 'error'. The next statement fails and says so.
      let lost: Error | undefined;
      const onError = (err: Error) => {
        lost = err;
        log.warn({ err: err.message }, 'database connection lost in a transaction');
      };
      client.on('error', onError);
      const limit = txOptions.statementTimeoutMs;
      const readTimeout = limit === undefined ? undefined : limit === null ? UNLIMITED_MS : limit + CLIENT_TIMEOUT_MARGIN_MS;
      const run = (text: string, values?: unknown[]) =>
        (readTimeout === undefined
          ? client.query(text, values)
          : client.query({ text, values, query_timeout: readTimeout } as pg.QueryConfig)
        ).catch((err: unknown) => {
          throw markIfUnavailable(err);
        });
      const ends: ((committed: boolean) => void)[] = [];
      const q: TxQueryable = { query: run as Queryable['query'], onEnd: (f) => void ends.push(f) };
      const ended = (committed: boolean) => {
        for (const f of ends.splice(0)) {
          try {
            f(committed);
          } catch (err) {
            log.error({ err }, 'work at the end of a transaction failed');
          }
        }
      };
      const last: CommitWork[] = [];
      let broken = false;
      try {
        await run('BEGIN');
        if (limit !== undefined) await run(`SET LOCAL statement_timeout = ${limit === null ? 0 : Math.max(0, Math.floor(limit))}`);
        atCommit.set(q, last);
        const result = await fn(q);
        for (let i = 0; i < last.length; i++) await last[i](q);
        atCommit.delete(q);
        // A statement that failed inside the body (its error caught there) aborted the
        // transaction: PostgreSQL answers COMMIT with ROLLBACK, without an error. Nothing of it
        // was recorded, so the caller must not go on as if it had been.
        const commit = await run('COMMIT');
        if (commit.command !== 'COMMIT')
          throw new Error(`the transaction was rolled back at COMMIT (${commit.command}): a statement in it failed`);
        ended(true);
        return result;
      } catch (err) {
        broken = lost !== undefined || isDbUnavailable(err);
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        ended(false);
        throw err;
      } finally {
        atCommit.delete(q);
        client.removeListener('error', onError);
        // A connection that failed or timed out may still be busy with a statement: do not reuse it.
        client.release(broken ? (lost ?? new Error('database connection broken')) : undefined);
      }
    },
    async ping() {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          pool.query({ text: 'SELECT 1', query_timeout: healthTimeoutMs } as pg.QueryConfig).then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), healthTimeoutMs))),
        ]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
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
