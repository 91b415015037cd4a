/**
 * The HTTP contract's shapes, written once as JSON schemas (TypeBox): the routes validate and
 * serialise with them, the OpenAPI document (`/openapi.json`) is generated from them, and the
 * screens import the types derived from them (`import type`, nothing of this reaches the browser).
 * Staff shapes are in api-staff.ts, the simulator's in api-sim.ts.
 */
import Type, { type Static } from 'typebox';
import { DOOR_STATES, Int, Obj, OneOf, PUBLISHED_TRAY_STATES, Str, Time, TRAY_SIZES } from './events.js';
import { RATED_SERVICES, RATING_REASONS, RATING_WINDOW_MS, RATINGS } from './ratings.js';

export { Int, Obj, OneOf, Str, Time };

/** A date-time or null. */
export const MaybeTime = (description?: string) =>
  Type.Union([Type.String({ format: 'date-time' }), Type.Null()], description ? { description } : {});
/** `T` or null. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T, description?: string) =>
  Type.Union([schema, Type.Null()], description ? { description } : {});

/** Every error answer: a stable code (src/domain/errors.ts), a message, and details where useful. */
export const ErrorAnswer = Obj({
  error: Obj({
    code: Str('stable error code'),
    message: Str('what went wrong, in words'),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});
export type ErrorAnswer = Static<typeof ErrorAnswer>;

// ---------------------------------------------------------------------------------------------
// The kiosk (src/http/routes/citizens.ts)
// ---------------------------------------------------------------------------------------------

export const CodeIssued = Obj(
  {
    challengeId: Str('the code request; answer with POST …/:challengeId/verify'),
    expiresAt: Time('when the code stops working'),
    resendAt: Time('from when another code may be asked for'),
    codeLength: Int('how many digits the code has'),
  },
  'A code was sent to the phone (for a pickup: if results wait for this number).',
);
export type CodeIssued = Static<typeof CodeIssued>;

/** Until when a released deposit tray waits for its door to open (then the deposit is cancelled); null once it has opened, or after. */
const OpenBy = MaybeTime(
  "until when the tray's door may open before the tray locks again and the deposit is cancelled; null once it opened",
);

/** A single-use token for one rating of this visit (POST /api/ratings), valid RATING_WINDOW_MS. */
const RATING_TOKEN = { pattern: '^[A-Za-z0-9_-]{43}$' } as const;
const RATING_TOKEN_USE = `rate this visit once with POST /api/ratings, within ${RATING_WINDOW_MS / 60_000} minutes; it names nothing else`;
const RatingTokenField = Type.String({ ...RATING_TOKEN, description: RATING_TOKEN_USE });

/** A fee asked for (issue 13, docs/payments.md). */
export const PAYMENT_STATUSES = ['awaiting', 'paid', 'expired', 'cancelled', 'unpaid', 'paid_at_counter', 'failed'] as const;
export const PaymentView = Obj(
  {
    paymentId: Str(),
    status: OneOf(
      PAYMENT_STATUSES,
      'awaiting: the QR waits for its transfer; unpaid: to be paid at the counter; failed: paid, but the tray could not open (refund due)',
    ),
    amount: Int('VND'),
    reference: Str('the transfer reference the transfer text must carry'),
    mode: OneOf(['before', 'later'] as const, 'before: paid by transfer before the tray opens; later: at the counter'),
    payBy: MaybeTime('until when the transfer may arrive (mode before)'),
    extensionsLeft: Type.Optional(
      Int('times the citizen may still ask for more time at the QR (POST /api/payments/:id/extend); while awaiting'),
    ),
    qr: Type.Optional(
      Obj({
        payload: Str('the VietQR (EMVCo) text: the collecting account, the exact amount, the reference'),
        svg: Str('the QR code as an SVG image'),
      }),
    ),
    account: Type.Optional(Obj({ bankBin: Str(), accountNumber: Str(), accountName: Str() }, 'the collecting account, for typing it in')),
  },
  "A deposit's fee.",
);
export type PaymentView = Static<typeof PaymentView>;

export const DepositOpened = Obj({
  depositId: Str(),
  dossierCode: Str('the code printed for the citizen'),
  tray: Int('the tray now open; with a payment awaiting: the tray reserved, opened once the transfer arrives'),
  openBy: OpenBy,
  payment: Type.Optional(PaymentView),
  ratingToken: Type.Optional(Type.String({ ...RATING_TOKEN, description: `${RATING_TOKEN_USE} (absent if one could not be kept)` })),
});
export type DepositOpened = Static<typeof DepositOpened>;

export const PickupOpened = Obj({
  trays: Type.Array(Type.Integer(), { description: 'trays opened for this citizen (empty: nothing waits)' }),
  dossierCodes: Type.Optional(Type.Array(Type.String())),
  unavailable: Type.Optional(Type.Array(Type.Integer(), { description: 'results waiting in trays that could not be opened now' })),
  results: Type.Optional(
    Type.Array(
      Obj({
        resultId: Str('follow it with GET /api/pickups/results/:resultId'),
        dossierCode: Str('as displayed'),
        tray: Int('its tray, now open'),
      }),
      { description: 'the results in the trays opened, one per tray' },
    ),
  ),
  ratingToken: Type.Optional(Type.String({ ...RATING_TOKEN, description: `${RATING_TOKEN_USE} (only when trays were opened)` })),
  identityNeeded: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        "results (ID cards) that wait for their holder's 12-digit ID number: give it with POST /api/pickups/:challengeId/identity (absent: none)",
    }),
  ),
  identityHeld: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'results held for an officer after too many wrong ID numbers: handed out at the counter (absent: none)',
    }),
  ),
});
export type PickupOpened = Static<typeof PickupOpened>;

