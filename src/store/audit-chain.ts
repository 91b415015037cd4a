/**
 * The audit log's hash chain (docs/adr/0013-audit-hash-chain.md): the hashed form of a row, the
 * lock that serialises a locker's chain, and the verification that names the first broken link.
 *
 * A row's hash is SHA-256, in hex, of PostgreSQL's canonical jsonb text (keys sorted, one
 * spacing) of {prev, locker_id, seq, at, actor, action, subject, details}: `at` in ISO 8601 UTC
 * with microseconds, `actor` cut to "role:id" for an account (the name after it is personal data,
 * outside the hash like the `personal` column). The form is computed by the server's built-in
 * functions in the statement that writes the row and again in the one that verifies it, never by
 * a function stored in the database (which whoever rewrites rows could rewrite too).
 * migrations/008_audit_chain.sql chains the rows written before it with the same form.
 */
import type { AuditAnchor, AuditBreak, AuditChainStore, AuditHead, AuditVerdict } from '../services/ports.js';
import type { Queryable } from './db.js';

/** The `prev` of a chain's first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** Class of the advisory lock that serialises a chain; the locker's id (hashed) is the object. */
export const CHAIN_LOCK_CLASS = 0x41554454; // "AUDT"

/** SQL expressions of the hashed fields: columns of a row, or a statement's parameters. */
export interface HashedFields {
  prev: string;
  lockerId: string;
  seq: string;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string;
}

/** The SQL expression of a row's hash (the same as in migrations/008_audit_chain.sql). */
export function chainHashSql(f: HashedFields): string {
  return `encode(sha256(convert_to(jsonb_build_object(
    'prev', ${f.prev},
    'locker_id', ${f.lockerId},
    'seq', ${f.seq},
    'at', to_char(${f.at} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'actor', regexp_replace(${f.actor}, '^(admin|staff):([0-9]+):.*$', '\\1:\\2'),
    'action', ${f.action},
    'subject', ${f.subject},
    'details', ${f.details})::text, 'UTF8')), 'hex')`;
}

/** Takes the locker's chain lock until the transaction ends (re-entrant within it). */
export const CHAIN_LOCK_SQL = `SELECT pg_advisory_xact_lock(${CHAIN_LOCK_CLASS}, hashtext($1::text))`;

/**
 * Appends one row after the locker's head, in one statement: $1 locker, $2 at, $3 actor, $4 action,
 * $5 subject, $6 details, $7 personal. Run under the chain lock.
 */
export const APPEND_SQL = `
  WITH head AS (
    SELECT seq, hash FROM audit_log WHERE locker_id = $1::text ORDER BY seq DESC LIMIT 1
  ), link AS (
    SELECT coalesce((SELECT seq FROM head), 0) + 1 AS seq, coalesce((SELECT hash FROM head), '${GENESIS_HASH}') AS prev
  )
  INSERT INTO audit_log (locker_id, at, actor, action, subject, details, personal, seq, prev_hash, hash)
  SELECT $1::text, $2::timestamptz, $3::text, $4::text, $5::text, $6::jsonb, $7::jsonb, link.seq, link.prev, ${chainHashSql({
    prev: 'link.prev',
    lockerId: '$1::text',
    seq: 'link.seq',
    at: '$2::timestamptz',
    actor: '$3::text',
    action: '$4::text',
    subject: '$5::text',
    details: '$6::jsonb',
  })}
  FROM link`;

/** The hash of a stored row recomputed from its columns, after `prev` (default: its own prev_hash). */
export function rowHashSql(prev = 'prev_hash'): string {
  return chainHashSql({
    prev,
    lockerId: 'locker_id',
    seq: 'seq',
    at: 'at',
    actor: 'actor',
    action: 'action',
    subject: 'subject',
    details: 'details',
  });
}

/** The hash of a stored row, recomputed from its columns (verification). */
export const ROW_HASH_SQL = rowHashSql();

/** Rows verified per statement. */
const BATCH = 2_000;

interface ChainRow {
  id: string;
  seq: string;
  prev_hash: string;
  hash: string;
  computed: string | null;
}

export class AuditChainRepository implements AuditChainStore {
  constructor(private readonly lockerId: string) {}

  async head(q: Queryable): Promise<AuditHead> {
    const { rows } = await q.query(`SELECT id, seq, hash FROM audit_log WHERE locker_id = $1 ORDER BY seq DESC LIMIT 1`, [this.lockerId]);
    return rows[0] ? { seq: Number(rows[0].seq), id: Number(rows[0].id), hash: rows[0].hash } : { seq: 0, id: null, hash: GENESIS_HASH };
  }

