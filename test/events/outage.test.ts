/**
 * A broker outage loses no event: the link to the broker goes through a proxy that the test cuts
 * (connections dropped, new ones refused) while events keep being produced, then resumes.
 * A short cut, and the 30 s outage of the field scenario (it runs in parallel with other files).
 */
import t, { type Test } from 'tap';
import { testDb, dbKind } from '../helpers/db.js';
import { brokerKind, lifo, testBroker, testLink, testSubscriber, uniqueLockerId, until } from '../helpers/mqtt.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { enqueueEvent, OutboxSignal, countPending } from '../../src/events/outbox.js';
import { OutboxRelay } from '../../src/events/relay.js';
import { silentLogger } from '../../src/log.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function outage(t: Test, cutMs: number, duringCut: number) {
  const scope = lifo(t);
  const db = await testDb(scope);
  const { url } = await testBroker(scope);
  const u = new URL(url);
  const proxy = await TcpProxy.start({ host: u.hostname, port: Number(u.port || 1883) }, scope);
  const lockerId = uniqueLockerId('outage');
  const link = await testLink(scope, proxy.urlFor(url), lockerId);
  const sub = await testSubscriber(scope, url, `${link.base}/events/#`);
  const signal = new OutboxSignal();
  const relay = new OutboxRelay({ db, link, signal, lockerId, logger: silentLogger(), backoffMaxMs: 1_000 });
  relay.start();
  scope.teardown(() => relay.stop());

  const produced: string[] = [];
  let tray = 0;
  const produce = async () => {
    tray = (tray % 90) + 1;
    const { id } = await db.tx((tx) => enqueueEvent(tx, { lockerId, type: 'tray.door_closed', data: { tray } }));
    produced.push(id);
    signal.notify();
  };

  // Events flow, the link is cut in the middle of the flow, more events while it is down…
  for (let i = 0; i < 10; i++) await produce();
  proxy.cut();
  const cutAt = Date.now();
  await until(() => !link.connected, 'the link to notice the cut');
  for (let i = 0; i < duringCut; i++) {
    await produce();
    await sleep(Math.floor(cutMs / 2 / duringCut));
  }
  const waiting = await countPending(db.pool, lockerId);
  t.ok(waiting >= duringCut, `events wait in the outbox during the outage (${waiting} pending)`);
  await sleep(Math.max(0, cutMs - (Date.now() - cutAt)));
  t.equal(link.connected, false, 'still cut off');
  // …then it comes back, and a few more follow.
  proxy.resume();
  t.equal(await link.waitConnected(10_000), true, 'reconnected');
  for (let i = 0; i < 10; i++) await produce();

  const total = produced.length;
  await until(() => new Set(sub.messages.map((m) => JSON.parse(m.payload).id)).size >= total, `all ${total} events`, 15_000);
  await until(async () => (await countPending(db.pool, lockerId)) === 0, 'the outbox to empty');
  await sleep(200); // let stragglers (duplicates) in before counting

  const received = sub.messages.map((m) => JSON.parse(m.payload) as { id: string; data: { tray: number } });
  const unique = new Map(received.map((e) => [e.id, e]));
  t.equal(unique.size, total, `every one of the ${total} events arrived`);
  t.same([...unique.keys()].sort(), [...produced].sort(), 'exactly the produced ids, none foreign');
  t.same([...unique.keys()], produced, 'first arrivals in the order produced');
  t.comment(`${received.length - unique.size} duplicate deliveries (at least once; deduped by id)`);
  const unsent = await db.query(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL`);
  t.equal(unsent.rows[0].n, 0, 'every row marked sent');
}

t.test(`a short broker outage loses no event (${dbKind}, ${brokerKind})`, (t) => outage(t, 2_000, 50));

t.test(`a 30 s broker outage loses no event (${dbKind}, ${brokerKind})`, (t) => outage(t, 30_000, 50));
