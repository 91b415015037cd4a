/**
 * `npm run audit:verify`: verifies the audit log's hash chain of every locker in DATABASE_URL (or
 * the embedded database), as `npm run migrate` finds it, and names the first broken link of each
 * (docs/adr/0013-audit-hash-chain.md). Exit status 0: every chain intact; 1: a chain is broken;
 * 2: the verification could not run.
 *
 *   npm run audit:verify [-- --locker <id>] [-- --head '<retained audit/head payload>' | <seq>:<hash>]
 *
 * `--head` checks the chain of `--locker` (default: the configured locker) against a head kept
 * elsewhere, e.g. the broker's retained copy:
 *   npm run audit:verify -- --head "$(mosquitto_sub -t atm247/<lockerId>/audit/head -C 1 -W 5)"
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import type { AuditAnchor, AuditVerdict } from '../services/ports.js';
import { AuditChainRepository, auditLockers } from './audit-chain.js';
import { openDatabase } from './open.js';

/** The migration that made the audit log a chain. */
const CHAIN_MIGRATION = 8;

function parseHead(text: string): AuditAnchor {
  const plain = /^\s*([0-9]{1,15}):([0-9a-f]{64})\s*$/.exec(text);
  if (plain) return { seq: Number(plain[1]), hash: plain[2], from: 'the head given' };
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new Error(`--head: neither <seq>:<hash> nor an audit/head payload: ${text.slice(0, 80)}`);
  }
  const p = payload as { seq?: unknown; hash?: unknown; at?: unknown };
  if (!Number.isSafeInteger(p.seq) || (p.seq as number) < 0 || typeof p.hash !== 'string' || !/^[0-9a-f]{64}$/.test(p.hash)) {
    throw new Error('--head: the payload has no valid seq and hash');
  }
  return { seq: p.seq as number, hash: p.hash, from: `the head published${typeof p.at === 'string' ? ` at ${p.at}` : ''}` };
}

function describe(v: AuditVerdict): string {
  if (!v.broken)
    return `${v.lockerId}: chain intact, ${v.rows} row(s); head seq ${v.head.seq}, id ${v.head.id ?? '-'}, hash ${v.head.hash}`;
  const b = v.broken;
  return `${v.lockerId}: BROKEN at row ${b.id ?? '-'} (seq ${b.seq}): ${b.kind}: ${b.message} (${v.rows} row(s) intact before it)`;
}

const { values } = parseArgs({ options: { head: { type: 'string' }, locker: { type: 'string' } } });
const config = loadConfig();
// The verdicts go to stdout; the log (warnings and worse unless asked for more) to stderr.
const logger = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level, destination: pino.destination(2) });
const anchorLocker = values.locker ?? config.locker.id;
let status = 0;
try {
  const anchors = values.head === undefined ? [] : [parseHead(values.head)];
  const db = await openDatabase(config.database, logger);
  try {
    const migrated = await db
      .query(`SELECT 1 FROM schema_migrations WHERE version = $1`, [CHAIN_MIGRATION])
      .then((r) => r.rows.length > 0)
      .catch(() => false);
    if (!migrated) throw new Error(`the database ${db.target} is not migrated to the audit chain: run npm run migrate first`);
    const lockers = values.locker ? [values.locker] : [...new Set([...(await auditLockers(db)), config.locker.id])].sort();
    for (const lockerId of lockers) {
      const verdict = await new AuditChainRepository(lockerId).verify(db, lockerId === anchorLocker ? anchors : []);
      process.stdout.write(describe(verdict) + '\n');
      if (!verdict.ok) status = 1;
    }
  } finally {
    await db.close();
  }
} catch (err) {
  process.stderr.write(`audit:verify: ${(err as Error).message}\n`);
  status = 2;
}
process.exitCode = status;
