/**
 * The citizens' satisfaction rating (issue 12): a deposit's or a pickup's code check hands the
 * kiosk a single-use token; one rating per token, kept with nothing that names the visit, published
 * as `rating.given`, counted per month and service on the admin figures.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { RATING_WINDOW_MS } from '../../src/domain/ratings.js';
import { codeFor, depositProcedure, door, loadResult } from '../helpers/citizens.js';
import { startTestLocker, type TestLocker } from '../helpers/controller.js';
import { dbKind } from '../helpers/db.js';
import { testSubscriber, until } from '../helpers/mqtt.js';

const LAN = '192.168.1.50';

function rate(locker: TestLocker, body: unknown, from = '127.0.0.1') {
  return locker.http.inject({ method: 'POST', url: '/api/ratings', remoteAddress: from, payload: body as any });
}

/** A deposit through the API, door opened and closed: the verify answer. */
async function deposit(locker: TestLocker, phone: string) {
  const procedureCode = await depositProcedure(locker);
  const { challengeId } = (await locker.anonymous.post('/api/deposits', { phone, procedureCode })).json();
  const verify = await locker.anonymous.post(`/api/deposits/${challengeId}/verify`, { otp: await codeFor(locker, phone) });
  if (verify.statusCode !== 200) throw new Error(`verify: ${verify.statusCode} ${verify.body}`);
  const opened = verify.json();
  await door(locker, opened.tray, true);
  await door(locker, opened.tray, false);
  await until(async () => (await locker.anonymous.get(`/api/deposits/${opened.depositId}`)).json().status === 'deposited', 'deposited');
  return { ...opened, procedureCode, phone };
}

async function ratingRows(locker: TestLocker) {
  return (await locker.controller.database.query(`SELECT * FROM ratings WHERE locker_id = $1`, [locker.lockerId])).rows;
}

t.test(`a rating after a deposit: kept and published with nothing that names the visit (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const sub = await testSubscriber(t, locker.mqttUrl, `${locker.base}/events/rating.given`);
  const visit = await deposit(locker, '0912345601');
  t.match(visit.ratingToken, /^[A-Za-z0-9_-]{43}$/, 'the verify answer carries a rating token');

  const before = Date.now();
  const res = await rate(locker, { token: visit.ratingToken, rating: 'dissatisfied', reasons: ['machine_fault', 'waiting'] });
  t.equal(res.statusCode, 201, res.body);
  const kept = res.json();
  const hour = new Date(Math.floor(before / 3_600_000) * 3_600_000).toISOString();
  t.same(kept, {
    service: 'deposit',
    procedureCode: visit.procedureCode,
    rating: 'dissatisfied',
    reasons: ['waiting', 'machine_fault'],
    hour,
  });

  const rows = await ratingRows(locker);
  t.equal(rows.length, 1, 'one rating stored');
  t.same(Object.keys(rows[0]).sort(), ['hour', 'locker_id', 'procedure_code', 'rating', 'reasons', 'service'], 'these columns only');
  t.same(
    { ...rows[0], hour: rows[0].hour.toISOString() },
    {
      locker_id: locker.lockerId,
      service: 'deposit',
      procedure_code: visit.procedureCode,
      rating: 'dissatisfied',
      reasons: ['waiting', 'machine_fault'],
      hour,
    },
    'the hour, not the moment',
  );
  const tokens = (await locker.controller.database.query(`SELECT * FROM rating_tokens WHERE locker_id = $1`, [locker.lockerId])).rows;
  t.equal(tokens.length, 1);
  t.same(
    Object.keys(tokens[0]).sort(),
    ['expires_at', 'locker_id', 'procedure_code', 'service', 'token_hash', 'used'],
    'the token row names no deposit, dossier or phone',
  );
  t.equal(tokens[0].used, true, 'spent');
  t.equal(tokens[0].expires_at.getTime() % 3_600_000, 0, 'its expiry moved to a full hour: it does not tell when the code was checked');
  const stored = JSON.stringify({ rows, tokens });
  t.notOk(stored.includes(visit.ratingToken), 'the token is not stored in clear');
  for (const linked of [visit.depositId, visit.dossierCode, visit.dossierCode.replace('-', ''), '912345601']) {
    t.notOk(stored.includes(linked), `nothing stored holds ${linked}`);
  }

  const message = await sub.waitFor(`${locker.base}/events/rating.given`);
  const event = JSON.parse(message.payload);
  t.match(event, { type: 'rating.given', lockerId: locker.lockerId });
  t.equal(event.at, hour, "the event's time is the hour too");
  t.same(event.data, kept, 'the event says what was kept');
  for (const linked of [visit.ratingToken, visit.depositId, visit.dossierCode, visit.dossierCode.replace('-', ''), '912345601']) {
    t.notOk(message.payload.includes(linked), `the event does not carry ${linked}`);
  }
  t.equal(message.retain, false);

  const again = await rate(locker, { token: visit.ratingToken, rating: 'very_satisfied' });
  t.equal(again.statusCode, 409, 'the same visit rated twice');
  t.equal(again.json().error.code, 'RATING_ALREADY_GIVEN');
  t.equal((await ratingRows(locker)).length, 1, 'still one rating');
});

t.test(`a rating that cannot be offered never costs the deposit (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  // The tokens' table gone (a broken migration, a full disk for that index...): the code check goes on.
  await locker.controller.database.query('ALTER TABLE rating_tokens RENAME TO rating_tokens_away');
  t.teardown(() => locker.controller.database.query('ALTER TABLE rating_tokens_away RENAME TO rating_tokens').catch(() => undefined));
  const visit = await deposit(locker, '0912345609');
  t.equal(visit.ratingToken, undefined, 'no rating token');
  t.match(visit, { tray: Number, dossierCode: String }, 'the tray opened, the dossier deposited');
});

