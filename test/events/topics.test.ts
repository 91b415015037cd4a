import t from 'tap';
import { brokerKind, lifo, testBroker, testLink, testSubscriber, uniqueLockerId } from '../helpers/mqtt.js';
import { EVENT_TYPES, lockerBase, topicSpec, trayTopic, type Topic } from '../../src/events/topics.js';

t.test('the contract: retained state, QoS 1 events, nothing else', async (t) => {
  t.same(topicSpec('availability'), { retain: true, qos: 1 });
  t.same(topicSpec('occupancy'), { retain: true, qos: 1 });
  t.same(topicSpec('rounds/next'), { retain: true, qos: 1 });
  t.same(topicSpec(trayTopic(90)), { retain: true, qos: 1 });
  for (const type of EVENT_TYPES) t.same(topicSpec(`events/${type}`), { retain: false, qos: 1 }, type);
  for (const bad of [
    'trays/+',
    'events/#',
    '#',
    '+/availability',
    'events/+',
    'trays/0',
    'trays/x',
    'events/tray.exploded',
    'status',
    '',
  ]) {
    t.throws(() => topicSpec(bad), { code: 'INTERNAL' }, `refuses "${bad}"`);
  }
  t.equal(lockerBase('atm247', 'atm247-demo'), 'atm247/atm247-demo');
  t.equal(lockerBase('city/atm247', 'l1'), 'city/atm247/l1');
  for (const [base, id] of [
    ['atm247', 'a/b'],
    ['atm247', '+'],
    ['atm#', 'x'],
    ['', 'x'],
    ['a//b', 'x'],
    ['atm247', ''],
  ]) {
    t.throws(() => lockerBase(base, id), { code: 'CONFIG_INVALID' }, `refuses base "${base}" with locker "${id}"`);
  }
});

t.test(`publish() refuses wildcards and topics outside the contract (${brokerKind})`, async (t) => {
  const scope = lifo(t);
  const { url } = await testBroker(scope);
  const link = await testLink(scope, url, uniqueLockerId('topics'));
  const sub = await testSubscriber(scope, url, `${link.base}/#`);
  await sub.waitFor(link.topic('availability'));
  for (const bad of ['trays/+', 'events/#', 'occupancy/#', 'commands/open']) {
    await t.rejects(link.publish(bad as Topic, 'x' as never), { code: 'INTERNAL' }, `refuses "${bad}"`);
  }
  await link.publish('trays/3', { number: 3, cabinet: 'A', size: 'S', state: 'free', door: 'closed', at: 'now' });
  await new Promise((r) => setTimeout(r, 100));
  t.same(
    sub.messages.map((m) => m.topic),
    [link.topic('availability'), link.topic('trays/3')],
    'only contract topics reached the broker',
  );
});
