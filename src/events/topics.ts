/**
 * The MQTT topics and their rules (relative to `<baseTopic>/<lockerId>`). The payloads are the
 * domain's catalogue (src/domain/events.ts): nothing is published that is not listed there, and
 * the one topic the locker reads, `replay` (ADR 0023), is there too; the AsyncAPI document
 * (docs/asyncapi.json) and docs/mqtt.md describe the same contract.
 */
import { AppError } from '../domain/errors.js';
import {
  isEventType,
  type ReceivedTopic,
  type AuditHeadPayload,
  type Availability,
  type EventEnvelope,
  type EventType,
  type OccupancyPayload,
  type RoundNextPayload,
  type TrayPayload,
} from '../domain/events.js';

export {
  EVENT_TYPES,
  isEventType,
  ReplayRequestSchema,
  type AnyEventEnvelope,
  type AuditHeadPayload,
  type Availability,
  type EventDataMap,
  type EventEnvelope,
  type EventPayload,
  type EventType,
  type OccupancyPayload,
  type OccupancyTray,
  type PublishedTrayState,
  type ReceivedTopic,
  type ReplayRequest,
  type RoundNextPayload,
  type TrayPayload,
} from '../domain/events.js';
export type { TrayOpenReason } from '../domain/tray.js';

// ---------------------------------------------------------------------------------------------
// The map
// ---------------------------------------------------------------------------------------------

export type TrayTopic = `trays/${number}`;
export type EventTopic<T extends EventType = EventType> = `events/${T}`;

export type TopicMap = {
  availability: Availability;
  occupancy: OccupancyPayload;
  'rounds/next': RoundNextPayload;
  'audit/head': AuditHeadPayload;
} & { [K in TrayTopic]: TrayPayload } & { [K in EventType as EventTopic<K>]: EventEnvelope<K> };

export type Topic = keyof TopicMap;
/** Topics whose last payload the broker keeps for new subscribers. */
export type RetainedTopic = 'availability' | 'occupancy' | 'rounds/next' | 'audit/head' | TrayTopic;

export interface TopicSpec {
  retain: boolean;
  qos: 0 | 1;
}

const RETAINED: TopicSpec = { retain: true, qos: 1 };
const EVENT: TopicSpec = { retain: false, qos: 1 };
const TRAY_TOPIC = /^trays\/[1-9][0-9]{0,3}$/;

export function trayTopic(tray: number): TrayTopic {
  return `trays/${tray}`;
}

export function eventTopic<T extends EventType>(type: T): EventTopic<T> {
  return `events/${type}`;
}

/**
 * The contract's rules for a topic (relative to the locker's base). Throws for a wildcard or a
 * topic the contract does not list: publishing there would be a bug, not a runtime condition.
 */
export function topicSpec(topic: string): TopicSpec {
  if (topic.includes('+') || topic.includes('#')) {
    throw new AppError('INTERNAL', `MQTT publish refused: wildcard in topic "${topic}"`, { topic });
  }
  if (topic === 'availability' || topic === 'occupancy' || topic === 'rounds/next' || topic === 'audit/head') return RETAINED;
  if (TRAY_TOPIC.test(topic)) return RETAINED;
  if (topic.startsWith('events/') && isEventType(topic.slice('events/'.length))) return EVENT;
  throw new AppError('INTERNAL', `MQTT publish refused: topic "${topic}" is not in the contract`, { topic });
}

/**
 * The topic a locker reads replay requests on (relative to its base): the fleet publishes there,
 * the locker never does (`topicSpec` refuses it). QoS 1, not retained (ADR 0023).
 */
export const REPLAY_TOPIC = 'replay' satisfies ReceivedTopic;
export const REPLAY_SPEC: TopicSpec = { retain: false, qos: 1 };

/** The full replay topic of one locker, for the fleet: `<baseTopic>/<lockerId>/replay`. */
export function replayTopic(baseTopic: string, lockerId: string): string {
  return `${lockerBase(baseTopic, lockerId)}/${REPLAY_TOPIC}`;
}

/**
 * `<baseTopic>/<lockerId>`, checked: no wildcard, no empty level; the locker id is one level.
 */
export function lockerBase(baseTopic: string, lockerId: string): string {
  const bad = (part: string, slashAllowed: boolean) =>
    !part || /[+#]/.test(part) || part.includes('\u0000') || (!slashAllowed && part.includes('/')) || part.split('/').some((l) => !l);
  if (bad(baseTopic, true)) {
    throw new AppError('CONFIG_INVALID', `mqtt.baseTopic "${baseTopic}" cannot be used as an MQTT topic prefix`);
  }
  if (bad(lockerId, false)) {
    throw new AppError('CONFIG_INVALID', `locker.id "${lockerId}" cannot be used as an MQTT topic level`);
  }
  return `${baseTopic}/${lockerId}`;
}
