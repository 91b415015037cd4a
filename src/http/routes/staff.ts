/** Staff routes: collection rounds and result loading (Bearer token: staff or admin). */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { ErrorAnswer } from '../../domain/api.js';
import {
  CHECK_OUTCOMES,
  CheckAnswered,
  CheckList,
  ITEM_OUTCOMES,
  type ManifestSchema,
  ResultBatchLoaded,
  ResultLoaded,
  ResultStates,
  RoundCompleted,
  TrayOpened,
  WaitingResults,
  type WaitingResult,
} from '../../domain/api-staff.js';
import type { BatchRefusal, LoadResultInput, ResultService } from '../../services/results.js';
import type { RoundService } from '../../services/rounds.js';
import type { RoundHolders } from '../../services/round-holders.js';
import { StaffManifest } from '../../domain/api-id-cards.js';
import type { TrayChecks } from '../../services/tray-checks.js';
import { actorOf, type AuthHooks } from '../auth.js';
import { FREE_TEXT_PATTERN, FREE_TEXT_REFUSED, freeText, trayNumberParams } from '../schemas.js';

const UUID_CHARS = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const UUID = `^${UUID_CHARS}$`;
/** A batch's size, and so the most results one look-up names. */
const BATCH_MAX = 30;
const Closed = { additionalProperties: false } as const;
const RoundParams = Type.Object({ id: Type.String({ pattern: UUID }) }, Closed);
const ItemParams = Type.Object({ id: Type.String({ pattern: UUID }), tray: Type.String({ pattern: '^[0-9]{1,3}$' }) }, Closed);
const TrayParams = Type.Unsafe<{ n: string }>(trayNumberParams);
/** One result to load: the body of `POST /api/staff/results`, and each item of a batch. */
const ResultItem = Type.Object(
  {
    dossierCode: Type.String({ minLength: 4, maxLength: 40, pattern: '^[A-Za-z0-9][A-Za-z0-9. -]*$' }),
    phone: Type.Unsafe<string>(freeText(32)),
    procedureCode: Type.String({ pattern: '^[A-Za-z0-9-]{2,20}$' }),
    // Checked by the service (ID_NUMBER_INVALID names what is wrong), never logged or stored.
    holderIdNumber: Type.Optional(
      Type.Unsafe<string>({
        ...freeText(32, 0),
        description:
          "the holder's 12-digit personal ID number: required for a procedure with pickupProof id_number (the ID cards), refused for the others; only its keyed hash is stored",
      }),
    ),
  },
  Closed,
);
/** Optional: no body, `null` or `{}` start the round with every tray opened in turn. */
const StartBody = Type.Unsafe<{ oneAtATime?: boolean } | null>({
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { oneAtATime: { type: 'boolean' } },
});
const StatesQuery = Type.Object(
  {
    ids: Type.String({
      pattern: `^${UUID_CHARS}(,${UUID_CHARS}){0,${BATCH_MAX - 1}}$`,
      description: `1 to ${BATCH_MAX} result ids (resultId of the load's answer), comma-separated`,
    }),
  },
  Closed,
);
const errors = { 400: ErrorAnswer, 401: ErrorAnswer, 403: ErrorAnswer, 404: ErrorAnswer, 409: ErrorAnswer, 503: ErrorAnswer };

