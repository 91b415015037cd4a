import { readFileSync } from 'node:fs';
import t from 'tap';
import { canMove, CLOSED_STATUSES, type DossierStatus } from '../../src/domain/dossier.js';
import { nextPurgeAt, purgeCutoffs } from '../../src/domain/retention.js';

const ALL: DossierStatus[] = [
  'verified',
  'tray_open',
  'deposited',
  'collected',
  'cancelled',
  'missing',
  'loading',
  'loaded',
  'notified',
  'picked_up',
  'expired',
  'returned_to_counter',
  'to_check',
];

t.test('a closed dossier is one in a status it never leaves', async (t) => {
  for (const status of ALL) {
    const leaves = ALL.some((to) => canMove(status, to));
    t.equal(CLOSED_STATUSES.includes(status), !leaves, `${status}: ${leaves ? 'open' : 'closed'}`);
  }
  // The database's rule (an open dossier keeps its phone) names the same statuses.
  const sql = readFileSync(new URL('../../migrations/010_retention.sql', import.meta.url), 'utf8');
  const listed = /dossiers_phone_kept_while_open\s+CHECK \(phone_hash IS NOT NULL OR status IN \(([^)]*)\)\)/.exec(sql)?.[1];
  t.ok(listed, 'the constraint is in migration 010');
  t.same(
    listed!
      .split(',')
      .map((s) => s.trim().replace(/'/g, ''))
      .sort(),
    [...CLOSED_STATUSES].sort(),
  );
});

t.test('the daily purge: at runAt local time, or 24 h on', async (t) => {
  const policy = { runAt: '03:00', timezone: 'Asia/Ho_Chi_Minh' };
  // 02:59 in Ho Chi Minh City (UTC+7) is 19:59 UTC the day before.
  t.equal(nextPurgeAt(policy, new Date('2026-03-10T19:59:00Z')).toISOString(), '2026-03-10T20:00:00.000Z');
  t.equal(nextPurgeAt(policy, new Date('2026-03-10T20:00:00Z')).toISOString(), '2026-03-11T20:00:00.000Z', 'strictly after');
  t.equal(nextPurgeAt({ runAt: '23:30', timezone: 'UTC' }, new Date('2026-03-10T23:31:00Z')).toISOString(), '2026-03-11T23:30:00.000Z');
  t.equal(
    nextPurgeAt({ runAt: null, timezone: 'Asia/Ho_Chi_Minh' }, new Date('2026-03-10T05:17:00Z')).toISOString(),
    '2026-03-11T05:17:00.000Z',
  );
});

t.test('the cut-offs: each kind its own window before now', async (t) => {
  const DAY = 86_400_000;
  const now = new Date('2026-06-01T00:00:00Z');
  const c = purgeCutoffs(
    {
      closedDossierMs: 90 * DAY,
      challengeMs: DAY,
      otpSendMs: 7 * DAY,
      sentEventMs: 7 * DAY,
      auditPersonalMs: 365 * DAY,
      endedSessionMs: 7 * DAY,
      runAt: null,
      timezone: 'UTC',
    },
    now,
  );
  t.same(
    {
      closedBefore: c.closedBefore.toISOString(),
      challengesBefore: c.challengesBefore.toISOString(),
      otpSendsBefore: c.otpSendsBefore.toISOString(),
      sentEventsBefore: c.sentEventsBefore.toISOString(),
      auditPersonalBefore: c.auditPersonalBefore.toISOString(),
      sessionsBefore: c.sessionsBefore.toISOString(),
    },
    {
      closedBefore: '2026-03-03T00:00:00.000Z',
      challengesBefore: '2026-05-31T00:00:00.000Z',
      otpSendsBefore: '2026-05-25T00:00:00.000Z',
      sentEventsBefore: '2026-05-25T00:00:00.000Z',
      auditPersonalBefore: '2025-06-01T00:00:00.000Z',
      sessionsBefore: '2026-05-25T00:00:00.000Z',
    },
  );
});
