/**
 * The fleet dashboard's API (issue 14) against a real Mosquitto and PostgreSQL, with lockers
 * played by a client that publishes the topic contract's payloads: where each locker stands and
 * the filters by district and ward, totals per district, alarms until they clear, the report's
 * figures and their CSV (days counted in Ho Chi Minh City), the live stream fed by whichever
 * instance stored the change, and bad input refused with stable codes.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { randomUUID } from 'node:crypto';
import { FleetService } from '../../src/fleet/service.js';
import { silentLogger } from '../../src/log.js';
import { freshDatabaseUrl } from '../helpers/db.js';
import { noMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { lifo, until } from '../helpers/mqtt.js';

const TOKEN = 'fleet-admin-token-0123456789';
const BASE = 'atm247dash';
const STATES = ['free', 'reserved', 'holding_deposit', 'holding_result', 'to_check', 'out_of_service'] as const;

function occupancy(at: string, held: Partial<Record<(typeof STATES)[number], number[]>>) {
  const trays = Array.from({ length: 90 }, (_, i) => {
    const number = i + 1;
    const state = (Object.entries(held).find(([, list]) => list!.includes(number))?.[0] ?? 'free') as (typeof STATES)[number];
    return { number, state, door: 'closed' };
  });
  const counts = Object.fromEntries(STATES.map((s) => [s, trays.filter((tr) => tr.state === s).length]));
  return { at, counts, trays };
}

/** Reads a server-sent event stream: every `lockers` message, in order. */
async function openStream(url: string) {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const messages: { full: boolean; lockers: any[] }[] = [];
  const done = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      const reader = res.body.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        buffer += decoder.decode(chunk.value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'lockers' && data) messages.push(JSON.parse(data));
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    status: res.status,
    messages,
    close: async () => {
      controller.abort();
      await done;
    },
  };
}

