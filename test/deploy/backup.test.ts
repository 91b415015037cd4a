/**
 * `npm run backup` / `npm run restore`: two deposits on a running locker, a backup, a restore into
 * an empty database and an empty data directory, and a locker started on the restored records that
 * finds them, decrypts their phone numbers with the restored key, publishes the same receipt
 * signing key and serves the next citizen. The receipt signing key is restored where the
 * configuration reads it, never over another one without --replace-key, and an archive made
 * before backups held it still restores.
 *
 * pg_dump must be of the server's version or newer: on the embedded defaults (PostgreSQL 18) with
 * an older client on PATH the backup refuses, naming both versions; that refusal is tested there,
 * the round trip on a server the client can dump (TEST_DATABASE_URL, as in .ci/run's second pass).
 */
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** A new receipt signing key file's text, as the daemon writes it (PKCS#8 PEM). */
function newReceiptKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** SHA-256 of the public key (SPKI DER) of a PEM private key: the manifest's receipt key fingerprint. */
function publicKeyPrint(pem: string): string {
  return createHash('sha256')
    .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

async function manifestOf(archive: string): Promise<any> {
  return JSON.parse((await run('tar', ['-xzOf', archive, 'atm247-backup/manifest.json'])).stdout);
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
    const publicKey = (await first.anonymous.get('/api/receipts/public-key')).json().publicKey;
    const receiptKey = readFileSync(path.join(dataDir, 'receipt-signing.key'), 'utf8');
    t.equal(
      createPublicKey(receiptKey).export({ type: 'spki', format: 'pem' }).toString(),
      publicKey,
      'the locker signs with the key file',
    );
    const archive = path.join(tempDir(t, 'atm247-archive-'), 'locker.tar.gz');

    const made = await cli(['backup', '--out', archive], { DATABASE_URL: source.url, DATA_DIR: dataDir, LOCKER_ID: first.lockerId });
    t.equal(made.code, 0, made.out);
    t.match(made.out, /secret\.key included/);
    t.match(made.out, /receipt-signing\.key included/);
    t.equal(statSync(archive).mode & 0o777, 0o600, 'the archive is readable by its owner only');
    const listing = (await run('tar', ['-tzf', archive])).stdout.split('\n').filter(Boolean).sort();
    t.same(listing, [
      'atm247-backup/',
      'atm247-backup/database.dump',
      'atm247-backup/manifest.json',
      'atm247-backup/receipt-signing.key',
      'atm247-backup/secret.key',
    ]);
    t.equal(
      (await run('tar', ['-xzOf', archive, 'atm247-backup/receipt-signing.key'])).stdout,
      receiptKey,
      'the archive holds the receipt signing key',
    );
    t.same(
      (await manifestOf(archive)).receiptKey,
      { included: true, fingerprint: publicKeyPrint(receiptKey) },
      'the manifest names the receipt key by its public key',
    );
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
    t.equal(readFileSync(path.join(newDataDir, 'receipt-signing.key'), 'utf8'), receiptKey, 'the receipt signing key is back');
    t.equal(statSync(path.join(newDataDir, 'receipt-signing.key')).mode & 0o777, 0o600);
    t.match(restored.out, /receipt signing key restored to/);

    const again = await cli(['restore', archive], { DATABASE_URL: target.url, DATA_DIR: newDataDir, LOCKER_ID: first.lockerId });
    t.equal(again.code, 1, 'never into a database that holds records');
    t.match(again.out, /not empty/);

    const second = await startTestLocker(t, withKeyFile(newDataDir), { reuse: { databaseUrl: target.url, lockerId: first.lockerId } });
    for (const { depositId, dossierCode } of deposits) {
      t.match((await second.anonymous.get(`/api/deposits/${depositId}`)).json(), { status: 'deposited', dossierCode });
    }
    t.equal(
      (await second.anonymous.get('/api/receipts/public-key')).json().publicKey,
      publicKey,
      'the restored locker publishes the same receipt public key: old receipts stay genuine',
    );
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

t.test(
  'a restore refuses a receipt signing key that is not the backup’s, unless --replace-key',
  { skip: !canDump && 'needs a pg_dump that can dump this server' },
  async (t) => {
    const secret = 'a'.repeat(43) + '\n';
    const dataDir = tempDir(t, 'atm247-bk-');
    const receiptKey = newReceiptKey();
    writeFileSync(path.join(dataDir, 'secret.key'), secret, { mode: 0o600 });
    writeFileSync(path.join(dataDir, 'receipt-signing.key'), receiptKey, { mode: 0o600 });
    const archive = path.join(dataDir, 'b.tar.gz');
    t.equal((await cli(['backup', '--out', archive], { DATABASE_URL: source.url, DATA_DIR: dataDir })).code, 0);

    // The same master secret, another receipt key.
    const other = tempDir(t, 'atm247-other-');
    const otherKey = newReceiptKey();
    writeFileSync(path.join(other, 'secret.key'), secret, { mode: 0o600 });
    writeFileSync(path.join(other, 'receipt-signing.key'), otherKey, { mode: 0o600 });
    const target = await freshDatabaseUrl();
    t.teardown(() => target.drop());
    const refused = await cli(['restore', archive], { DATABASE_URL: target.url, DATA_DIR: other });
    t.equal(refused.code, 1, refused.out);
    t.match(refused.out, /receipt-signing\.key holds another receipt signing key: move it away, or pass --replace-key/);
    t.equal((await serverFacts(target.url)).tables, 0, 'nothing was restored');
    t.equal(readFileSync(path.join(other, 'receipt-signing.key'), 'utf8'), otherKey, 'the other key is left alone');

    const replaced = await cli(['restore', archive, '--replace-key'], { DATABASE_URL: target.url, DATA_DIR: other });
    t.equal(replaced.code, 0, replaced.out);
    t.equal(readFileSync(path.join(other, 'receipt-signing.key'), 'utf8'), receiptKey, 'the backup’s key replaced it');
    t.equal(statSync(path.join(other, 'receipt-signing.key')).mode & 0o777, 0o600);
    const aside = readdirSync(other).filter((name) => name.startsWith('receipt-signing.key.replaced-'));
    t.same(
      aside.map((name) => readFileSync(path.join(other, name), 'utf8')),
      [otherKey],
      'the replaced key is kept aside',
    );
    t.equal(readFileSync(path.join(other, 'secret.key'), 'utf8'), secret, 'the same master secret is left as it was');

    // The very key already there: nothing to refuse.
    const same = tempDir(t, 'atm247-same-');
    writeFileSync(path.join(same, 'secret.key'), secret, { mode: 0o600 });
    writeFileSync(path.join(same, 'receipt-signing.key'), receiptKey, { mode: 0o600 });
    const sameTarget = await freshDatabaseUrl();
    t.teardown(() => sameTarget.drop());
    const kept = await cli(['restore', archive], { DATABASE_URL: sameTarget.url, DATA_DIR: same });
    t.equal(kept.code, 0, kept.out);
    t.match(kept.out, /already holds the backup's receipt signing key/);
    t.same(readdirSync(same).sort(), ['receipt-signing.key', 'secret.key'], 'nothing set aside');

    // payments.receipts.signingKeyFile configured: the key goes there.
    const configured = tempDir(t, 'atm247-configured-');
    const keyFile = path.join(configured, 'keys', 'receipts.pem');
    const configFile = path.join(configured, 'config.yaml');
    writeFileSync(
      configFile,
      readFileSync(path.join(repo, 'config/default.yaml'), 'utf8')
        .replace(/^(\s+map:) cabinet\.yaml/m, `$1 ${path.join(repo, 'config/cabinet.yaml')}`)
        .replace(/^(\s+gpioMap:) cabinet-gpio\.yaml/m, `$1 ${path.join(repo, 'config/cabinet-gpio.yaml')}`)
        .replace(/^(\s+signingKeyFile:) null/m, `$1 ${keyFile}`),
    );
    const configuredTarget = await freshDatabaseUrl();
    t.teardown(() => configuredTarget.drop());
    const elsewhere = await cli(['restore', archive], {
      DATABASE_URL: configuredTarget.url,
      DATA_DIR: configured,
      CONFIG_FILE: configFile,
    });
    t.equal(elsewhere.code, 0, elsewhere.out);
    t.equal(readFileSync(keyFile, 'utf8'), receiptKey, 'restored to payments.receipts.signingKeyFile');
    t.equal(statSync(keyFile).mode & 0o777, 0o600);
    t.notOk(existsSync(path.join(configured, 'receipt-signing.key')), 'not beside the secret key');
  },
);

t.test(
  'an archive made before backups held the receipt signing key still restores',
  { skip: !canDump && 'needs a pg_dump that can dump this server' },
  async (t) => {
    const secret = 'a'.repeat(43) + '\n';
    const dataDir = tempDir(t, 'atm247-bk-');
    writeFileSync(path.join(dataDir, 'secret.key'), secret, { mode: 0o600 });
    writeFileSync(path.join(dataDir, 'receipt-signing.key'), newReceiptKey(), { mode: 0o600 });
    const made = path.join(dataDir, 'new.tar.gz');
    t.equal((await cli(['backup', '--out', made], { DATABASE_URL: source.url, DATA_DIR: dataDir })).code, 0);

    // The archive as the controller made it before: no receipt key, no word of it in the manifest.
    const work = tempDir(t, 'atm247-old-');
    await run('tar', ['-xzf', made, '-C', work]);
    rmSync(path.join(work, 'atm247-backup', 'receipt-signing.key'));
    const manifest = JSON.parse(readFileSync(path.join(work, 'atm247-backup', 'manifest.json'), 'utf8'));
    delete manifest.receiptKey;
    writeFileSync(path.join(work, 'atm247-backup', 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const archive = path.join(dataDir, 'old.tar.gz');
    await run('tar', ['-czf', archive, '-C', work, 'atm247-backup']);
    t.same((await run('tar', ['-tzf', archive])).stdout.split('\n').filter(Boolean).sort(), [
      'atm247-backup/',
      'atm247-backup/database.dump',
      'atm247-backup/manifest.json',
      'atm247-backup/secret.key',
    ]);

    // A new machine.
    const target = await freshDatabaseUrl();
    t.teardown(() => target.drop());
    const fresh = tempDir(t, 'atm247-restored-');
    const restored = await cli(['restore', archive], { DATABASE_URL: target.url, DATA_DIR: fresh });
    t.equal(restored.code, 0, restored.out);
    t.match(restored.out, /made before backups held the receipt signing key/, 'says the key is not in it');
    t.ok((await serverFacts(target.url)).tables > 0, 'the database is restored');
    t.equal(readFileSync(path.join(fresh, 'secret.key'), 'utf8'), secret, 'the master secret is restored');
    t.notOk(existsSync(path.join(fresh, 'receipt-signing.key')), 'no receipt key made up');

    // A machine that has a receipt key of its own: kept.
    const own = tempDir(t, 'atm247-own-');
    const ownKey = newReceiptKey();
    writeFileSync(path.join(own, 'secret.key'), secret, { mode: 0o600 });
    writeFileSync(path.join(own, 'receipt-signing.key'), ownKey, { mode: 0o600 });
    const ownTarget = await freshDatabaseUrl();
    t.teardown(() => ownTarget.drop());
    const kept = await cli(['restore', archive], { DATABASE_URL: ownTarget.url, DATA_DIR: own });
    t.equal(kept.code, 0, kept.out);
    t.equal(readFileSync(path.join(own, 'receipt-signing.key'), 'utf8'), ownKey, 'the receipt key there is left as it is');
  },
);
