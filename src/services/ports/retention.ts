/** Ports: personal data that expires (docs/retention.md). */
import type { PurgeCutoffs } from '../../domain/retention.js';
import type { Queryable } from './persistence.js';

/** What one purge removed or cleared, per table: counts of rows, never their data. */
export interface PurgeCounts {
  /** Closed dossiers whose phone hash and encrypted number were cleared. */
  dossiers: number;
  /** Texts whose recipient (phone hash), provider id and last error were cleared. */
  smsMessages: number;
  /** Challenges deleted (their dossier, if any, no longer names them). */
  challenges: number;
  /** Code sends deleted. */
  otpSends: number;
  /** Per-phone failure guards deleted. */
  phoneGuards: number;
  /** Published events deleted from the outbox. */
  outbox: number;
  /** Audit rows whose personal part (names, free-text notes) was cleared; the chain is untouched. */
  auditPersonal: number;
  /** Staff sessions deleted, long after they ended. */
  sessions: number;
  /** Bank transfers' texts (they name the payer) blanked; the reference found in each stays. */
  transferTexts: number;
}

/** A purge as the audit log records it (`retention.purged`). */
export interface PurgeRecord {
  at: Date;
  actor: string;
  counts: PurgeCounts;
}

export interface RetentionStore {
  /** Removes or clears what is older than the cut-offs, in the caller's transaction. */
  purge(q: Queryable, cutoffs: PurgeCutoffs): Promise<PurgeCounts>;
  /** The last purge recorded in the audit log, or null. */
  lastRun(q: Queryable): Promise<PurgeRecord | null>;
}