  /**
   * Walks the chain in its order (seq), recomputing each row's hash: the first row that does not
   * match its hash, a position missing, a row stored out of order, or a link to a hash the row
   * before no longer has, is the verdict. Then each anchor (a head published earlier) must still
   * be in the chain with its hash: a chain that ends before it lost its last rows.
   */
  async verify(q: Queryable, anchors: AuditAnchor[] = []): Promise<AuditVerdict> {
    const lockerId = this.lockerId;
    let head: AuditHead = { seq: 0, id: null, hash: GENESIS_HASH };
    let count = 0;
    const verdict = (broken: AuditBreak | null): AuditVerdict => ({ lockerId, ok: broken === null, rows: count, head, broken });

    const unchained = await q.query(
      `SELECT id FROM audit_log WHERE locker_id = $1 AND (seq IS NULL OR prev_hash IS NULL OR hash IS NULL) ORDER BY id LIMIT 1`,
      [lockerId],
    );
    if (unchained.rows[0]) {
      const id = Number(unchained.rows[0].id);
      return verdict({ kind: 'edited', id, seq: 0, message: `row ${id} has no place in the chain (no seq, prev_hash or hash)` });
    }

    const seen = new Map<number, { id: number; hash: string }>();
    const wanted = new Set(anchors.map((a) => a.seq));
    for (;;) {
      const { rows } = await q.query<ChainRow>(
        `SELECT id, seq, prev_hash, hash, ${ROW_HASH_SQL} AS computed
           FROM audit_log WHERE locker_id = $1 AND seq > $2 ORDER BY seq, id LIMIT $3`,
        [lockerId, head.seq, BATCH],
      );
      for (const r of rows) {
        const id = Number(r.id);
        const seq = Number(r.seq);
        const broken = this.check(r, id, seq, head);
        if (broken) return verdict(broken);
        if (wanted.has(seq)) seen.set(seq, { id, hash: r.hash });
        head = { seq, id, hash: r.hash };
        count++;
      }
      if (rows.length < BATCH) break;
    }

    for (const anchor of anchors) {
      const found = seen.get(anchor.seq);
      if (anchor.seq > head.seq) {
        return verdict({
          kind: 'missing',
          id: null,
          seq: head.seq + 1,
          message: `the chain ends at seq ${head.seq}, but ${anchor.from} is seq ${anchor.seq}: its last ${anchor.seq - head.seq} row(s) are gone`,
        });
      }
      if (anchor.seq > 0 && found && found.hash !== anchor.hash) {
        return verdict({
          kind: 'rewritten',
          id: found.id,
          seq: anchor.seq,
          message: `row ${found.id} (seq ${anchor.seq}) does not have the hash of ${anchor.from}: the chain was rewritten up to it`,
        });
      }
      if (anchor.seq === 0 && anchor.hash !== GENESIS_HASH) {
        return verdict({ kind: 'rewritten', id: null, seq: 0, message: `${anchor.from} is not the start of a chain` });
      }
    }
    return verdict(null);
  }

  /** The break at row `r` (id, seq) that follows `before` in the chain, or null. */
  private check(r: ChainRow, id: number, seq: number, before: AuditHead): AuditBreak | null {
    if (r.computed !== r.hash) {
      return { kind: 'edited', id, seq, message: `row ${id} (seq ${seq}) no longer matches its hash: it was edited` };
    }
    if (seq === before.seq) {
      return { kind: 'inserted', id, seq, message: `row ${id} claims seq ${seq}, the position of row ${before.id}` };
    }
    if (seq > before.seq + 1) {
      const gone = seq - before.seq - 1;
      const range = gone === 1 ? `seq ${before.seq + 1}` : `seq ${before.seq + 1} to ${seq - 1}`;
      return {
        kind: 'missing',
        id,
        seq: before.seq + 1,
        message: `${gone} row(s) before row ${id} (seq ${seq}) are gone (${range}): deleted`,
      };
    }
    if (before.id !== null && id < before.id) {
      return {
        kind: 'reordered',
        id,
        seq,
        message: `row ${id} (seq ${seq}) is stored before row ${before.id} (seq ${before.seq}), which precedes it in the chain: rows reordered`,
      };
    }
    if (r.prev_hash !== before.hash) {
      return before.id === null
        ? { kind: 'rewritten', id, seq, message: `row ${id} (seq ${seq}) starts the chain but is linked to another row` }
        : {
            kind: 'rewritten',
            id: before.id,
            seq: before.seq,
            message: `row ${before.id} (seq ${before.seq}) does not have the hash row ${id} was chained to: it was rewritten or replaced`,
          };
    }
    return null;
  }
}

/** Every locker that has audit rows. */
export async function auditLockers(q: Queryable): Promise<string[]> {
  const { rows } = await q.query(`SELECT DISTINCT locker_id FROM audit_log ORDER BY locker_id`);
  return rows.map((r: any) => r.locker_id);
}
