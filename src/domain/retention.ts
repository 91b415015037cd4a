/**
 * Personal data that expires (docs/retention.md): how long each kind is kept, the cut-offs a purge
 * at `now` applies, and when the daily purge runs. Pure: `now` comes from the caller's clock.
 */
import { Cron } from 'croner';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionPolicy {
  /** A closed dossier keeps its phone (hash, encrypted number) and its texts' recipient this long. */
  closedDossierMs: number;
  /** A one-time-code challenge is kept this long after its code expired; a code's text too. */
  challengeMs: number;
  /** Code sends (the per-phone and per-locker caps count them): at least the longest cap window. */
  otpSendMs: number;
  /** An event already published to MQTT stays in the outbox this long. */
  sentEventMs: number;
  /** An audit row keeps what it says of a person (names, free-text notes) this long; its hashed form stays. */
  auditPersonalMs: number;
  /** A staff session is kept this long after it ended (expired or revoked). */
  endedSessionMs: number;
  /** "HH:MM", local time in `timezone`; null: every 24 h. */
  runAt: string | null;
  timezone: string;
}

/** What a purge at `now` removes: everything of its kind older than these. */
export interface PurgeCutoffs {
  now: Date;
  /** Dossiers closed (last status change) before this lose their personal fields. */
  closedBefore: Date;
  /** Challenges whose code expired before this are deleted; texts of codes sent before it lose their recipient. */
  challengesBefore: Date;
  otpSendsBefore: Date;
  sentEventsBefore: Date;
  /** Audit rows written before this lose their personal part (and the name after "role:id"). */
  auditPersonalBefore: Date;
  /** Staff sessions that ended before this are deleted. */
  sessionsBefore: Date;
}

export function purgeCutoffs(policy: RetentionPolicy, now: Date): PurgeCutoffs {
  const before = (ms: number) => new Date(now.getTime() - ms);
  return {
    now,
    closedBefore: before(policy.closedDossierMs),
    challengesBefore: before(policy.challengeMs),
    otpSendsBefore: before(policy.otpSendMs),
    sentEventsBefore: before(policy.sentEventMs),
    auditPersonalBefore: before(policy.auditPersonalMs),
    sessionsBefore: before(policy.endedSessionMs),
  };
}

/** The first purge strictly after `after`: the next `runAt` in the locker's time zone, or 24 h later. */
export function nextPurgeAt(policy: Pick<RetentionPolicy, 'runAt' | 'timezone'>, after: Date): Date {
  if (policy.runAt === null) return new Date(after.getTime() + DAY_MS);
  const [h, m] = policy.runAt.split(':').map(Number);
  const next = new Cron(`${m} ${h} * * *`, { timezone: policy.timezone, paused: true }).nextRun(after);
  if (!next) throw new Error(`no next run for retention.runAt ${policy.runAt}`);
  return next;
}
