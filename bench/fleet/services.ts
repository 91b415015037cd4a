/**
 * What bench/fleet-load.ts runs against, each its own and removed at the end: a Mosquitto on a
 * free loopback port (as test/helpers/mosquitto.ts starts one), a fresh database on the machine's
 * PostgreSQL, the fleet service's instances as child processes; and the /proc readings (CPU, memory)
 * of those processes and of PostgreSQL's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IngestStatus } from '../../src/fleet/ingest.js';
import { listening, mosquittoBin } from '../../test/helpers/mosquitto.js';
import { withClient } from '../chaos/database.js';
import { freePort, sleep } from '../table/services.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The server the bench creates its database on (and drops it from). */
export const ADMIN_DATABASE_URL = process.env.FLEET_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const CLK_TCK = 100;

export interface Broker {
  url: string;
  pid: number;
  /** How often each client id has connected so far (from the broker's log). */
  connections(): Map<string, number>;
  stop(): Promise<void>;
}

/** The district broker's queue limits, read from deploy/fleet/mosquitto.conf so that the bench follows it. */
export function deployedQueueLimits(): string[] {
  const text = readFileSync(path.join(ROOT, 'deploy', 'fleet', 'mosquitto.conf'), 'utf8');
  return text.split('\n').filter((line) => /^max_queued_(messages|bytes)\s/.test(line));
}

/**
 * Mosquitto with the queue limits of the district's broker (deploy/fleet/mosquitto.conf: QoS 1
 * messages per client beyond those in flight, then dropped); no TLS and no ACL here, which this
 * bench does not measure. `$SYS` every second, for its counters.
 */
export async function startBroker(dir: string): Promise<Broker> {
  if (!mosquittoBin) throw new Error('Mosquitto is not installed here (apt-get install mosquitto)');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      ...deployedQueueLimits(),
      'sys_interval 1',
      ...(process.getuid?.() === 0 ? ['user root'] : []),
    ].join('\n') + '\n',
  );
  const child = spawn(mosquittoBin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Its log (connections, "Outgoing messages are being dropped for client …") into the run directory.
  const log = createWriteStream(path.join(dir, 'mosquitto.log'));
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    log.write(chunk);
    if (stderr.length < 10_000) stderr += chunk;
  });
  for (const deadline = Date.now() + 5_000; !(await listening(port)); await sleep(20)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`mosquitto did not start: ${stderr}`);
  }
  const connections = () => {
    const counts = new Map<string, number>();
    for (const m of readFileSync(path.join(dir, 'mosquitto.log'), 'utf8').matchAll(/New client connected from \S+ as (\S+) /g)) {
      counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
    }
    return counts;
  };
  return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, connections, stop: () => stopChild(child, 'SIGTERM', 5_000) };
}

/** Sends `signal`, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface Database {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createDatabase(): Promise<Database> {
  const name = `fleet_bench_${randomBytes(5).toString('hex')}`;
  await withClient(ADMIN_DATABASE_URL, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => withClient(ADMIN_DATABASE_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export interface FleetInstance {
  name: string;
  url: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** `node --import tsx src/fleet/main.ts`, configured by FLEET_*; resolves once `/health` says ok. */
export async function startFleet(o: {
  name: string;
  databaseUrl: string;
  mqttUrl: string;
  token: string;
  dir: string;
  nodeArgs?: string[];
}): Promise<FleetInstance> {
  const port = await freePort();
  const logFile = path.join(o.dir, `fleet-${o.name}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), '--import', 'tsx', 'src/fleet/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      FLEET_DATABASE_URL: o.databaseUrl,
      FLEET_MQTT_URL: o.mqttUrl,
      FLEET_ADMIN_TOKEN: o.token,
      FLEET_INSTANCE: o.name,
      FLEET_GROUP: 'fleet',
      FLEET_HOST: '127.0.0.1',
      FLEET_PORT: String(port),
      LOG_LEVEL: process.env.BENCH_FLEET_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ; await sleep(100)) {
    if (child.exitCode !== null) throw new Error(`fleet ${o.name} exited (${child.exitCode}); see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`fleet ${o.name}: no /health ok within 60 s; see ${logFile}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
  }
  return { name: o.name, url, child, pid: child.pid!, logFile, stop: () => stopChild(child, 'SIGTERM', 15_000) };
}

/** The fleet's `/health` ingest counters (src/fleet/ingest.ts). */
export type IngestCounts = IngestStatus;

export async function health(url: string): Promise<IngestCounts | null> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
    return ((await res.json()) as { ingest: IngestCounts }).ingest;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// /proc

/** CPU seconds (user + system) of a process so far; null once it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** A field of /proc/<pid>/status in MiB (VmHWM: the peak resident set; VmRSS: now). */
export function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * PostgreSQL's CPU on this machine for the bench: the backends of its database (their command line
 * names it) and the server's own processes (WAL writer, checkpointer, background writer, autovacuum),
 * which work for every database but, on an otherwise idle server, for this one. Sampled every
 * second: a backend that ends between two samples loses at most its last second.
 */
export class PostgresCpu {
  private readonly seen = new Map<number, { first: number; last: number }>();
  private started = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly postmaster: number,
    private readonly database: string,
  ) {}

  /** The postmaster's pid when the server runs on this machine, else null. */
  static async find(url: string): Promise<number | null> {
    return withClient(url, async (c) => {
      const { pid } = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0];
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      } catch {
        return null; // not on this machine
      }
    });
  }

  private ours(pid: number): boolean {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== this.postmaster) return false;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      // A backend: "postgres: 15/main: <user> <database> <client address> <state>".
      return / \d+\.\d+\.\d+\.\d+\(\d+\)| \[local\]/.test(cmd) ? cmd.includes(` ${this.database} `) : true;
    } catch {
      return false;
    }
  }

  private sample(): void {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      const known = this.seen.get(pid);
      if (!known && !this.ours(pid)) continue;
      const cpu = cpuSeconds(pid);
      if (cpu === null) continue;
      if (known) known.last = cpu;
      // One started since the bench began: all of its time counts.
      else this.seen.set(pid, { first: this.started ? 0 : cpu, last: cpu });
    }
  }

  start(): void {
    this.sample();
    this.started = true;
    this.timer = setInterval(() => this.sample(), 1_000);
  }

  /** CPU seconds used since the last `mark()` (or `start()`). */
  mark(): number {
    this.sample();
    let total = 0;
    for (const v of this.seen.values()) {
      total += v.last - v.first;
      v.first = v.last;
    }
    return total;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
