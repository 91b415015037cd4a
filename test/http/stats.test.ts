import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startTestLocker, type TestLocker } from '../helpers/controller.js';
import { newDossierCode } from '../../src/domain/dossier-code.js';

const DAY = 86_400_000;

async function dossier(locker: TestLocker, kind: 'deposit' | 'result', status: string, at: Record<string, Date | null>) {
  const cols = Object.keys(at);
  const values = Object.values(at);
  await locker.controller.database.query(
    `INSERT INTO dossiers (id, locker_id, code, kind, procedure_code, phone_hash, phone_enc, status, created_at, updated_at
       ${cols.map((c) => `, ${c}`).join('')})
     VALUES ($1, $2, $3, $4, 'HT-KS', 'h', 'e', $5, $6, $6 ${cols.map((_, i) => `, $${i + 7}`).join('')})`,
    [randomUUID(), locker.lockerId, newDossierCode(), kind, status, new Date(), ...values],
  );
}

t.test('dashboard figures: today, 30 days, on-time rate, per local day', async (t) => {
  const locker = await startTestLocker(t);
  // 10:00 in Ho Chi Minh City today (03:00 UTC), whatever the machine's time zone.
  const now = new Date();
  const localMidnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 7 * 3_600_000);
  const today10 = new Date(
    (now.getTime() - localMidnight.getTime() >= DAY ? localMidnight.getTime() + DAY : localMidnight.getTime()) + 10 * 3_600_000,
  );
  locker.controller.clock.setOffset(today10.getTime() - Date.now());

  await dossier(locker, 'deposit', 'deposited', { deposited_at: new Date(today10.getTime() - 3_600_000) });
  await dossier(locker, 'deposit', 'collected', { deposited_at: new Date(today10.getTime() - 5 * DAY) });
  await dossier(locker, 'deposit', 'deposited', { deposited_at: new Date(today10.getTime() - 40 * DAY) });
  // Loaded 4 days ago, deadline yesterday: one picked up in time, one never.
  const loaded = new Date(today10.getTime() - 4 * DAY);
  const deadline = new Date(today10.getTime() - DAY);
  await dossier(locker, 'result', 'picked_up', {
    loaded_at: loaded,
    pickup_deadline: deadline,
    picked_up_at: new Date(loaded.getTime() + DAY),
  });
  await dossier(locker, 'result', 'expired', { loaded_at: loaded, pickup_deadline: deadline });
  // Loaded today, waiting.
  await dossier(locker, 'result', 'notified', { loaded_at: today10, pickup_deadline: new Date(today10.getTime() + 3 * DAY) });

  const res = await locker.staff.get('/api/admin/stats');
  t.equal(res.statusCode, 200, res.body);
  const s = res.json();
  t.same(s.today, { deposits: 1, loaded: 1, pickedUp: 0, due: 0, unclaimed: 0, onTimeRate: null });
  t.same(s.last30Days, { deposits: 2, loaded: 3, pickedUp: 1, due: 2, unclaimed: 1, onTimeRate: 0.5 });
  t.equal(s.days.length, 30);
  t.equal(s.days[29].deposits, 1, 'the last day is today');
  t.equal(s.days[28].due, 2, 'the deadline fell yesterday');
  t.same(s.now, { depositsWaiting: 2, resultsWaiting: 1, resultsOverdue: 1 });
});
