/**
 * `npm run backup -- [--out FILE]` and `npm run restore -- FILE [--replace-key]` (compiled:
 * `node dist/src/backup-cli.js backup|restore …`): the locker's database in pg_dump's custom
 * format, its master secret's key file and its receipt signing key file, in one tar.gz
 * (src/store/backup.ts). The database is the daemon's: DATABASE_URL, or the embedded server under
 * DATA_DIR (used as it runs, or started for the occasion). A restore goes into an empty database
 * only, and checks both keys against the ones the backup was made with before it writes anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfigOrExit } from './config/load.js';
import type { Config } from './config/types.js';
import { PACKAGE_ROOT } from './config/package-root.js';
import { receiptKeyFile } from './config/secrets.js';
import { createLogger } from './log.js';
import {
  backup,
  KEY_FILE,
  keyFingerprint,
  RECEIPT_KEY_FILE,
  receiptKeyFingerprint,
  restoreDatabase,
  unpack,
  DUMP_FILE,
  type BackupManifest,
} from './store/backup.js';
import { startEmbeddedPostgres } from './store/embedded.js';
import { binaries, EMBEDDED_DATABASE, EMBEDDED_USER, lockOwner, PASSWORD_FILE, processAlive, readLockFile } from './store/embedded-os.js';

interface Target {
  url: string;
  /** Where the embedded server's pg_dump/pg_restore would be. */
  toolDirs: string[];
  close(): Promise<void>;
}

