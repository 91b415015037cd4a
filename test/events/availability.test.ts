import t from 'tap';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { brokerKind, lifo, testBroker, testLink, testSubscriber, uniqueLockerId, until } from '../helpers/mqtt.js';

function target(url: string) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 1883) };
}

t.test(`availability: online retained on connect, offline as will when the link dies (${brokerKind})`, async (t) => {
  const scope = lifo(t);
  const { url } = await testBroker(scope);
  const proxy = await TcpProxy.start(target(url), scope);
  const lockerId = uniqueLockerId('avail');
  const link = await testLink(scope, proxy.urlFor(url), lockerId);
  const topic = link.topic('availability');
  t.equal(topic, `atm247test/${lockerId}/availability`);
  t.equal(link.status().connected, true, 'status reports connected');

  // A subscriber arriving after the connect gets `online` as a retained message.
  const late = await testSubscriber(scope, url, topic);
  const retained = await late.waitFor(topic);
  t.equal(retained.payload, 'online');
  t.equal(retained.retain, true, 'online is retained');

  // The connection dies without a DISCONNECT: the broker publishes the will.
  proxy.cut();
  await late.waitFor(topic, (p) => p === 'offline');
  await until(() => !link.connected, 'the link to notice the loss');
  t.equal(link.status().connected, false, 'status reports disconnected');
  const watcher = await testSubscriber(scope, url, topic);
  const will = await watcher.waitFor(topic);
  t.equal(will.payload, 'offline', 'the will left a retained offline');
  t.equal(will.retain, true);

  // Back: online again on the reconnect, retained.
  proxy.resume();
  await watcher.waitFor(topic, (p) => p === 'online');
  t.equal(await link.waitConnected(5_000), true);
  const after = await testSubscriber(scope, url, topic);
  t.equal((await after.waitFor(topic)).payload, 'online');
});

t.test(`availability: explicit retained offline on orderly stop (${brokerKind})`, async (t) => {
  const scope = lifo(t);
  const { url } = await testBroker(scope);
  const lockerId = uniqueLockerId('stop');
  const link = await testLink(scope, url, lockerId);
  const topic = link.topic('availability');
  const sub = await testSubscriber(scope, url, topic);
  await sub.waitFor(topic, (p) => p === 'online');
  await link.stop();
  await sub.waitFor(topic, (p) => p === 'offline');
  t.equal(link.status().connected, false);
  const late = await testSubscriber(scope, url, topic);
  const last = await late.waitFor(topic);
  t.equal(last.payload, 'offline', 'a late subscriber sees offline');
  t.equal(last.retain, true);
  // A clean DISCONNECT does not fire the will: exactly one offline, the one we sent.
  await new Promise((r) => setTimeout(r, 200));
  t.equal(sub.on(topic).filter((m) => m.payload === 'offline').length, 1);
  await t.rejects(
    link.publish('occupancy', { at: '', counts: {} as never, trays: [] }),
    { code: 'SERVICE_UNAVAILABLE' },
    'publish after stop fails fast',
  );
});