t.test(`the fleet dashboard's API (Mosquitto, PostgreSQL)`, { skip: noMosquitto }, async (t) => {
  const scope = lifo(t);
  const broker = await startMosquitto(scope);
  const db = await freshDatabaseUrl();
  scope.teardown(() => db.drop());
  const instance = (name: string, streamTicketMs?: number) =>
    new FleetService({
      databaseUrl: db.url,
      mqttUrl: broker.url,
      baseTopic: BASE,
      instance: `${name}-${randomUUID().slice(0, 8)}`,
      adminToken: TOKEN,
      logger: silentLogger(),
      gatherMs: 50,
      streamTicketMs,
    });
  const one = instance('one');
  // Its stream tickets are good for a second: one is seen expire.
  const two = instance('two', 1_000);
  await one.start();
  scope.teardown(() => one.stop());
  await two.start();
  scope.teardown(() => two.stop());
  const http = one.http;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const get = (url: string, token: boolean = true) => http.inject({ method: 'GET', url, headers: token ? auth : {} });
  const put = (url: string, body: unknown) => http.inject({ method: 'PUT', url, headers: auth, payload: body as object });

  const lockers = mqtt.connect(broker.url, { protocolVersion: 5, clientId: `lockers-${randomUUID()}` });
  scope.teardown(() => lockers.endAsync(true));
  await new Promise((resolve) => lockers.once('connect', resolve));
  const publish = (lockerId: string, topic: string, payload: unknown, retain = false) =>
    lockers.publishAsync(`${BASE}/${lockerId}/${topic}`, typeof payload === 'string' ? payload : JSON.stringify(payload), {
      qos: 1,
      retain,
    });
  const event = (lockerId: string, type: string, at: string, data: Record<string, unknown>) => {
    const id = randomUUID();
    return publish(lockerId, `events/${type}`, { id, type, at, lockerId, data }).then(() => id);
  };

  await t.test('where each locker stands: registered, moved, refused', async (t) => {
    const sites = [
      ['d6-01', { name: 'UBND Phường 1', district: 'Quận 6', ward: 'Phường 1', address: '1 Đường A' }],
      ['d6-02', { name: 'UBND Phường 2', district: 'Quận 6', ward: 'Phường 2' }],
      ['d1-01', { name: '=HYPERLINK("x")', district: 'Quận 1', ward: 'Bến Nghé' }],
      ['d8-01', { name: 'UBND Phường 8', district: 'Quận 8', ward: 'Phường 8' }],
    ] as const;
    for (const [id, site] of sites) t.equal((await put(`/api/fleet/lockers/${id}/site`, site)).statusCode, 201, `${id} registered`);
    const moved = await put('/api/fleet/lockers/d6-02/site', {
      name: 'UBND Phường 2',
      district: 'Quận 6',
      ward: 'Phường 2',
      address: null,
    });
    t.equal(moved.statusCode, 200, 'registered again: moved, not new');
    t.same(moved.json(), { lockerId: 'd6-02', site: { name: 'UBND Phường 2', district: 'Quận 6', ward: 'Phường 2', address: null } });

    const refused = [
      ['/api/fleet/lockers/d6-01/site', { name: 'x', district: 'Quận 6' }, 'no ward'],
      ['/api/fleet/lockers/d6-01/site', { name: '   ', district: 'Quận 6', ward: 'P1' }, 'a blank name'],
      ['/api/fleet/lockers/d6-01/site', { name: 'x', district: 'Quận 6', ward: 'P1', owner: 'me' }, 'a field not in the contract'],
      ['/api/fleet/lockers/d6-01/site', { name: 'x'.repeat(121), district: 'Quận 6', ward: 'P1' }, 'a name too long'],
      ['/api/fleet/lockers/d6%2F01/site', { name: 'x', district: 'Quận 6', ward: 'P1' }, 'a locker id outside the contract'],
    ] as const;
    for (const [url, body, what] of refused) {
      const res = await put(url, body);
      t.equal(res.statusCode, 400, what);
      t.equal(res.json().error.code, 'VALIDATION_FAILED', what);
    }
    const bare = await http.inject({
      method: 'PUT',
      url: '/api/fleet/lockers/d6-01/site',
      payload: { name: 'x', district: 'y', ward: 'z' },
    });
    t.equal(bare.statusCode, 401, 'no token');
    const notJson = await http.inject({
      method: 'PUT',
      url: '/api/fleet/lockers/d6-01/site',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"name":',
    });
    t.equal(notJson.statusCode, 400, 'a body that is not JSON');
    t.equal(notJson.json().error.code, 'BAD_REQUEST');
  });

  await t.test('every locker with its state; filters by district and ward; totals per district', async (t) => {
    const now = new Date().toISOString();
    for (const id of ['d6-01', 'd6-02', 'd1-01']) await publish(id, 'availability', 'online', true);
    await publish('d6-01', 'occupancy', occupancy(now, { holding_deposit: [1, 2, 3], holding_result: [10] }), true);
    await publish('d6-02', 'occupancy', occupancy(now, { holding_result: [4, 5], out_of_service: [90] }), true);
    await publish('d1-01', 'occupancy', occupancy(now, { to_check: [7] }), true);
    await publish('d6-02', 'availability', 'offline', true);
    await until(async () => (await get('/api/fleet/totals')).json().trays.free === 90 * 3 - 8, 'the three occupancies stored', 10_000);

    const all = (await get('/api/fleet/lockers')).json().lockers;
    t.same(
      all.map((l: any) => [l.lockerId, l.online]),
      [
        ['d1-01', true],
        ['d6-01', true],
        ['d6-02', false],
        ['d8-01', null],
      ],
      'every locker heard from or registered; d8-01 never heard from',
    );
    t.match(all[1], {
      site: { name: 'UBND Phường 1', district: 'Quận 6', ward: 'Phường 1' },
      counts: { holding_deposit: 3, holding_result: 1 },
    });
    t.equal(all[3].updatedAt, null, 'registered, never heard from');

    const q6 = (await get(`/api/fleet/lockers?district=${encodeURIComponent('Quận 6')}`)).json().lockers;
    t.same(
      q6.map((l: any) => l.lockerId),
      ['d6-01', 'd6-02'],
      'district 6',
    );
    const p2 = (await get(`/api/fleet/lockers?district=${encodeURIComponent('Quận 6')}&ward=${encodeURIComponent('Phường 2')}`)).json()
      .lockers;
    t.same(
      p2.map((l: any) => l.lockerId),
      ['d6-02'],
      'district 6, ward 2',
    );

    const totals = (await get('/api/fleet/totals')).json();
    t.match(totals, {
      lockers: 4,
      online: 2,
      offline: 1,
      unknown: 1,
      trays: { holding_deposit: 3, holding_result: 3, to_check: 1, out_of_service: 1 },
    });
    t.same(
      totals.byDistrict.map((d: any) => [d.district, d.lockers, d.online, d.trays.holding_result]),
      [
        ['Quận 1', 1, 1, 0],
        ['Quận 6', 2, 1, 3],
        ['Quận 8', 1, 0, 0],
      ],
      'per district',
    );
    const q6totals = (await get(`/api/fleet/totals?district=${encodeURIComponent('Quận 6')}`)).json();
    t.match(q6totals, { lockers: 2, trays: { free: 180 - 7 } }, "district 6's totals");

    for (const [url, code] of [
      ['/api/fleet/lockers?district=', 'VALIDATION_FAILED'],
      ['/api/fleet/lockers?city=HCM', 'VALIDATION_FAILED'],
      [`/api/fleet/totals?ward=${'x'.repeat(121)}`, 'VALIDATION_FAILED'],
      ['/api/fleet/lockers/nobody', 'LOCKER_NOT_FOUND'],
    ] as const) {
      const res = await get(url);
      t.equal(res.json().error?.code, code, url.slice(0, 60));
      t.ok(res.statusCode === 400 || res.statusCode === 404, `${url.slice(0, 60)}: ${res.statusCode}`);
    }
    t.equal((await get('/api/fleet/lockers/d8-01')).statusCode, 200, 'a registered locker never heard from has a page');
  });

  await t.test('alarms stay open until what clears them', async (t) => {
    const at = (s: number) => new Date(Date.now() - 60_000 + s * 1000).toISOString();
    await event('d6-01', 'alarm.door_open_unexpected', at(0), { tray: 5, content: 'holding_deposit' });
    await event('d6-01', 'board.fault', at(1), { board: 'b2', cause: 'timeout', message: 'no answer', trays: [16, 17] });
    await event('d6-01', 'alarm.door_held_open', at(2), { tray: 9, openSince: at(0) });
    const alarms = async () => (await get('/api/fleet/lockers/d6-01')).json().alarmList.map((a: any) => a.type);
    await until(async () => (await alarms()).length === 3, 'three alarms open', 10_000);
    t.same(await alarms(), ['alarm.door_held_open', 'board.fault', 'alarm.door_open_unexpected'], 'newest first');
    await event('d6-01', 'tray.door_closed', at(3), { tray: 5 });
    await event('d6-01', 'tray.door_closed', at(3), { tray: 8 });
    await event('d6-01', 'board.recovered', at(4), { board: 'b1', trays: [1] });
    await until(async () => (await alarms()).length === 2, "tray 5's door closed: its alarm cleared", 10_000);
    t.same(await alarms(), ['alarm.door_held_open', 'board.fault'], 'another tray or board clears nothing');
    await event('d6-01', 'board.recovered', at(5), { board: 'b2', trays: [16, 17] });
    await until(async () => (await alarms()).length === 1, 'board b2 answers again', 10_000);
    // An ID card held for the counter (ADR 0028) stays locked in its tray until an officer opens it.
    await event('d6-01', 'alarm.pickup_identity_held', at(6), {
      resultId: 'r-held',
      dossierCode: 'HS-HELD',
      tray: 12,
      procedureCode: 'P1',
      failures: 5,
    });
    await until(async () => (await alarms()).length === 2, 'an ID card held: an alarm', 10_000);
    t.same(await alarms(), ['alarm.pickup_identity_held', 'alarm.door_held_open'], 'the held card listed, newest first');
    await event('d6-01', 'tray.door_closed', at(7), { tray: 12 });
    await until(async () => (await alarms()).length === 1, "an officer opened tray 12: the held card's alarm cleared", 10_000);
    t.same(await alarms(), ['alarm.door_held_open'], 'only the door held open is left');
    t.equal((await get('/api/fleet/lockers')).json().lockers.find((l: any) => l.lockerId === 'd6-01').alarms, 1, 'counted in the list');
    t.equal((await get('/api/fleet/totals')).json().alarms, 1, 'and in the totals');
  });

  await t.test('figures by day in Ho Chi Minh City, and their CSV', async (t) => {
    const code = (n: number) => `HS-${n}`;
    const r = (n: number) => ({ resultId: `r${n}`, dossierCode: code(n), procedureCode: 'P1' });
    // 00:30 on 2 November in Ho Chi Minh City: counted on the 2nd, not on the 1st (UTC).
    await event('d1-01', 'deposit.completed', '2026-11-01T17:30:00.000Z', {
      depositId: 'd1',
      dossierCode: code(0),
      tray: 3,
      procedureCode: 'P1',
    });
    await event('d1-01', 'result.loaded', '2026-11-03T02:00:00.000Z', { ...r(1), tray: 11, pickupDeadline: '2026-11-06T10:00:00.000Z' });
    await event('d1-01', 'result.loaded', '2026-11-03T02:05:00.000Z', { ...r(2), tray: 12, pickupDeadline: '2026-11-06T10:00:00.000Z' });
    await event('d1-01', 'result.loaded', '2026-11-04T02:00:00.000Z', { ...r(3), tray: 13, pickupDeadline: '2026-11-07T10:00:00.000Z' });
    await event('d1-01', 'pickup.completed', '2026-11-05T03:00:00.000Z', { dossierCode: code(1), tray: 11, procedureCode: 'P1' });
    // Picked up a day late: counted picked up, not on time.
    await event('d1-01', 'pickup.completed', '2026-11-08T03:00:00.000Z', { dossierCode: code(3), tray: 13, procedureCode: 'P1' });
    // Another locker's pickup of the same code is not this locker's.
    await event('d6-01', 'pickup.completed', '2026-11-05T03:00:00.000Z', { dossierCode: code(2), tray: 12, procedureCode: 'P1' });
    await until(async () => (await one.store.eventCount()) === 16, 'the events stored (9 of the alarms, 7 here)', 10_000);
    t.equal(one.ingest.status().rejected + two.ingest.status().rejected, 0, 'every payload within the contract');

    const f = (await get('/api/fleet/figures?from=2026-11-01&to=2026-11-30&lockerId=d1-01')).json();
    t.same(f.total, { received: 1, returned: 3, pickedUp: 2, due: 3, onTime: 1, unclaimed: 2, onTimeShare: 0.333 });
    t.equal(f.days.length, 30);
    t.same(f.days[0], { day: '2026-11-01', received: 0, returned: 0, pickedUp: 0, due: 0, onTime: 0, unclaimed: 0, onTimeShare: null });
    t.match(f.days[1], { day: '2026-11-02', received: 1 }, 'the deposit at 00:30 local time');
    t.match(f.days[5], { day: '2026-11-06', due: 2, onTime: 1, unclaimed: 1, onTimeShare: 0.5 });
    t.match(f.days[6], { day: '2026-11-07', due: 1, onTime: 0, unclaimed: 1 });
    t.same(
      f.lockers.map((l: any) => [l.lockerId, l.received, l.pickedUp]),
      [['d1-01', 1, 2]],
    );

    const q6 = (await get(`/api/fleet/figures?from=2026-11-01&to=2026-11-30&district=${encodeURIComponent('Quận 6')}`)).json();
    t.same(
      q6.lockers.map((l: any) => [l.lockerId, l.pickedUp]),
      [
        ['d6-01', 1],
        ['d6-02', 0],
      ],
      "district 6's lockers only",
    );
    t.match(q6.total, { pickedUp: 1, due: 0, onTimeShare: null });

    const csv = await get('/api/fleet/figures.csv?from=2026-11-01&to=2026-11-30&lockerId=d1-01');
    t.equal(csv.statusCode, 200);
    t.match(csv.headers['content-type'], /^text\/csv; charset=utf-8/);
    t.match(csv.headers['content-disposition'], /^attachment; filename="atm247-figures-2026-11-01-2026-11-30\.csv"$/);
    t.ok(csv.body.startsWith('\ufeff'), 'a byte-order mark for spreadsheets');
    const lines = csv.body.slice(1).trimEnd().split('\r\n');
    t.equal(lines[0], 'day,locker_id,name,district,ward,received,returned,picked_up,due,on_time,unclaimed,on_time_share');
    t.equal(lines.length, 31, 'a row per day');
    t.equal(lines[6], `2026-11-06,d1-01,"'=HYPERLINK(""x"")",Quận 1,Bến Nghé,0,0,0,2,1,1,0.5`, 'a name never read as a formula');
    const perLocker = (await get('/api/fleet/figures.csv?from=2026-11-01&to=2026-11-30&rows=locker')).body.slice(1).trimEnd().split('\r\n');
    t.equal(perLocker.length, 5, 'a row per locker');
    t.match(perLocker[1], /^2026-11-01,2026-11-30,d1-01,.*,1,3,2,3,1,2,0\.333$/);

    for (const [url, status, code] of [
      ['/api/fleet/figures?from=2026-02-30', 400, 'VALIDATION_FAILED'],
      ['/api/fleet/figures?from=2026-11-30&to=2026-11-01', 400, 'VALIDATION_FAILED'],
      ['/api/fleet/figures?from=2024-01-01&to=2026-01-01', 400, 'VALIDATION_FAILED'],
      ['/api/fleet/figures?from=1%2F11%2F2026', 400, 'VALIDATION_FAILED'],
      ['/api/fleet/figures.csv?rows=month', 400, 'VALIDATION_FAILED'],
      ['/api/fleet/figures?lockerId=nobody', 404, 'LOCKER_NOT_FOUND'],
      ['/api/fleet/figures?format=xlsx', 400, 'VALIDATION_FAILED'],
      ['/api/fleet/figures?from=0000-01-01&to=0000-01-10', 400, 'VALIDATION_FAILED'],
      ['/api/fleet/figures?to=0001-01-05', 400, 'VALIDATION_FAILED'],
      [`/api/fleet/figures?lockerId=d1-01&district=${encodeURIComponent('Quận 6')}`, 404, 'LOCKER_NOT_FOUND'],
    ] as const) {
      const res = await get(url);
      t.equal(res.statusCode, status, url);
      t.equal(res.json().error.code, code, url);
    }
    const month = (await get('/api/fleet/figures')).json();
    t.equal(month.days.length, 30, 'by default the last 30 days');
    t.equal((await get('/api/fleet/figures', false)).statusCode, 401, 'no token');
  });

  await t.test('the live stream: every locker, then each change, whichever instance stored it', async (t) => {
    const url = await one.listen('127.0.0.1', 0);
    const refused = await openStream(`${url}/api/fleet/stream?token=wrong-token-wrong-token`);
    t.equal(refused.status, 401, 'a wrong token');
    await refused.close();
    t.equal((await openStream(`${url}/api/fleet/stream`)).status, 401, 'no token');

    // A ticket, asked for with the token, opens the stream (the token never in the URL): one
    // instance checks what another issued.
    const ticketFrom = async (fleet: FleetService, headers: Record<string, string> = auth) =>
      fleet.http.inject({ method: 'POST', url: '/api/fleet/stream-tickets', headers });
    t.equal((await ticketFrom(one, {})).statusCode, 401, 'no ticket without the token');
    const issued = await ticketFrom(two);
    t.equal(issued.statusCode, 201);
    const { ticket, expiresAt } = issued.json();
    t.ok(Date.parse(expiresAt) > Date.now(), 'good for a while');
    const forged = ticket.slice(0, -1) + (ticket.endsWith('A') ? 'B' : 'A');
    const tampered = await openStream(`${url}/api/fleet/stream?ticket=${forged}`);
    t.equal(tampered.status, 401, 'a ticket altered');
    await tampered.close();
    const stream = await openStream(`${url}/api/fleet/stream?ticket=${ticket}`);
    scope.teardown(() => stream.close());
    t.equal(stream.status, 200);
    const late = (await ticketFrom(two)).json().ticket;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const expired = await openStream(`${url}/api/fleet/stream?ticket=${late}`);
    t.equal(expired.status, 401, 'a ticket past its time (the stream it opened stays open)');
    await expired.close();
    const withToken = await openStream(`${url}/api/fleet/stream?token=${TOKEN}`);
    t.equal(withToken.status, 200, 'the token in the query is still taken');
    await withToken.close();
    await until(() => stream.messages[0], 'the full list', 5_000);
    t.equal(stream.messages[0].full, true);
    t.same(
      stream.messages[0].lockers.map((l: any) => l.lockerId),
      ['d1-01', 'd6-01', 'd6-02', 'd8-01'],
    );

    // State: each instance stores it; events: split between the two.
    const at = new Date().toISOString();
    const sent = Date.now();
    await publish('d6-02', 'occupancy', occupancy(at, { holding_result: [4, 5, 6] }), true);
    const shown = await until(
      () => stream.messages.find((m) => !m.full && m.lockers.some((l: any) => l.lockerId === 'd6-02' && l.stateAt === at)),
      "d6-02's new state on the stream",
      5_000,
    );
    t.ok(Date.now() - sent < 2_000, `shown ${Date.now() - sent} ms after it was published`);
    t.equal(shown.lockers.find((l: any) => l.lockerId === 'd6-02').counts.holding_result, 3);

    const before = two.ingest.status().stored;
    const trays = [21, 22, 23, 24, 25, 26];
    for (const tray of trays) await event('d8-01', 'alarm.door_open_unexpected', new Date().toISOString(), { tray, content: 'free' });
    await until(
      () => stream.messages.some((m) => m.lockers.some((l: any) => l.lockerId === 'd8-01' && l.alarms === trays.length)),
      "all six of d8-01's alarms counted on the stream",
      10_000,
    );
    t.ok(two.ingest.status().stored > before, 'some of them stored by the other instance');

    const health = (await get('/health', false)).json();
    t.match(health, { status: 'ok', db: 'ok', mqtt: 'ok', live: 'ok' });

    // The instance's listening connection is cut: it says so, listens again, and sends every
    // locker again (it may have missed changes meanwhile), then carries on.
    const fulls = stream.messages.filter((m) => m.full).length;
    const cut = await one.store.pool.query(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    );
    t.equal(cut.rowCount, 2, "both instances' listening connections cut");
    await until(async () => (await get('/health', false)).json().live === 'down', 'health: live down', 5_000);
    await until(async () => (await get('/health', false)).json().live === 'ok', 'health: live again', 10_000);
    await until(() => stream.messages.filter((m) => m.full).length > fulls, 'every locker sent again', 5_000);
    const later = new Date().toISOString();
    await publish('d6-01', 'occupancy', occupancy(later, {}), true);
    await until(
      () => stream.messages.some((m) => !m.full && m.lockers.some((l: any) => l.lockerId === 'd6-01' && l.stateAt === later)),
      'a change after the cut on the stream',
      5_000,
    );
  });

  await t.test('the API is described as OpenAPI, routes and their parameters', async (t) => {
    const doc = await get('/openapi.json', false);
    t.equal(doc.statusCode, 200, 'no token needed: it holds no data');
    const { paths, openapi } = doc.json();
    t.equal(openapi, '3.1.0');
    t.same(Object.keys(paths).sort(), [
      '/api/fleet/figures',
      '/api/fleet/figures.csv',
      '/api/fleet/lockers',
      '/api/fleet/lockers/{lockerId}',
      '/api/fleet/lockers/{lockerId}/events',
      '/api/fleet/lockers/{lockerId}/site',
      '/api/fleet/stream',
      '/api/fleet/stream-tickets',
      '/api/fleet/totals',
      '/health',
      '/openapi.json',
    ]);
    t.match(paths['/api/fleet/lockers/{lockerId}/site'].put.requestBody.content['application/json'].schema.required, [
      'name',
      'district',
      'ward',
    ]);
  });

  await t.test('the dashboard page is served, with its policy', async (t) => {
    const page = await get('/', false);
    if (page.statusCode === 503) {
      t.match(page.body, /npm run build:ui/, 'not built here: says how');
      return;
    }
    t.equal(page.statusCode, 200);
    t.match(page.body, /<script type="module" src="\/ui\/fleet\.js">/);
    t.match(page.headers['content-security-policy'], /default-src 'self'/);
    t.equal((await get('/ui/fleet.js', false)).statusCode, 200);
    t.equal((await get('/ui/../package.json', false)).statusCode, 404);
  });
});
