/**
 * The campaign's database: by default an embedded PostgreSQL server the campaign starts with the
 * project's own `startEmbeddedPostgres` (src/store/embedded.ts) and can stop, freeze (SIGSTOP)
 * and crash; or, with `--db url`, a fresh database on the server at TEST_DATABASE_URL /
 * DATABASE_URL, which the campaign cannot fault (no process control).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import type { Logger } from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded.js';

export interface CampaignDatabase {
  readonly kind: 'embedded' | 'url';
  readonly url: string;
  /** Whether stop / freeze / crash faults are possible. */
  readonly canFault: boolean;
  /** A fast shutdown; the data stays. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP the postmaster and every backend: connections hang instead of failing. */
  freeze(): void;
  thaw(): void;
  /** SIGKILL the postmaster and every backend (a crash), then start again (crash recovery). */
  crashAndRestart(): Promise<void>;
  /** Thaws, stops, removes a temporary data directory / drops the campaign's database. */
  dispose(): Promise<void>;
  /** For the exit hook: nothing may stay frozen behind us. */
  thawSync(): void;
}

/** Children of `pid` (from /proc/<n>/stat: the 4th field is the parent's pid). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

class EmbeddedDatabase implements CampaignDatabase {
  readonly kind = 'embedded' as const;
  readonly canFault = true;
  private frozen: number[] = [];

  constructor(private readonly server: EmbeddedPostgres) {}

  get url(): string {
    return this.server.url;
  }

  stop(): Promise<void> {
    this.thaw();
    return this.server.stop();
  }

  start(): Promise<void> {
    return this.server.start();
  }

  freeze(): void {
    const pid = this.server.pid();
    if (pid === null) return;
    // The postmaster first (no new backend is forked), then every backend it had.
    signal(pid, 'SIGSTOP');
    const children = childPids(pid);
    for (const child of children) signal(child, 'SIGSTOP');
    this.frozen = [pid, ...children];
  }

  thaw(): void {
    const pids = this.frozen;
    this.frozen = [];
    for (const pid of pids) signal(pid, 'SIGCONT');
  }

  thawSync(): void {
    this.thaw();
  }

  async crashAndRestart(): Promise<void> {
    this.thaw();
    const pid = this.server.pid();
    if (pid !== null) {
      const children = childPids(pid);
      signal(pid, 'SIGKILL');
      for (const child of children) signal(child, 'SIGKILL');
      // The handle notices its postmaster's exit; then start() does crash recovery.
      for (let i = 0; i < 200 && this.server.pid() !== null; i++) await new Promise((r) => setTimeout(r, 25));
    }
    await this.server.start();
  }

  async dispose(): Promise<void> {
    this.thaw();
    await this.server.dispose();
  }
}

class UrlDatabase implements CampaignDatabase {
  readonly kind = 'url' as const;
  readonly canFault = false;

  constructor(
    readonly url: string,
    private readonly drop: (() => Promise<void>) | null,
  ) {}

  async stop(): Promise<void> {}
  async start(): Promise<void> {}
  freeze(): void {}
  thaw(): void {}
  thawSync(): void {}
  async crashAndRestart(): Promise<void> {}
  async dispose(): Promise<void> {
    await this.drop?.().catch(() => undefined);
  }
}

/** One short-lived client on `url` (creating and dropping databases). */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function openCampaignDatabase(kind: 'embedded' | 'url', logger: Logger): Promise<CampaignDatabase> {
  if (kind === 'embedded') {
    // A temporary data directory (null): removed by dispose(), and by the embedded module's
    // watchdog should the campaign itself be killed.
    return new EmbeddedDatabase(await startEmbeddedPostgres({ dataDir: null, logger }));
  }
  const base = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!base) throw new Error('--db url needs TEST_DATABASE_URL or DATABASE_URL');
  // A database of the campaign's own, dropped afterwards; if it may not create one, the given one
  // (the campaign's records are kept apart by their locker id).
  const name = `atm247_chaos_${randomBytes(5).toString('hex')}`;
  try {
    await withClient(base, (c) => c.query(`CREATE DATABASE ${name}`));
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'cannot create a database of its own; using the given one');
    return new UrlDatabase(base, null);
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return new UrlDatabase(u.toString(), () =>
    withClient(base, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  );
}
