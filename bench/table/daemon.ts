/**
 * The compiled daemon (`node <flags> dist/src/main.js` as `npm run start:prod`, what production
 * runs) in a process of its own:
 * cold start to the first `/health` answering `status: ok`, then resident memory and CPU over a
 * steady window, read from /proc.
 *
 * - External services: DATABASE_URL, MQTT_URL and HARDWARE=modbus on a gateway address where the
 *   simulated cabinet listens in another process (bench/table/cabinet-process.ts): the daemon's
 *   CPU is its own, scanning the 90 doors continuously at 19200 baud.
 * - Embedded defaults: nothing but DATA_DIR (an existing data directory), the broker's port and
 *   the HTTP port: the embedded PostgreSQL server, the in-process broker and simulated cabinet.
 * Both get a CACHE_DIRECTORY, as the systemd unit does (deploy/systemd/atm247.service).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { freePort, freshDatabase, MQTT_URL, sleep } from './services.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
/** Node's flags as production gives them: `npm run start:prod` (the systemd unit and the image use the same). */
export const NODE_FLAGS: string[] = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts['start:prod'] as string)
  .split(' ')
  .filter((word) => word.startsWith('--'));
const CLK_TCK = 100;

/** CPU seconds (user + system) of a process so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function statusKiB(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** Resident set (VmRSS) in MiB. */
export const rssMiB = (pid: number): number => statusKiB(pid, 'VmRSS') / 1024;

/** Proportional set size in MiB: shared pages divided among the processes mapping them. */
function pssMiB(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0; // gone meanwhile
  }
}

/** A process and its children (a PostgreSQL postmaster and its backends and workers). */
function withChildren(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return [pid, ...children];
}

export interface DaemonRun {
  coldStartMs: number;
  /** Highest VmRSS over the window. */
  rssMiB: number;
  /** CPU time over the window / its length, in % of one core. */
  cpuPercent: number;
  /** Embedded only: highest sum of PSS of the PostgreSQL server's processes over the window. */
  postgresPssMiB?: number;
  /** Embedded only: the same processes' VmRSS summed (shared memory counted in each). */
  postgresRssMiB?: number;
  /** External only: the simulated cabinet's own process, % of one core over the window. */
  cabinetCpuPercent?: number;
}

interface Daemon {
  child: ChildProcess;
  port: number;
  output: string[];
}

function startDaemon(env: Record<string, string>, port: number): Daemon {
  const base = { ...process.env };
  for (const name of [
    'DATABASE_URL',
    'MQTT_URL',
    'HARDWARE',
    'DATA_DIR',
    'CACHE_DIRECTORY',
    'CONFIG_FILE',
    'NOTIFY_SOCKET',
    'PORT',
    'HOST',
  ])
    delete base[name];
  const child = spawn(process.execPath, [...NODE_FLAGS, MAIN], {
    cwd: ROOT,
    env: { ...base, NODE_ENV: 'production', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      output.push(chunk);
      if (output.length > 50) output.shift();
    });
  }
  return { child, port, output };
}

