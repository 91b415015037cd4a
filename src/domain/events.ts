/**
 * The MQTT contract, written once: every topic the locker publishes (relative to
 * `<baseTopic>/<lockerId>`), the one it reads (`replay`), and their payloads, as JSON schemas
 * (TypeBox) from which the TypeScript types are derived. The outbox port is typed by this
 * catalogue, so a payload that leaves the contract does not compile; the AsyncAPI document
 * (docs/asyncapi.json, `npm run contracts`) is generated from it, and docs/mqtt.md is checked
 * against it by a test.
 *
 * To add an event: add its payload schema to `EVENT_PAYLOADS` with a description. Nothing else.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { RATED_SERVICES, RATING_REASONS, RATINGS } from './ratings.js';

export const Int = (description?: string) => Type.Integer(description ? { description } : {});
export const Str = (description?: string) => Type.String(description ? { description } : {});
export const Time = (description: string) => Type.String({ format: 'date-time', description });
/** A closed object: every field listed, none other allowed. */
export const Obj = <P extends Record<string, TSchema>>(properties: P, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
export const OneOf = <const V extends string[]>(values: readonly [...V], description?: string) =>
  Type.Enum<V>(values, description ? { description } : {});

// ---------------------------------------------------------------------------------------------
// Shared vocabularies
// ---------------------------------------------------------------------------------------------

export const TRAY_OPEN_REASONS = ['deposit', 'pickup', 'load_result', 'round', 'check', 'maintenance'] as const;
export const BUS_FAULT_CAUSES = ['timeout', 'crc', 'exception', 'port_closed', 'io'] as const;
export const TRAY_CONTENTS = ['free', 'reserved', 'holding_deposit', 'holding_result', 'to_check'] as const;
export const PUBLISHED_TRAY_STATES = [...TRAY_CONTENTS, 'out_of_service'] as const;
export const DOOR_STATES = ['open', 'closed', 'unknown'] as const;
export const TRAY_SIZES = ['S', 'M', 'L'] as const;
export const ROUND_STATUSES = ['upcoming', 'due', 'running', 'completed', 'skipped'] as const;
export const ROUND_ITEM_STATUSES = ['pending', 'opened', 'collected', 'returned', 'missing', 'found', 'empty'] as const;

const TrayNo = Int('tray number (1–90 on the standard cabinet)');
const DossierCodeField = Str('the dossier code as stored (no personal data)');
const ProcedureCodeField = Str('procedure code of the catalogue (docs/procedures.md)');
/** Who did it: `citizen`, `system`, or an officer's account `<role>:<id>:<name>` (never a citizen's data). */
const Actor = Str('who: "citizen", "system", or the officer\'s account "<role>:<account id>:<name>" (never a citizen)');
const TrayOpenReasonField = OneOf(TRAY_OPEN_REASONS, 'why the lock was released');
const Door = OneOf(DOOR_STATES, 'the door switch as last read (debounced); unknown while its board does not answer');
const TrayState = OneOf(PUBLISHED_TRAY_STATES, "the tray's content, or out_of_service when disabled or its board is faulty");
const SizeCounts = Obj({ S: Int(), M: Int(), L: Int() }, 'free trays per size');

// ---------------------------------------------------------------------------------------------
// Events: `events/<type>`, QoS 1, not retained; subscribers dedupe by the envelope's `id`.
// ---------------------------------------------------------------------------------------------

export const EVENT_PAYLOADS = {
  'tray.opened': Obj(
    {
      tray: TrayNo,
      reason: TrayOpenReasonField,
      by: Actor,
      dossierCode: Type.Optional(DossierCodeField),
      roundId: Type.Optional(Str('the round, for a release on a round')),
    },
    "A lock release recorded; the pulse follows the commit (tray.open_failed if it fails). An admin's note stays in the audit log.",
  ),
  'tray.open_failed': Obj(
    {
      tray: TrayNo,
      reason: TrayOpenReasonField,
      code: Str('the error code of the failed pulse (BOARD_OFFLINE, BUS_TIMEOUT, …)'),
      sent: Type.Boolean({ description: 'true when the command may have reached the board' }),
    },
    'The pulse for a recorded release failed.',
  ),
  'tray.to_check': Obj(
    {
      tray: TrayNo,
      dossierCode: DossierCodeField,
      kind: OneOf(['deposit', 'load_result', 'pickup'] as const),
      gap: Str('what was not watched, in words'),
    },
    'The door was not watched for the whole release: the tray is held until an officer looks (ADR 0012).',
  ),
  'tray.checked': Obj(
    {
      tray: TrayNo,
      dossierCode: DossierCodeField,
      outcome: OneOf(['found', 'empty'] as const),
      status: Str('the dossier status it moved to'),
      by: Actor,
    },
    'An officer looked into a tray to check: what was found, and where the dossier went.',
  ),
  'tray.door_opened': Obj({ tray: TrayNo }, 'A door switch read open (debounced).'),
  'tray.door_closed': Obj({ tray: TrayNo }, 'A door switch read closed (debounced).'),
  'tray.out_of_service': Obj(
    {
      tray: TrayNo,
      reason: Str("an admin's maintenance note, or the board fault that took the tray out"),
      cause: OneOf(['maintenance', 'board_fault'] as const),
      by: Type.Optional(Actor),
    },
    'A tray taken out of service.',
  ),
  'tray.back_in_service': Obj(
    { tray: TrayNo, cause: OneOf(['maintenance', 'board_fault'] as const), by: Type.Optional(Actor) },
    'A tray back in service.',
  ),
  'board.fault': Obj(
    {
      board: Str('board id of the cabinet map'),
      cause: OneOf(BUS_FAULT_CAUSES),
      message: Str('what the driver saw, in words'),
      trays: Type.Array(TrayNo),
    },
    'A lock board stopped answering; its trays are out of service until it answers again.',
  ),
  'board.recovered': Obj({ board: Str('board id of the cabinet map'), trays: Type.Array(TrayNo) }, 'A lock board answers again.'),
  'alarm.door_open_unexpected': Obj(
    { tray: TrayNo, content: OneOf(TRAY_CONTENTS, 'what the records say the tray holds') },
    'A door opened that the controller had not unlocked (forced, or a latch that failed).',
  ),
  'alarm.door_held_open': Obj({ tray: TrayNo, openSince: Time('when the door was seen open') }, 'A door left open longer than allowed.'),
  'alarm.pickup_identity_held': Obj(
    {
      resultId: Str(),
      dossierCode: DossierCodeField,
      tray: TrayNo,
      procedureCode: ProcedureCodeField,
      failures: Int('wrong ID numbers given for it, across visits'),
    },
    "An ID-card result had too many wrong holder's ID numbers at pickup: the kiosk no longer opens it; an officer hands it out at the counter (ADR 0028). No number, no phone.",
  ),
  'locker.started': Obj(
    {
      version: Str('controller version'),
      trays: Int('trays in the cabinet map'),
      boardsOffline: Type.Array(Str(), { description: 'boards that did not answer the start-up scan' }),
    },
    'The controller started and read every door once.',
  ),
  'deposit.opened': Obj(
    { depositId: Str(), dossierCode: DossierCodeField, tray: TrayNo, procedureCode: ProcedureCodeField },
    'A citizen proved their phone; the tray for the dossier is open. No personal data.',
  ),
  'deposit.completed': Obj(
    { depositId: Str(), dossierCode: DossierCodeField, tray: TrayNo, procedureCode: ProcedureCodeField },
    'The door opened and closed: the dossier is in the tray.',
  ),
  'deposit.cancelled': Obj(
    {
      depositId: Str(),
      tray: Type.Union([TrayNo, Type.Null()]),
      reason: OneOf(['door_never_opened', 'lock_failed', 'empty_on_check', 'payment_timeout', 'payment_cancelled'] as const),
    },
    'The door never opened, the lock failed, an officer found the tray empty, or the fee was not paid in time or the citizen gave up: the tray is free again.',
  ),
  'payment.requested': Obj(
    {
      paymentId: Str(),
      depositId: Str(),
      dossierCode: DossierCodeField,
      procedureCode: ProcedureCodeField,
      amount: Type.Integer({ minimum: 1, description: 'VND' }),
      mode: OneOf(['before', 'later'] as const, 'before: paid by transfer before the tray opens; later: at the counter'),
      payBy: Type.Union([Time('the transfer must arrive before this (mode before)'), Type.Null()]),
    },
    'A fee-charging deposit: its fee was asked for. No personal data.',
  ),
  'payment.received': Obj(
    {
      paymentId: Str(),
      depositId: Str(),
      dossierCode: DossierCodeField,
      amount: Type.Integer({ minimum: 1 }),
      via: OneOf(['transfer', 'counter'] as const),
      receiptId: Str('the fee receipt issued for it'),
    },
    'The fee was paid (a matching transfer, or an officer at the counter) and its receipt issued.',
  ),
  'payment.expired': Obj(
    { paymentId: Str(), depositId: Str(), reason: OneOf(['timeout', 'cancelled'] as const) },
    'No transfer came in time, or the citizen gave up: nothing was charged, the tray held for it is free.',
  ),
  'payment.transfer_flagged': Obj(
    {
      transferId: Str(),
      paymentId: Type.Union([Str(), Type.Null()]),
      outcome: OneOf(['wrong_amount', 'duplicate', 'late', 'unmatched', 'refund'] as const),
      amount: Type.Integer({ minimum: 1 }),
      refundDue: Type.Integer({ minimum: 0 }),
    },
    'A transfer that paid nothing (wrong amount, a second payment, too late, no reference of ours) or whose deposit could not be made: recorded, its amount due back.',
  ),
  'receipt.issued': Obj(
    {
      receiptId: Str(),
      kind: OneOf(['fee', 'deposit'] as const),
      dossierCode: DossierCodeField,
      series: Type.Union([Str(), Type.Null()]),
      number: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
      amount: Type.Integer({ minimum: 0 }),
    },
    'A signed receipt was issued: a fee receipt (series and number) or a deposit receipt (none).',
  ),
  'pickup.opened': Obj(
    { trays: Type.Array(TrayNo), dossierCodes: Type.Array(DossierCodeField) },
    'A citizen proved their phone at pickup; these trays were opened for them.',
  ),
  'pickup.completed': Obj(
    { dossierCode: DossierCodeField, tray: TrayNo, procedureCode: ProcedureCodeField },
    "A result tray's door opened and closed: the result was taken.",
  ),
  'round.due': Obj(
    {
      roundId: Str(),
      scheduledAt: Time('when the round is planned'),
      collect: Int('deposits to collect'),
      takeBack: Int('expired results to take back'),
      check: Int('trays to check'),
      trays: Type.Array(TrayNo),
    },
    "A round's manifest is drawn, its lead time before the round.",
  ),
  'round.started': Obj({ roundId: Str(), by: Actor, oneAtATime: Type.Boolean() }, 'An officer started the round.'),
  'round.completed': Obj(
    { roundId: Str(), by: Actor, counts: Type.Record(Type.String(), Type.Integer(), { description: 'items per outcome' }) },
    'An officer completed the round.',
  ),
  'item.collected': Obj({ roundId: Str(), dossierCode: DossierCodeField, tray: TrayNo, by: Actor }, 'A deposit taken out on a round.'),
  'item.missing': Obj(
    { roundId: Str(), dossierCode: DossierCodeField, tray: TrayNo, by: Actor, kind: OneOf(['collect', 'take_back'] as const) },
    'An officer did not find the dossier the records place in the tray.',
  ),
  'result.loaded': Obj(
    {
      resultId: Str(),
      dossierCode: DossierCodeField,
      tray: TrayNo,
      procedureCode: ProcedureCodeField,
      pickupDeadline: Time('the last moment the citizen can collect it'),
    },
    'A result is in its tray; the citizen is texted.',
  ),
  'result.load_cancelled': Obj(
    {
      resultId: Str(),
      dossierCode: DossierCodeField,
      tray: Type.Union([TrayNo, Type.Null()]),
      reason: OneOf(['door_never_opened', 'lock_failed'] as const),
    },
    "A result's loading abandoned: its tray's door never opened (watched throughout), or the lock certainly did not release. The tray is free again; nobody is texted.",
  ),
  'result.reminded': Obj(
    { resultId: Str(), dossierCode: DossierCodeField, tray: TrayNo, pickupDeadline: Time('the pickup deadline') },
    'The citizen was reminded before the deadline.',
  ),
  'result.expired': Obj(
    { resultId: Str(), dossierCode: DossierCodeField, tray: TrayNo },
    'The pickup window passed; the result waits for a round.',
  ),
  'result.returned_to_counter': Obj(
    { resultId: Str(), dossierCode: DossierCodeField, tray: TrayNo, by: Actor },
    'An expired result taken back to the counter on a round.',
  ),
  'rating.given': Obj(
    {
      service: OneOf(RATED_SERVICES, 'what the citizen had just done at the machine'),
      procedureCode: Type.Optional(
        Str("procedure code of the catalogue: the deposit's, or the results' when every result taken was of one procedure"),
      ),
      rating: OneOf(RATINGS, 'the face touched'),
      reasons: Type.Array(OneOf(RATING_REASONS), {
        description: 'why not satisfied (neutral or dissatisfied only; may be empty), in the catalogue order',
      }),
      hour: Time('the hour it was given in, truncated: the only time kept with the rating'),
    },
    'A citizen rated the service after a deposit or a pickup. No personal data, and nothing that names the dossier, the deposit or the result.',
  ),
} as const;

export type EventType = keyof typeof EVENT_PAYLOADS;
export type EventPayload<K extends EventType> = Static<(typeof EVENT_PAYLOADS)[K]>;
export type EventDataMap = { [K in EventType]: EventPayload<K> };

/** Every event type, in catalogue order. */
export const EVENT_TYPES = Object.keys(EVENT_PAYLOADS) as EventType[];

const eventTypeSet: ReadonlySet<string> = new Set(EVENT_TYPES);
export function isEventType(type: string): type is EventType {
  return eventTypeSet.has(type);
}

/** What is published on `events/<type>` (and stored as the outbox row's payload). */
export function eventEnvelopeSchema<K extends EventType>(type: K) {
  return Obj(
    {
      id: Type.String({ format: 'uuid', description: 'unique per event; the same event published twice carries the same id' }),
      type: Type.Literal(type),
      at: Time('when it happened'),
      lockerId: Str('the locker that published it'),
      data: EVENT_PAYLOADS[type],
    },
    (EVENT_PAYLOADS[type] as TSchema & { description?: string }).description,
  );
}

export interface EventEnvelope<K extends EventType = EventType> {
  id: string;
  type: K;
  at: string;
  lockerId: string;
  data: EventPayload<K>;
}

/** Any one event's envelope (a union over the event types). */
export type AnyEventEnvelope = { [K in EventType]: EventEnvelope<K> }[EventType];

// ---------------------------------------------------------------------------------------------
// Retained state: QoS 1, retained; a new subscriber gets the latest at once.
// ---------------------------------------------------------------------------------------------

export const AvailabilitySchema = Type.Union([Type.Literal('online'), Type.Literal('offline')], {
  description:
    'Plain text, not JSON. "online" when the controller connects; "offline" when it stops, or as its last will when it vanishes.',
});

export const OccupancyTraySchema = Obj({ number: TrayNo, state: TrayState, door: Door });

export const OccupancySchema = Obj(
  {
    at: Time('when the state was read'),
    counts: Obj(
      {
        free: Int(),
        reserved: Int(),
        holding_deposit: Int(),
        holding_result: Int(),
        to_check: Int(),
        out_of_service: Int(),
      },
      'trays per state',
    ),
    trays: Type.Array(OccupancyTraySchema),
  },
  'Every tray and the counts per state, re-published whenever a tray changes.',
);

export const TrayStateSchema = Obj(
  {
    number: TrayNo,
    cabinet: Str('cabinet id of the map'),
    size: OneOf(TRAY_SIZES),
    state: TrayState,
    door: Door,
    at: Time('when the state was read'),
  },
  'One tray, re-published when it changes.',
);

export const ManifestItemSchema = Obj({
  tray: TrayNo,
  dossierCode: Str("the dossier code as displayed: this machine's (K7M3-9P2X4) or the online system's number, unchanged"),
  procedureCode: ProcedureCodeField,
  status: OneOf(ROUND_ITEM_STATUSES),
  online: Type.Optional(
    Type.Literal(true, { description: "the code is the city's online system's number: a dossier filed online (absent otherwise)" }),
  ),
});

export const ManifestSchema = Obj(
  {
    round: Obj({
      id: Str(),
      scheduledAt: Time('when the round is planned'),
      status: OneOf(ROUND_STATUSES),
      drawnAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
    collect: Type.Array(
      Obj({
        ...ManifestItemSchema.properties,
        depositedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
        fee: Type.Optional(
          Obj(
            { amount: Int('VND'), paid: Type.Boolean({ description: 'false: to be paid at the counter' }) },
            "a fee-charging deposit's fee (absent when the procedure charges none)",
          ),
        ),
      }),
      { description: 'deposits to take out' },
    ),
    takeBack: Type.Array(
      Obj({ ...ManifestItemSchema.properties, expiredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]) }),
      { description: 'expired results to take back to the counter' },
    ),
    check: Type.Array(ManifestItemSchema, {
      description: 'trays whose door was not watched throughout: look, and answer found or empty (ADR 0012)',
    }),
    freeTrays: SizeCounts,
  },
  'The next (or running) collection round and what it will do.',
);

export const RoundNextSchema = Obj(
  { at: Time('when it was published'), ...ManifestSchema.properties },
  'The next collection round: published when its manifest changes.',
);

export const AuditHeadSchema = Obj(
  {
    at: Time('when it was read and published'),
    seq: Int("the head's position in the chain (0: no row yet)"),
    id: Type.Union([Type.Integer(), Type.Null()], { description: 'its row id in audit_log, null with no row' }),
    hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, hex; 64 zeros with no row' }),
  },
  "The head of the locker's audit hash chain (ADR 0013), re-published every mqtt.auditHeadSec.",
);

export type Availability = Static<typeof AvailabilitySchema>;
export type PublishedTrayState = (typeof PUBLISHED_TRAY_STATES)[number];
export type OccupancyTray = Static<typeof OccupancyTraySchema>;
export type OccupancyPayload = Static<typeof OccupancySchema>;
export type TrayPayload = Static<typeof TrayStateSchema>;
export type ManifestItem = Static<typeof ManifestItemSchema>;
export type Manifest = Static<typeof ManifestSchema>;
export type RoundNextPayload = Static<typeof RoundNextSchema>;
export type AuditHeadPayload = Static<typeof AuditHeadSchema>;

// ---------------------------------------------------------------------------------------------
// What the locker reads: `replay`, QoS 1, not retained (ADR 0023). The fleet service publishes it.
// ---------------------------------------------------------------------------------------------

export const ReplayRequestSchema = Obj(
  {
    since: Time('publish again the events recorded at or after this moment (the locker reaches back 24 h at most)'),
    requestId: Type.String({ format: 'uuid', description: "names the request in the fleet's and the locker's logs" }),
  },
  'A fleet instance asks the locker to publish again the events it has already sent since a moment, because another ' +
    'instance crashed holding some of them (ADR 0023). They go out on their own events/<type> topics with their own ids, ' +
    'in the order they were written; subscribers dedupe them by id.',
);

export type ReplayRequest = Static<typeof ReplayRequestSchema>;

/** The topics the locker subscribes to (relative to `<baseTopic>/<lockerId>`), and their payloads. */
export const RECEIVED_TOPICS = {
  replay: ReplayRequestSchema,
} as const;

export type ReceivedTopic = keyof typeof RECEIVED_TOPICS;

/**
 * The retained topics, their schemas and what they are (for the AsyncAPI document). `trays/{n}`
 * stands for `trays/1` … `trays/90`.
 */
export const RETAINED_TOPICS = {
  availability: AvailabilitySchema,
  occupancy: OccupancySchema,
  'trays/{tray}': TrayStateSchema,
  'rounds/next': RoundNextSchema,
  'audit/head': AuditHeadSchema,
} as const;
