/** Ports: the audit log's hash chain (docs/adr/0013-audit-hash-chain.md). */
import type { Queryable } from './persistence.js';

/** The last row of a locker's chain; `seq` 0, `id` null and 64 zeros while it has none. */
export interface AuditHead {
  seq: number;
  id: number | null;
  hash: string;
}

/** A head seen outside the database (the broker's retained copy): its row must still be there, unchanged. */
export interface AuditAnchor {
  seq: number;
  hash: string;
  /** Where it comes from, for the verdict's message. */
  from: string;
}

/**
 * What is wrong at the first broken link: `edited` (the row no longer matches its hash), `missing`
 * (rows of the chain are gone: deleted), `reordered` (rows are stored out of their chain order),
 * `rewritten` (the row's hash is not the one the next row, or a published head, was chained to:
 * edited and hashed again, or replaced), `inserted` (a second row claims a position).
 */
export type AuditBreakKind = 'edited' | 'missing' | 'reordered' | 'rewritten' | 'inserted';

export interface AuditBreak {
  kind: AuditBreakKind;
  /** The row where the chain breaks (null when the rows there are gone). */
  id: number | null;
  /** Its position in the chain (for `missing`: the first position gone). */
  seq: number;
  message: string;
}

export interface AuditVerdict {
  lockerId: string;
  ok: boolean;
  /** Rows checked before the verdict (all of them when `ok`). */
  rows: number;
  /** The last row checked. */
  head: AuditHead;
  /** The first broken link, or null. */
  broken: AuditBreak | null;
}

export interface AuditChainStore {
  head(q: Queryable): Promise<AuditHead>;
  /** Walks the locker's chain from its first row; stops at the first broken link. */
  verify(q: Queryable, anchors?: AuditAnchor[]): Promise<AuditVerdict>;
}

/** The chain head published retained (`audit/head`), so that a rewritten database shows against the copy. */
export interface AuditHeadPublisher {
  /** True when the broker acknowledged it; false when it goes out on the next connect instead. */
  publishHead(head: AuditHead, at: Date): Promise<boolean>;
}
