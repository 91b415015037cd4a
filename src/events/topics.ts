/**
 * The MQTT contract, in one place: every topic the controller publishes (relative to
 * `<baseTopic>/<lockerId>`), its payload type, and whether it is retained. Nothing is published
 * that is not listed here; docs/mqtt.md describes the same contract for subscribers.
 *
 * To add an event: add its type and payload to `EventDataMap` and its name to `EVENT_TYPES`.
 */
import type { TraySize } from '../domain/cabinet.js';
import type { BusFaultCause, DoorState } from '../services/ports.js';
import { AppError } from '../domain/errors.js';

// ---------------------------------------------------------------------------------------------
// Events: `events/<type>`, QoS 1, not retained. Subscribers dedupe by `id`.
// ---------------------------------------------------------------------------------------------

export type { TrayOpenReason } from '../domain/tray.js';
import type { TrayOpenReason } from '../domain/tray.js';

/** Payload (`data`) of every event type. The event type union is derived from its keys. */
export interface EventDataMap {
  /** A lock release recorded; the pulse follows the commit (`tray.open_failed` if it fails). */
  'tray.opened': { tray: number; reason: TrayOpenReason };
  /** The pulse for a recorded release failed; `sent`: the command may have reached the board. */
  'tray.open_failed': { tray: number; reason: TrayOpenReason; code: string; sent: boolean };
  /**
   * The door was not watched for the whole time the lock was released: whether the tray holds
   * paper is unknown. The tray is held until an officer looks (ADR 0012).
   */
  'tray.to_check': { tray: number; dossierCode: string; kind: 'deposit' | 'load_result' | 'pickup'; gap: string };
  /** An officer looked into a tray to check: what was found, and where the dossier went. */
  'tray.checked': { tray: number; dossierCode: string; outcome: 'found' | 'empty'; status: string; by: string };
  'tray.door_opened': { tray: number };
  'tray.door_closed': { tray: number };
  /** `reason`: an admin's maintenance note, or the board fault that took the tray out. */
  'tray.out_of_service': { tray: number; reason: string; cause: 'maintenance' | 'board_fault' };
  'tray.back_in_service': { tray: number; cause: 'maintenance' | 'board_fault' };
  'board.fault': { board: string; cause: BusFaultCause; message: string; trays: number[] };
  'board.recovered': { board: string; trays: number[] };
  /** A door opened that the controller had not unlocked (forced, or a latch that failed). */
  'alarm.door_open_unexpected': { tray: number };
  /** A door left open longer than allowed. */
  'alarm.door_held_open': { tray: number; openSince: string };
  'locker.started': { version: string; trays: number };
  /** A citizen proved their phone; the tray for the dossier is open. No personal data. */
  'deposit.opened': { depositId: string; dossierCode: string; tray: number; procedureCode: string };
  /** The door opened and closed: the dossier is in the tray. */
  'deposit.completed': { depositId: string; dossierCode: string; tray: number; procedureCode: string };
  /** The door never opened (or the lock failed): the tray is free again. */
  'deposit.cancelled': { depositId: string; tray: number | null; reason: 'door_never_opened' | 'lock_failed' | 'empty_on_check' };
  /** A citizen proved their phone at pickup; these trays were opened for them. */
  'pickup.opened': { trays: number[]; dossierCodes: string[] };
  /** A result tray's door opened and closed: the result was taken. */
  'pickup.completed': { dossierCode: string; tray: number; procedureCode: string };
  /** A round's manifest is drawn, its lead time before the round. */
  'round.due': { roundId: string; scheduledAt: string; collect: number; takeBack: number; check: number; trays: number[] };
  'round.started': { roundId: string; by: string; oneAtATime: boolean };
  'round.completed': { roundId: string; by: string; counts: Record<string, number> };
  'item.collected': { roundId: string; dossierCode: string; tray: number; by: string };
  'item.missing': { roundId: string; dossierCode: string; tray: number; by: string; kind: 'collect' | 'take_back' };
  'result.loaded': { resultId: string; dossierCode: string; tray: number; procedureCode: string; pickupDeadline: string };
  'result.reminded': { resultId: string; dossierCode: string; tray: number; pickupDeadline: string };
  'result.expired': { resultId: string; dossierCode: string; tray: number };
  'result.returned_to_counter': { resultId: string; dossierCode: string; tray: number; by: string };
}

