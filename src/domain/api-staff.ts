/**
 * The staff part of the HTTP contract (src/http/routes/staff.ts, staff-accounts.ts): the answers of
 * the rounds, the results, the trays to check and the staff accounts, as JSON schemas (TypeBox)
 * with the types derived from them. The routes serialise with them, the OpenAPI document is
 * generated from them, and the staff screen imports the types (`import type`).
 */
import Type, { type Static } from 'typebox';
import { DEPOSIT_STATUSES, Int, MaybeTime, Nullable, Obj, OneOf, RESULT_STATUSES, Str, Time } from './api.js';
import type { DossierStatus } from './dossier.js';
import { ManifestItemSchema, ManifestSchema, type Manifest, type ManifestItem } from './events.js';

export { ManifestItemSchema, ManifestSchema, type Manifest, type ManifestItem };

const TrayNo = Int('tray number');
const DossierCode = Str('the dossier code as displayed');

// ---------------------------------------------------------------------------------------------
// Rounds (GET /api/staff/rounds/next and the answers that return the manifest: the round's
// start and each tray answered)
// ---------------------------------------------------------------------------------------------

/** A deposit to collect on a round. */
export type CollectItem = Manifest['collect'][number];
/** An expired result to take back on a round. */
export type TakeBackItem = Manifest['takeBack'][number];
export type RoundStatus = Manifest['round']['status'];
export type RoundItemStatus = ManifestItem['status'];

export const ITEM_OUTCOMES = ['collected', 'missing', 'returned', 'found', 'empty'] as const;
export type ItemOutcome = (typeof ITEM_OUTCOMES)[number];

/** `POST /api/staff/rounds/:id/items/:tray/open` and `POST /api/staff/checks/:n/open`. */
export const TrayOpened = Obj({ tray: TrayNo, opened: Type.Literal(true) }, 'The lock of the tray was released.');
export type TrayOpened = Static<typeof TrayOpened>;

/** `POST /api/staff/rounds/:id/complete` */
export const RoundCompleted = Obj(
  {
    roundId: Str(),
    counts: Type.Record(Type.String(), Type.Integer(), {
      description:
        'items per outcome: collected, returned, missing, leftInPlace (still pending or opened), and found and empty when the round had trays to check',
    }),
  },
  'The round is completed; what was not confirmed stays where it is and comes back on the next manifest.',
);
export type RoundCompleted = Static<typeof RoundCompleted>;

// ---------------------------------------------------------------------------------------------
// Results (POST /api/staff/results, /batch, GET /api/staff/results?ids=…, /unclaimed)
// ---------------------------------------------------------------------------------------------

const LoadedFields = {
  resultId: Str(),
  tray: Int('the tray now open: put the result in and close the door'),
  dossierCode: DossierCode,
};

/** `POST /api/staff/results` (201) */
export const ResultLoaded = Obj(LoadedFields, 'A result tray is open for the officer; the citizen is texted when its door closes.');
export type ResultLoaded = Static<typeof ResultLoaded>;

/** One result of a batch: loaded, or why not (the others go on). */
export const BatchItemAnswer = Type.Union([
  Obj({ ok: Type.Literal(true), ...LoadedFields }),
  Obj({
    ok: Type.Literal(false),
    dossierCode: Str('the dossier code as sent ("" when the item had none)'),
    error: Obj({
      code: Str('stable error code (src/domain/errors.ts), as a single load would answer it'),
      message: Str(),
      details: Type.Optional(
        Type.Record(Type.String(), Type.Unknown(), {
          description: 'as a single load would answer it; VALIDATION_FAILED of a malformed item: {field}, the first field refused',
        }),
      ),
    }),
  }),
]);
export type BatchItemAnswer = Static<typeof BatchItemAnswer>;

/** `POST /api/staff/results/batch` */
export const ResultBatchLoaded = Obj({ results: Type.Array(BatchItemAnswer, { description: 'one answer per item, in order' }) });
export type ResultBatchLoaded = Static<typeof ResultBatchLoaded>;

/** Where a result stands (`GET /api/staff/results?ids=…`): the staff screen follows its loads with it. */
export const ResultState = Obj({
  resultId: Str(),
  dossierCode: DossierCode,
  tray: Nullable(Type.Integer()),
  procedureCode: Str(),
  status: OneOf(RESULT_STATUSES, 'loading until its door closes on it; cancelled when the load was abandoned (result.load_cancelled)'),
});
export type ResultState = Static<typeof ResultState>;
export const ResultStates = Type.Array(ResultState, { description: 'in the order asked; ids of no result are left out' });

