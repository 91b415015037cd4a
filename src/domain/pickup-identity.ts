/**
 * The second factor of an ID-card pickup (docs/adr/0028-id-card-pickup-second-factor.md): a result
 * of a procedure flagged `pickupProof: id_number` records its holder's ID number as a keyed hash
 * when it is loaded; after the phone's code, its tray opens only for the holder's number, typed or
 * scanned from the old card. Pure rules: the limits and the comparison.
 */
import { timingSafeEqual } from 'node:crypto';

/** What a procedure may ask beside the phone's code before its result is handed out. */
export const PICKUP_PROOFS = ['id_number'] as const;
export type PickupProof = (typeof PICKUP_PROOFS)[number];

export interface IdentityPolicy {
  /** Wrong numbers one verified code allows; then the code opens no ID result any more. */
  triesPerCode: number;
  /** Wrong numbers one result allows across visits; then it is held for an officer. */
  triesPerResult: number;
  /** How long after the right code the number may be given. */
  windowMs: number;
}

export const IDENTITY_POLICY: IdentityPolicy = { triesPerCode: 3, triesPerResult: 5, windowMs: 5 * 60_000 };

/** Whether two keyed hashes (hex) are the same, in a time that does not depend on where they differ. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Whether the number may still be given for a code verified at `verifiedAt`. */
export function identityWindowOpen(policy: IdentityPolicy, verifiedAt: Date, now: Date): boolean {
  return now.getTime() - verifiedAt.getTime() <= policy.windowMs;
}
