/**
 * The master secret behind phone hashing, phone encryption and code hashing. It never lives in
 * the database: it comes from ATM247_SECRET_KEY, or from a key file that is generated (mode 0600)
 * on the first start. Losing it makes stored phone numbers unreadable and pending codes invalid;
 * back the file up with the machine's configuration, not with the database.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { deriveKeys, type SecretKeys } from '../domain/phone-vault.js';
import type { Config } from './types.js';
import { ConfigError } from './load.js';

export function loadSecretKeys(config: Config, logger: Logger): SecretKeys {
  if (config.auth.secretKey) return deriveKeys(Buffer.from(config.auth.secretKey, 'utf8'));
  const file = path.resolve(config.auth.secretKeyFile ?? path.join(config.database.dataDir, 'secret.key'));
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    if (text.length < 32) throw new ConfigError('auth.secretKeyFile', `${file} holds fewer than 32 characters`);
    return deriveKeys(Buffer.from(text, 'utf8'));
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  logger.warn({ file }, 'generated a new secret key; back it up: without it stored phone numbers cannot be read');
  return deriveKeys(Buffer.from(secret, 'utf8'));
}