/** `POST /api/pickups/:challengeId/identity`: the holder's ID number, typed or from a scan of the old card (ADR 0028). */
export const PickupIdentityRequest = Type.Union(
  [
    Obj({
      idNumber: Type.String({
        minLength: 1,
        maxLength: 32,
        description: "the holder's 12-digit personal ID number as typed (spaces allowed); never stored",
      }),
    }),
    Obj({
      scanId: Type.String({
        pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
        description: 'a scan of the old ID card (POST /api/id-cards/scans), kept 5 minutes',
      }),
    }),
  ],
  { description: "The holder's ID number for the ID cards a verified pickup code left closed: one of idNumber or scanId." },
);
export type PickupIdentityRequest = Static<typeof PickupIdentityRequest>;

/** `POST /api/ratings`: one rating of a visit, with the token its deposit or pickup answer gave. */
export const RatingRequest = Obj(
  {
    token: RatingTokenField,
    rating: OneOf(RATINGS, 'the face touched'),
    reasons: Type.Optional(
      Type.Array(OneOf(RATING_REASONS), {
        uniqueItems: true,
        maxItems: RATING_REASONS.length,
        description: 'why not satisfied: with neutral or dissatisfied only',
      }),
    ),
  },
  "A citizen's rating of the deposit or pickup just done.",
);
export type RatingRequest = Static<typeof RatingRequest>;

export const RatingRecorded = Obj(
  {
    service: OneOf(RATED_SERVICES),
    procedureCode: Type.Optional(Str()),
    rating: OneOf(RATINGS),
    reasons: Type.Array(OneOf(RATING_REASONS)),
    hour: Time('the hour it was given in, truncated: the only time kept'),
  },
  'What was kept of the rating: no token, nothing that names the visit.',
);
export type RatingRecorded = Static<typeof RatingRecorded>;

export const DEPOSIT_STATUSES = ['verified', 'tray_open', 'deposited', 'collected', 'cancelled', 'missing', 'to_check'] as const;
export const RESULT_STATUSES = [
  'loading',
  'loaded',
  'notified',
  'picked_up',
  'expired',
  'returned_to_counter',
  'cancelled',
  'to_check',
] as const;

export const DepositView = Obj({
  depositId: Str(),
  status: OneOf(DEPOSIT_STATUSES),
  tray: Nullable(Type.Integer()),
  dossierCode: Str(),
  procedureCode: Str(),
  createdAt: Time('when the deposit began'),
  depositedAt: MaybeTime('when the door closed on the dossier'),
  openBy: OpenBy,
  payment: Type.Optional(PaymentView),
  receipts: Type.Array(Obj({ receiptId: Str('its page: /r/<receiptId>'), kind: OneOf(['fee', 'deposit'] as const) }), {
    description: 'the fee receipt once paid, the deposit receipt once deposited',
  }),
});
export type DepositView = Static<typeof DepositView>;

/** `GET /api/trays/free`: per dossier size, the free deposit trays it fits (its own size and larger). No personal data. */
export const FreeTrays = Obj(
  {
    deposit: Obj({
      S: Int('free deposit trays a small dossier fits (S, M and L)'),
      M: Int('free deposit trays a medium dossier fits (M and L)'),
      L: Int('free deposit trays a large dossier fits (L)'),
    }),
  },
  'Free deposit trays, as a deposit would find them: in service, closed, answering, not reserved.',
);
export type FreeTrays = Static<typeof FreeTrays>;

