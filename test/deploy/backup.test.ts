/**
 * `npm run backup` / `npm run restore`: two deposits on a running locker, a backup, a restore into
 * an empty database and an empty data directory, and a locker started on the restored records that
 * finds them, decrypts their phone numbers with the restored key and serves the next citizen.
 *
 * pg_dump must be of the server's version or newer: on the embedded defaults (PostgreSQL 18) with
 * an older client on PATH the backup refuses, naming both versions; that refusal is tested there,
 * the round trip on a server the client can dump (TEST_DATABASE_URL, as in .ci/run's second pass).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { loadSecretKeys } from '../../src/config/secrets.js';
import { PhoneVault } from '../../src/domain/phone-vault.js';
import { silentLogger } from '../../src/log.js';
import { findPgTool, serverFacts } from '../../src/store/backup.js';
import { codeFor, depositProcedure, door } from '../helpers/citizens.js';
import { ADMIN_TOKEN, STAFF_TOKEN, startTestLocker, type TestLocker } from '../helpers/controller.js';
import { freshDatabaseUrl } from '../helpers/db.js';
import { until } from '../helpers/mqtt.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');

function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The CLI as an operator runs it, with the daemon's variables. */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(path.join(repo, 'node_modules/.bin/tsx'), ['src/backup-cli.ts', ...args], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LOG_LEVEL: 'warn', ...env },
    });
    return { code: 0, out: stdout + stderr };
  } catch (err: any) {
    return { code: err.code ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** A locker whose master secret is the key file `<dataDir>/secret.key`, as in production. */
function withKeyFile(dataDir: string) {
  return { auth: { adminToken: ADMIN_TOKEN, staffToken: STAFF_TOKEN, secretKey: null, secretKeyFile: path.join(dataDir, 'secret.key') } };
}

async function deposit(locker: TestLocker, phone: string): Promise<{ depositId: string; dossierCode: string }> {
  const procedureCode = await depositProcedure(locker);
  const start = (await locker.anonymous.post('/api/deposits', { phone, procedureCode })).json();
  const verified = await locker.anonymous.post(`/api/deposits/${start.challengeId}/verify`, { otp: await codeFor(locker, phone) });
  if (verified.statusCode !== 200) throw new Error(verified.body);
  const { tray, depositId, dossierCode } = verified.json();
  await door(locker, tray, true);
  await door(locker, tray, false);
  await until(async () => (await locker.anonymous.get(`/api/deposits/${depositId}`)).json().status === 'deposited', 'deposited');
  return { depositId, dossierCode };
}

const source = await freshDatabaseUrl();
t.teardown(() => source.drop());
const server = await serverFacts(source.url);
const dump = await findPgTool('pg_dump').catch(() => null);
const canDump = dump !== null && dump.major >= server.major;

t.test(
  'a backup refuses a pg_dump older than the server, naming both',
  { skip: canDump && `pg_dump ${dump?.major} can dump PostgreSQL ${server.major}` },
  async (t) => {
    const dataDir = tempDir(t, 'atm247-bk-');
    writeFileSync(path.join(dataDir, 'secret.key'), 'k'.repeat(43) + '\n', { mode: 0o600 });
    const result = await cli(['backup', '--out', path.join(dataDir, 'b.tar.gz')], { DATABASE_URL: source.url, DATA_DIR: dataDir });
    t.equal(result.code, 1);
    t.match(result.out, new RegExp(`PostgreSQL ${server.major}.* but pg_dump is .*must be of version ${server.major} or newer`));
  },
);

t.test(
  'backup, restore into an empty database, and the locker works on the restored records',
  {
    skip: !canDump && `pg_dump ${dump?.major ?? '(none)'} cannot dump PostgreSQL ${server.major}: set TEST_DATABASE_URL to a server it can`,
  },
  async (t) => {
    const dataDir = tempDir(t, 'atm247-bk-');
    const first = await startTestLocker(t, withKeyFile(dataDir), { databaseUrl: source.url });
    const deposits = [await deposit(first, '0912 345 678'), await deposit(first, '0987 654 321')];
    const archive = path.join(tempDir(t, 'atm247-archive-'), 'locker.tar.gz');

    const made = await cli(['backup', '--out', archive], { DATABASE_URL: source.url, DATA_DIR: dataDir, LOCKER_ID: first.lockerId });
    t.equal(made.code, 0, made.out);
    t.match(made.out, /secret\.key included/);
    t.equal(statSync(archive).mode & 0o777, 0o600, 'the archive is readable by its owner only');
    const listing = (await run('tar', ['-tzf', archive])).stdout.split('\n').filter(Boolean).sort();
    t.same(listing, ['atm247-backup/', 'atm247-backup/database.dump', 'atm247-backup/manifest.json', 'atm247-backup/secret.key']);
    await first.controller.stop();

    // A new machine: an empty database and an empty data directory.
    const target = await freshDatabaseUrl();
    t.teardown(() => target.drop());
    const newDataDir = tempDir(t, 'atm247-restored-');
    const restored = await cli(['restore', archive], { DATABASE_URL: target.url, DATA_DIR: newDataDir, LOCKER_ID: first.lockerId });
    t.equal(restored.code, 0, restored.out);
    t.equal(
      readFileSync(path.join(newDataDir, 'secret.key'), 'utf8'),
      readFileSync(path.join(dataDir, 'secret.key'), 'utf8'),
      'the key file is back',
    );
    t.equal(statSync(path.join(newDataDir, 'secret.key')).mode & 0o777, 0o600);

    const again = await cli(['restore', archive], { DATABASE_URL: target.url, DATA_DIR: newDataDir, LOCKER_ID: first.lockerId });
    t.equal(again.code, 1, 'never into a database that holds records');
    t.match(again.out, /not empty/);

    const second = await startTestLocker(t, withKeyFile(newDataDir), { reuse: { databaseUrl: target.url, lockerId: first.lockerId } });
    for (const { depositId, dossierCode } of deposits) {
      t.match((await second.anonymous.get(`/api/deposits/${depositId}`)).json(), { status: 'deposited', dossierCode });
    }
    const vault = new PhoneVault(loadSecretKeys(second.config, silentLogger()));
    const { rows } = await second.controller.database.query(`SELECT phone_enc FROM dossiers WHERE locker_id = $1 ORDER BY created_at`, [
      first.lockerId,
    ]);
    t.same(
      rows.map((row: any) => vault.decrypt(row.phone_enc)),
      ['+84912345678', '+84987654321'],
      'the restored key decrypts the stored numbers',
    );
    const next = await deposit(second, '0911 222 333');
    t.match(
      (await second.anonymous.get(`/api/deposits/${next.depositId}`)).json(),
      { status: 'deposited', dossierCode: next.dossierCode },
      'the restored locker takes the next deposit',
    );
  },
);

t.test(
  'a restore refuses a key file that is not the backup’s',
  { skip: !canDump && 'needs a pg_dump that can dump this server' },
  async (t) => {
    const dataDir = tempDir(t, 'atm247-bk-');
    writeFileSync(path.join(dataDir, 'secret.key'), 'a'.repeat(43) + '\n', { mode: 0o600 });
    const archive = path.join(dataDir, 'b.tar.gz');
    t.equal((await cli(['backup', '--out', archive], { DATABASE_URL: source.url, DATA_DIR: dataDir })).code, 0);
    const other = tempDir(t, 'atm247-other-');
    writeFileSync(path.join(other, 'secret.key'), 'b'.repeat(43) + '\n', { mode: 0o600 });
    const target = await freshDatabaseUrl();
    t.teardown(() => target.drop());
    const refused = await cli(['restore', archive], { DATABASE_URL: target.url, DATA_DIR: other });
    t.equal(refused.code, 1);
    t.match(refused.out, /holds another master secret/);
    t.equal((await serverFacts(target.url)).tables, 0, 'nothing was restored');
    const envRefused = await cli(['restore', archive], { DATABASE_URL: target.url, DATA_DIR: other, ATM247_SECRET_KEY: 'c'.repeat(40) });
    t.match(envRefused.out, /ATM247_SECRET_KEY is not the master secret/);
  },
);