export type EventType = keyof EventDataMap;

/** The same list at run time (the relay and `enqueueEvent` check against it). */
export const EVENT_TYPES = [
  'tray.opened',
  'tray.open_failed',
  'tray.to_check',
  'tray.checked',
  'tray.door_opened',
  'tray.door_closed',
  'tray.out_of_service',
  'tray.back_in_service',
  'board.fault',
  'board.recovered',
  'alarm.door_open_unexpected',
  'alarm.door_held_open',
  'locker.started',
  'deposit.opened',
  'deposit.completed',
  'deposit.cancelled',
  'pickup.opened',
  'pickup.completed',
  'round.due',
  'round.started',
  'round.completed',
  'item.collected',
  'item.missing',
  'result.loaded',
  'result.reminded',
  'result.expired',
  'result.returned_to_counter',
] as const satisfies readonly EventType[];

// Compile-time check that EVENT_TYPES lists every key of EventDataMap.
type MissingEventTypes = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const everyEventTypeListed: [MissingEventTypes] extends [never] ? true : MissingEventTypes = true;
void everyEventTypeListed;

const eventTypeSet: ReadonlySet<string> = new Set(EVENT_TYPES);
export function isEventType(type: string): type is EventType {
  return eventTypeSet.has(type);
}

/** What is published on `events/<type>` and stored as the outbox row's payload. */
export interface EventEnvelope<T extends EventType = EventType> {
  /** A UUID, unique per event: the same event published twice carries the same id. */
  id: string;
  type: T;
  /** ISO 8601 time at which the event happened. */
  at: string;
  lockerId: string;
  data: EventDataMap[T];
}

/** Any one event's envelope (a union over the event types, unlike `EventEnvelope`). */
export type AnyEventEnvelope = { [K in EventType]: EventEnvelope<K> }[EventType];

// ---------------------------------------------------------------------------------------------
// Retained state
// ---------------------------------------------------------------------------------------------

export type Availability = 'online' | 'offline';

/** Tray states as published: the tray's content, or out_of_service when disabled or faulty. */
export type PublishedTrayState = 'free' | 'reserved' | 'holding_deposit' | 'holding_result' | 'to_check' | 'out_of_service';

export interface OccupancyTray {
  number: number;
  state: PublishedTrayState;
  door: DoorState;
}

export interface OccupancyPayload {
  at: string;
  counts: Record<PublishedTrayState, number>;
  trays: OccupancyTray[];
}

export interface TrayPayload {
  number: number;
  cabinet: string;
  size: TraySize;
  state: PublishedTrayState;
  door: DoorState;
  at: string;
}

/** The next collection round. Loosely typed until the rounds service settles its manifest. */
export interface RoundNextPayload {
  at?: string;
  roundId?: string | number | null;
  scheduledAt?: string | null;
  deposits?: number;
  results?: number;
  [key: string]: unknown;
}

/**
 * The head of the locker's audit hash chain (docs/adr/0013-audit-hash-chain.md), re-published every
 * `mqtt.auditHeadSec`: a database rewritten since no longer holds this row with this hash.
 */
export interface AuditHeadPayload {
  /** When it was read and published. */
  at: string;
  /** The head's position in the chain (0: no row yet). */
  seq: number;
  /** Its row id in `audit_log`, null with no row. */
  id: number | null;
  /** Its hash (SHA-256, hex); 64 zeros with no row. */
  hash: string;
}

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
