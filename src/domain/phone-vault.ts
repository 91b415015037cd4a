/**
 * Phone numbers at rest: looked up by a keyed hash (HMAC-SHA256) and kept encrypted
 * (AES-256-GCM); the keys come from configuration, never from the database, so a copy of the
 * database alone reveals no number.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

export interface SecretKeys {
  phoneHash: Buffer;
  phoneEncryption: Buffer;
  otp: Buffer;
  /** Encrypts staff authenticator (TOTP) secrets at rest. */
  totpSecret: Buffer;
}

/** Derives the purpose keys from one master secret (HKDF-SHA256). */
export function deriveKeys(master: Buffer): SecretKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.from('atm247'), info, 32));
  return {
    phoneHash: derive('phone-hash'), phoneEncryption: derive('phone-encryption'), otp: derive('otp'),
    totpSecret: derive('totp-secret'),
  };
}

export class PhoneVault {
  constructor(private readonly keys: Pick<SecretKeys, 'phoneHash' | 'phoneEncryption'>) {}

  hash(e164: string): string {
    return createHmac('sha256', this.keys.phoneHash).update(`phone:${e164}`).digest('hex');
  }

  encrypt(e164: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.phoneEncryption, iv);
    const body = Buffer.concat([cipher.update(e164, 'utf8'), cipher.final()]);
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(sealed: string): string {
    if (!sealed.startsWith('v1.')) throw new Error('unknown phone encryption version');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.keys.phoneEncryption, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}
