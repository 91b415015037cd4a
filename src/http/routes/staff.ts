/** Staff routes: collection rounds and result loading (Bearer token: staff or admin). */
import type { FastifyInstance } from 'fastify';
import type { ResultService } from '../../services/results.js';
import type { ItemOutcome, RoundService } from '../../services/rounds.js';
import type { TrayChecks } from '../../services/tray-checks.js';
import { actorOf, requireRole, type FindAccount } from '../auth.js';
import { errorSchema } from '../errors.js';
import { freeText, trayNumberParams } from '../schemas.js';

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const roundParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: UUID } },
} as const;
const itemParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tray'],
  properties: { id: { type: 'string', pattern: UUID }, tray: { type: 'string', pattern: '^[0-9]{1,3}$' } },
} as const;
const resultItem = {
  type: 'object',
  additionalProperties: false,
  required: ['dossierCode', 'phone', 'procedureCode'],
  properties: {
    dossierCode: { type: 'string', minLength: 4, maxLength: 40, pattern: '^[A-Za-z0-9][A-Za-z0-9. -]*$' },
    phone: freeText(32),
    procedureCode: { type: 'string', pattern: '^[A-Za-z0-9-]{2,20}$' },
  },
} as const;
const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema };

export async function staffRoutes(
  app: FastifyInstance,
  opts: { rounds: RoundService; results: ResultService; checks?: TrayChecks; findAccount: FindAccount },
) {
  const { rounds, results, checks } = opts;
  const staff = requireRole('staff', opts.findAccount);

  app.get('/api/staff/rounds/next', { preHandler: staff, schema: { response: errors } }, async () => rounds.next());

  app.post<{ Params: { id: string }; Body: { oneAtATime?: boolean } | undefined }>(
    '/api/staff/rounds/:id/start',
    {
      preHandler: staff,
      schema: {
        params: roundParams,
        body: { type: ['object', 'null'], additionalProperties: false, properties: { oneAtATime: { type: 'boolean' } } },
        response: errors,
      },
    },
    async (request) => rounds.start(request.params.id.toLowerCase(), { oneAtATime: request.body?.oneAtATime ?? false }, actorOf(request)),
  );

  app.post<{ Params: { id: string; tray: string } }>(
    '/api/staff/rounds/:id/items/:tray/open',
    {
      preHandler: staff,
      schema: { params: itemParams, response: errors },
    },
    async (request) => {
      await rounds.openItem(request.params.id.toLowerCase(), Number(request.params.tray), actorOf(request));
      return { tray: Number(request.params.tray), opened: true };
    },
  );

  app.post<{ Params: { id: string; tray: string }; Body: { outcome: ItemOutcome } }>(
    '/api/staff/rounds/:id/items/:tray',
    {
      preHandler: staff,
      schema: {
        params: itemParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['outcome'],
          properties: { outcome: { enum: ['collected', 'missing', 'returned', 'found', 'empty'] } },
        },
        response: errors,
      },
    },
    async (request) => rounds.confirm(request.params.id.toLowerCase(), Number(request.params.tray), request.body.outcome, actorOf(request)),
  );

  app.post<{ Params: { id: string } }>(
    '/api/staff/rounds/:id/complete',
    {
      preHandler: staff,
      schema: { params: roundParams, response: errors },
    },
    async (request) => rounds.complete(request.params.id.toLowerCase(), actorOf(request)),
  );

  app.post<{ Body: { dossierCode: string; phone: string; procedureCode: string } }>(
    '/api/staff/results',
    {
      preHandler: staff,
      schema: { body: resultItem, response: errors },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await results.load({ ...request.body, procedureCode: request.body.procedureCode.toUpperCase() }, actorOf(request))),
  );

  app.post<{ Body: { items: { dossierCode: string; phone: string; procedureCode: string }[] } }>(
    '/api/staff/results/batch',
    {
      preHandler: staff,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['items'],
          properties: { items: { type: 'array', minItems: 1, maxItems: 30, items: resultItem } },
        },
        response: errors,
      },
    },
    async (request) => ({
      results: await results.loadBatch(
        request.body.items.map((i) => ({ ...i, procedureCode: i.procedureCode.toUpperCase() })),
        actorOf(request),
      ),
    }),
  );

  if (checks) {
    // Trays to check (ADR 0012): listed for the officer, answered found or empty outside a round too.
    app.get('/api/staff/checks', { preHandler: staff, schema: { response: errors } }, async () => checks.list());
    app.post<{ Params: { n: string }; Body: { outcome: 'found' | 'empty' } }>(
      '/api/staff/checks/:n',
      {
        preHandler: staff,
        schema: {
          params: trayNumberParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['outcome'],
            properties: { outcome: { enum: ['found', 'empty'] } },
          },
          response: errors,
        },
      },
      async (request) => checks.resolveTray(Number(request.params.n), request.body.outcome, actorOf(request)),
    );
    app.post<{ Params: { n: string } }>(
      '/api/staff/checks/:n/open',
      {
        preHandler: staff,
        schema: {
          params: trayNumberParams,
          response: errors,
        },
      },
      async (request) => checks.open(Number(request.params.n), actorOf(request)),
    );
  }

  app.get('/api/staff/results/unclaimed', { preHandler: staff, schema: { response: errors } }, async () => results.waiting());
}
