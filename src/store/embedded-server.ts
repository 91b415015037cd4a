/**
 * One embedded PostgreSQL server process (see embedded.ts for what it guarantees): start, wait until
 * ready, stop (escalating on a frozen or stuck server), dispose, and initdb on the first start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import {
  type Binaries,
  type RunAs,
  sleep,
  within,
  sleepSync,
  processAlive,
  readLockFile,
  lockOwner,
  initdb,
  EMBEDDED_DATABASE,
  EMBEDDED_USER,
  PASSWORD_FILE,
} from './embedded-os.js';
import type { EmbeddedPostgres } from './embedded.js';

/**
 * The server's memory, for a locker rather than a shared server. shared_buffers 32 MB holds the
 * whole database many times over; 50 connections cover the pool (database.poolSize, 10), the
 * migrations, backups and tests creating databases beside it; no parallel query workers and no JIT
 * (neither pays off on tables of a few thousand rows, and each costs a process's or LLVM's memory);
 * one autovacuum worker.
 */
export const MEMORY_SETTINGS: readonly string[] = [
  'shared_buffers=32MB',
  'max_connections=50',
  'work_mem=2MB',
  'maintenance_work_mem=16MB',
  'max_parallel_workers_per_gather=0',
  'max_worker_processes=4',
  'jit=off',
  'autovacuum_max_workers=1',
  'huge_pages=off',
];

/** Servers this process runs: stopped by the exit hook if the process ends without dispose(). */
export const live = new Set<Server>();

export class Server implements EmbeddedPostgres {
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
      '-D',
      this.pgdata,
      '-p',
      String(this.port),
      '-c',
      'listen_addresses=',
      '-c',
      `unix_socket_directories="${this.socketDir}"`,
      '-c',
      'unix_socket_permissions=0700',
      '-c',
      'password_encryption=scram-sha-256',
      // Sized for one locker (90 trays, a pool of ~10 connections, a database of a few MiB): the
      // server's memory stays well under 100 MiB (PSS of all its processes; bench/table/daemon.ts).
      ...MEMORY_SETTINGS.flatMap((setting) => ['-c', setting]),
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
    const began = Date.now();
    await initdb({
      pgdata: this.pgdata,
      socketDir: this.socketDir,
      password: this.password,
      bin: this.bin,
      user: this.user,
      durable: this.durable,
    });
    this.log.info({ pgdata: this.pgdata, ms: Date.now() - began }, 'embedded PostgreSQL data directory created (initdb)');
  }
}
