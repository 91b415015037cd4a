import t from 'tap';
import { testDb, dbKind } from '../helpers/db.js';
import {
  brokerKind,
  forgetSession,
  lifo,
  realBrokerUrl,
  testBroker,
  testMqttConfig,
  testSubscriber,
  uniqueLockerId,
  until,
} from '../helpers/mqtt.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { EventsUnit, enqueueEvent } from '../../src/events/index.js';
import { silentLogger } from '../../src/log.js';

const kind = `${dbKind}, ${realBrokerUrl ? brokerKind : 'broker embedded by the unit'}`;

t.test(`the events unit: starts its broker when no URL is set, relays, drains on stop (${kind})`, async (t) => {
  const scope = lifo(t);
  const db = await testDb(scope);
  const lockerId = uniqueLockerId('unit');
  const events = new EventsUnit({
    mqtt: testMqttConfig(realBrokerUrl), // null: the unit embeds its own broker
    lockerId,
    db,
    logger: silentLogger(),
    relay: { pollMs: 60_000 },
  });
  t.same(events.status().connected, false, 'the constructor does nothing');
  scope.teardown(async () => {
    await events.stop();
    if (realBrokerUrl)
      await forgetSession(realBrokerUrl, events.status().clientId || `atm247-${lockerId}`, [`atm247test/${lockerId}/availability`]);
  });
  await events.start();
  const status = events.status();
  t.match(status, { connected: true, embedded: !realBrokerUrl, clientId: `atm247-${lockerId}` });
  t.match(status.broker, /^mqtt:\/\/127\.0\.0\.1:\d+/);

  const base = `atm247test/${lockerId}`;
  const sub = await testSubscriber(scope, realBrokerUrl ?? status.broker, `${base}/#`);
  await sub.waitFor(`${base}/availability`, (p) => p === 'online');

  const { id } = await db.tx((tx) =>
    enqueueEvent(tx, { lockerId, type: 'tray.opened', data: { tray: 12, reason: 'maintenance', by: 'admin:1' } }),
  );
  events.signal.notify();
  const m = await sub.waitFor(`${base}/events/tray.opened`);
  t.equal(JSON.parse(m.payload).id, id);
  await until(() => events.status().sent === 1, 'status to count the sent event');

  // Pending at shutdown (nobody rang the signal, the poll is far away): stop() sends it first.
  const late = await db.tx((tx) => enqueueEvent(tx, { lockerId, type: 'tray.door_closed', data: { tray: 12 } }));
  t.equal(await events.pending(), 1);
  await events.stop();
  t.equal(events.status().connected, false);
  t.equal(await events.pending(), 0, 'drained before disconnecting');
  await until(() => sub.messages.some((x) => x.topic === `${base}/availability` && x.payload === 'offline'), 'offline');
  const order = sub.messages.map((x) => (x.topic.endsWith('availability') ? x.payload : JSON.parse(x.payload).id));
  t.ok(order.indexOf(late.id) >= 0 && order.indexOf(late.id) < order.lastIndexOf('offline'), 'the pending event went out before offline');
});

t.test(`the events unit starts without a broker; events wait and go out when it appears (${dbKind}, ${brokerKind})`, async (t) => {
  const scope = lifo(t);
  const db = await testDb(scope);
  const { url } = await testBroker(scope);
  const u = new URL(url);
  const proxy = await TcpProxy.start({ host: u.hostname, port: Number(u.port || 1883) }, scope);
  proxy.cut(); // the broker is unreachable at boot
  const lockerId = uniqueLockerId('boot');
  const events = new EventsUnit({
    mqtt: testMqttConfig(proxy.urlFor(url)),
    lockerId,
    db,
    logger: silentLogger(),
    connectWaitMs: 300,
    drainTimeoutMs: 500,
  });
  scope.teardown(async () => {
    await events.stop();
    if (realBrokerUrl) await forgetSession(realBrokerUrl, `atm247-${lockerId}`, [`atm247test/${lockerId}/availability`]);
  });
  const started = Date.now();
  await events.start();
  t.ok(Date.now() - started < 2_000, 'start() does not hang on a missing broker');
  t.equal(events.status().connected, false);
  const sub = await testSubscriber(scope, url, `atm247test/${lockerId}/events/#`);
  const { id } = await db.tx((tx) =>
    enqueueEvent(tx, { lockerId, type: 'locker.started', data: { version: '0.1.0', trays: 90, boardsOffline: [] } }),
  );
  events.signal.notify();
  await new Promise((r) => setTimeout(r, 300));
  t.equal(sub.messages.length, 0, 'nothing out while the broker is away');
  proxy.resume();
  const m = await sub.waitFor(`atm247test/${lockerId}/events/locker.started`);
  t.equal(JSON.parse(m.payload).id, id, 'the event went out once the broker appeared');
  t.equal(events.status().connected, true);
});

t.test(
  `the outbox port hands a transaction's events to the relay at its COMMIT, never before, never after a rollback (${kind})`,
  async (t) => {
    const scope = lifo(t);
    const db = await testDb(scope);
    const lockerId = uniqueLockerId('handoff');
    // No poll within the test and no signal rung: only the hand-off at commit can publish.
    const events = new EventsUnit({ mqtt: testMqttConfig(realBrokerUrl), lockerId, db, logger: silentLogger(), relay: { pollMs: 60_000 } });
    scope.teardown(async () => {
      await events.stop();
      if (realBrokerUrl) await forgetSession(realBrokerUrl, `atm247-${lockerId}`, [`atm247test/${lockerId}/availability`]);
    });
    await events.start();
    const base = `atm247test/${lockerId}`;
    const sub = await testSubscriber(scope, realBrokerUrl ?? events.status().broker, `${base}/events/#`);
    const outbox = events.outbox();
    const at = new Date();

    await t.rejects(
      db.tx(async (q) => {
        await outbox.enqueue(q, 'tray.door_opened', { tray: 3 }, at);
        throw new Error('the use case failed');
      }),
    );
    // A failed statement whose error the body caught: PostgreSQL rolls the whole transaction
    // back at COMMIT, without an error. tx() says so, and its event is not handed over.
    await t.rejects(
      db.tx(async (q) => {
        await outbox.enqueue(q, 'tray.door_opened', { tray: 5 }, at);
        await q.query('SELECT 1/0').catch(() => undefined);
      }),
      /rolled back at COMMIT/,
      'a transaction aborted by a caught error does not pass for committed',
    );
    const { opened, closed } = await db.tx(async (q) => {
      const opened = await outbox.enqueue(q, 'tray.door_opened', { tray: 4 }, at);
      const closed = await outbox.enqueue(q, 'tray.door_closed', { tray: 4 }, at);
      await new Promise((r) => setTimeout(r, 200));
      t.equal(sub.messages.length, 0, 'nothing published while the transaction is open');
      return { opened, closed };
    });
    await until(() => sub.messages.length >= 2, 'the committed events, without a signal or a poll');
    t.same(
      sub.messages.map((m) => JSON.parse(m.payload).id),
      [opened.id, closed.id],
      'in the order written; the rolled-back events never',
    );
    await until(async () => (await events.pending()) === 0, 'both marked sent');
    t.equal(
      (await db.query(`SELECT count(*)::int AS n FROM outbox WHERE locker_id = $1`, [lockerId])).rows[0].n,
      2,
      'the rolled-back rows do not exist',
    );
    await new Promise((r) => setTimeout(r, 200));
    t.equal(sub.messages.length, 2, 'each published once');
  },
);