/** From now to the first `/health` answering 200 with `status: ok`, in ms. */
async function coldStart(daemon: Daemon, startedMs: number, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    if (daemon.child.exitCode !== null) throw new Error(`the daemon exited (${daemon.child.exitCode}):\n${daemon.output.join('')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${daemon.port}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200 && (await res.json()).status === 'ok') return performance.now() - startedMs;
    } catch {
      // not listening yet
    }
    if (performance.now() - startedMs > timeoutMs) throw new Error(`no /health ok within ${timeoutMs} ms:\n${daemon.output.join('')}`);
    await sleep(5);
  }
}

async function stopDaemon(daemon: Daemon): Promise<void> {
  if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  const exited = new Promise((resolve) => daemon.child.once('exit', resolve));
  daemon.child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
}

/** Samples every second over `windowMs`: highest RSS (and PSS for `group`) and CPU %. */
async function steady(
  pid: number,
  windowMs: number,
  group?: () => number[],
): Promise<{ rssMiB: number; cpuPercent: number; groupPssMiB?: number; groupRssMiB?: number }> {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  let rss = 0;
  let pss = 0;
  let groupRss = 0;
  while (performance.now() - t0 < windowMs) {
    rss = Math.max(rss, rssMiB(pid));
    if (group) {
      const pids = group();
      pss = Math.max(
        pss,
        pids.reduce((sum, p) => sum + pssMiB(p), 0),
      );
      groupRss = Math.max(
        groupRss,
        pids.reduce((sum, p) => sum + (safe(() => rssMiB(p)) ?? 0), 0),
      );
    }
    await sleep(1_000);
  }
  const cpuPercent = ((cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
  return { rssMiB: rss, cpuPercent, ...(group ? { groupPssMiB: pss, groupRssMiB: groupRss } : {}) };
}

const safe = <T>(fn: () => T): T | undefined => {
  try {
    return fn();
  } catch {
    return undefined;
  }
};

/** The simulated cabinet in its own process; resolves once it listens. */
async function startCabinet(): Promise<{ child: ChildProcess; endpoints: Record<string, { host: string; port: number }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'table', 'cabinet-process.ts')], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`the cabinet process exited (${code})`)));
  });
  return { child, endpoints: JSON.parse(line) };
}

export interface DaemonBench {
  run(windowMs: number): Promise<{ external: DaemonRun; embedded: DaemonRun }>;
  close(): Promise<void>;
}

/**
 * Prepares both deployments: the cabinet process, a configuration file pointing the Modbus driver
 * at it, a database on the external server, and an embedded data directory created by a first
 * start (not measured: the figure is for an existing data directory).
 */
export async function prepareDaemonBench(): Promise<DaemonBench> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'atm247-bench-'));
  // Run as root, the daemon runs the embedded server as `postgres`, which must get through to DATA_DIR.
  await fs.chmod(scratch, 0o711);
  const secret = { ATM247_SECRET_KEY: 'bench-secret-key-0000000000000000000000' };
  const cabinets: Awaited<ReturnType<typeof startCabinet>>[] = [];
  const databases: Awaited<ReturnType<typeof freshDatabase>>[] = [];
  /** A daemon's environment on the external services, with a simulated cabinet of its own behind a gateway address. */
  const externalDeployment = async (name: string): Promise<{ env: Record<string, string>; cabinetPid: number }> => {
    const cabinet = await startCabinet();
    cabinets.push(cabinet);
    const db = await freshDatabase();
    databases.push(db);
    const config = YAML.parse(await fs.readFile(path.join(ROOT, 'config', 'default.yaml'), 'utf8'));
    const map = YAML.parse(await fs.readFile(path.join(ROOT, 'config', config.hardware.map), 'utf8'));
    for (const bus of map.buses) {
      delete bus.path;
      bus.host = cabinet.endpoints[bus.id].host;
      bus.port = cabinet.endpoints[bus.id].port;
    }
    const mapFile = path.join(scratch, `${name}-cabinet.yaml`);
    await fs.writeFile(mapFile, YAML.stringify(map));
    config.hardware.map = mapFile;
    const configFile = path.join(scratch, `${name}.yaml`);
    await fs.writeFile(configFile, YAML.stringify(config));
    const env = {
      ...secret,
      CONFIG_FILE: configFile,
      DATABASE_URL: db.url,
      MQTT_URL: MQTT_URL,
      HARDWARE: 'modbus',
      LOCKER_ID: `bench-${name}-${path.basename(scratch).slice(-6).toLowerCase()}`,
      DATA_DIR: path.join(scratch, name),
      // As the systemd unit gives it (CacheDirectory=): the configuration files once parsed.
      CACHE_DIRECTORY: path.join(scratch, `${name}-cache`),
    };
    return { env, cabinetPid: cabinet.child.pid! };
  };
  const plain = await externalDeployment('external');
  const dataDir = path.join(scratch, 'embedded');
  const embeddedEnv = async (): Promise<Record<string, string>> => ({
    ...secret,
    DATA_DIR: dataDir,
    CACHE_DIRECTORY: path.join(scratch, 'embedded-cache'),
    MQTT_EMBEDDED_PORT: String(await freePort()),
  });
  // The embedded data directory is created once (initdb, migrations) before the measured starts.
  {
    const port = await freePort();
    const first = startDaemon(await embeddedEnv(), port);
    try {
      await coldStart(first, performance.now(), 120_000);
    } finally {
      await stopDaemon(first);
    }
  }
  return {
    async run(windowMs) {
      const daemons: Daemon[] = [];
      try {
        let began = performance.now();
        const external = startDaemon(plain.env, await freePort());
        daemons.push(external);
        const externalStartMs = await coldStart(external, began);
        const env = await embeddedEnv();
        const embeddedPort = await freePort();
        began = performance.now();
        const embedded = startDaemon(env, embeddedPort);
        daemons.push(embedded);
        const embeddedStartMs = await coldStart(embedded, began);
        const postmaster = Number(readFileSync(path.join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
        // Past start-up (JIT, first pool connections, first scans), all watched over the same window.
        await sleep(5_000);
        const cabinetCpu0 = cpuSeconds(plain.cabinetPid);
        const cabinetT0 = performance.now();
        const [ext, emb] = await Promise.all([
          steady(external.child.pid!, windowMs),
          steady(embedded.child.pid!, windowMs, () => withChildren(postmaster)),
        ]);
        const cabinetCpuPercent = ((cpuSeconds(plain.cabinetPid) - cabinetCpu0) / ((performance.now() - cabinetT0) / 1000)) * 100;
        return {
          external: { coldStartMs: externalStartMs, rssMiB: ext.rssMiB, cpuPercent: ext.cpuPercent, cabinetCpuPercent },
          embedded: {
            coldStartMs: embeddedStartMs,
            rssMiB: emb.rssMiB,
            cpuPercent: emb.cpuPercent,
            postgresPssMiB: emb.groupPssMiB,
            postgresRssMiB: emb.groupRssMiB,
          },
        };
      } finally {
        await Promise.all(daemons.map(stopDaemon));
      }
    },
    async close() {
      for (const cabinet of cabinets) {
        cabinet.child.stdin?.end();
        cabinet.child.kill('SIGTERM');
      }
      for (const db of databases) await db.drop().catch(() => undefined);
      await fs.rm(scratch, { recursive: true, force: true });
    },
  };
}
