/**
 * The AsyncAPI document: up to date with the catalogue, a valid AsyncAPI document, complete, and
 * in agreement with docs/mqtt.md; and the watcher that checks every test locker's messages against
 * it does fail on a message that breaks it.
 */
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import mqtt from 'mqtt';
import t from 'tap';
import { ASYNCAPI_FILE, asyncApiText } from '../../src/contracts-cli.js';
import { EVENT_PAYLOADS, EVENT_TYPES, RECEIVED_TOPICS, RETAINED_TOPICS } from '../../src/domain/events.js';
import { contractViolation, watchContract } from '../helpers/contract-watch.js';
import { testBroker, uniqueLockerId } from '../helpers/mqtt.js';

const committed = readFileSync(ASYNCAPI_FILE, 'utf8');
const doc = JSON.parse(committed);
const mqttMd = readFileSync(new URL('../../docs/mqtt.md', import.meta.url), 'utf8');

t.test('docs/asyncapi.json is what the catalogue generates (run `npm run contracts` after changing it)', async (t) => {
  t.equal(committed, asyncApiText());
});

t.test('@asyncapi/parser reads it without an error or a warning', async (t) => {
  const { document, diagnostics } = await new Parser().parse(committed);
  t.ok(document, 'parsed');
  const serious = diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`);
  t.same(serious, []);
  const received = Object.keys(RECEIVED_TOPICS).length;
  t.equal(document!.channels().length, EVENT_TYPES.length + Object.keys(RETAINED_TOPICS).length + received, 'one channel per topic');
  t.equal(document!.operations().filterBySend().length, document!.channels().length - received, 'the locker sends on every channel but…');
  t.equal(document!.operations().filterByReceive().length, received, '…the ones it reads');
  const will = document!.servers().get('cabinet')!.bindings().get('mqtt')!.value().lastWill;
  t.same(will, { topic: 'atm247/<lockerId>/availability', qos: 1, message: 'offline', retain: true }, 'the last will is documented');
});

t.test('every event, retained and read topic, with QoS 1 and the right retain flag', async (t) => {
  const addresses = new Map<string, any>();
  for (const [id, channel] of Object.entries<any>(doc.channels)) addresses.set(channel.address, { id, ...channel });
  for (const type of EVENT_TYPES) {
    const channel = addresses.get(`atm247/{lockerId}/events/${type}`);
    t.ok(channel, `events/${type}`);
    t.same(doc.operations[`publish_${channel.id}`].bindings.mqtt, { qos: 1, retain: false, bindingVersion: '0.2.0' });
  }
  for (const topic of Object.keys(RETAINED_TOPICS)) {
    const channel = addresses.get(`atm247/{lockerId}/${topic}`);
    t.ok(channel, topic);
    t.same(doc.operations[`publish_${channel.id}`].bindings.mqtt, { qos: 1, retain: true, bindingVersion: '0.2.0' });
  }
  for (const topic of Object.keys(RECEIVED_TOPICS)) {
    const channel = addresses.get(`atm247/{lockerId}/${topic}`);
    t.ok(channel, `${topic}, read by the locker`);
    t.equal(doc.operations[`receive_${channel.id}`].action, 'receive');
    t.same(doc.operations[`receive_${channel.id}`].bindings.mqtt, { qos: 1, retain: false, bindingVersion: '0.2.0' });
  }
});

t.test('docs/mqtt.md lists every event with exactly the fields of its schema', async (t) => {
  for (const type of EVENT_TYPES) {
    const row = mqttMd.split('\n').find((l) => l.startsWith(`| \`${type}\` |`));
    if (!t.ok(row, `a row for ${type}`)) continue;
    const cell = row!.split('|')[2];
    // `{a, b, c: {…}}`: the top-level names are the required fields.
    const braces = /`\{(.*?)\}`/.exec(cell)![1];
    let depth = 0;
    const names: string[] = [];
    let current = '';
    for (const ch of braces) {
      if (ch === '{') depth += 1;
      else if (ch === '}') depth -= 1;
      else if (ch === ',' && depth === 0) {
        names.push(current);
        current = '';
      } else if (depth === 0) current += ch;
    }
    names.push(current);
    const required = names.map((n) => n.split(':')[0].trim()).sort();
    // `(and `x`, `y` …)`: the optional ones.
    const optional = [...(/\(and ([^)]*)\)/.exec(cell)?.[1].matchAll(/`(\w+)`/g) ?? [])].map((m) => m[1]).sort();
    const schema = EVENT_PAYLOADS[type] as unknown as { properties: Record<string, unknown>; required?: string[] };
    const schemaRequired = [...(schema.required ?? [])].sort();
    const schemaOptional = Object.keys(schema.properties)
      .filter((k) => !schemaRequired.includes(k))
      .sort();
    t.same(required, schemaRequired, `${type}: required fields`);
    t.same(optional, schemaOptional, `${type}: optional fields`);
  }
});

t.test("docs/mqtt.md's examples keep the contract", async (t) => {
  const examples: [string, string][] = [];
  const sections = mqttMd.split(/^## /m).slice(1);
  for (const section of sections) {
    const heading = /^`([^`]+)`/.exec(section)?.[1];
    const block = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    if (heading && block) examples.push([heading, block]);
  }
  t.same(examples.map(([h]) => h).sort(), ['audit/head', 'events/<type>', 'occupancy', 'replay', 'rounds/next', 'trays/<n>'].sort());
  for (const [heading, block] of examples) {
    const value = JSON.parse(block);
    const topic = heading === 'trays/<n>' ? 'trays/2' : heading === 'events/<type>' ? `events/${value.type}` : heading;
    t.equal(contractViolation(topic, Buffer.from(block)), null, heading);
  }
});

t.test('the watcher fails a test whose locker publishes off the contract', async (t) => {
  const broker = await testBroker(t);
  const base = `atm247test/${uniqueLockerId('contract')}`;
  const watch = await watchContract(broker.url, base);
  const client = await mqtt.connectAsync(broker.url, { clean: true });
  t.teardown(() => client.endAsync(true));
  const event = { id: '0b6f7c5e-3f0a-4c1e-9d8e-2a1b3c4d5e6f', type: 'tray.door_opened', at: new Date().toISOString(), lockerId: 'x' };
  await client.publishAsync(`${base}/events/tray.door_opened`, JSON.stringify({ ...event, data: { tray: 3 } }), { qos: 1 });
  await client.publishAsync(`${base}/events/tray.door_opened`, JSON.stringify({ ...event, data: { tray: 3, extra: 1 } }), { qos: 1 });
  await client.publishAsync(`${base}/availability`, 'maybe', { qos: 1 });
  await client.publishAsync(`${base}/commands/open`, '{}', { qos: 1 });
  const deadline = Date.now() + 5000;
  while (watch.seen() < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(watch.seen(), 4, 'all four seen');
  await t.rejects(watch.finish(), /3 MQTT message\(s\) broke docs\/asyncapi\.json/);
});
