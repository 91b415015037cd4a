/**
 * The locker's answer to the fleet's replay requests (ADR 0023): the events it has sent since a
 * moment (by `sent_at`, however long before they were written) go out again through the relay, same
 * ids, same topics, in `seq` order; the unsent ones are left to the passes; a request reaches back
 * so far and publishes so much at most; a new event waits for one replayed row at most, not a
 * batch; malformed requests are dropped with a log line; a storm of requests costs one replay per
 * interval.
 */
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import pino from 'pino';
import { testDb, dbKind } from '../helpers/db.js';
import { brokerKind, lifo, testBroker, testLink, testSubscriber, uniqueLockerId, until } from '../helpers/mqtt.js';
import { enqueueEvent, OutboxSignal, writeEvent } from '../../src/events/outbox.js';
import { OutboxRelay } from '../../src/events/relay.js';
import { ReplayResponder, type ReplayOptions } from '../../src/events/replay.js';
import { REPLAY_TOPIC, topicSpec } from '../../src/events/topics.js';

const kind = `${dbKind}, ${brokerKind}`;

async function setup(t: Test, options: ReplayOptions & { batchSize?: number } = {}) {
  const scope = lifo(t);
  const db = await testDb(scope);
  const { url } = await testBroker(scope);
  const lockerId = uniqueLockerId('replay');
  const link = await testLink(scope, url, lockerId);
  const sub = await testSubscriber(scope, url, `${link.base}/events/#`);
  const signal = new OutboxSignal();
  const lines: Record<string, any>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const relay = new OutboxRelay({ db, link, signal, lockerId, logger, pollMs: 60_000, batchSize: options.batchSize });
  relay.start();
  scope.teardown(() => relay.stop());
  const responder = new ReplayResponder({ link, relay, logger, ...options });
  responder.start();
  scope.teardown(() => responder.stop());
  const fleet = await mqtt.connectAsync(url, { clean: true, reconnectPeriod: 0 });
  scope.teardown(() => fleet.endAsync(true));
  /** What the fleet sends: a raw payload, or a request object. */
  const ask = (payload: string | { since: Date; requestId?: string }) =>
    fleet.publishAsync(
      `${link.base}/${REPLAY_TOPIC}`,
      typeof payload === 'string'
        ? payload
        : JSON.stringify({ since: payload.since.toISOString(), requestId: payload.requestId ?? randomUUID() }),
      { qos: 1 },
    );
  /** Writes `n` door events in one transaction and waits until the relay has sent them; returns their ids in order. */
  const produce = async (n: number, tray = 1) => {
    const ids = await db.tx(async (tx) => {
      const written: string[] = [];
      for (let i = 0; i < n; i++) {
        written.push((await enqueueEvent(tx, { lockerId, type: i % 2 ? 'tray.door_closed' : 'tray.door_opened', data: { tray } })).id);
      }
      return written;
    });
    signal.notify();
    await until(async () => {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM outbox WHERE id = ANY($1::uuid[]) AND sent_at IS NOT NULL`, [ids]);
      return rows[0].n === n;
    }, `${n} events sent`);
    // Acknowledged by the broker is not yet at the subscriber: a test that counts what arrives
    // after this must not count these.
    await until(() => {
      const got = new Set(received());
      return ids.every((id) => got.has(id));
    }, `${n} events at the subscriber`);
    return ids;
  };
  /** The event ids the subscriber received, in order. */
  const received = () => sub.messages.map((m) => JSON.parse(m.payload).id as string);
  /** Moves events back in time, as if written (and sent) that long ago. */
  const age = (ids: string[], ms: number) =>
    db.query(
      `UPDATE outbox SET created_at = now() - $2::double precision * interval '1 millisecond',
         sent_at = CASE WHEN sent_at IS NULL THEN NULL ELSE now() - $2::double precision * interval '1 millisecond' END
        WHERE id = ANY($1::uuid[])`,
      [ids, ms],
    );
  return { db, link, sub, signal, relay, responder, lockerId, lines, ask, produce, received, age };
}

const replayLines = (lines: Record<string, any>[]) => lines.filter((l) => l.msg === 'events published again on request');

t.test(`a request publishes again the events sent since its moment: same ids and payloads, in seq order (${kind})`, async (t) => {
  const { sub, ask, produce, received, age, lines, link, db, lockerId } = await setup(t);
  const old = await produce(2);
  const recent = await produce(3);
  await age(old, 3_600_000);
  const firstCopies = sub.messages.slice();
  t.same(received(), [...old, ...recent], 'the first time');
  // An event written but not sent yet (no signal, a slow poll): the passes' business, not the replay's.
  await db.tx((tx) => enqueueEvent(tx, { lockerId, type: 'tray.door_opened', data: { tray: 9 } }));

  await ask({ since: new Date(Date.now() - 600_000) });
  await until(() => sub.messages.length >= 8, 'the replay');
  await new Promise((r) => setTimeout(r, 200));
  t.same(received().slice(5), recent, 'only the events recorded since then, in the order they were written');
  t.same(
    sub.messages.slice(5).map((m) => [m.topic, m.payload, m.qos, m.retain]),
    firstCopies.slice(2).map((m) => [m.topic, m.payload, 1, false]),
    'on the same topics, with the same payloads, QoS 1, not retained',
  );
  t.match(replayLines(lines), [{ published: 3, requests: 1 }], 'logged once');
  t.throws(() => topicSpec(REPLAY_TOPIC), { code: 'INTERNAL' }, 'the locker itself never publishes on replay');
  t.ok(link.connected);
});

t.test(`the row limit and the window cap (${kind})`, async (t) => {
  const { relay, ask, produce, received, age, lines } = await setup(t, { maxWindowMs: 1_800_000 });
  const ids = await produce(4);
  const cut = await relay.replay(new Date(Date.now() - 60_000), 3);
  t.match(cut, { published: 3, truncated: true, ok: true, resumeAfter: /^\d+$/ }, 'at most maxRows, and where the rest starts');
  await until(() => received().length >= 7, 'the three at the subscriber');
  t.same(received().slice(4), ids.slice(0, 3), 'the oldest ones');
  t.same(await relay.replay(new Date(Date.now() - 60_000), 4), { published: 4, truncated: false, ok: true }, 'exactly as many is not cut');
  t.same(
    await relay.replay(new Date(Date.now() - 60_000), 3, cut.resumeAfter),
    { published: 1, truncated: false, ok: true },
    'given back, the rest',
  );

  // A request that reaches back two hours is shortened to the 30 minutes allowed here.
  await age(ids.slice(0, 2), 3_600_000);
  await until(() => received().length >= 12, 'the four and the rest at the subscriber');
  await ask({ since: new Date(Date.now() - 7_200_000) });
  await until(() => replayLines(lines).length === 1, 'the replay');
  await until(() => received().length >= 14, 'the replay at the subscriber');
  await new Promise((r) => setTimeout(r, 200));
  t.same(received().slice(12), ids.slice(2), 'nothing older than the window');
  t.ok(
    lines.some((l) => l.msg === 'replay reaches back too far; shortened'),
    'and the log says it was shortened',
  );
});

t.test(`a replay cut at its row limit goes on where it stopped, an interval later (${kind})`, async (t) => {
  const { ask, produce, received, lines } = await setup(t, { maxRows: 3, minIntervalMs: 300 });
  const ids = await produce(7);
  // Sent is not yet received: the live seven at the subscriber first, so only the replay follows.
  await until(() => ids.every((id) => received().includes(id)), 'the seven, live');
  const before = received().length;
  const asked = Date.now();
  await ask({ since: new Date(Date.now() - 60_000) });
  // Asked again, since a later moment, while it goes on: covered, it does not start over.
  await until(() => lines.some((l) => l.msg === 'replay cut at its row limit; the rest follows'), 'the first part');
  await ask({ since: new Date(Date.now() - 30_000) });
  await until(() => replayLines(lines).length === 1, 'the replay and its two continuations');
  await until(() => received().length >= before + 7, 'all seven again');
  await new Promise((r) => setTimeout(r, 500));
  t.same(received().slice(before), ids, 'each once, in order');
  const cuts = lines.filter((l) => l.msg === 'replay cut at its row limit; the rest follows');
  t.match(cuts, [{ published: 3 }, { published: 3, after: /^\d+$/ }], 'cut twice, the second going on after the first');
  t.match(replayLines(lines), [{ published: 1, requests: 2 }], 'then the last one (both requests answered)');
  t.ok(Date.now() - asked >= 600, 'an interval between the parts');
});

t.test(`malformed requests are dropped with a log line (${kind})`, async (t) => {
  const { ask, produce, received, lines } = await setup(t, { minIntervalMs: 60_000 });
  await produce(2);
  const bad = [
    'not json',
    '{}',
    JSON.stringify({ since: 'yesterday', requestId: randomUUID() }),
    JSON.stringify({ since: new Date().toISOString(), requestId: 'r-1' }),
    JSON.stringify({ since: new Date().toISOString(), requestId: randomUUID(), limit: 5 }),
    JSON.stringify([new Date().toISOString()]),
  ];
  for (const payload of bad) await ask(payload);
  await until(() => lines.some((l) => l.msg.startsWith('replay request outside the contract')), 'the log line');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(received().length, 2, 'nothing published again');
  const dropped = lines.filter((l) => l.msg.startsWith('replay request outside the contract'));
  t.equal(dropped.length, 1, 'one line for the lot (rate-limited)');
  t.equal(dropped[0].payload, 'not json', 'naming the first payload');
});

t.test(`a storm of requests costs one replay per interval (${kind})`, async (t) => {
  const { ask, produce, received, lines } = await setup(t, { minIntervalMs: 1_000 });
  const ids = await produce(3);
  const since = Date.now() - 60_000;
  await ask({ since: new Date(since) });
  await until(() => replayLines(lines).length === 1, 'the first replay');
  const start = Date.now();
  for (let i = 0; i < 30; i++) await ask({ since: new Date(since + i * 1_000) });
  await until(() => replayLines(lines).length === 2, 'the second replay', 5_000);
  t.ok(Date.now() - start >= 700, 'not before the interval is over');
  await new Promise((r) => setTimeout(r, 1_500));
  t.equal(replayLines(lines).length, 2, 'two replays for 31 requests');
  t.match(
    replayLines(lines)[1],
    { requests: 30, published: 3, since: new Date(since).toISOString() },
    'the 30 merged into one, from the earliest moment',
  );
  t.equal(replayLines(lines)[1].requestIds.length, 10, 'naming ten of them');
  t.same(received(), [...ids, ...ids, ...ids]);
});

t.test(`new events are not held up behind a long replay (${kind})`, async (t) => {
  const { ask, produce, received, lines, db, lockerId, signal } = await setup(t, { batchSize: 10 });
  const old = await produce(400);
  const before = received().length;
  await ask({ since: new Date(Date.now() - 60_000) });
  await until(() => received().length > before + 10, 'the replay under way');
  const { id } = await db.tx((tx) => enqueueEvent(tx, { lockerId, type: 'tray.door_opened', data: { tray: 42 } }));
  signal.notify();
  await until(() => replayLines(lines).length === 1, 'the replay done', 15_000);
  await until(() => received().length >= before + old.length + 1, 'everything at the subscriber');
  await new Promise((r) => setTimeout(r, 200));
  const order = received().slice(before);
  t.ok(order.includes(id), 'the new event went out');
  t.ok(order.indexOf(id) < old.length, `before the replay ended (at ${order.indexOf(id)} of ${order.length})`);
  t.same(
    order.filter((x) => x !== id),
    old,
    'and the replay went on in order around it',
  );
});

t.test(`events written during an outage and sent just now are replayed: the window is when they were sent (${kind})`, async (t) => {
  const { db, lockerId, signal, ask, produce, received, age, lines } = await setup(t);
  const old = await produce(3);
  await age(old, 7_200_000);
  // Written two hours ago while the broker was away (no signal, a slow poll: they stay unsent)...
  const outage = await db.tx(async (tx) => {
    const written: string[] = [];
    for (let i = 0; i < 3; i++) written.push((await enqueueEvent(tx, { lockerId, type: 'tray.door_opened', data: { tray: 5 } })).id);
    return written;
  });
  await age(outage, 7_200_000);
  // ...and published now: exactly what a fleet instance that crashed a moment ago may have held.
  signal.notify();
  await until(async () => {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM outbox WHERE id = ANY($1::uuid[]) AND sent_at IS NOT NULL`, [outage]);
    return rows[0].n === 3;
  }, 'the outage events sent');
  const recent = await produce(3);
  t.same(received(), [...old, ...outage, ...recent], 'the first time');

  await ask({ since: new Date(Date.now() - 60_000) });
  await until(() => replayLines(lines).length === 1, 'the replay');
  await new Promise((r) => setTimeout(r, 200));
  t.same(received().slice(9), [...outage, ...recent], 'the events sent in the last minute, in seq order, however old');
  t.match(replayLines(lines), [{ published: 6 }]);
});

