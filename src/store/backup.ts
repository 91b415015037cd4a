/**
 * Backups of a locker: the database in pg_dump's custom format, the master secret's key file and
 * the receipts' signing key file (when there is one), in one tar.gz with a manifest (`npm run backup` / `npm run restore`, src/backup-cli.ts).
 *
 * pg_dump and pg_restore must be of the server's major version or newer: they are looked for in
 * PG_BIN, then beside the embedded server's binaries, then on PATH, and a too-old one is refused
 * with the versions named rather than left to fail half-way.
 */
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The archive's top directory and files. */
export const BACKUP_DIR = 'atm247-backup';
export const MANIFEST_FILE = 'manifest.json';
export const DUMP_FILE = 'database.dump';
export const KEY_FILE = 'secret.key';
/** The receipts' Ed25519 signing key (PKCS#8 PEM, config/secrets.ts loadReceiptKey), as it was on disk. */
export const RECEIPT_KEY_FILE = 'receipt-signing.key';
export const BACKUP_FORMAT = 1;

export interface BackupManifest {
  format: number;
  createdAt: string;
  lockerId: string;
  controllerVersion: string;
  database: { serverVersion: string; dumpedWith: string; latestMigration: number | null };
  /** `file`: secret.key is in the archive; `environment`: ATM247_SECRET_KEY was used, not saved. */
  secretKey: { source: 'file' | 'environment'; fingerprint: string };
  /**
   * The receipts' signing key. Absent in archives made before it was saved (they restore all the
   * same, without it); `included: false` when the locker had no key file yet. The fingerprint is
   * that of the public key (receiptKeyFingerprint), so it can be compared with the published one.
   */
  receiptKey?: { included: true; fingerprint: string } | { included: false };
}

/** libpq's connection variables for a postgres:// URL (a socket directory as host included), so no password is on a command line. */
export function libpqEnv(url: string): Record<string, string> {
  const parsed = new URL(url);
  const env: Record<string, string> = {};
  const host = decodeURIComponent(parsed.hostname || '') || parsed.searchParams.get('host') || '';
  if (host) env.PGHOST = host;
  if (parsed.port) env.PGPORT = parsed.port;
  if (parsed.username) env.PGUSER = decodeURIComponent(parsed.username);
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

/** A short digest that tells whether two master secrets are the same, without saying either. */
export function keyFingerprint(secret: string): string {
  return createHash('sha256').update('atm247 master secret fingerprint\n').update(secret.trim()).digest('hex').slice(0, 16);
}

/**
 * The SHA-256 (hex) of an Ed25519 private key's public half in SPKI DER form, as
 * `openssl pkey -in receipt-signing.key -pubout -outform DER | sha256sum` prints it: the same for
 * the same key whatever the PEM's layout, and it names the public key only.
 */
export function receiptKeyFingerprint(pem: string | Buffer): string {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`a ${privateKey.asymmetricKeyType} key, not Ed25519`);
  return createHash('sha256')
    .update(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export interface PgTool {
  path: string;
  major: number;
  version: string;
}

/** The first of PG_BIN, the embedded server's directory, PATH holding `tool`, with its version. */
export async function findPgTool(tool: 'pg_dump' | 'pg_restore', extraDirs: string[] = []): Promise<PgTool> {
  const candidates = [
    ...(process.env.PG_BIN ? [path.join(process.env.PG_BIN, tool)] : []),
    ...extraDirs.map((dir) => path.join(dir, tool)),
  ];
  const chosen = candidates.find((candidate) => existsSync(candidate)) ?? tool;
  let stdout: string;
  try {
    ({ stdout } = await run(chosen, ['--version']));
  } catch (err) {
    throw new Error(
      `${tool} not found (looked in ${[...candidates, 'PATH'].join(', ')}): install the PostgreSQL client of the server's version (postgresql-client), or set PG_BIN`,
      { cause: err },
    );
  }
  const match = /(\d+)(?:\.(\d+))?/.exec(stdout);
  if (!match) throw new Error(`cannot read the version of ${chosen}: "${stdout.trim()}"`);
  return { path: chosen, major: Number(match[1]), version: stdout.trim() };
}

export interface ServerFacts {
  version: string;
  major: number;
  tables: number;
  latestMigration: number | null;
}

export async function serverFacts(url: string): Promise<ServerFacts> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string; num: string; tables: string }>(
      `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num,
              (SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')) AS tables`,
    );
    const facts = rows[0];
    let latestMigration: number | null = null;
    const recorded = await client.query<{ present: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
    if (recorded.rows[0].present) {
      latestMigration = (await client.query<{ latest: number | null }>('SELECT max(version)::int AS latest FROM schema_migrations')).rows[0]
        .latest;
    }
    return { version: facts.version, major: Math.floor(Number(facts.num) / 10_000), tables: Number(facts.tables), latestMigration };
  } finally {
    await client.end();
  }
}

