/**
 * The purge of personal data past its retention (docs/retention.md), table by table, and the last
 * purge as the audit log records it. Dossier rows stay (figures, transitions, audit rows refer to
 * them); their phone is cleared. Audit rows stay, with their hashed form: only what is outside
 * it (the personal part, the name after "role:id") is cleared, so the chain still verifies.
 */
import { CLOSED_STATUSES } from '../domain/dossier.js';
import type { PurgeCutoffs } from '../domain/retention.js';
import type { PurgeCounts, PurgeRecord, Queryable, RetentionStore } from '../services/ports.js';

const COUNT_KEYS: (keyof PurgeCounts)[] = [
  'dossiers',
  'smsMessages',
  'challenges',
  'otpSends',
  'phoneGuards',
  'outbox',
  'auditPersonal',
  'sessions',
  'transferTexts',
];

export class RetentionRepository implements RetentionStore {
  constructor(private readonly lockerId: string) {}

  async purge(q: Queryable, c: PurgeCutoffs): Promise<PurgeCounts> {
    const locker = this.lockerId;
    // Texts of dossiers closed before the cut-off (first: the dossiers' own cut-off is the same),
    // and texts of codes (no dossier) sent before the challenge cut-off. The row stays for the
    // SMS figures; the recipient's hash goes, and so do the provider's message id (the provider
    // can tie it to the number) and the last error (a provider may echo the number in it).
    const sms = await q.query(
      `UPDATE sms_messages SET phone_hash = NULL, provider_message_id = NULL, last_error = NULL
        WHERE locker_id = $1 AND phone_hash IS NOT NULL
          AND ((dossier_id IS NULL AND created_at < $4)
               OR dossier_id IN (SELECT id FROM dossiers WHERE locker_id = $1 AND status = ANY($2::text[]) AND updated_at < $3))`,
      [locker, CLOSED_STATUSES, c.closedBefore, c.challengesBefore],
    );
    // A closed dossier's last status change is its closing (nothing changes it afterwards). The
    // depositor read from an ID card (sealed number and name, docs/id-card.md) goes with the phone.
    const dossiers = await q.query(
      `UPDATE dossiers SET phone_hash = NULL, phone_enc = NULL, holder_enc = NULL
        WHERE locker_id = $1 AND status = ANY($2::text[]) AND updated_at < $3 AND (phone_hash IS NOT NULL OR holder_enc IS NOT NULL)`,
      [locker, CLOSED_STATUSES, c.closedBefore],
    );
    // An ID card's holder hash (ADR 0028), if its pickup did not forget it already (returned to the counter).
    await q.query(
      `UPDATE dossiers SET holder_id_hash = NULL
        WHERE locker_id = $1 AND status = ANY($2::text[]) AND updated_at < $3 AND holder_id_hash IS NOT NULL`,
      [locker, CLOSED_STATUSES, c.closedBefore],
    );
    // A challenge whose code expired before the cut-off can no longer be answered (a code is
    // checked before its expiry); the dossier it opened forgets it first (the foreign key).
    await q.query(
      `UPDATE dossiers d SET challenge_id = NULL FROM challenges ch
        WHERE d.challenge_id = ch.id AND ch.locker_id = $1 AND ch.expires_at < $2`,
      [locker, c.challengesBefore],
    );
    const challenges = await q.query(`DELETE FROM challenges WHERE locker_id = $1 AND expires_at < $2`, [locker, c.challengesBefore]);
    const otpSends = await q.query(`DELETE FROM otp_sends WHERE locker_id = $1 AND at < $2`, [locker, c.otpSendsBefore]);
    // Guards are per phone, shared by the lockers of one database: one with no lock in force and
    // no failure since the cut-off holds nothing the next code needs.
    const phoneGuards = await q.query(
      `DELETE FROM phone_guards
        WHERE (locked_until IS NULL OR locked_until <= $1) AND (last_failure_at IS NULL OR last_failure_at < $2)`,
      [c.now, c.challengesBefore],
    );
    // An event published (sent_at set) goes by its own time, the controller's clock as everything
    // above (the envelope's `at`; created_at and sent_at are the database's).
    const outbox = await q.query(
      `DELETE FROM outbox
        WHERE locker_id = $1 AND sent_at IS NOT NULL AND coalesce((payload->>'at')::timestamptz, created_at) < $2`,
      [locker, c.sentEventsBefore],
    );
    // The same cut of actor the chain hashes (src/store/audit-chain.ts): what is cleared was never hashed.
    const auditPersonal = await q.query(
      `UPDATE audit_log SET personal = NULL, actor = regexp_replace(actor, '^(admin|staff):([0-9]+):.*$', '\\1:\\2')
        WHERE locker_id = $1 AND at < $2 AND (personal IS NOT NULL OR actor ~ '^(admin|staff):[0-9]+:')`,
      [locker, c.auditPersonalBefore],
    );
    // Sessions belong to accounts, shared by the lockers of one database.
    const sessions = await q.query(`DELETE FROM sessions WHERE least(revoked_at, expires_at) < $1`, [c.sessionsBefore]);
    // A transfer's text as the bank passed it on names the payer: blanked after the closed dossiers'
    // window (the reference found in it, the amount and the outcome stay for the books), unless its
    // money is still due back (whom to pay it to is in it).
    const transferTexts = await q.query(
      `UPDATE transfers SET description = '' WHERE locker_id = $1 AND received_at < $2 AND description <> ''
          AND (refund_due = 0 OR refunded_at IS NOT NULL)`,
      [locker, c.closedBefore],
    );
    const n = (r: { rowCount: number | null }) => r.rowCount ?? 0;
    return {
      dossiers: n(dossiers),
      smsMessages: n(sms),
      challenges: n(challenges),
      otpSends: n(otpSends),
      phoneGuards: n(phoneGuards),
      outbox: n(outbox),
      auditPersonal: n(auditPersonal),
      sessions: n(sessions),
      transferTexts: n(transferTexts),
    };
  }

  async lastRun(q: Queryable): Promise<PurgeRecord | null> {
    const { rows } = await q.query(
      `SELECT at, actor, details FROM audit_log WHERE locker_id = $1 AND action = 'retention.purged' ORDER BY id DESC LIMIT 1`,
      [this.lockerId],
    );
    const r = rows[0];
    if (!r) return null;
    const recorded = (r.details?.counts ?? {}) as Record<string, unknown>;
    const counts = Object.fromEntries(COUNT_KEYS.map((k) => [k, Number(recorded[k] ?? 0)])) as unknown as PurgeCounts;
    return { at: r.at, actor: r.actor, counts };
  }
}
