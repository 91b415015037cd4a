/**
 * Secrets at rest: AES-256-GCM under a 32-byte key kept outside the database (derived from the
 * master secret, src/domain/phone-vault.ts `deriveKeys`). The sealed form is
 * `v1.<base64(iv ‖ tag ‖ ciphertext)>`: phone numbers and staff authenticator secrets use it alike.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class SecretBox {
  constructor(
    private readonly key: Buffer,
    private readonly what = 'secret',
  ) {
    if (key.length !== 32) throw new Error(`the ${what} key must be 32 bytes`);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string): string {
    if (!sealed.startsWith('v1.')) throw new Error(`unknown ${this.what} encryption version`);
    const raw = Buffer.from(sealed.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}