/** The daemon's database: DATABASE_URL, or the embedded server (the running one, or started here). */
async function openTarget(config: Config, logger: Logger, purpose: 'backup' | 'restore'): Promise<Target> {
  if (config.database.url) return { url: config.database.url, toolDirs: [], close: async () => {} };
  const dataDir = path.resolve(config.database.dataDir);
  const toolDirs = [path.dirname((await binaries()).postgres)];
  const lock = readLockFile(path.join(dataDir, 'pgdata'));
  if (lock && processAlive(lock.pid) && lockOwner(lock.pid) !== 'other') {
    // The daemon's server runs: use it through its socket (starting another would stop it).
    const password = readFileSync(path.join(dataDir, PASSWORD_FILE), 'utf8').trim();
    const lines = readFileSync(path.join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n');
    const port = Number(lines[3]) || 5432;
    const host = encodeURIComponent(path.join(dataDir, 'pgsocket'));
    const url = `postgres://${EMBEDDED_USER}:${encodeURIComponent(password)}@${host}:${port}/${EMBEDDED_DATABASE}`;
    return { url, toolDirs, close: async () => {} };
  }
  if (purpose === 'backup' && !existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION'))) {
    throw new Error(`no embedded database in ${dataDir} (DATA_DIR) and no DATABASE_URL: nothing to back up`);
  }
  const server = await startEmbeddedPostgres({ dataDir, logger });
  return { url: server.url, toolDirs, close: () => server.stop() };
}

/** The master secret as the daemon would use it: ATM247_SECRET_KEY, or the key file. */
function secretSource(config: Config): { secret: string | null; file: string } {
  const file = path.resolve(config.auth.secretKeyFile ?? path.join(config.database.dataDir, 'secret.key'));
  if (config.auth.secretKey) return { secret: config.auth.secretKey, file };
  return { secret: existsSync(file) ? readFileSync(file, 'utf8').trim() : null, file };
}

/** Where the daemon reads the receipts' signing key (config/secrets.ts). */
const receiptKeyPath = receiptKeyFile;

/** The public key's fingerprint of a PEM Ed25519 private key; null for anything else. */
function receiptPrintOrNull(pem: string | Buffer): string | null {
  try {
    return receiptKeyFingerprint(pem);
  } catch {
    return null;
  }
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function runBackup(config: Config, logger: Logger, args: string[]): Promise<void> {
  const { secret, file } = secretSource(config);
  if (!secret) throw new Error(`no master secret to save: ${file} does not exist and ATM247_SECRET_KEY is not set`);
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const archive = path.resolve(option(args, '--out') ?? `atm247-${config.locker.id}-${stamp}.tar.gz`);
  const target = await openTarget(config, logger, 'backup');
  try {
    const receiptKeyFile = receiptKeyPath(config);
    const manifest = await backup({
      url: target.url,
      archive,
      lockerId: config.locker.id,
      controllerVersion: JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version,
      secretKeyFile: config.auth.secretKey ? null : file,
      secret,
      receiptKeyFile,
      toolDirs: target.toolDirs,
    });
    console.log(`backup written to ${archive} (mode 0600)`);
    console.log(
      `  database: PostgreSQL ${manifest.database.serverVersion}, migration ${manifest.database.latestMigration}, ${manifest.database.dumpedWith}`,
    );
    console.log(
      manifest.secretKey.source === 'file'
        ? `  master secret: ${KEY_FILE} included (fingerprint ${manifest.secretKey.fingerprint}); keep this file as safe as the key`
        : `  master secret: from ATM247_SECRET_KEY, NOT included (fingerprint ${manifest.secretKey.fingerprint}): keep that value with the backup`,
    );
    console.log(
      manifest.receiptKey?.included
        ? `  receipt signing key: ${RECEIPT_KEY_FILE} included (public key fingerprint ${manifest.receiptKey.fingerprint})`
        : `  receipt signing key: none at ${receiptKeyFile} yet, NOT included (the daemon makes one on its first start)`,
    );
  } finally {
    await target.close();
  }
}

interface KeyFile {
  /** Where this configuration reads it. */
  file: string;
  /** What it is, in messages: "master secret", "receipt signing key". */
  what: string;
  /** The backup's key file, as it is written. */
  content: string | Buffer;
  /** Whether a key file's text is the backup's key. */
  isBackups(current: string): boolean;
}

/**
 * Checks (and with `write`, installs) one of the backup's key files: written (mode 0600) when none
 * is there, left when the same key is there, refused when another one is, unless `replace`, which
 * keeps that one aside as `<file>.replaced-<time>`.
 */
async function placeKeyFile(key: KeyFile, replace: boolean, write: boolean): Promise<string> {
  const { file, what } = key;
  if (existsSync(file)) {
    if (key.isBackups(readFileSync(file, 'utf8'))) return `${file} already holds the backup's ${what}`;
    if (!replace) {
      throw new Error(
        `${file} holds another ${what}: move it away, or pass --replace-key to keep it as ${path.basename(file)}.replaced-<time>`,
      );
    }
    if (write) await fs.rename(file, `${file}.replaced-${Date.now()}`);
  }
  if (write) {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.writeFile(file, key.content, { mode: 0o600, flag: 'wx' });
  }
  return `${what} restored to ${file}`;
}

/** Checks (and with `write`, installs) the backup's master secret where this configuration reads it. */
async function placeKey(config: Config, manifest: BackupManifest, dir: string, replace: boolean, write: boolean): Promise<string> {
  const wanted = manifest.secretKey.fingerprint;
  const { file } = secretSource(config);
  if (config.auth.secretKey) {
    if (keyFingerprint(config.auth.secretKey) !== wanted) {
      throw new Error('ATM247_SECRET_KEY is not the master secret this backup was made with: stored phone numbers would not decrypt');
    }
    return 'ATM247_SECRET_KEY matches the backup';
  }
  if (manifest.secretKey.source !== 'file') {
    throw new Error(
      `this backup was made with ATM247_SECRET_KEY (fingerprint ${wanted}), which it does not hold: set that same value and restore again`,
    );
  }
  const saved = (await fs.readFile(path.join(dir, KEY_FILE), 'utf8')).trim();
  if (keyFingerprint(saved) !== wanted) throw new Error(`the archive's ${KEY_FILE} does not match its manifest: the archive is damaged`);
  return placeKeyFile(
    { file, what: 'master secret', content: `${saved}\n`, isBackups: (current) => keyFingerprint(current) === wanted },
    replace,
    write,
  );
}

/** Checks (and with `write`, installs) the backup's receipt signing key where this configuration reads it. */
async function placeReceiptKey(config: Config, manifest: BackupManifest, dir: string, replace: boolean, write: boolean): Promise<string> {
  const file = receiptKeyPath(config);
  const saved = manifest.receiptKey;
  if (!saved) {
    return `receipt signing key: none in this backup (made before backups held it); ${file} is left as it is, or made anew on the daemon's first start`;
  }
  if (!saved.included) {
    return `receipt signing key: none in this backup (the locker had none yet); ${file} is left as it is, or made anew on the daemon's first start`;
  }
  const content = await fs.readFile(path.join(dir, RECEIPT_KEY_FILE));
  if (receiptPrintOrNull(content) !== saved.fingerprint) {
    throw new Error(`the archive's ${RECEIPT_KEY_FILE} does not match its manifest: the archive is damaged`);
  }
  return placeKeyFile(
    { file, what: 'receipt signing key', content, isBackups: (current) => receiptPrintOrNull(current) === saved.fingerprint },
    replace,
    write,
  );
}

async function runRestore(config: Config, logger: Logger, args: string[]): Promise<void> {
  const archive = args.find((arg) => !arg.startsWith('--'));
  if (!archive) throw new Error('usage: npm run restore -- FILE [--replace-key]');
  const replace = args.includes('--replace-key');
  const unpacked = await unpack(archive);
  try {
    const { manifest, dir } = unpacked;
    if (manifest.lockerId !== config.locker.id) {
      logger.warn(
        { backup: manifest.lockerId, configured: config.locker.id },
        'the backup is of another locker id than LOCKER_ID: its records keep their own',
      );
    }
    if (!manifest.receiptKey) {
      logger.warn(
        { file: receiptKeyPath(config) },
        'this backup was made before backups held the receipt signing key: restoring without it; receipts issued before it verify here only if that same key file is put back',
      );
    }
    // Before anything is written: a restore whose phone numbers could not be read is no restore,
    // and one that would silently leave another receipt key in place is a half one.
    await placeKey(config, manifest, dir, replace, false);
    await placeReceiptKey(config, manifest, dir, replace, false);
    const target = await openTarget(config, logger, 'restore');
    try {
      await restoreDatabase(target.url, path.join(dir, DUMP_FILE), target.toolDirs);
    } finally {
      await target.close();
    }
    const keyNote = await placeKey(config, manifest, dir, replace, true);
    const receiptNote = await placeReceiptKey(config, manifest, dir, replace, true);
    console.log(
      `restored ${archive} (made ${manifest.createdAt}, locker ${manifest.lockerId}, migration ${manifest.database.latestMigration})`,
    );
    console.log(`  ${keyNote}`);
    console.log(`  ${receiptNote}`);
    console.log('  start the daemon: it applies any newer migrations and reads every door before it serves');
  } finally {
    await unpacked.dispose();
  }
}

const [command, ...args] = process.argv.slice(2);
const config = loadConfigOrExit();
const logger = createLogger({ level: config.log.level });
try {
  if (command === 'backup') await runBackup(config, logger, args);
  else if (command === 'restore') await runRestore(config, logger, args);
  else throw new Error('usage: backup-cli backup [--out FILE] | restore FILE [--replace-key]');
  process.exit(0);
} catch (err) {
  console.error(`${command ?? 'backup-cli'} failed: ${(err as Error).message}`);
  process.exit(1);
}