for (const how of ['handed over at its commit', 'found by a pass'] as const) {
  t.test(`a new event ${how} goes out before the rest of a replay's batch (${kind})`, async (t) => {
    const { db, link, lockerId, signal, relay, produce, received } = await setup(t);
    const old = await produce(20);
    // A slow link: the third replayed row's PUBACK is held until the new event has been written.
    const publish = link.publish.bind(link);
    let count = 0;
    let holding = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    link.publish = (async (...args: Parameters<typeof publish>) => {
      await publish(...args);
      if (++count === 3) {
        holding = true;
        await gate;
      }
    }) as typeof link.publish;
    const replay = relay.replay(new Date(Date.now() - 60_000), 1_000);
    await until(() => holding, 'the replay under way');
    const entry = await db.tx((tx) => writeEvent(tx, { lockerId, type: 'tray.door_opened', data: { tray: 42 } }));
    if (how === 'handed over at its commit') relay.offer([entry]);
    else signal.notify();
    release();
    // Sent within the window, the new event is in it too: the replay reaches it last.
    const result = await replay;
    t.same(result, { published: 21, truncated: false, ok: true }, 'the replay ends');
    await until(() => received().length >= 21 + result.published, 'everything at the subscriber');
    t.same(
      received().slice(20),
      [...old.slice(0, 3), entry.id, ...old.slice(3), entry.id],
      'the new event right after the row that was in flight',
    );
  });
}
