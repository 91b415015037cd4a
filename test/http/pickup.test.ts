import t from 'tap';
import { startTestLocker, outboxEvents } from '../helpers/controller.js';
import { codeFor, door, inbox, loadResult, wrongCode } from '../helpers/citizens.js';
import { until } from '../helpers/mqtt.js';
import { dbKind } from '../helpers/db.js';

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
  // A pulse written again after an answer that came late (a loaded machine) counts once.
  const opened = locker.controller.cabinet!.pulses().map((p) => p.tray);
  t.same(
    opened.filter((tray, i) => opened.indexOf(tray) === i),
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
  // Both phones get a code: the request does the same work either way.
  await codeFor(locker, '0987000001');
  const code = await codeFor(locker, '0987000002');
  const wrong = await locker.anonymous.post(`/api/pickups/${without.json().challengeId}/verify`, { otp: wrongCode(code) });
  t.equal(wrong.statusCode, 400);
  t.equal(wrong.json().error.code, 'OTP_INVALID', 'a wrong code is wrong, as for anyone');
  // Only the holder of the right code learns that nothing waits.
  const right = await locker.anonymous.post(`/api/pickups/${without.json().challengeId}/verify`, { otp: code });
  t.equal(right.statusCode, 200, right.body);
  t.same(right.json(), { trays: [], dossierCodes: [], unavailable: [], results: [] }, 'nothing waits: no tray');
  t.equal(locker.controller.cabinet!.pulses().length, 0);
});