/** `GET /api/pickups/results/:resultId`: how a result opened for pickup stands, for the kiosk to say "done". */
export const PickupResultView = Obj(
  {
    resultId: Str(),
    dossierCode: Str('as displayed'),
    status: OneOf(RESULT_STATUSES, 'picked_up once its door opened and closed'),
  },
  'A result released for pickup, by the id the pickup answer gave (no personal data).',
);
export type PickupResultView = Static<typeof PickupResultView>;

export const DossierStatusView = Obj(
  {
    dossierCode: Str(),
    kind: OneOf(['deposit', 'result'] as const),
    procedureCode: Str(),
    status: OneOf([...new Set([...DEPOSIT_STATUSES, ...RESULT_STATUSES])] as string[]),
    createdAt: Time('when the record began'),
    depositedAt: MaybeTime(),
    collectedAt: MaybeTime(),
    loadedAt: MaybeTime(),
    pickupDeadline: MaybeTime(),
    pickedUpAt: MaybeTime(),
    returnedAt: MaybeTime(),
  },
  'Where a dossier stands, with dates and no personal data.',
);
export type DossierStatusView = Static<typeof DossierStatusView>;

// ---------------------------------------------------------------------------------------------
// The admin dashboard (src/http/routes/dashboard.ts, admin.ts, retention.ts)
// ---------------------------------------------------------------------------------------------

const Figures = {
  deposits: Int('deposits completed'),
  loaded: Int('results loaded'),
  pickedUp: Int('results picked up'),
  due: Int('results whose pickup deadline passed'),
  unclaimed: Int('of those, not picked up in time'),
};

export const PeriodFigures = Obj({ ...Figures, onTimeRate: Nullable(Type.Number(), 'picked up in time / due; null when none was due') });
export const DayFigures = Obj({ day: Str('local date, YYYY-MM-DD'), ...Figures, onTime: Int('of the due, picked up in time') });
export const HeldNow = Obj({ depositsWaiting: Int(), resultsWaiting: Int(), resultsOverdue: Int() });

const countsOf = <const V extends readonly string[]>(values: V, description: string) =>
  Obj(Object.fromEntries(values.map((v) => [v, Int()])) as { [K in V[number]]: ReturnType<typeof Int> }, description);

export const SatisfactionFigures = Obj(
  {
    month: Str('local month, YYYY-MM'),
    service: OneOf(RATED_SERVICES),
    counts: countsOf(RATINGS, 'ratings per face'),
    total: Int('ratings given'),
    satisfiedShare: Nullable(Type.Number(), '(very satisfied + satisfied) / total; null with no rating'),
    reasons: countsOf(RATING_REASONS, 'how often each reason was given (with neutral or dissatisfied)'),
  },
  "One month's ratings of one service.",
);

export const DashboardStats = Obj({
  at: Time('when the figures were read'),
  timezone: Str('the locker time zone the days are counted in'),
  today: PeriodFigures,
  last30Days: PeriodFigures,
  days: Type.Array(DayFigures),
  now: HeldNow,
  satisfaction: Type.Array(SatisfactionFigures, {
    description: 'the last 12 local months, oldest first, each with deposit then pickup (zeros where none)',
  }),
});
export type DashboardStats = Static<typeof DashboardStats>;

export const AlarmView = Obj({
  id: Str('the event id'),
  type: Str('the event type (alarm.*, board.fault, tray.to_check, …)'),
  at: Time('when it happened'),
  data: Type.Record(Type.String(), Type.Unknown(), { description: "the event's payload (docs/mqtt.md)" }),
});
export type AlarmView = Static<typeof AlarmView>;

export const SmsLogRow = Obj({
  id: Str(),
  kind: Str('otp, deposit_receipt, result_ready, …'),
  dossierId: Nullable(Type.String()),
  status: Str(),
  attempts: Int(),
  providerMessageId: Nullable(Type.String()),
  segments: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: Time('when it was queued'),
  sentAt: MaybeTime(),
  deliveredAt: MaybeTime(),
});
export type SmsLogRow = Static<typeof SmsLogRow>;

const AuditHeadView = Obj({ seq: Int(), id: Nullable(Type.Integer()), hash: Str('SHA-256, hex') });
export const AuditVerdictView = Obj({
  lockerId: Str(),
  ok: Type.Boolean(),
  rows: Int('rows checked'),
  head: AuditHeadView,
  broken: Nullable(
    Obj({
      kind: OneOf(['edited', 'missing', 'reordered', 'rewritten', 'inserted'] as const),
      id: Nullable(Type.Integer()),
      seq: Int(),
      message: Str(),
    }),
  ),
});
export type AuditVerdictView = Static<typeof AuditVerdictView>;