export async function staffRoutes(
  fastify: FastifyInstance,
  opts: {
    rounds: RoundService;
    results: ResultService;
    checks?: TrayChecks;
    auth: AuthHooks;
    /** The depositors read from ID cards, on the manifests answered here (never on MQTT). */
    holders?: RoundHolders;
  },
) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { rounds, results, checks } = opts;
  const withHolders = (manifest: Static<typeof ManifestSchema>) => (opts.holders ? opts.holders.add(manifest) : manifest);
  const staff = opts.auth.staff;

  app.get(
    '/api/staff/rounds/next',
    {
      onRequest: staff,
      schema: { summary: 'The round to do now (due or running), else the next one', response: { 200: StaffManifest, ...errors } },
    },
    async () => withHolders(await rounds.next()),
  );

  app.post(
    '/api/staff/rounds/:id/start',
    {
      onRequest: staff,
      schema: {
        summary: 'Starts a round and opens its trays (one after another, or only the first with oneAtATime)',
        params: RoundParams,
        body: StartBody,
        response: { 200: StaffManifest, ...errors },
      },
    },
    async (request) =>
      withHolders(await rounds.start(request.params.id.toLowerCase(), { oneAtATime: request.body?.oneAtATime ?? false }, actorOf(request))),
  );

  app.post(
    '/api/staff/rounds/:id/items/:tray/open',
    {
      onRequest: staff,
      schema: { summary: 'Opens one tray of a running round', params: ItemParams, response: { 200: TrayOpened, ...errors } },
    },
    async (request) => {
      await rounds.openItem(request.params.id.toLowerCase(), Number(request.params.tray), actorOf(request));
      return { tray: Number(request.params.tray), opened: true as const };
    },
  );

  app.post(
    '/api/staff/rounds/:id/items/:tray',
    {
      onRequest: staff,
      schema: {
        summary: "Says what became of a tray's dossier on a running round",
        params: ItemParams,
        body: Type.Object({ outcome: Type.Enum(ITEM_OUTCOMES) }, Closed),
        response: { 200: StaffManifest, ...errors },
      },
    },
    async (request) =>
      withHolders(
        await rounds.confirm(request.params.id.toLowerCase(), Number(request.params.tray), request.body.outcome, actorOf(request)),
      ),
  );

  app.post(
    '/api/staff/rounds/:id/complete',
    {
      onRequest: staff,
      schema: { summary: 'Completes a running round', params: RoundParams, response: { 200: RoundCompleted, ...errors } },
    },
    async (request) => rounds.complete(request.params.id.toLowerCase(), actorOf(request)),
  );

  app.post(
    '/api/staff/results',
    {
      onRequest: staff,
      schema: { summary: 'Loads a result: a result tray that fits opens', body: ResultItem, response: { 201: ResultLoaded, ...errors } },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await results.load({ ...request.body, procedureCode: request.body.procedureCode.toUpperCase() }, actorOf(request))),
  );

  app.post(
    '/api/staff/results/batch',
    {
      onRequest: staff,
      schema: {
        summary: `Loads up to ${BATCH_MAX} results in turn; each item is answered for itself, a malformed one included`,
        // Each item is checked on its own below: one malformed item is refused alone, not the batch.
        body: Type.Object({ items: Type.Array(Type.Unknown(), { minItems: 1, maxItems: BATCH_MAX }) }, Closed),
        response: { 200: ResultBatchLoaded, ...errors },
      },
    },
    async (request) => {
      const check = request.compileValidationSchema(ResultItem);
      const items = request.body.items.map((raw, index): LoadResultInput | BatchRefusal => {
        if (!check(raw)) return malformed(raw, index, check.errors);
        const item = raw as Static<typeof ResultItem>;
        return { ...item, procedureCode: item.procedureCode.toUpperCase() };
      });
      return { results: await results.loadBatch(items, actorOf(request)) };
    },
  );

  app.get(
    '/api/staff/results',
    {
      onRequest: staff,
      schema: {
        summary: 'Where these results stand: the staff screen follows its loads (loading, loaded, notified, cancelled when abandoned, …)',
        querystring: StatesQuery,
        response: { 200: ResultStates, ...errors },
      },
    },
    async (request) => results.states([...new Set(request.query.ids.toLowerCase().split(','))]),
  );

  if (checks) {
    // Trays to check (ADR 0012): listed for the officer, answered found or empty outside a round too.
    app.get(
      '/api/staff/checks',
      { onRequest: staff, schema: { summary: 'The trays to check', response: { 200: CheckList, ...errors } } },
      async () => checks.list(),
    );
    app.post(
      '/api/staff/checks/:n',
      {
        onRequest: staff,
        schema: {
          summary: 'Answers a tray to check: found or empty',
          params: TrayParams,
          body: Type.Object({ outcome: Type.Enum(CHECK_OUTCOMES) }, Closed),
          response: { 200: CheckAnswered, ...errors },
        },
      },
      async (request) => checks.resolveTray(Number(request.params.n), request.body.outcome, actorOf(request)),
    );
    app.post(
      '/api/staff/checks/:n/open',
      {
        onRequest: staff,
        schema: { summary: 'Opens a tray to check, to look into it', params: TrayParams, response: { 200: TrayOpened, ...errors } },
      },
      async (request) => checks.open(Number(request.params.n), actorOf(request)),
    );
  }

  app.get(
    '/api/staff/results/unclaimed',
    { onRequest: staff, schema: { summary: 'Results waiting in the machine', response: { 200: WaitingResults, ...errors } } },
    // Results only: their status is a result's.
    async () => (await results.waiting()).map((r) => ({ ...r, status: r.status as WaitingResult['status'] })),
  );
}

/** The characters FREE_TEXT_PATTERN refuses (src/http/schemas.ts). */
const NOT_PRINTABLE = /[\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;

interface ItemError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * A batch item refused before it is tried: VALIDATION_FAILED, in the words a single load would get,
 * named by its place in the batch, with the first field refused in `details.field`.
 */
function malformed(raw: unknown, index: number, errs: unknown): BatchRefusal {
  const first = ((errs as ItemError[] | null | undefined) ?? [])[0] ?? {};
  const path = first.instancePath ?? '';
  const field =
    path.split('/')[1] ||
    (typeof first.params?.missingProperty === 'string' ? first.params.missingProperty : undefined) ||
    (typeof first.params?.additionalProperty === 'string' ? first.params.additionalProperty : undefined);
  const where = `items[${index}]${path.replace(/\//g, '.')}`;
  const message =
    first.keyword === 'pattern' && first.params?.pattern === FREE_TEXT_PATTERN
      ? `${where} must be printable text (${FREE_TEXT_REFUSED})`
      : `${where} ${first.message ?? 'is not a result to load'}`;
  const sent = raw !== null && typeof raw === 'object' ? (raw as { dossierCode?: unknown }).dossierCode : undefined;
  return {
    // Echoed for the officer to find the item: what FREE_TEXT_PATTERN refuses never reaches a screen.
    dossierCode: typeof sent === 'string' ? sent.replace(NOT_PRINTABLE, '').slice(0, 40) : '',
    error: { code: 'VALIDATION_FAILED', message, ...(field ? { details: { field } } : {}) },
  };
}
