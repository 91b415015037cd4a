/**
 * Citizen ID numbers at rest (more sensitive than phone numbers, Decree 13/2023): matched by a keyed
 * hash (HMAC-SHA256 under a key derived from the master secret, never in the database) and, where
 * an officer must read them, kept encrypted (AES-256-GCM) with the holder's name. A copy of the
 * database alone reveals neither, and the hash cannot be reversed by trying the ~10^9 plausible
 * numbers without the key.
 */
import { createHmac } from 'node:crypto';
import type { CardHolder } from './citizen-id.js';
import type { SecretKeys } from './phone-vault.js';
import { SecretBox } from './sealing.js';

export class IdVault {
  private readonly box: SecretBox;

  constructor(private readonly keys: Pick<SecretKeys, 'idHash' | 'idEncryption'>) {
    this.box = new SecretBox(keys.idEncryption, 'ID number');
  }

  /** The keyed hash of a 12-digit ID number (already checked by parseIdNumber). */
  hash(idNumber: string): string {
    return createHmac('sha256', this.keys.idHash).update(`cccd:${idNumber}`).digest('hex');
  }

  /** A card holder (number and name only) sealed for the dossier record. */
  seal(holder: CardHolder): string {
    return this.box.seal(JSON.stringify({ idNumber: holder.idNumber, fullName: holder.fullName }));
  }

  open(sealed: string): CardHolder {
    const { idNumber, fullName } = JSON.parse(this.box.open(sealed)) as CardHolder;
    return { idNumber, fullName };
  }
}
