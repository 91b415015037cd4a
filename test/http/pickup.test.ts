import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startTestLocker, outboxEvents, SECRET_KEY, type TestLocker } from '../helpers/controller.js';
import { codeFor, door, inbox, wrongCode } from '../helpers/citizens.js';
import { until } from '../helpers/mqtt.js';
import { dbKind } from '../helpers/db.js';
import { PhoneVault, deriveKeys } from '../../src/domain/phone-vault.js';
import { newDossierCode, formatDossierCode } from '../../src/domain/dossier-code.js';

const vault = new PhoneVault(deriveKeys(Buffer.from(SECRET_KEY, 'utf8')));

/** Puts a result in a tray the way the staff flow will: a dossier 'notified' in a 'holding_result' tray. */
async function loadResult(locker: TestLocker, phone: string, tray: number, procedureCode = 'CC-01') {
  const db = locker.controller.database;
  const id = randomUUID();
  const code = newDossierCode();
  const now = new Date();
  await db.query(
    `INSERT INTO dossiers (id, locker_id, code, kind, procedure_code, phone_hash, phone_enc, status, tray, created_at,
       loaded_at, notified_at, pickup_deadline, updated_at)
     VALUES ($1, $2, $3, 'result', $4, $5, $6, 'notified', $7, $8, $8, $8, $9, $8)`,
    [
      id,
      locker.lockerId,
      code,
      procedureCode,
      vault.hash(phone),
      vault.encrypt(phone),
      tray,
      now,
      new Date(now.getTime() + 3 * 86_400_000),
    ],
  );
  await db.query(`UPDATE trays SET content = 'holding_result' WHERE locker_id = $1 AND number = $2`, [locker.lockerId, tray]);
  return { id, code: formatDossierCode(code) };
}

t.test(`pickup from SMS code to picked up (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const idCard = await loadResult(locker, '+84987654321', 40);
  const birth = await loadResult(locker, '+84987654321', 41, 'HT-KS');
  await loadResult(locker, '+84911111111', 42);
  locker.controller.cabinet!.clearPulses();

  const start = await locker.anonymous.post('/api/pickups', { phone: '0987 654 321' });
  t.equal(start.statusCode, 202);
  const code = await codeFor(locker, '0987654321');
  const wrong = await locker.anonymous.post(`/api/pickups/${start.json().challengeId}/verify`, { otp: wrongCode(code) });
  t.equal(wrong.json().error.code, 'OTP_INVALID');
  t.equal(locker.controller.cabinet!.pulses().length, 0, 'a wrong code opens nothing');

  const verify = await locker.anonymous.post(`/api/pickups/${start.json().challengeId}/verify`, { otp: code });
  t.equal(verify.statusCode, 200, verify.body);
  t.same(verify.json().trays, [40, 41], "both results of that phone, and not the other phone's");
  t.same(verify.json().dossierCodes.sort(), [idCard.code, birth.code].sort());
  const pulses = locker.controller.cabinet!.pulses();
  t.same(
    pulses.map((p) => p.tray),
    [40, 41],
    'opened one after another',
  );

  await door(locker, 40, true);
  await door(locker, 40, false);
  await until(async () => (await locker.anonymous.get(`/api/dossiers/${idCard.code}`)).json().status === 'picked_up', 'picked up', 3_000);
  t.equal((await locker.staff.get('/api/trays/40')).json().state, 'free', 'the tray is free again');
  const confirmation = await until(
    async () => (await inbox(locker, '0987654321')).find((m) => m.kind === 'pickup_receipt'),
    'confirmation SMS',
  );
  t.ok(confirmation.text.includes(idCard.code));
  t.match(await outboxEvents(locker, 'pickup.completed'), [{ data: { tray: 40 } }]);
  t.match(await outboxEvents(locker, 'pickup.opened'), [{ data: { trays: [40, 41] } }]);

  // Tray 41's door was never opened (and watched all along): the release lapses, the result keeps waiting.
  locker.controller.clock.advance(61_000);
  await locker.controller.flowTimers.tick();
  t.equal((await locker.anonymous.get(`/api/dossiers/${birth.code}`)).json().status, 'notified', 'still waiting');
  t.equal((await locker.staff.get('/api/trays/42')).json().state, 'holding_result', "the other phone's result untouched");
});

t.test('pickup answers the same whether or not results wait (no enumeration)', async (t) => {
  const locker = await startTestLocker(t);
  await loadResult(locker, '+84987000001', 43);
  const withResult = await locker.anonymous.post('/api/pickups', { phone: '0987000001' });
  const without = await locker.anonymous.post('/api/pickups', { phone: '0987000002' });
  t.equal(withResult.statusCode, 202);
  t.equal(without.statusCode, 202);
  t.same(Object.keys(withResult.json()).sort(), Object.keys(without.json()).sort(), 'same shape');
  await codeFor(locker, '0987000001');
  await new Promise((r) => setTimeout(r, 200));
  t.same(await inbox(locker, '0987000002'), [], 'no text to a phone with nothing waiting');
  const guess = await locker.anonymous.post(`/api/pickups/${without.json().challengeId}/verify`, { otp: '123456' });
  t.equal(guess.statusCode, 400);
  t.equal(guess.json().error.code, 'OTP_INVALID', 'any code is simply wrong');
  t.equal(locker.controller.cabinet!.pulses().length, 0);
});