/** A result waiting in the machine (`GET /api/staff/results/unclaimed`). */
export const WaitingResult = Obj({
  resultId: Str(),
  dossierCode: DossierCode,
  tray: Nullable(Type.Integer()),
  procedureCode: Str(),
  status: OneOf(RESULT_STATUSES),
  loadedAt: MaybeTime('when its door closed on it'),
  pickupDeadline: MaybeTime('the last moment the citizen can collect it'),
  remindedAt: MaybeTime('when the citizen was reminded'),
});
export type WaitingResult = Static<typeof WaitingResult>;
export const WaitingResults = Type.Array(WaitingResult);

// ---------------------------------------------------------------------------------------------
// Trays to check (ADR 0012): GET /api/staff/checks, POST /api/staff/checks/:n
// ---------------------------------------------------------------------------------------------

export const CHECK_KINDS = ['deposit', 'load_result', 'pickup'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];
export const CHECK_OUTCOMES = ['found', 'empty'] as const;
export type CheckOutcome = (typeof CHECK_OUTCOMES)[number];

export const CheckView = Obj({
  tray: TrayNo,
  dossierCode: DossierCode,
  kind: OneOf(CHECK_KINDS, 'what the tray was released for'),
  since: MaybeTime('since when it is to check'),
});
export type CheckView = Static<typeof CheckView>;
export const CheckList = Type.Array(CheckView);

const DOSSIER_STATUSES = [...new Set([...DEPOSIT_STATUSES, ...RESULT_STATUSES])] as DossierStatus[];

/** `POST /api/staff/checks/:n` */
export const CheckAnswered = Obj({ tray: TrayNo, status: OneOf(DOSSIER_STATUSES, 'the status the dossier moved to') });
export type CheckAnswered = Static<typeof CheckAnswered>;

// ---------------------------------------------------------------------------------------------
// Staff accounts (src/http/routes/staff-accounts.ts)
// ---------------------------------------------------------------------------------------------

const AccountFields = {
  id: Int('account id'),
  name: Str("the officer's name"),
  role: OneOf(['staff', 'admin'] as const),
};

export const Account = Obj(AccountFields);
export type Account = Static<typeof Account>;

/** `POST /api/admin/staff` (201): the token and the authenticator secret are shown once. */
export const AccountCreated = Obj({
  ...AccountFields,
  token: Str('the permanent bearer token: shown once'),
  totpUri: Type.Optional(Str('with the touchscreen: otpauth:// URI for the authenticator app, shown once')),
  totpSecret: Type.Optional(Str('with the touchscreen: the authenticator secret, shown once')),
});
export type AccountCreated = Static<typeof AccountCreated>;

const AccountViewFields = {
  ...AccountFields,
  touchscreen: Type.Boolean({ description: 'signs in at the touchscreen with a PIN and an authenticator code' }),
  createdAt: Time('when the account was made'),
  createdBy: Nullable(Type.String(), 'who made it'),
  disabledAt: MaybeTime('when it was disabled'),
  lockedUntil: MaybeTime('set while wrong sign-ins keep it locked'),
};

/** What an admin sees of an account (`GET /api/admin/staff`), never its token, PIN or secret. */
export const AccountView = Obj(AccountViewFields);
export type AccountView = Static<typeof AccountView>;
export const AccountList = Type.Array(AccountView);

/** `POST /api/admin/staff/:id/disable` */
export const AccountDisabled = Obj({ ...AccountViewFields, sessionsRevoked: Int('touchscreen sessions ended') });
export type AccountDisabled = Static<typeof AccountDisabled>;

/** `POST /api/admin/staff/:id/token` */
export const TokenRotated = Obj({ ...AccountFields, token: Str('the new bearer token: shown once') });
export type TokenRotated = Static<typeof TokenRotated>;

/** `POST /api/staff/sign-in` */
export const SignedIn = Obj({ token: Str('the session token'), expiresAt: Time('when the session ends'), account: Account });
export type SignedIn = Static<typeof SignedIn>;

/** `POST /api/staff/sign-out` */
export const SignedOut = Obj({ signedOut: Type.Boolean({ description: 'false when the token was no live session' }) });
export type SignedOut = Static<typeof SignedOut>;

/** `GET /api/staff/me` */
export const Me = Obj({
  ...AccountFields,
  via: OneOf(['session', 'token'] as const, 'a touchscreen session, or a permanent token'),
  expiresAt: MaybeTime('when the session ends; null for a permanent token'),
});
export type Me = Static<typeof Me>;
