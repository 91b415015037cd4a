/**
 * Broker credentials and access control for the lockers of a district or city broker (issue 14,
 * docs/fleet.md): each locker gets a user of its own, named after its locker id, that may publish
 * only under `<base>/<its id>/` and read nothing but that prefix; the fleet service's user reads
 * every locker's topics and publishes nothing but replay requests (`<base>/<id>/replay`, ADR 0023).
 * Written as Mosquitto's `password_file` (PBKDF2-SHA512, the `$7$` format of `mosquitto_passwd`)
 * and `acl_file`; docs/fleet.md gives EMQX's equivalent.
 *
 * The files are kept whole by these functions: provisioning a locker again gives it a new password
 * (the old one stops working once the broker reloads its files: `kill -HUP`), and leaves every
 * other entry, the ACL's rules for all users (`pattern …`), and the files' owner and mode as they were.
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../domain/errors.js';
import { lockerBase } from '../events/topics.js';

/** Mosquitto 2's password hash: PBKDF2-HMAC-SHA512, 101 iterations, a 12-byte salt, 64 bytes out. */
const ITERATIONS = 101;
const SALT_BYTES = 12;
const HASH_BYTES = 64;
/** The fleet service's broker user (docs/fleet.md). */
export const FLEET_USER = 'fleet';
/** A locker id as the configuration accepts it (src/config/schema.ts): a user name and a topic level at once. */
const LOCKER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** `$7$101$<salt>$<hash>`, as `mosquitto_passwd` writes it. */
export function mosquittoHash(password: string, salt: Buffer = randomBytes(SALT_BYTES)): string {
  const hash = pbkdf2Sync(password, salt, ITERATIONS, HASH_BYTES, 'sha512');
  return `$7$${ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Whether `password` matches a `$7$` entry (for tests and for checking a file by hand). */
export function checkMosquittoHash(password: string, entry: string): boolean {
  const [, kind, iterations, salt, hash] = entry.split('$');
  if (kind !== '7' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = pbkdf2Sync(password, Buffer.from(salt, 'base64'), Number(iterations), expected.length, 'sha512');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The ACL lines of one broker user. */
export function aclBlock(user: string, baseTopic: string): string[] {
  if (user === FLEET_USER) {
    // Reads every locker (also through `$share/<group>/…` subscriptions); publishes nothing but the
    // requests that a locker publish its events again after a fleet instance crashed (ADR 0023).
    return [`user ${FLEET_USER}`, `topic read ${baseTopic}/#`, `topic write ${baseTopic}/+/replay`];
  }
  const prefix = lockerBase(baseTopic, user);
  // Its own prefix only: events, retained state, the last will on `availability`, and its own
  // `replay` topic, where the fleet's requests come (no other locker can write there).
  return [`user ${user}`, `topic readwrite ${prefix}/#`];
}

export interface BrokerFiles {
  /** Directory of `passwd` and `acl` (mounted into the broker: deploy/fleet/). */
  dir: string;
  /** The topics' first level (`mqtt.baseTopic` of the lockers). */
  baseTopic: string;
}

export interface Provisioned {
  user: string;
  password: string;
  /** The locker's settings (atm247.env): what the daemon reads. */
  env: Record<string, string>;
}

/**
 * Creates or renews `user`'s entry (a locker id, or `fleet`) in `passwd` and its block in `acl`,
 * with a new random password, returned once and stored only as its hash.
 */
export function provision(files: BrokerFiles, user: string, opts: { brokerUrl?: string } = {}): Provisioned {
  if (user !== FLEET_USER && !LOCKER_ID.test(user)) {
    throw new AppError('VALIDATION_FAILED', `"${user}" is not a locker id (letters, digits, "_", "." and "-", at most 64)`, { user });
  }
  if (user !== FLEET_USER) lockerBase(files.baseTopic, user); // throws on a base topic MQTT cannot carry
  const password = randomBytes(24).toString('base64url');
  const passwd = readEntries(path.join(files.dir, 'passwd'));
  passwd.byUser.set(user, [`${user}:${mosquittoHash(password)}`]);
  const acl = readEntries(path.join(files.dir, 'acl'));
  acl.byUser.set(user, aclBlock(user, files.baseTopic));
  mkdirSync(files.dir, { recursive: true });
  writeEntries(path.join(files.dir, 'passwd'), passwd, '');
  writeEntries(
    path.join(files.dir, 'acl'),
    acl,
    `# Written by npm run fleet:provision (docs/fleet.md): one block per broker user. Nothing else may publish.\n`,
  );
  const env: Record<string, string> = { MQTT_USERNAME: user, MQTT_PASSWORD: password };
  if (opts.brokerUrl) env.MQTT_URL = opts.brokerUrl;
  if (user !== FLEET_USER) env.LOCKER_ID = user;
  return { user, password, env };
}

/** A file's lines before its first entry (other than comments: Mosquitto's `pattern` rules apply to every user), and its entries by user. */
interface Entries {
  preamble: string[];
  byUser: Map<string, string[]>;
}

/** `passwd` lines are `user:hash`; `acl` blocks start at a `user` line. Comments are written anew. */
function readEntries(file: string): Entries {
  const entries: Entries = { preamble: [], byUser: new Map() };
  if (!existsSync(file)) return entries;
  let current = entries.preamble;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const user = /^user (\S+)$/.exec(line)?.[1] ?? /^([^:#\s]+):\$/.exec(line)?.[1];
    if (user) {
      current = [];
      entries.byUser.set(user, current);
    }
    if (line.trim() && !line.startsWith('#')) current.push(line);
  }
  return entries;
}

/**
 * Whole or not at all (a broker reading the file meanwhile sees the old one or the new one), with
 * the old file's owner and mode: the broker reads it as its own user at the next reload.
 */
function writeEntries(file: string, entries: Entries, header: string): void {
  const blocks = [entries.preamble, ...entries.byUser.values()].filter((lines) => lines.length);
  const body = blocks.map((lines) => lines.join('\n')).join(header ? '\n\n' : '\n');
  const partial = `${file}.${process.pid}.tmp`;
  const old = existsSync(file) ? statSync(file) : undefined;
  writeFileSync(partial, `${header}${body}\n`, { mode: old ? old.mode & 0o777 : 0o600 });
  if (old && (old.uid !== process.getuid?.() || old.gid !== process.getgid?.())) chownSync(partial, old.uid, old.gid);
  renameSync(partial, file);
}