t.test(`tokens that rate nothing, bodies refused, callers other than the kiosk (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const visit = await deposit(locker, '0912345602');
  const { ratingToken: token } = visit;

  const unknown = await rate(locker, { token: randomBytes(32).toString('base64url'), rating: 'satisfied' });
  t.equal(unknown.statusCode, 404, 'a token never handed out');
  t.equal(unknown.json().error.code, 'RATING_TOKEN_NOT_FOUND');

  const bad: [string, unknown][] = [
    ['no token', { rating: 'satisfied' }],
    ['a token of another shape', { token: 'abc', rating: 'satisfied' }],
    ['a token with a character outside base64url', { token: `${token.slice(0, 42)}+`, rating: 'satisfied' }],
    ['no rating', { token }],
    ['a face that does not exist', { token, rating: 'happy' }],
    ['reasons with a satisfied face', { token, rating: 'satisfied', reasons: ['waiting'] }],
    ['reasons with a very satisfied face', { token, rating: 'very_satisfied', reasons: ['other'] }],
    ['a reason not in the catalogue', { token, rating: 'neutral', reasons: ['rude'] }],
    ['a reason twice', { token, rating: 'neutral', reasons: ['waiting', 'waiting'] }],
    ['reasons not a list', { token, rating: 'neutral', reasons: 'waiting' }],
    ['another field', { token, rating: 'neutral', phone: '0912345602' }],
    ['a number for the face', { token, rating: 1 }],
    ['not an object', ['satisfied']],
  ];
  for (const [what, body] of bad) {
    const res = await rate(locker, body);
    t.equal(res.statusCode, 400, `${what}: 400 (${res.body})`);
    t.equal(res.json().error.code, 'VALIDATION_FAILED', `${what}: VALIDATION_FAILED`);
  }
  const notJson = await locker.http.inject({
    method: 'POST',
    url: '/api/ratings',
    headers: { 'content-type': 'application/json' },
    payload: '{"token": ',
  });
  t.equal(notJson.statusCode, 400, 'a body that is not JSON');
  t.equal(notJson.json().error.code, 'VALIDATION_FAILED');

  for (const from of [LAN, '::ffff:192.168.1.50', '127.0.0.2']) {
    const res = await rate(locker, { token, rating: 'satisfied' }, from);
    t.equal(res.statusCode, 403, `from ${from}: 403`);
    t.equal(res.json().error.code, 'KIOSK_ONLY', `from ${from}: KIOSK_ONLY`);
  }
  const badFromLan = await rate(locker, { rating: 42 }, LAN);
  t.equal(badFromLan.json().error.code, 'KIOSK_ONLY', 'refused for its address before its body is read');
  t.equal((await ratingRows(locker)).length, 0, 'nothing stored by a refusal');

  const good = await rate(locker, { token, rating: 'neutral', reasons: [] });
  t.equal(good.statusCode, 201, `the token was not spent by the refusals: ${good.body}`);
  t.same(good.json().reasons, []);

  // Past its time: refused as unknown, and its digest deleted by the next sweep.
  const late = await deposit(locker, '0912345603');
  locker.controller.clock.advance(RATING_WINDOW_MS + 1_000);
  const expired = await rate(locker, { token: late.ratingToken, rating: 'satisfied' });
  t.equal(expired.statusCode, 404, 'a token past its time');
  t.equal(expired.json().error.code, 'RATING_TOKEN_NOT_FOUND');
  // A spent token is kept until the full hour after its expiry (so that its row tells no exact time).
  locker.controller.clock.advance(3_600_000);
  await locker.controller.flowTimers.tick();
  const left = await locker.controller.database.query(`SELECT count(*)::int AS n FROM rating_tokens WHERE locker_id = $1`, [
    locker.lockerId,
  ]);
  t.equal(left.rows[0].n, 0, 'expired tokens are deleted, the spent one with them');
  t.equal((await ratingRows(locker)).length, 1, 'only the rating given in time');
});

t.test(`a rating after a pickup, and the figures per month and service (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  // A pickup with nothing waiting opens nothing: no visit to rate.
  const none = (await locker.anonymous.post('/api/pickups', { phone: '0987650099' })).json();
  const nothing = await locker.anonymous.post(`/api/pickups/${none.challengeId}/verify`, { otp: await codeFor(locker, '0987650099') });
  t.equal(nothing.statusCode, 200, nothing.body);
  t.same(nothing.json().trays, []);
  t.notOk('ratingToken' in nothing.json(), 'nothing opened: no rating token');

  await loadResult(locker, '+84987654301', 44, 'CC-01');
  await loadResult(locker, '+84987654301', 45, 'CC-01');
  const start = (await locker.anonymous.post('/api/pickups', { phone: '0987654301' })).json();
  const verify = await locker.anonymous.post(`/api/pickups/${start.challengeId}/verify`, { otp: await codeFor(locker, '0987654301') });
  t.equal(verify.statusCode, 200, verify.body);
  const opened = verify.json();
  t.same(opened.trays.sort(), [44, 45]);
  t.match(opened.ratingToken, /^[A-Za-z0-9_-]{43}$/, 'trays opened: a rating token');
  const picked = await rate(locker, { token: opened.ratingToken, rating: 'satisfied' });
  t.equal(picked.statusCode, 201, picked.body);
  t.match(picked.json(), { service: 'pickup', procedureCode: 'CC-01', rating: 'satisfied', reasons: [] });

  const first = await deposit(locker, '0912345604');
  const second = await deposit(locker, '0912345605');
  t.equal((await rate(locker, { token: first.ratingToken, rating: 'very_satisfied' })).statusCode, 201);
  t.equal((await rate(locker, { token: second.ratingToken, rating: 'dissatisfied', reasons: ['instructions_unclear'] })).statusCode, 201);

  const stats = await locker.staff.get('/api/admin/stats');
  t.equal(stats.statusCode, 200, stats.body);
  const { satisfaction, timezone } = stats.json();
  t.equal(satisfaction.length, 24, '12 months, two services each');
  t.same(
    satisfaction.slice(0, 2).map((m: any) => m.service),
    ['deposit', 'pickup'],
  );
  const month = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7);
  const [deposits, pickups] = satisfaction.slice(-2);
  t.same(deposits, {
    month,
    service: 'deposit',
    counts: { very_satisfied: 1, satisfied: 0, neutral: 0, dissatisfied: 1 },
    total: 2,
    satisfiedShare: 0.5,
    reasons: { waiting: 0, machine_fault: 0, instructions_unclear: 1, staff: 0, other: 0 },
  });
  t.same(pickups, {
    month,
    service: 'pickup',
    counts: { very_satisfied: 0, satisfied: 1, neutral: 0, dissatisfied: 0 },
    total: 1,
    satisfiedShare: 1,
    reasons: { waiting: 0, machine_fault: 0, instructions_unclear: 0, staff: 0, other: 0 },
  });
  t.same(satisfaction[0], {
    month: satisfaction[0].month,
    service: 'deposit',
    counts: { very_satisfied: 0, satisfied: 0, neutral: 0, dissatisfied: 0 },
    total: 0,
    satisfiedShare: null,
    reasons: { waiting: 0, machine_fault: 0, instructions_unclear: 0, staff: 0, other: 0 },
  });
  t.ok(satisfaction[0].month < month, `oldest first: ${satisfaction[0].month}`);
});
