/**
 * The AsyncAPI 3 document of the MQTT contract, generated from the domain's catalogue
 * (src/domain/events.ts) and the topic rules (topics.ts): every event, every retained topic, the
 * last will, and the one topic the locker reads (`replay`, ADR 0023). `npm run contracts` writes
 * it to docs/asyncapi.json; a test keeps that file equal to what this builds and parses it with
 * @asyncapi/parser.
 */
import type { TSchema } from 'typebox';
import { EVENT_PAYLOADS, EVENT_TYPES, RECEIVED_TOPICS, RETAINED_TOPICS, eventEnvelopeSchema, type EventType } from '../domain/events.js';
import { REPLAY_SPEC, eventTopic, topicSpec, trayTopic, type TopicSpec } from './topics.js';

export interface AsyncApiOptions {
  /** The controller's version (`info.version`). */
  version: string;
  /** `mqtt.baseTopic` (default `atm247`). */
  baseTopic?: string;
}

type Json = Record<string, unknown>;

/** A TypeBox schema as plain JSON Schema (TypeBox marks its schemas with symbols). */
export function plainSchema(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

const channelId = (topic: string): string => topic.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_');
const messageId = (topic: string): string => channelId(topic);

/** The AsyncAPI 3.1 document. */
export function asyncApiDocument(opts: AsyncApiOptions): Json {
  const base = opts.baseTopic ?? 'atm247';
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {};
  const lockerParam = { lockerId: { description: 'locker.id of the configuration (one topic level)' } };

  const add = (
    topic: string,
    schema: Json,
    summary: string,
    opts2: { params?: Json; contentType?: string; example: string; receives?: TopicSpec },
  ) => {
    const spec = opts2.receives ?? topicSpec(opts2.example);
    const id = channelId(topic);
    const message = messageId(topic);
    messages[message] = {
      name: message,
      title: topic,
      summary,
      contentType: opts2.contentType ?? 'application/json',
      payload: schema,
    };
    channels[id] = {
      address: `${base}/{lockerId}/${topic}`,
      description: summary,
      parameters: { ...lockerParam, ...(opts2.params ?? {}) },
      messages: { [message]: { $ref: `#/components/messages/${message}` } },
    };
    operations[`${opts2.receives ? 'receive' : 'publish'}_${id}`] = {
      action: opts2.receives ? 'receive' : 'send',
      summary: opts2.receives
        ? `The locker reads ${topic} (the fleet service publishes it).`
        : `The locker publishes ${topic}${spec.retain ? ' (retained)' : ''}.`,
      channel: { $ref: `#/channels/${id}` },
      messages: [{ $ref: `#/channels/${id}/messages/${message}` }],
      bindings: { mqtt: { qos: spec.qos, retain: spec.retain, bindingVersion: '0.2.0' } },
    };
  };

  const describe = (schema: TSchema): string => (schema as TSchema & { description?: string }).description ?? '';
  for (const [topic, schema] of Object.entries(RETAINED_TOPICS)) {
    const isTray = topic === 'trays/{tray}';
    add(topic, plainSchema(schema), describe(schema), {
      example: isTray ? trayTopic(1) : topic,
      contentType: topic === 'availability' ? 'text/plain' : undefined,
      params: isTray ? { tray: { description: 'tray number (1–90 on the standard cabinet)' } } : undefined,
    });
  }
  for (const type of EVENT_TYPES as EventType[]) {
    add(eventTopic(type), plainSchema(eventEnvelopeSchema(type)), describe(EVENT_PAYLOADS[type]), { example: eventTopic(type) });
  }
  add('replay', plainSchema(RECEIVED_TOPICS.replay), describe(RECEIVED_TOPICS.replay), { example: 'replay', receives: REPLAY_SPEC });

  return {
    asyncapi: '3.1.0',
    info: {
      title: 'ATM 24/7 locker controller: MQTT contract',
      version: opts.version,
      description:
        'What a locker publishes under `<baseTopic>/<lockerId>/`, and the one topic it reads there (`replay`, the fleet ' +
        "service's requests to publish its events again). Everything is QoS 1; state topics are retained and re-published " +
        'after every reconnect; events are delivered at least once (dedupe by `id`). docs/mqtt.md explains each topic.',
    },
    defaultContentType: 'application/json',
    servers: {
      cabinet: {
        host: 'localhost:1883',
        protocol: 'mqtt',
        protocolVersion: '3.1.1',
        description: "The broker the locker connects to (mqtt.url): the cabinet's own, or the district's.",
        bindings: {
          mqtt: {
            clientId: 'atm247-<lockerId>',
            cleanSession: false,
            keepAlive: 30,
            lastWill: { topic: `${base}/<lockerId>/availability`, qos: 1, message: 'offline', retain: true },
            bindingVersion: '0.2.0',
          },
        },
      },
    },
    channels,
    operations,
    components: { messages },
  };
}
