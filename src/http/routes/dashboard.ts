/**
 * The admin dashboard's data: `GET /api/admin/stream` (server-sent events: every tray on connect,
 * then each change), `GET /api/admin/stats` (today's and 30 days' figures) and
 * `GET /api/admin/alarms`. Staff and admins may view them.
 *
 * EventSource cannot send an Authorization header, so the stream also accepts the token as
 * `?token=`, checked exactly as a bearer token is. Request logs never carry the query string.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { AppError } from '../../domain/errors.js';
import type { StatsService } from '../../services/stats.js';
import { trayView, type TrayService } from '../../services/trays.js';
import { type AuthHooks } from '../auth.js';
import Type from 'typebox';
import { AlarmView, DashboardStats } from '../../domain/api.js';
import { errorSchema } from '../errors.js';
import { EVENT_STREAM_HEADERS, openEventStream } from '../event-stream.js';

export interface DashboardRouteOptions {
  trays: TrayService;
  auth: AuthHooks;
  /** Without it, `/api/admin/stats` and `/api/admin/alarms` are not offered. */
  stats?: StatsService;
  /** A comment line keeps proxies and the browser from closing an idle stream. */
  heartbeatMs?: number;
}

/** The shape of a bearer token (auth.ts): a `?token=` of any other shape is refused by the schema (400). */
const TOKEN = /^[A-Za-z0-9._~+/=-]{1,512}$/;

export async function dashboardRoutes(app: FastifyInstance, opts: DashboardRouteOptions) {
  const { trays, stats } = opts;
  const staff = opts.auth.staff;
  const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema };
  const streams = new Set<ServerResponse>();

  // Open streams would hold the server's close forever: end them first.
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
    streams.clear();
  });

  const streamAuth = Object.assign(
    async (request: FastifyRequest) => {
      // Decided before the query is validated: the token is checked here, the rest of the query after.
      const { token } = request.query as { token?: unknown };
      if (token === undefined || request.headers.authorization) return staff.call(app, request, undefined as never);
      const account = typeof token === 'string' && TOKEN.test(token) ? await opts.auth.findAccount(token) : null;
      if (!account) throw new AppError('UNAUTHORIZED', 'the token is not valid');
      request.account = account;
    },
    { role: 'staff' as const },
  );

  app.get<{ Querystring: { token?: string } }>(
    '/api/admin/stream',
    {
      onRequest: streamAuth,
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { token: { type: 'string', pattern: TOKEN.source } } },
        response: {
          200: {
            description:
              'Server-sent events: `trays` with {full: true, trays} first, then {full: false, trays} for each change (the trays of GET /api/trays).',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      // HEAD (Fastify answers it with this handler): the headers a GET would get, and no stream.
      if (request.method === 'HEAD') return reply.headers(EVENT_STREAM_HEADERS).send();
      const stream = openEventStream(request, reply, { streams, heartbeatMs: opts.heartbeatMs ?? 15_000 });
      // Subscribe before the first read so that no change falls between the two.
      stream.onClose(
        trays.onChange((all, changed) => {
          const wanted = new Set(changed);
          stream.send('trays', { full: false, trays: all.filter((t) => wanted.has(t.number)).map(trayView) });
        }),
      );
      try {
        stream.send('trays', { full: true, trays: (await trays.list()).map(trayView) });
      } catch (err) {
        request.log.error({ err }, 'dashboard stream: tray list failed');
        stream.end();
      }
    },
  );

  if (!stats) return;

  app.get('/api/admin/stats', { onRequest: staff, schema: { response: { 200: DashboardStats, ...errors } } }, async () =>
    stats.dashboard(),
  );

  app.get<{ Querystring: { limit?: string } }>(
    '/api/admin/alarms',
    {
      onRequest: staff,
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^[0-9]{1,3}$' } } },
        response: { 200: Type.Array(AlarmView), ...errors },
      },
    },
    async (request) => stats.alarms(Math.min(Math.max(Number(request.query.limit ?? 20) || 20, 1), 200)),
  );
}
