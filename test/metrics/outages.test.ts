/**
 * The scrape in the outages it is there to show: a broker out of reach (MQTT disconnected, events
 * piling up in the outbox, the oldest getting older) and a database out of reach (the scrape still
 * answers, quickly, with `atm247_database_up 0` and the database's figures absent).
 */
import t from 'tap';
import { startTestLocker, type TestLocker } from '../helpers/controller.js';
import { freshDatabaseUrl } from '../helpers/db.js';
import { door } from '../helpers/citizens.js';
import { testBroker, uniqueLockerId, until } from '../helpers/mqtt.js';
import { scraped, samplesOf, valueOf, type Exposition } from '../helpers/metrics.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const scrape = async (locker: TestLocker): Promise<Exposition> => scraped(await locker.anonymous.get('/metrics'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a broker out of reach: MQTT disconnected, the outbox pending and ageing, then drained', async (t) => {
  const broker = await testBroker(t);
  const u = new URL(broker.url);
  const proxy = await TcpProxy.start({ host: u.hostname, port: Number(u.port || 1883) }, t);
  const locker = await startTestLocker(t, {}, { configure: (config) => (config.mqtt.url = proxy.urlFor(broker.url)) });
  await until(async () => valueOf(await scrape(locker), 'atm247_outbox_pending') === 0, 'the start-up events published');
  t.equal(valueOf(await scrape(locker), 'atm247_mqtt_connected'), 1);

  proxy.cut();
  await until(async () => valueOf(await scrape(locker), 'atm247_mqtt_connected') === 0, 'MQTT seen disconnected');
  // A door forced open writes events (the door, the alarm) that cannot leave.
  await door(locker, 30, true, true);
  const first = await until(async () => {
    const m = await scrape(locker);
    return (valueOf(m, 'atm247_outbox_pending') ?? 0) > 0 ? m : null;
  }, 'events pending');
  await sleep(1_100);
  const later = await scrape(locker);
  t.ok(valueOf(later, 'atm247_outbox_pending')! >= valueOf(first, 'atm247_outbox_pending')!, 'still pending');
  t.ok(
    valueOf(later, 'atm247_outbox_oldest_age_seconds')! >= valueOf(first, 'atm247_outbox_oldest_age_seconds')! + 1,
    `the oldest ages: ${valueOf(first, 'atm247_outbox_oldest_age_seconds')} s, then ${valueOf(later, 'atm247_outbox_oldest_age_seconds')} s`,
  );

  proxy.resume();
  const drained = await until(
    async () => {
      const m = await scrape(locker);
      return valueOf(m, 'atm247_mqtt_connected') === 1 && valueOf(m, 'atm247_outbox_pending') === 0 ? m : null;
    },
    'reconnected and drained',
    15_000,
  );
  t.equal(valueOf(drained, 'atm247_outbox_oldest_age_seconds'), 0);
  await door(locker, 30, false);
});

t.test('a database out of reach: the scrape answers without its figures, and they come back', async (t) => {
  const fresh = await freshDatabaseUrl();
  t.teardown(() => fresh.drop());
  const proxy = await TcpProxy.start(TcpProxy.postgresTarget(fresh.url), t);
  const locker = await startTestLocker(t, {}, { reuse: { databaseUrl: proxy.urlFor(fresh.url), lockerId: uniqueLockerId('mdb') } });
  const up = await scrape(locker);
  t.equal(valueOf(up, 'atm247_database_up'), 1);
  t.ok(valueOf(up, 'atm247_trays')! > 0);

  proxy.cut();
  const started = Date.now();
  const res = await locker.anonymous.get('/metrics');
  const tookMs = Date.now() - started;
  t.equal(res.statusCode, 200, 'never a 5xx for a database that is down');
  t.ok(tookMs < 3_000, `answered in ${tookMs} ms`);
  const down = scraped(res);
  t.equal(valueOf(down, 'atm247_database_up'), 0);
  for (const name of ['atm247_trays', 'atm247_doors_held_open', 'atm247_outbox_pending', 'atm247_outbox_oldest_age_seconds']) {
    t.same(samplesOf(down, name), [], `${name} absent rather than wrong`);
    t.ok(down.types.has(name), `${name} still declared`);
  }
  t.equal(valueOf(down, 'atm247_board_online', { board: 'a1' }), 1, 'the bus figures do not depend on the database');
  t.ok(valueOf(down, 'process_resident_memory_bytes')! > 0);

  proxy.resume();
  await until(async () => valueOf(await scrape(locker), 'atm247_database_up') === 1, 'the database back', 10_000);
  t.ok(valueOf(await scrape(locker), 'atm247_trays')! > 0);
});
