/**
 * The fleet service's HTTP API (docs/fleet.md): every locker's state as the fleet last received
 * it, one locker's trays and events, and totals. Admin token (`Authorization: Bearer …`) on every
 * `/api/fleet/…` route, checked before anything else; errors are `{error: {code, message}}` with
 * the cabinet's stable codes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { PUBLISHED_TRAY_STATES } from '../domain/events.js';
import type { IngestStatus } from './ingest.js';
import type { FleetStore, LockerRow } from './store.js';

export interface FleetHttpOptions {
  store: FleetStore;
  ingest: () => IngestStatus;
  adminToken: string;
  logger: Logger;
}

const LOCKER_ID = '^[A-Za-z0-9_.-]{1,64}$';
const digest = (text: string) => createHash('sha256').update(text).digest();

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

/** A locker as the list shows it. */
function summary(row: LockerRow) {
  return {
    lockerId: row.lockerId,
    online: row.online,
    counts: row.occupancy?.counts ?? null,
    trays: row.occupancy?.trays.length ?? null,
    stateAt: row.occupancy?.at ?? null,
    nextRound: row.roundNext
      ? {
          scheduledAt: row.roundNext.round.scheduledAt,
          status: row.roundNext.round.status,
          collect: row.roundNext.collect.length,
          takeBack: row.roundNext.takeBack.length,
          check: row.roundNext.check.length,
        }
      : null,
    lastEvent: row.lastEventType ? { type: row.lastEventType, at: row.lastEventAt } : null,
    updatedAt: row.updatedAt,
  };
}

export async function buildFleetHttp(o: FleetHttpOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: o.logger.child({ module: 'fleet-http' }) as FastifyBaseLogger, disableRequestLogging: true });
  const expected = digest(o.adminToken);

  app.setErrorHandler((err: { statusCode?: number; validation?: unknown; message: string }, _request, reply) => {
    if (err.validation) return sendError(reply, 400, 'VALIDATION_FAILED', err.message);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return sendError(reply, err.statusCode, 'BAD_REQUEST', err.message);
    o.logger.error({ err }, 'fleet request failed');
    return sendError(reply, 503, 'SERVICE_UNAVAILABLE', 'the fleet database did not answer; try again');
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'NOT_FOUND', 'no such route'));
  app.addHook('onRequest', async (request, reply) => {
    // The route matched (the path decoded), not the raw URL: `/api/%66leet/…` is the same route.
    if (!request.routeOptions.url?.startsWith('/api/fleet/')) return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !timingSafeEqual(digest(token), expected)) {
      return sendError(reply, 401, 'UNAUTHORIZED', 'an admin token is required (Authorization: Bearer …)');
    }
  });

  app.get('/health', async (_request, reply) => {
    const db = await o.store.ping();
    const ingest = o.ingest();
    const ok = db && ingest.connected;
    return reply
      .code(ok ? 200 : 503)
      .send({ status: ok ? 'ok' : 'degraded', db: db ? 'ok' : 'down', mqtt: ingest.connected ? 'ok' : 'down', ingest });
  });

  app.get('/api/fleet/lockers', async () => {
    const lockers = (await o.store.lockers()).map(summary);
    return { lockers };
  });

  app.get('/api/fleet/totals', async () => {
    const lockers = await o.store.lockers();
    const counts = Object.fromEntries(PUBLISHED_TRAY_STATES.map((s) => [s, 0])) as Record<string, number>;
    for (const row of lockers) {
      for (const [state, n] of Object.entries(row.occupancy?.counts ?? {})) counts[state] = (counts[state] ?? 0) + n;
    }
    return {
      lockers: lockers.length,
      online: lockers.filter((l) => l.online === true).length,
      offline: lockers.filter((l) => l.online === false).length,
      trays: counts,
    };
  });

  const params = { type: 'object', required: ['lockerId'], properties: { lockerId: { type: 'string', pattern: LOCKER_ID } } } as const;

  app.get<{ Params: { lockerId: string } }>('/api/fleet/lockers/:lockerId', { schema: { params } }, async (request, reply) => {
    const locker = await o.store.locker(request.params.lockerId);
    if (!locker) return sendError(reply, 404, 'LOCKER_NOT_FOUND', `no locker "${request.params.lockerId}" has published to the fleet`);
    return { ...summary(locker), occupancy: locker.occupancy, roundNext: locker.roundNext, trays: locker.trays };
  });

  app.get<{ Params: { lockerId: string }; Querystring: { limit: number } }>(
    '/api/fleet/lockers/:lockerId/events',
    {
      schema: {
        params,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        },
      },
    },
    async (request, reply) => {
      if (!(await o.store.locker(request.params.lockerId))) {
        return sendError(reply, 404, 'LOCKER_NOT_FOUND', `no locker "${request.params.lockerId}" has published to the fleet`);
      }
      return { events: await o.store.events(request.params.lockerId, request.query.limit) };
    },
  );

  await app.ready();
  return app;
}
