import t, { type Test } from 'tap';
import { EventEmitter } from 'node:events';
import { testDb, dbKind } from '../helpers/db.js';
import { brokerKind, lifo, testBroker, testLink, testSubscriber, uniqueLockerId, until } from '../helpers/mqtt.js';
import { enqueueEvent, OutboxSignal } from '../../src/events/outbox.js';
import { OutboxRelay } from '../../src/events/relay.js';
import type { EventEnvelope } from '../../src/events/topics.js';
import { silentLogger } from '../../src/log.js';

const kind = `${dbKind}, ${brokerKind}`;

async function setup(t: Test, relayOptions: { pollMs?: number; batchSize?: number } = {}) {
  const scope = lifo(t);
  const db = await testDb(scope);
  const { url } = await testBroker(scope);
  const lockerId = uniqueLockerId('outbox');
  const link = await testLink(scope, url, lockerId);
  const sub = await testSubscriber(scope, url, `${link.base}/events/#`);
  const signal = new OutboxSignal();
  const relay = new OutboxRelay({
    db,
    link,
    signal,
    lockerId,
    logger: silentLogger(),
    pollMs: relayOptions.pollMs ?? 60_000,
    batchSize: relayOptions.batchSize,
  });
  relay.start();
  scope.teardown(() => relay.stop());
  return { db, link, sub, signal, relay, lockerId };
}

t.test(`events enqueued in a committed transaction are published with QoS 1 and marked sent (${kind})`, async (t) => {
  const { db, link, sub, signal, lockerId } = await setup(t);
  const at = new Date('2025-03-04T05:06:07.000Z');
  const ids = await db.tx(async (tx) => [
    (await enqueueEvent(tx, { lockerId, type: 'tray.opened', data: { tray: 7, reason: 'deposit', by: 'citizen' }, at })).id,
    (await enqueueEvent(tx, { lockerId, type: 'tray.door_opened', data: { tray: 7 }, at })).id,
    (await enqueueEvent(tx, { lockerId, type: 'tray.door_closed', data: { tray: 7 }, at })).id,
  ]);
  t.not(ids[0], ids[1], 'every event has its own id');
  signal.notify();

  const opened = await sub.waitFor(link.topic('events/tray.opened'));
  t.equal(opened.qos, 1, 'delivered with QoS 1');
  t.equal(opened.retain, false, 'events are not retained');
  const envelope = JSON.parse(opened.payload) as EventEnvelope<'tray.opened'>;
  t.same(envelope, {
    id: ids[0],
    type: 'tray.opened',
    at: at.toISOString(),
    lockerId,
    data: { tray: 7, reason: 'deposit', by: 'citizen' },
  });
  t.same(Object.keys(envelope), ['id', 'type', 'at', 'lockerId', 'data'], 'keys in the documented order');
  await until(() => sub.messages.length >= 3, 'three events');
  t.same(
    sub.messages.map((m) => JSON.parse(m.payload).id),
    ids,
    'published in the order they were written',
  );

  const rows = await until(async () => {
    const r = await db.query<{ id: string; sent_at: Date | null; attempts: number }>(
      `SELECT id::text, sent_at, attempts FROM outbox ORDER BY seq`,
    );
    return r.rows.every((row) => row.sent_at) ? r.rows : null;
  }, 'sent_at on every row');
  t.same(
    rows.map((r) => r.id),
    ids,
  );
  t.ok(
    rows.every((r) => r.attempts === 0),
    'no failed attempts',
  );
});

t.test(`an event in a rolled-back transaction is never published (${kind})`, async (t) => {
  const { db, sub, signal, lockerId, relay } = await setup(t);
  await t.rejects(
    db.tx(async (tx) => {
      await enqueueEvent(tx, { lockerId, type: 'board.fault', data: { board: 'A', cause: 'timeout', message: 'x', trays: [1] } });
      throw new Error('use case failed');
    }),
  );
  signal.notify();
  const { id } = await db.tx((tx) => enqueueEvent(tx, { lockerId, type: 'board.recovered', data: { board: 'A', trays: [1] } }));
  signal.notify();
  await until(() => sub.messages.length >= 1, 'the committed event');
  t.same(await relay.drain(1_000), { pending: 0 });
  await new Promise((r) => setTimeout(r, 200));
  t.same(
    sub.messages.map((m) => JSON.parse(m.payload).id),
    [id],
    'only the committed event arrived',
  );
  t.equal((await db.query(`SELECT count(*)::int AS n FROM outbox`)).rows[0].n, 1, 'the rolled-back row does not exist');
});

t.test(`the poll publishes events nobody signalled (${kind})`, async (t) => {
  const { db, sub, lockerId } = await setup(t, { pollMs: 100 });
  const { id } = await db.tx((tx) =>
    enqueueEvent(tx, { lockerId, type: 'locker.started', data: { version: '0.1.0', trays: 90, boardsOffline: [] } }),
  );
  const m = await sub.waitFor(`atm247test/${lockerId}/events/locker.started`);
  t.equal(JSON.parse(m.payload).id, id);
});

t.test(`the relay publishes only its own locker's events, in order across batches; drain() empties the outbox (${kind})`, async (t) => {
  const { db, sub, lockerId, relay } = await setup(t, { batchSize: 4 });
  const trays = Array.from({ length: 23 }, (_, i) => i + 1);
  await db.tx(async (tx) => {
    await enqueueEvent(tx, { lockerId: 'another-locker', type: 'tray.door_opened', data: { tray: 1 } });
    for (const tray of trays) await enqueueEvent(tx, { lockerId, type: 'tray.door_opened', data: { tray } });
  });
  t.same(await relay.drain(5_000), { pending: 0 }, 'nothing of ours left');
  await until(() => sub.messages.length >= trays.length, `${trays.length} events`);
  t.same(
    sub.messages.map((m) => JSON.parse(m.payload).data.tray),
    trays,
    'in seq order (numerically, past 9 and past a batch)',
  );
  const other = await db.query(`SELECT sent_at FROM outbox WHERE locker_id = 'another-locker'`);
  t.equal(other.rows[0].sent_at, null, "another locker's event is left alone");
});

t.test('enqueueEvent refuses a type outside the contract', async (t) => {
  const queries: unknown[] = [];
  const q = { query: async (...args: unknown[]) => void queries.push(args) } as never;
  await t.rejects(enqueueEvent(q, { lockerId: 'x', type: 'tray.exploded' as never, data: {} as never }), { code: 'INTERNAL' });
  t.equal(queries.length, 0, 'nothing written');
});

t.test(`a pass asked for while the broker is away does not leave the relay stuck (${dbKind})`, async (t) => {
  const scope = lifo(t);
  const db = await testDb(scope);
  const lockerId = uniqueLockerId('away');
  // A link that is away, then comes back: what the relay sees of MqttLink.
  const published: string[] = [];
  const link = Object.assign(new EventEmitter(), {
    connected: false,
    async publish(_topic: string, envelope: { id: string }) {
      published.push(envelope.id);
    },
  });
  const signal = new OutboxSignal();
  const relay = new OutboxRelay({ db, link: link as never, signal, lockerId, logger: silentLogger(), pollMs: 60_000 });
  relay.start();
  scope.teardown(() => relay.stop());
  t.same(await relay.runPass(), { sent: 0, ok: false }, 'no broker: nothing sent');
  const { id } = await db.tx((q) => enqueueEvent(q, { lockerId, type: 'tray.door_opened', data: { tray: 2 }, at: new Date() }));
  link.connected = true;
  link.emit('connect');
  await until(() => published.includes(id), 'the event, once the broker is back');
  t.same(published, [id]);
});