export const PurgeCountsView = Obj({
  dossiers: Int(),
  smsMessages: Int(),
  challenges: Int(),
  otpSends: Int(),
  phoneGuards: Int(),
  outbox: Int(),
  auditPersonal: Int(),
  sessions: Int(),
  transferTexts: Int("bank transfers whose text (the payer's name) was blanked"),
});
export const PurgeRunView = Obj({ at: Time('when it ran'), actor: Str(), counts: PurgeCountsView });
export type PurgeRunView = Static<typeof PurgeRunView>;
export const RetentionStatusView = Obj({
  settings: Obj({
    closedDossierDays: Int(),
    challengeDays: Int(),
    sentEventDays: Int(),
    auditPersonalDays: Int(),
    endedSessionDays: Int(),
    runAt: Nullable(Type.String(), 'local time of the daily purge, HH:MM; null: never by itself'),
    timezone: Str(),
  }),
  nextRunAt: Time('the next daily purge'),
  lastRun: Nullable(PurgeRunView),
});
export type RetentionStatusView = Static<typeof RetentionStatusView>;

// ---------------------------------------------------------------------------------------------
// Trays (src/http/routes/trays.ts, the dashboard stream)
// ---------------------------------------------------------------------------------------------

export const TrayView = Obj({
  number: Int(),
  cabinet: Str('cabinet id of the map'),
  size: OneOf(TRAY_SIZES),
  role: OneOf(['deposit', 'result', 'both'] as const, 'what the tray is used for'),
  state: OneOf(PUBLISHED_TRAY_STATES, "the tray's content, or out_of_service"),
  door: OneOf(DOOR_STATES),
  board: Str('the lock board it hangs on'),
  outOfServiceReason: Nullable(Type.String(), "an admin's reason, when disabled"),
  fault: Nullable(Type.String(), 'the board fault, when its board does not answer'),
});
export type TrayView = Static<typeof TrayView>;

// ---------------------------------------------------------------------------------------------
// The procedure catalogue (GET /api/procedures)
// ---------------------------------------------------------------------------------------------

const Bilingual = Obj({ vi: Type.String(), en: Type.String() });
export const ProcedureView = Obj({
  code: Str(),
  field: Str('the field it belongs to (the kiosk groups by it)'),
  name: Bilingual,
  short: Bilingual,
  deposit: Type.Boolean({ description: 'dossiers can be deposited at the machine' }),
  result: Type.Boolean({ description: 'results can be collected at the machine' }),
  fee: Type.Integer({ minimum: 0, description: 'VND per dossier; 0 for most procedures' }),
  feeNote: Type.Optional(Type.String()),
  payment: Type.Optional(
    OneOf(['before', 'later'] as const, 'how the fee is paid: by transfer before the tray opens, or later at the counter (absent: later)'),
  ),
  pickupProof: Type.Optional(
    OneOf(
      ['id_number'] as const,
      "what a pickup needs beside the phone's code: id_number, the holder's 12-digit ID number (loading it asks for holderIdNumber); absent: the code alone",
    ),
  ),
  traySize: OneOf(TRAY_SIZES),
  online: Type.Optional(
    Type.Boolean({
      description:
        "true: the entry for dossiers filed on the city's online system, deposited by their online number (listed only with ?online=true)",
    }),
  ),
});
export type ProcedureView = Static<typeof ProcedureView>;

// ---------------------------------------------------------------------------------------------
// GET /health
// ---------------------------------------------------------------------------------------------

const UpDown = OneOf(['ok', 'down'] as const);
export const HealthAnswer = Obj({
  status: OneOf(['ok', 'degraded'] as const, 'ok only when the database, the broker and the lock bus all are'),
  lockerId: Type.Optional(Str()),
  db: UpDown,
  mqtt: UpDown,
  bus: OneOf(['ok', 'degraded', 'down'] as const, 'degraded: some boards do not answer; down: none, or no link open'),
  sms: Type.Optional(UpDown),
  boardsOffline: Type.Optional(Type.Array(Type.String())),
  busErrors: Type.Optional(Type.Array(Type.String(), { description: 'why a bus link is closed, naming the port' })),
  lastScanMs: Type.Optional(Nullable(Type.Number(), 'duration of the last full door scan')),
});
export type HealthAnswer = Static<typeof HealthAnswer>;
