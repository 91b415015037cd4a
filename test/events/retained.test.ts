import t from 'tap';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { brokerKind, lifo, testBroker, testLink, testSubscriber, uniqueLockerId, until } from '../helpers/mqtt.js';
import { RetainedState } from '../../src/events/retained.js';
import type { OccupancyPayload, TrayPayload } from '../../src/events/topics.js';
import { silentLogger } from '../../src/log.js';

function occupancy(at: string, free: number): OccupancyPayload {
  return {
    at,
    counts: { free, reserved: 0, holding_deposit: 2 - free, holding_result: 0, to_check: 0, out_of_service: 0 },
    trays: [
      { number: 1, state: free > 0 ? 'free' : 'holding_deposit', door: 'closed' },
      { number: 2, state: free > 1 ? 'free' : 'holding_deposit', door: 'closed' },
    ],
  };
}

const tray = (state: TrayPayload['state'], at: string): TrayPayload => ({ number: 2, cabinet: 'A', size: 'M', state, door: 'closed', at });

t.test(`retained state is published, and re-published after a reconnect (${brokerKind})`, async (t) => {
  const scope = lifo(t);
  const { url } = await testBroker(scope);
  const u = new URL(url);
  const proxy = await TcpProxy.start({ host: u.hostname, port: Number(u.port || 1883) }, scope);
  const lockerId = uniqueLockerId('retained');
  const link = await testLink(scope, proxy.urlFor(url), lockerId);
  const retained = new RetainedState(link, silentLogger());
  retained.start();
  scope.teardown(() => retained.stop());
  const occupancyTopic = link.topic('occupancy');
  const trayTopic = link.topic('trays/2');
  const sub = await testSubscriber(scope, url, `${link.base}/#`);

  t.equal(await retained.publishRetained('occupancy', occupancy('t1', 2)), true, 'acknowledged while connected');
  t.equal(await retained.publishRetained('trays/2', tray('free', 't1')), true);
  const late = await testSubscriber(scope, url, occupancyTopic);
  const first = await late.waitFor(occupancyTopic);
  t.equal(first.retain, true, 'occupancy is retained');
  t.equal(JSON.parse(first.payload).at, 't1');

  // A change during an outage is remembered and goes out when the link is back.
  proxy.cut();
  await until(() => !link.connected, 'the link to notice the cut');
  t.equal(await retained.publishRetained('occupancy', occupancy('t2', 1)), false, 'not sent while away');
  t.equal(await retained.publishRetained('trays/2', tray('holding_deposit', 't2')), false);
  t.same(retained.get('occupancy')?.at, 't2', 'the latest payload is remembered');
  proxy.resume();
  await sub.waitFor(occupancyTopic, (p) => JSON.parse(p).at === 't2');
  await sub.waitFor(trayTopic, (p) => JSON.parse(p).state === 'holding_deposit');

  // Every reconnect re-sends the remembered state (a broker that lost it gets it back).
  const before = sub.on(occupancyTopic).length;
  proxy.cut();
  await until(() => !link.connected, 'the second cut');
  proxy.resume();
  await until(() => sub.on(occupancyTopic).length > before, 'occupancy re-published after reconnect');
  const newest = await testSubscriber(scope, url, `${link.base}/#`);
  await newest.waitFor(occupancyTopic);
  await newest.waitFor(trayTopic);
  t.equal(JSON.parse(newest.on(occupancyTopic).at(-1)!.payload).at, 't2', 'a new subscriber gets the latest occupancy');
  t.equal(JSON.parse(newest.on(trayTopic).at(-1)!.payload).state, 'holding_deposit', '…and the latest tray state');
});
