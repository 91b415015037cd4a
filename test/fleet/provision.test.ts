/**
 * Per-locker broker credentials and access control (issue 14), against a real Mosquitto started
 * here with the files `npm run fleet:provision` writes: a locker publishes and reads under its own
 * prefix only, the fleet service reads every locker (also through a shared subscription) and
 * publishes nothing but replay requests (which no locker can send another), a renewed password
 * replaces the old one at the broker's reload.
 */
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { MqttLink } from '../../src/events/mqtt-link.js';
import { silentLogger } from '../../src/log.js';
import { noMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { aclBlock, checkMosquittoHash, FLEET_USER, mosquittoHash, provision } from '../../src/fleet/provision.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Mosquitto on a loopback port with the provisioned files, anonymous access off. */
const startBroker = (t: Test, dir: string) =>
  startMosquitto(t, ['allow_anonymous false', `password_file ${path.join(dir, 'passwd')}`, `acl_file ${path.join(dir, 'acl')}`]);

/** An MQTT 5 client, or the broker's refusal. */
async function connect(t: Test, url: string, username: string, password: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { username, password, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 3_000 });
  t.teardown(() => client.end(true));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Messages a client receives, by topic. */
function inbox(client: MqttClient): { topic: string; payload: string }[] {
  const got: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return got;
}

async function until(check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await sleep(10)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

t.test('the password hash is Mosquitto’s own format, and checks', async (t) => {
  const entry = mosquittoHash('s3cret', Buffer.alloc(12, 7));
  t.match(entry, /^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/, '$7$, 101 rounds, 12-byte salt, 64-byte hash');
  t.ok(checkMosquittoHash('s3cret', entry));
  t.notOk(checkMosquittoHash('s3cret!', entry), 'another password does not match');
  t.same(aclBlock('d6-01', 'atm247'), ['user d6-01', 'topic readwrite atm247/d6-01/#']);
  t.same(aclBlock(FLEET_USER, 'hcm/atm247'), ['user fleet', 'topic read hcm/atm247/#', 'topic write hcm/atm247/+/replay']);
});

t.test('bad locker ids are refused before anything is written', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atm247-broker-'));
  for (const id of ['', 'd6/01', 'd6+', 'd6#', 'a b', 'x'.repeat(65)]) {
    t.throws(() => provision({ dir, baseTopic: 'atm247' }, id), { code: 'VALIDATION_FAILED' }, JSON.stringify(id));
  }
  t.throws(() => provision({ dir, baseTopic: 'atm+247' }, 'd6-01'), { code: 'CONFIG_INVALID' }, 'a base topic with a wildcard');
});

t.test('provisioning keeps the rules for all users and the files’ owner and mode', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atm247-broker-'));
  writeFileSync(path.join(dir, 'acl'), '# site rules\npattern read $SYS/broker/uptime\ntopic read atm247/announcements\n');
  provision({ dir, baseTopic: 'atm247' }, 'd6-01');
  provision({ dir, baseTopic: 'atm247' }, 'd6-02');
  const acl = readFileSync(path.join(dir, 'acl'), 'utf8');
  t.match(acl, /^pattern read \$SYS\/broker\/uptime\ntopic read atm247\/announcements\n\nuser d6-01\n/m, 'the rules for all users, first');
  t.match(acl, /user d6-02\ntopic readwrite atm247\/d6-02\/#/);
  if (process.getuid?.() !== 0) return;
  // As an operator does after the first provisioning: the broker's user owns the files.
  for (const name of ['passwd', 'acl']) chownSync(path.join(dir, name), 1, 1);
  chmodSync(path.join(dir, 'acl'), 0o640);
  provision({ dir, baseTopic: 'atm247' }, 'd6-03');
  for (const name of ['passwd', 'acl']) {
    const st = statSync(path.join(dir, name));
    t.same([st.uid, st.gid], [1, 1], `${name}: still the broker's`);
  }
  t.equal(statSync(path.join(dir, 'acl')).mode & 0o777, 0o640, 'and its mode');
  t.equal(statSync(path.join(dir, 'passwd')).mode & 0o777, 0o600);
});

t.test('on a real Mosquitto: each locker publishes and reads under its own prefix only', { skip: noMosquitto }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atm247-broker-'));
  const files = { dir, baseTopic: 'atm247' };
  const a = provision(files, 'd6-01');
  const b = provision(files, 'd6-02');
  const fleet = provision(files, FLEET_USER);
  t.same(a.env, { MQTT_USERNAME: 'd6-01', MQTT_PASSWORD: a.password, LOCKER_ID: 'd6-01' }, 'the locker’s settings');
  const { url, child } = await startBroker(t, dir);

  await t.rejects(connect(t, url, 'd6-01', b.password), 'another locker’s password is refused');
  await t.rejects(connect(t, url, 'nobody', 'x'), 'an unknown user is refused');

  const lockerA = await connect(t, url, 'd6-01', a.password);
  const lockerB = await connect(t, url, 'd6-02', b.password);
  const central = await connect(t, url, FLEET_USER, fleet.password);
  const seenByFleet = inbox(central);
  const seenByA = inbox(lockerA);
  await central.subscribeAsync('atm247/#', { qos: 1 });
  const shared = await connect(t, url, FLEET_USER, fleet.password);
  const seenShared = inbox(shared);
  await shared.subscribeAsync('$share/fleet/atm247/+/events/#', { qos: 1 });

  // A's own prefix: delivered.
  await lockerA.publishAsync('atm247/d6-01/events/tray.opened', 'a-own', { qos: 1 });
  await until(() => seenByFleet.some((m) => m.payload === 'a-own'), 'A’s own event at the fleet');
  await until(() => seenShared.some((m) => m.payload === 'a-own'), 'the same through the shared subscription');

  // Under B's prefix: refused, never delivered.
  await t.rejects(lockerA.publishAsync('atm247/d6-02/events/tray.opened', 'a-as-b', { qos: 1 }), 'the broker refuses it (PUBACK 0x87)');
  await lockerA.publishAsync('atm247/d6-02/availability', 'offline', { qos: 0, retain: true });
  // Nor may A read B: Mosquitto grants the subscription and checks each message against the ACL
  // as it delivers it, so B's events never reach A, however A subscribes.
  await lockerA.subscribeAsync('atm247/d6-02/#', { qos: 1 });
  await lockerA.subscribeAsync('atm247/#', { qos: 1 });
  await lockerB.publishAsync('atm247/d6-02/events/deposit.completed', 'b-own', { qos: 1 });
  await until(() => seenByFleet.some((m) => m.payload === 'b-own'), 'B’s event at the fleet');
  await lockerA.publishAsync('atm247/d6-01/events/tray.closed', 'a-marker', { qos: 1 });
  await until(() => seenByA.some((m) => m.payload === 'a-marker'), 'A reads its own prefix');
  await sleep(200);
  t.same(
    seenByFleet.filter((m) => m.topic.startsWith('atm247/d6-02/')).map((m) => m.payload),
    ['b-own'],
    'under B’s prefix the fleet sees only what B published',
  );
  t.same(
    seenByA.map((m) => m.topic),
    ['atm247/d6-01/events/tray.closed'],
    'A received nothing of B, even subscribed to everything',
  );

  // The fleet reads, and publishes nothing but replay requests (ADR 0023).
  await t.rejects(central.publishAsync('atm247/d6-01/events/tray.opened', 'forged', { qos: 1 }), 'the fleet cannot publish events');
  await t.rejects(central.publishAsync('atm247/d6-01/availability', 'offline', { qos: 1, retain: true }), 'nor state');
  await t.rejects(central.publishAsync('atm247/d6-01/replay/more', '{}', { qos: 1 }), 'nor below a replay topic');
  const request = JSON.stringify({ since: new Date().toISOString(), requestId: randomUUID() });
  await central.publishAsync('atm247/d6-01/replay', request, { qos: 1 });
  await until(() => seenByA.some((m) => m.topic === 'atm247/d6-01/replay' && m.payload === request), 'the fleet’s replay request at A');
  // A locker cannot ask another: B reads its replay topic and gets the fleet's request only.
  const seenByB = inbox(lockerB);
  await lockerB.subscribeAsync('atm247/d6-02/replay', { qos: 1 });
  await t.rejects(lockerA.publishAsync('atm247/d6-02/replay', request, { qos: 1 }), 'A’s request to B is refused (PUBACK 0x87)');
  const forB = JSON.stringify({ since: new Date().toISOString(), requestId: randomUUID() });
  await central.publishAsync('atm247/d6-02/replay', forB, { qos: 1 });
  await until(() => seenByB.length > 0, 'the fleet’s replay request at B');
  await sleep(200);
  t.same(
    seenByB.map((m) => `${m.topic} ${m.payload}`),
    [`atm247/d6-02/replay ${forB}`],
    'B received the fleet’s request and nothing from A',
  );

  // The daemon's own link, with the locker's settings: it connects and publishes under its prefix.
  const link = new MqttLink({
    url,
    lockerId: 'd6-01',
    username: a.env.MQTT_USERNAME,
    password: a.env.MQTT_PASSWORD,
    logger: silentLogger(),
  });
  const heard: string[] = [];
  link.on('message', (topic, payload) => heard.push(`${topic} ${payload.toString()}`));
  link.subscribe('replay');
  link.start();
  t.teardown(() => link.stop());
  t.ok(await link.waitConnected(5_000), 'the daemon’s link connects with the provisioned credentials');
  await until(() => seenByFleet.some((m) => m.topic === 'atm247/d6-01/availability' && m.payload === 'online'), 'its availability');
  await central.publishAsync('atm247/d6-01/replay', request, { qos: 1 });
  await until(() => heard.length > 0, 'the fleet’s request, read by the daemon’s link');
  t.same(heard, [`replay ${request}`], 'the daemon reads its replay topic');

  // Renewed: the old password stops working once the broker reloads its files.
  const renewed = provision(files, 'd6-01');
  t.not(renewed.password, a.password);
  child.kill('SIGHUP');
  await sleep(300);
  await t.rejects(connect(t, url, 'd6-01', a.password), 'the old password is refused after the reload');
  t.ok(await connect(t, url, 'd6-01', renewed.password), 'the new one is taken');
  t.ok(await connect(t, url, 'd6-02', b.password), 'the other lockers keep theirs');
});
