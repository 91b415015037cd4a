/**
 * Phone numbers at rest: looked up by a keyed hash (HMAC-SHA256) and kept encrypted
 * (AES-256-GCM); the keys come from configuration, never from the database, so a copy of the
 * database alone reveals no number.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { SecretBox } from './sealing.js';

export interface SecretKeys {
  phoneHash: Buffer;
  phoneEncryption: Buffer;
  otp: Buffer;
  /** Encrypts staff authenticator (TOTP) secrets at rest. */
  totpSecret: Buffer;
  /** Keys the hash of citizen ID numbers (an ID-card result's holder, matched at pickup). */
  idHash: Buffer;
  /** Encrypts a depositor's ID number and name taken from a scanned card. */
  idEncryption: Buffer;
}

/** Derives the purpose keys from one master secret (HKDF-SHA256). */
export function deriveKeys(master: Buffer): SecretKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.from('atm247'), info, 32));
  return {
    phoneHash: derive('phone-hash'),
    phoneEncryption: derive('phone-encryption'),
    otp: derive('otp'),
    totpSecret: derive('totp-secret'),
    idHash: derive('id-hash'),
    idEncryption: derive('id-encryption'),
  };
}

export class PhoneVault {
  private readonly box: SecretBox;

  constructor(private readonly keys: Pick<SecretKeys, 'phoneHash' | 'phoneEncryption'>) {
    this.box = new SecretBox(keys.phoneEncryption, 'phone');
  }

  hash(e164: string): string {
    return createHmac('sha256', this.keys.phoneHash).update(`phone:${e164}`).digest('hex');
  }

  encrypt(e164: string): string {
    return this.box.seal(e164);
  }

  decrypt(sealed: string): string {
    return this.box.open(sealed);
  }
}
