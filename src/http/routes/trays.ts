import type { FastifyInstance } from 'fastify';
import { trayView, type TrayService } from '../../services/trays.js';
import { actorOf, type AuthHooks } from '../auth.js';
import { errorSchema } from '../errors.js';
import { freeText, trayNumberParams, trayViewSchema } from '../schemas.js';

export interface TrayRouteOptions {
  trays: TrayService;
  auth: AuthHooks;
}

/** `GET /api/trays` (staff, admin) and the admin maintenance routes. */
export async function trayRoutes(app: FastifyInstance, opts: TrayRouteOptions) {
  const { trays } = opts;
  const staff = opts.auth.staff;
  const admin = opts.auth.admin;
  const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema };

  app.get(
    '/api/trays',
    {
      onRequest: staff,
      schema: { response: { 200: { type: 'array', items: trayViewSchema }, ...errors } },
    },
    async () => (await trays.list()).map(trayView),
  );

  app.get<{ Params: { n: string } }>(
    '/api/trays/:n',
    {
      onRequest: staff,
      schema: { params: trayNumberParams, response: { 200: trayViewSchema, ...errors } },
    },
    async (request) => trayView(await trays.get(Number(request.params.n))),
  );

  app.post<{ Params: { n: string }; Body: { reason?: string } | undefined }>(
    '/api/admin/trays/:n/open',
    {
      onRequest: admin,
      schema: {
        params: trayNumberParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { reason: freeText(200) },
        },
        response: { 200: trayViewSchema, ...errors },
      },
    },
    async (request) => {
      const n = Number(request.params.n);
      const note = request.body?.reason;
      await trays.release(n, actorOf(request), 'maintenance', note ? { note } : {});
      return trayView(await trays.get(n));
    },
  );

  app.post<{ Params: { n: string }; Body: { reason: string } }>(
    '/api/admin/trays/:n/out-of-service',
    {
      onRequest: admin,
      schema: {
        params: trayNumberParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['reason'],
          properties: { reason: freeText(200) },
        },
        response: { 200: trayViewSchema, ...errors },
      },
    },
    async (request) => trayView(await trays.setOutOfService(Number(request.params.n), request.body.reason, actorOf(request))),
  );

  app.delete<{ Params: { n: string } }>(
    '/api/admin/trays/:n/out-of-service',
    {
      onRequest: admin,
      schema: { params: trayNumberParams, response: { 200: trayViewSchema, ...errors } },
    },
    async (request) => trayView(await trays.setOutOfService(Number(request.params.n), null, actorOf(request))),
  );
}
