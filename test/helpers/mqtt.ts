/**
 * MQTT for tests: a fresh embedded broker (aedes on a free loopback port) by default, or the real
 * broker named by TEST_MQTT_URL. Tests on a shared broker stay apart by a unique locker id, and
 * clean up after themselves: retained topics they caused are cleared, persistent sessions dropped.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { EmbeddedBroker } from '../../src/events/broker.js';
import { MqttLink, type MqttLinkOptions } from '../../src/events/mqtt-link.js';
import type { Config } from '../../src/config/types.js';
import { silentLogger } from '../../src/log.js';

export const realBrokerUrl = process.env.TEST_MQTT_URL || null;
export const brokerKind = realBrokerUrl ? 'broker at TEST_MQTT_URL' : 'embedded aedes';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function testBroker(t: Teardown): Promise<{ url: string }> {
  if (realBrokerUrl) return { url: realBrokerUrl };
  const broker = new EmbeddedBroker({ port: 0, logger: silentLogger() });
  const { url } = await broker.start();
  t.teardown(() => broker.stop());
  return { url };
}

/** A locker id no other test (or earlier run) uses, so topics never collide on a shared broker. */
export function uniqueLockerId(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export function testMqttConfig(url: string | null, overrides: Partial<Config['mqtt']> = {}): Config['mqtt'] {
  return {
    url,
    embeddedPort: 0,
    baseTopic: 'atm247test',
    username: null,
    password: null,
    keepaliveSec: 10,
    reconnectPeriodMs: 100,
    ...overrides,
  };
}

/** Polls `check` until it returns a truthy value; fails naming `what` after `timeoutMs`. */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface ReceivedMessage {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
}

export interface TestSubscriber {
  client: MqttClient;
  messages: ReceivedMessage[];
  /** Messages on `topic` (full topic). */
  on(topic: string): ReceivedMessage[];
  /** Waits for a message on `topic` whose payload satisfies `match`; returns it. */
  waitFor(topic: string, match?: (payload: string, m: ReceivedMessage) => boolean, timeoutMs?: number): Promise<ReceivedMessage>;
}

/**
 * A plain subscriber straight on the broker (never through a test's proxy), QoS 1. On teardown it
 * clears every retained topic it saw under `filter`'s prefix, then disconnects.
 */
export async function testSubscriber(t: Teardown, url: string, filter: string): Promise<TestSubscriber> {
  const client = await mqtt.connectAsync(url, {
    clientId: `atm247-test-sub-${randomBytes(4).toString('hex')}`,
    clean: true,
    reconnectPeriod: 100,
  });
  const messages: ReceivedMessage[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  t.teardown(async () => {
    // A fresh embedded broker dies with the test; a shared one keeps retained messages forever.
    if (realBrokerUrl && client.connected) {
      const retainedTopics = new Set(messages.filter((m) => !m.topic.includes('/events/') && m.payload !== '').map((m) => m.topic));
      for (const topic of retainedTopics) {
        await withTimeout(client.publishAsync(topic, '', { retain: true, qos: 1 }), 2_000).catch(() => undefined);
      }
    }
    await client.endAsync(!client.connected);
  });
  const on = (topic: string) => messages.filter((m) => m.topic === topic);
  return {
    client,
    messages,
    on,
    waitFor: (topic, match = () => true, timeoutMs = 5_000) =>
      until(() => on(topic).find((m) => match(m.payload, m)), `a message on ${topic}`, timeoutMs),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Drops the persistent session a shared broker keeps for `clientId` (connect clean, disconnect),
 * clearing the given retained topics on the way.
 */
export async function forgetSession(url: string, clientId: string, clearRetained: string[] = []): Promise<void> {
  const client = await withTimeout(mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 0 }), 2_000).catch(() => null);
  if (!client) return;
  for (const topic of clearRetained) {
    await withTimeout(client.publishAsync(topic, '', { retain: true, qos: 1 }), 2_000).catch(() => undefined);
  }
  await client.endAsync(true);
}

/**
 * tap runs teardowns first-registered-first; a test that builds db → broker → link → relay must
 * take them down the other way round. `lifo(t)` is a teardown target that does.
 */
export function lifo(t: Teardown): Teardown {
  const fns: (() => unknown)[] = [];
  t.teardown(async () => {
    // Every step runs even if one fails; the first failure is reported once all have run.
    let failure: unknown;
    for (const fn of fns.reverse()) {
      try {
        await fn();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  });
  return { teardown: (fn) => void fns.push(fn) };
}

/** An MqttLink for `lockerId`, started and connected; stopped (and its session dropped) afterwards. */
export async function testLink(t: Teardown, url: string, lockerId: string, overrides: Partial<MqttLinkOptions> = {}): Promise<MqttLink> {
  const config = testMqttConfig(url);
  const link = new MqttLink({
    url,
    lockerId,
    baseTopic: config.baseTopic,
    keepaliveSec: config.keepaliveSec,
    reconnectPeriodMs: config.reconnectPeriodMs,
    ackTimeoutMs: 3_000,
    logger: silentLogger(),
    ...overrides,
  });
  t.teardown(async () => {
    await link.stop();
    if (realBrokerUrl) await forgetSession(realBrokerUrl, link.clientId, [link.topic('availability')]);
  });
  link.start();
  if (!(await link.waitConnected(5_000))) throw new Error(`MQTT link for ${lockerId} did not connect to ${url}`);
  return link;
}
