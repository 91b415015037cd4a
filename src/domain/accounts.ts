/**
 * Staff and admin accounts as rules: roles, who an account is in the audit trail, bearer tokens and
 * their digests, account names, and the touchscreen PIN (policy and scrypt hashing). Pure: no I/O.
 *
 * A bearer token is stored only as its SHA-256 digest: tokens are long random strings (at least 16
 * characters, 32 random bytes when generated), so a fast digest is enough; a slow password hash is
 * for the low-entropy PINs that come with touchscreen sign-in.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export type StaffRole = 'admin' | 'staff';

/** Who a token belongs to (the shape HTTP auth expects). */
export interface SignedInAccount {
  id: number;
  name: string;
  role: StaffRole;
}

/** The name written in the audit log and events for an account: `role:id:name`. */
export function actorFor(a: SignedInAccount): string {
  return `${a.role}:${a.id}:${a.name}`;
}

/** A new bearer or session token: 32 random bytes, base64url. */
export function generateToken(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

/** What the database keeps of a token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Account names: letters, digits, spaces and . ' -, up to 80 characters, composed (NFC). */
export const ACCOUNT_NAME = /^[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N} .'-]{0,79}$/u;

export function normaliseName(raw: string): string {
  return raw.normalize('NFC').trim().replace(/\s+/g, ' ');
}

// PIN policy and hashing

/** Why a PIN is refused, or null when it is acceptable: 6–8 digits, not a trivial pattern. */
export function pinWeakness(pin: string): string | null {
  if (!/^[0-9]{6,8}$/.test(pin)) return 'a PIN is 6 to 8 digits';
  const digits = [...pin].map(Number);
  const steps = digits.slice(1).map((d, i) => (d - digits[i] + 10) % 10);
  if (steps.every((s) => s === 0)) return 'a PIN of one repeated digit is too easy to guess';
  if (steps.every((s) => s === 1) || steps.every((s) => s === 9)) return 'a PIN of consecutive digits is too easy to guess';
  for (const period of [2, 3, 4]) {
    if (pin.length > period && [...pin].every((c, i) => c === pin[i % period])) {
      return 'a PIN that repeats a short group of digits is too easy to guess';
    }
  }
  return null;
}

const SCRYPT = { log2N: 15, r: 8, p: 1, keyLen: 32 };

function scrypt(secret: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(secret, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

const scryptOptions = (log2N: number, r: number, p: number): ScryptOptions => ({
  N: 2 ** log2N,
  r,
  p,
  maxmem: 256 * 2 ** log2N * r,
});

export async function hashPin(pin: string, salt: Buffer): Promise<string> {
  const { log2N, r, p, keyLen } = SCRYPT;
  const key = await scrypt(pin, salt, keyLen, scryptOptions(log2N, r, p));
  return `scrypt$${log2N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function pinMatches(pin: string, stored: string): Promise<boolean> {
  const [scheme, log2N, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(pin, Buffer.from(salt, 'base64'), expected.length, scryptOptions(Number(log2N), Number(r), Number(p)));
  return timingSafeEqual(actual, expected);
}

/** Compared against when the account does not exist, so that the answer takes as long. */
export const DUMMY_PIN_HASH = `scrypt$${SCRYPT.log2N}$${SCRYPT.r}$${SCRYPT.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;
