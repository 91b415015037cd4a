/**
 * Every message a test locker publishes, checked against the AsyncAPI document (docs/asyncapi.json):
 * `startTestLocker` subscribes to the locker's topics before it starts and fails the test at
 * teardown if a payload left the contract or went to a topic the document does not list. So the
 * whole suite validates what it actually publishes, not a sample written for the purpose.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import mqtt from 'mqtt';

// ajv-formats is CommonJS: its default export is the function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

interface Channel {
  /** The address below `<baseTopic>/{lockerId}/` as a pattern: parameters match one level. */
  pattern: RegExp;
  contentType: string;
  validate: ValidateFunction;
}

let channels: Channel[] | undefined;

/** The document's channels, their address patterns and compiled payload schemas (once a process). */
export function contractChannels(file = new URL('../../docs/asyncapi.json', import.meta.url)): Channel[] {
  if (channels) return channels;
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  channels = Object.values(doc.channels as Record<string, any>).map((channel) => {
    const ref: string = Object.values(channel.messages as Record<string, { $ref: string }>)[0].$ref;
    const message = doc.components.messages[ref.split('/').at(-1)!];
    const address = (channel.address as string)
      .split('/')
      .slice(2)
      .map((level) => (/^\{.+\}$/.test(level) ? '[^/]+' : level.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    return {
      pattern: new RegExp(`^${address}$`),
      contentType: message.contentType ?? doc.defaultContentType,
      validate: ajv.compile(message.payload),
    };
  });
  return channels;
}

/** What is wrong with one message (its topic below `<baseTopic>/<lockerId>/`), or null when it keeps the contract. */
export function contractViolation(topic: string, payload: Buffer): string | null {
  const channel = contractChannels().find((c) => c.pattern.test(topic));
  if (!channel) return `${topic}: not a topic of docs/asyncapi.json`;
  let value: unknown;
  try {
    value = channel.contentType === 'application/json' ? JSON.parse(payload.toString('utf8')) : payload.toString('utf8');
  } catch {
    return `${topic}: payload is not JSON: ${payload.toString('utf8').slice(0, 80)}`;
  }
  if (channel.validate(value)) return null;
  return `${topic}: ${JSON.stringify(channel.validate.errors?.slice(0, 3))} in ${JSON.stringify(value).slice(0, 300)}`;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * Subscribes to `<base>/#` on the broker; the returned teardown (register it so that it runs after
 * the controller stopped) waits for the last messages and throws if any broke the contract.
 */
export async function watchContract(url: string, base: string): Promise<{ seen: () => number; finish: () => Promise<void> }> {
  const client = await mqtt.connectAsync(url, {
    clientId: `atm247-contract-${randomBytes(4).toString('hex')}`,
    clean: true,
    reconnectPeriod: 100,
  });
  const violations: string[] = [];
  let count = 0;
  const marker = `${base}/_contract_watch/${randomBytes(4).toString('hex')}`;
  let markerSeen: () => void = () => undefined;
  const markerArrived = new Promise<void>((resolve) => (markerSeen = resolve));
  client.on('message', (topic, payload) => {
    if (topic === marker) return markerSeen();
    // Another watcher's marker (two lockers on one locker id: a restart, a restore): not the locker's.
    if (topic.startsWith(`${base}/_contract_watch/`)) return;
    // An empty retained payload is a test clearing the broker's store, not the locker publishing.
    if (payload.length === 0) return;
    count += 1;
    const wrong = contractViolation(topic.slice(base.length + 1), payload);
    if (wrong) violations.push(wrong);
  });
  await client.subscribeAsync(`${base}/#`, { qos: 1 });
  return {
    seen: () => count,
    finish: async () => {
      // The locker's last messages (the goodbye `offline`) reached the broker before it stopped; a
      // marker sent now arrives after them, so once it is here nothing of the locker is in flight.
      await client.publishAsync(marker, 'end', { qos: 1 }).catch(() => undefined);
      await Promise.race([markerArrived, new Promise((r) => setTimeout(r, 2_000))]);
      await client.endAsync(true);
      if (violations.length > 0) {
        throw new Error(`${violations.length} MQTT message(s) broke docs/asyncapi.json:\n${violations.slice(0, 10).join('\n')}`);
      }
    },
  };
}

export type { Teardown };
