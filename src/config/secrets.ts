/**
 * The master secret behind phone hashing, phone encryption and code hashing. It never lives in
 * the database: it comes from ATM247_SECRET_KEY, or from a key file that is generated (mode 0600)
 * on the first start. Losing it makes stored phone numbers unreadable and pending codes invalid;
 * back the file up with the machine's configuration, not with the database.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
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

/**
 * Where the receipts' signing key is read: `payments.receipts.signingKeyFile`, or
 * receipt-signing.key beside the master secret's key file (even when the secret itself comes from
 * ATM247_SECRET_KEY). The backup reads it there too.
 */
export function receiptKeyFile(config: Config): string {
  const secretFile = path.resolve(config.auth.secretKeyFile ?? path.join(config.database.dataDir, 'secret.key'));
  return path.resolve(config.payments.receipts.signingKeyFile ?? path.join(path.dirname(secretFile), 'receipt-signing.key'));
}

/**
 * The receipts' Ed25519 signing key (issue 13), kept beside the master secret: the file
 * `payments.receipts.signingKeyFile`, or receipt-signing.key in the secret key's directory,
 * generated (PKCS#8 PEM, mode 0600) on the first start. Its public half is published
 * (GET /api/receipts/public-key) so anyone can check a receipt; losing the file only means new
 * receipts are signed by a new key (old ones still check against the old public key, kept by whoever
 * verified them): back it up with secret.key.
 */
export function loadReceiptKey(config: Config, logger: Logger): { privateKey: KeyObject; publicKey: KeyObject; file: string } {
  const file = receiptKeyFile(config);
  if (existsSync(file)) {
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError('payments.receipts.signingKeyFile', `${file} is not a PEM private key: ${(err as Error).message}`);
    }
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new ConfigError('payments.receipts.signingKeyFile', `${file} holds a ${privateKey.asymmetricKeyType} key, not Ed25519`);
    }
    return { privateKey, publicKey: createPublicKey(privateKey), file };
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  logger.warn({ file }, 'generated a new receipt signing key; back it up beside the secret key');
  return { privateKey, publicKey, file };
}