function assertToolFits(tool: PgTool, server: ServerFacts, name: string): void {
  if (tool.major < server.major) {
    throw new Error(
      `the database server is PostgreSQL ${server.version} but ${name} is ${tool.version} (${tool.path}): ` +
        `${name} must be of version ${server.major} or newer; install postgresql-client-${server.major} or set PG_BIN to its bin directory`,
    );
  }
}

export interface BackupInput {
  url: string;
  /** Where the tar.gz goes (mode 0600). */
  archive: string;
  lockerId: string;
  controllerVersion: string;
  /** The key file's path when the secret lives in a file; null when it came from the environment. */
  secretKeyFile: string | null;
  /** The master secret itself, for the fingerprint. */
  secret: string;
  /** The receipts' signing key file, saved when it exists (no key yet: none saved). */
  receiptKeyFile?: string | null;
  /** Directories to look for pg_dump in before PATH (the embedded server's). */
  toolDirs?: string[];
}

export async function backup(input: BackupInput): Promise<BackupManifest> {
  const server = await serverFacts(input.url);
  let receiptKey: Buffer | null = null;
  let receiptKeyPrint: string | null = null;
  if (input.receiptKeyFile && existsSync(input.receiptKeyFile)) {
    receiptKey = await fs.readFile(input.receiptKeyFile);
    try {
      receiptKeyPrint = receiptKeyFingerprint(receiptKey);
    } catch (err) {
      throw new Error(`${input.receiptKeyFile} is not the receipts' Ed25519 signing key: ${(err as Error).message}`, { cause: err });
    }
  }
  const dump = await findPgTool('pg_dump', input.toolDirs);
  assertToolFits(dump, server, 'pg_dump');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'atm247-backup-'));
  try {
    const dir = path.join(work, BACKUP_DIR);
    await fs.mkdir(dir, { mode: 0o700 });
    await run(dump.path, ['--format=custom', '--no-owner', '--no-privileges', `--file=${path.join(dir, DUMP_FILE)}`], {
      env: { ...process.env, ...libpqEnv(input.url) },
      maxBuffer: 16 * 1024 * 1024,
    });
    if (input.secretKeyFile) await fs.copyFile(input.secretKeyFile, path.join(dir, KEY_FILE));
    if (receiptKey) await fs.writeFile(path.join(dir, RECEIPT_KEY_FILE), receiptKey, { mode: 0o600 });
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      lockerId: input.lockerId,
      controllerVersion: input.controllerVersion,
      database: { serverVersion: server.version, dumpedWith: dump.version, latestMigration: server.latestMigration },
      secretKey: { source: input.secretKeyFile ? 'file' : 'environment', fingerprint: keyFingerprint(input.secret) },
      receiptKey: receiptKeyPrint ? { included: true, fingerprint: receiptKeyPrint } : { included: false },
    };
    await fs.writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    const archive = path.resolve(input.archive);
    const partial = `${archive}.partial`;
    // Created 0600 before tar writes into it: the archive holds the key and personal data, and is
    // never readable by others, not even for a moment.
    await (await fs.open(partial, 'w', 0o600)).close();
    await fs.chmod(partial, 0o600);
    await run('tar', ['-czf', partial, '-C', work, BACKUP_DIR]);
    await fs.rename(partial, archive);
    return manifest;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

export interface UnpackedBackup {
  manifest: BackupManifest;
  dir: string;
  /** Removes the unpacked files. */
  dispose(): Promise<void>;
}

export async function unpack(archive: string): Promise<UnpackedBackup> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'atm247-restore-'));
  const dispose = () => fs.rm(work, { recursive: true, force: true });
  try {
    await run('tar', ['-xzf', path.resolve(archive), '-C', work, BACKUP_DIR]);
    const dir = path.join(work, BACKUP_DIR);
    const manifest = JSON.parse(await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as BackupManifest;
    if (manifest.format !== BACKUP_FORMAT)
      throw new Error(`${archive}: backup format ${manifest.format}, this controller reads ${BACKUP_FORMAT}`);
    if (!existsSync(path.join(dir, DUMP_FILE))) throw new Error(`${archive}: no ${DUMP_FILE} inside`);
    if (manifest.receiptKey?.included && !existsSync(path.join(dir, RECEIPT_KEY_FILE))) {
      throw new Error(`${archive}: its manifest names ${RECEIPT_KEY_FILE} but it is not inside`);
    }
    return { manifest, dir, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** pg_restore into `url`, which must hold no table: a restore never merges into live records. */
export async function restoreDatabase(url: string, dumpFile: string, toolDirs: string[] = []): Promise<void> {
  const server = await serverFacts(url);
  if (server.tables > 0) {
    throw new Error(`the target database is not empty (${server.tables} tables): restore into an empty database (createdb a new one)`);
  }
  const tool = await findPgTool('pg_restore', toolDirs);
  assertToolFits(tool, server, 'pg_restore');
  await run(
    tool.path,
    ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${libpqEnv(url).PGDATABASE ?? ''}`, dumpFile],
    {
      env: { ...process.env, ...libpqEnv(url) },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
}
