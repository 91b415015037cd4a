/**
 * The fleet service's HTTP side (docs/fleet.md): the dashboard at `/` (src/ui/fleet), every
 * locker's state as the fleet last received it, one locker's trays, alarms and events, totals
 * by district, the report's figures and their CSV, where each locker stands, and a live stream.
 * Admin token on every `/api/fleet/…` route (`Authorization: Bearer …`), checked before anything
 * else. EventSource sends no headers: the stream takes a short-lived ticket the browser asks for
 * with its token (`POST /api/fleet/stream-tickets`, `?ticket=`), so that the token itself never
 * stands in a URL (a proxy's access log); `?token=` is still taken there. Errors are
 * `{error: {code, message}}` with the cabinet's stable codes.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import {
  FleetSiteBody,
  LOCKER_ID_PATTERN,
  type FleetFigureCounts,
  type FleetFigures,
  type FleetLockerSummary,
  type FleetSite,
} from '../domain/api-fleet.js';
import { PUBLISHED_TRAY_STATES } from '../domain/events.js';
import { fleetTotals } from '../domain/fleet-totals.js';
import { uiRoutes } from '../http/routes/ui.js';
import { PACKAGE_ROOT } from '../config/package-root.js';
import type { IngestStatus } from './ingest.js';
import type { FigureRow, FleetStore, LockerFilter, LockerRow } from './store.js';

export interface FleetHttpOptions {
  store: FleetStore;
  ingest: () => IngestStatus;
  adminToken: string;
  logger: Logger;
  /** The days of the figures are counted in this time zone. Default Asia/Ho_Chi_Minh. */
  timezone?: string;
  /** Subscribes to the lockers that changed (null: any may have); returns the unsubscribe. */
  onChanges?: (listener: (ids: Set<string> | null) => void) => () => void;
  /** Whether change notifications are being received (for `/health`). */
  changesListening?: () => boolean;
  /** Where the built screens are (tests); default dist/ui. */
  uiDir?: string;
  /** A comment line on idle streams, so that proxies keep them. Default 15 s. */
  heartbeatMs?: number;
  /** How long a stream ticket is good for (to open the stream, not to keep it). Default 60 s. */
  streamTicketMs?: number;
}

const TOKEN = /^[A-Za-z0-9._~+/=-]{1,512}$/;
/** A stream ticket (see `issueTicket`). */
const TICKET = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;
const DAY = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
const PLACE = { type: 'string', minLength: 1, maxLength: 120 } as const;
const digest = (text: string) => createHash('sha256').update(text).digest();
const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};
/** What a stream may hold unsent before it is closed. */
const MAX_STREAM_BUFFER = 4 * 1024 * 1024;
/** The first day the figures may be asked for (2000-01-01, in days since 1970). */
const FIRST_DAY = 10_957;
/** The longest period the figures are read for at once. */
const MAX_FIGURE_DAYS = 366;

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

/** A locker as the list and the stream show it. */
function summary(row: LockerRow, alarms: number): FleetLockerSummary {
  return {
    lockerId: row.lockerId,
    site: row.site,
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
    alarms,
    updatedAt: row.updatedAt,
  };
}

/** The local date of `at` in `timezone`, as YYYY-MM-DD. */
function localDay(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** A real calendar day (2026-02-30 is not), as days since 1970 or null. */
function dayNumber(day: string): number | null {
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day) return null;
  return ms / 86_400_000;
}

const dayOf = (n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10);

function counts(get: (metric: FigureRow['metric']) => number): FleetFigureCounts {
  const due = get('due');
  const onTime = get('on_time');
  return {
    received: get('deposit.completed'),
    returned: get('result.loaded'),
    pickedUp: get('pickup.completed'),
    due,
    onTime,
    unclaimed: due - onTime,
    onTimeShare: due ? Math.round((onTime / due) * 1000) / 1000 : null,
  };
}

/**
 * A cell of the CSV: quoted when needed, and never read as a formula by a spreadsheet (a leading
 * `=`, `+`, `-`, `@` gets a `'`, which spreadsheets show as nothing: a locker id `-x` reads `-x`).
 */
function cell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const COUNT_COLUMNS = ['received', 'returned', 'picked_up', 'due', 'on_time', 'unclaimed', 'on_time_share'] as const;
const countCells = (c: FleetFigureCounts) => [c.received, c.returned, c.pickedUp, c.due, c.onTime, c.unclaimed, c.onTimeShare];

export async function buildFleetHttp(o: FleetHttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.logger.child({ module: 'fleet-http' }) as FastifyBaseLogger,
    disableRequestLogging: true,
    // A field or parameter not in the contract is refused (400), not quietly dropped.
    ajv: { customOptions: { removeAdditional: false } },
  });
  const expected = digest(o.adminToken);
  const timezone = o.timezone ?? 'Asia/Ho_Chi_Minh';
  const tokenOk = (token: string) => token.length > 0 && timingSafeEqual(digest(token), expected);
  // A stream ticket: `<expiry, ms base 36>.<nonce>.<HMAC-SHA256>`, the key derived from the admin
  // token, so that any instance of the service checks a ticket another one issued.
  const ticketMs = o.streamTicketMs ?? 60_000;
  const ticketKey = createHmac('sha256', o.adminToken).update('atm247 fleet stream ticket').digest();
  const sign = (body: string) => createHmac('sha256', ticketKey).update(body).digest('base64url');
  const issueTicket = () => {
    const expiresAt = Date.now() + ticketMs;
    const body = `${expiresAt.toString(36)}.${randomBytes(12).toString('base64url')}`;
    return { ticket: `${body}.${sign(body)}`, expiresAt: new Date(expiresAt).toISOString() };
  };
  const ticketOk = (ticket: string) => {
    const m = TICKET.exec(ticket);
    if (!m || parseInt(m[1], 36) < Date.now()) return false;
    return timingSafeEqual(Buffer.from(sign(`${m[1]}.${m[2]}`)), Buffer.from(m[3]));
  };

  // The contract as OpenAPI 3.1 from the routes' own schemas (`GET /openapi.json`, no token: it
  // describes, it holds no data); the answers' shapes are src/domain/api-fleet.ts and docs/fleet.md.
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ATM 24/7 fleet service: HTTP API',
        version: '1',
        description:
          "The district's view of every locker (docs/fleet.md). Every `/api/fleet/…` route takes `Authorization: Bearer " +
          '<FLEET_ADMIN_TOKEN>` (the stream a `?ticket=` from `POST /api/fleet/stream-tickets`, or `?token=`) and ' +
          'answers 401 before anything else; errors are ' +
          '`{error: {code, message}}` with stable codes.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.get('/openapi.json', { schema: { summary: 'This document (OpenAPI 3.1)', security: [] } }, async () => app.swagger());

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
    const route = request.routeOptions.url;
    if (!route?.startsWith('/api/fleet/')) return;
    const header = request.headers.authorization;
    let token = header?.startsWith('Bearer ') ? header.slice(7) : '';
    if (!header && route === '/api/fleet/stream') {
      const { token: query, ticket } = request.query as { token?: unknown; ticket?: unknown };
      if (typeof ticket === 'string' && ticketOk(ticket)) return;
      token = typeof query === 'string' && TOKEN.test(query) ? query : '';
    }
    if (!tokenOk(token)) {
      return sendError(reply, 401, 'UNAUTHORIZED', 'an admin token is required (Authorization: Bearer …)');
    }
  });

  app.get(
    '/health',
    { schema: { summary: 'Database, broker and live notifications; 503 when degraded', security: [] } },
    async (_request, reply) => {
      const db = await o.store.ping();
      const ingest = o.ingest();
      const changes = o.changesListening?.() ?? true;
      const ok = db && ingest.connected && changes;
      return reply.code(ok ? 200 : 503).send({
        status: ok ? 'ok' : 'degraded',
        db: db ? 'ok' : 'down',
        mqtt: ingest.connected ? 'ok' : 'down',
        live: changes ? 'ok' : 'down',
        ingest,
      });
    },
  );

  /** The lockers with their open alarms counted. */
  const summaries = async (filter: LockerFilter = {}): Promise<FleetLockerSummary[]> => {
    const rows = await o.store.lockers(filter);
    const alarms = new Map<string, number>();
    if (rows.length) {
      for (const a of await o.store.openAlarms(filter.ids ?? (filter.district || filter.ward ? rows.map((r) => r.lockerId) : null))) {
        alarms.set(a.lockerId, (alarms.get(a.lockerId) ?? 0) + 1);
      }
    }
    return rows.map((r) => summary(r, alarms.get(r.lockerId) ?? 0));
  };

  const place = {
    type: 'object',
    additionalProperties: false,
    properties: { district: PLACE, ward: PLACE },
  } as const;

  app.get<{ Querystring: { district?: string; ward?: string } }>(
    '/api/fleet/lockers',
    { schema: { summary: 'Every locker heard from or registered, with its state (FleetLockerSummary)', querystring: place } },
    async (request) => ({
      lockers: await summaries(request.query),
    }),
  );

  app.get<{ Querystring: { district?: string; ward?: string } }>(
    '/api/fleet/totals',
    { schema: { summary: 'Totals, and per district (FleetTotals)', querystring: place } },
    async (request) => fleetTotals(await summaries(request.query), PUBLISHED_TRAY_STATES),
  );

  const params = {
    type: 'object',
    required: ['lockerId'],
    properties: { lockerId: { type: 'string', pattern: LOCKER_ID_PATTERN } },
  } as const;
  const notFound = (reply: FastifyReply, lockerId: string) =>
    sendError(reply, 404, 'LOCKER_NOT_FOUND', `no locker "${lockerId}" has published to the fleet or been registered`);

  app.get<{ Params: { lockerId: string } }>(
    '/api/fleet/lockers/:lockerId',
    { schema: { summary: 'One locker: trays, open alarms (FleetLockerDetail)', params } },
    async (request, reply) => {
      const { lockerId } = request.params;
      const locker = await o.store.locker(lockerId);
      if (!locker) return notFound(reply, lockerId);
      const alarms = await o.store.openAlarms([lockerId]);
      return {
        ...summary(locker, alarms.length),
        occupancy: locker.occupancy,
        roundNext: locker.roundNext,
        alarmList: alarms,
        // `occupancy` carries no cabinet or size; `trays/<n>` does, and follows at once.
        trays: locker.trays.map((t) => ({ ...t, cabinet: t.cabinet ?? '?', size: t.size ?? '?' })),
      };
    },
  );

  app.put<{ Params: { lockerId: string }; Body: FleetSite }>(
    '/api/fleet/lockers/:lockerId/site',
    { schema: { summary: 'Registers or moves a locker: 201 new, 200 moved', params, body: FleetSiteBody } },
    async (request, reply) => {
      const created = await o.store.setSite(request.params.lockerId, request.body);
      const [row] = await o.store.lockers({ ids: [request.params.lockerId] });
      return reply.code(created ? 201 : 200).send({ lockerId: row.lockerId, site: row.site });
    },
  );

  app.get<{ Params: { lockerId: string }; Querystring: { limit: number } }>(
    '/api/fleet/lockers/:lockerId/events',
    {
      schema: {
        summary: "A locker's latest events",
        params,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        },
      },
    },
    async (request, reply) => {
      if (!(await o.store.locker(request.params.lockerId))) return notFound(reply, request.params.lockerId);
      return { events: await o.store.events(request.params.lockerId, request.query.limit) };
    },
  );

  type FigureQuery = { from?: string; to?: string; district?: string; ward?: string; lockerId?: string; rows?: 'day' | 'locker' };
  const figureQuery = {
    type: 'object',
    additionalProperties: false,
    properties: {
      from: { type: 'string', pattern: DAY },
      to: { type: 'string', pattern: DAY },
      district: PLACE,
      ward: PLACE,
      lockerId: { type: 'string', pattern: LOCKER_ID_PATTERN },
      rows: { type: 'string', enum: ['day', 'locker'] },
    },
  } as const;

  /** The figures for a query, or an error already sent. */
  const figures = async (q: FigureQuery, reply: FastifyReply): Promise<{ f: FleetFigures; rows: FigureRow[] } | null> => {
    const today = dayNumber(localDay(new Date(), timezone))!;
    const to = q.to === undefined ? today : dayNumber(q.to);
    const from = q.from === undefined && to !== null ? to - 29 : q.from === undefined ? null : dayNumber(q.from);
    if (from === null || to === null) {
      sendError(reply, 400, 'VALIDATION_FAILED', 'from and to are calendar days, YYYY-MM-DD');
      return null;
    }
    if (from > to || to - from + 1 > MAX_FIGURE_DAYS) {
      sendError(reply, 400, 'VALIDATION_FAILED', `from must not be after to, and the period at most ${MAX_FIGURE_DAYS} days`);
      return null;
    }
    // No locker published before 2000 (and PostgreSQL has no year 0).
    if (from < FIRST_DAY) {
      sendError(reply, 400, 'VALIDATION_FAILED', `the period starts on ${dayOf(FIRST_DAY)} at the earliest`);
      return null;
    }
    const lockers = await o.store.lockers({ district: q.district, ward: q.ward, ids: q.lockerId ? [q.lockerId] : undefined });
    if (q.lockerId && !lockers.length) {
      const where = q.district || q.ward ? ' in that district / ward' : '';
      sendError(reply, 404, 'LOCKER_NOT_FOUND', `no locker "${q.lockerId}"${where} has published to the fleet or been registered`);
      return null;
    }
    const rows = await o.store.figureRows({ from: dayOf(from), to: dayOf(to), timezone, lockerIds: lockers.map((l) => l.lockerId) });
    const by = (key: (r: FigureRow) => string) => {
      const m = new Map<string, Map<FigureRow['metric'], number>>();
      for (const r of rows) {
        const k = key(r);
        const inner = m.get(k) ?? new Map();
        inner.set(r.metric, (inner.get(r.metric) ?? 0) + r.n);
        m.set(k, inner);
      }
      return (k: string) => counts((metric) => m.get(k)?.get(metric) ?? 0);
    };
    const perDay = by((r) => r.day);
    const perLocker = by((r) => r.lockerId);
    const all = by(() => '');
    const days: FleetFigures['days'] = [];
    for (let d = from; d <= to; d += 1) days.push({ day: dayOf(d), ...perDay(dayOf(d)) });
    const f: FleetFigures = {
      from: dayOf(from),
      to: dayOf(to),
      timezone,
      total: all(''),
      days,
      lockers: lockers.map((l) => ({ lockerId: l.lockerId, site: l.site, ...perLocker(l.lockerId) })),
    };
    return { f, rows };
  };

  app.get<{ Querystring: FigureQuery }>(
    '/api/fleet/figures',
    { schema: { summary: 'The report figures: total, per day, per locker (FleetFigures)', querystring: figureQuery } },
    async (request, reply) => {
      const answer = await figures(request.query, reply);
      return answer ? answer.f : reply;
    },
  );

  app.get<{ Querystring: FigureQuery }>(
    '/api/fleet/figures.csv',
    { schema: { summary: 'The figures as CSV (UTF-8 with BOM)', querystring: figureQuery } },
    async (request, reply) => {
      const answer = await figures(request.query, reply);
      if (!answer) return reply;
      const { f, rows } = answer;
      const site = (s: FleetSite | null) => [s?.name ?? null, s?.district ?? null, s?.ward ?? null];
      const lines: (string | number | null)[][] = [];
      if (request.query.rows === 'locker') {
        lines.push(['from', 'to', 'locker_id', 'name', 'district', 'ward', ...COUNT_COLUMNS]);
        for (const l of f.lockers) lines.push([f.from, f.to, l.lockerId, ...site(l.site), ...countCells(l)]);
      } else {
        // One row per locker and day: what the district's monthly report adds up.
        lines.push(['day', 'locker_id', 'name', 'district', 'ward', ...COUNT_COLUMNS]);
        const key = (lockerId: string, day: string) => `${lockerId}\u0000${day}`;
        const m = new Map<string, Map<FigureRow['metric'], number>>();
        for (const r of rows) {
          const inner = m.get(key(r.lockerId, r.day)) ?? new Map();
          inner.set(r.metric, r.n);
          m.set(key(r.lockerId, r.day), inner);
        }
        for (const day of f.days) {
          for (const l of f.lockers) {
            lines.push([
              day.day,
              l.lockerId,
              ...site(l.site),
              ...countCells(counts((metric) => m.get(key(l.lockerId, day.day))?.get(metric) ?? 0)),
            ]);
          }
        }
      }
      const name = `atm247-figures-${f.from}-${f.to}${request.query.district ? '-district' : ''}.csv`;
      // A byte-order mark, so that a spreadsheet reads the Vietnamese names as UTF-8.
      const body = `\ufeff${lines.map((line) => line.map(cell).join(',')).join('\r\n')}\r\n`;
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(body);
    },
  );

  // The live stream: every locker first, then the lockers that changed, as they change.
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
    streams.clear();
  });
  type Listener = (batch: { seq: number; lockers: FleetLockerSummary[] | null }) => void;
  const listeners = new Set<Listener>();
  // One read of the changed lockers at a time, the ids that come meanwhile gathered for the next:
  // the batches go out in the order they were read, so an older state never follows a newer one.
  let reads = 0;
  let pending: Set<string> | 'all' | null = null;
  let draining = false;
  const broadcast = (seq: number, lockers: FleetLockerSummary[] | null) => {
    for (const listener of listeners) listener({ seq, lockers });
  };
  const drain = async () => {
    draining = true;
    try {
      while (pending !== null && listeners.size) {
        const take: Set<string> | 'all' = pending;
        pending = null;
        const seq = ++reads;
        if (take === 'all') {
          broadcast(seq, null);
          continue;
        }
        try {
          broadcast(seq, await summaries({ ids: [...take] }));
        } catch (err) {
          o.logger.warn({ err }, 'fleet stream: the changed lockers could not be read; sending everything again');
          broadcast(seq, null);
        }
      }
    } finally {
      draining = false;
      pending = listeners.size ? pending : null;
    }
  };
  const unsubscribeChanges = o.onChanges?.((ids) => {
    if (!listeners.size) return;
    pending = ids === null || pending === 'all' ? 'all' : new Set([...(pending ?? []), ...ids]);
    if (!draining) void drain();
  });
  app.addHook('onClose', async () => unsubscribeChanges?.());

  app.post(
    '/api/fleet/stream-tickets',
    {
      schema: {
        summary: `A ticket for the stream (\`?ticket=\`), good for ${ticketMs / 1000} s: the token never in a URL`,
        response: {
          201: {
            type: 'object',
            required: ['ticket', 'expiresAt'],
            properties: { ticket: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
          },
        },
      },
    },
    async (_request, reply) => reply.code(201).send(issueTicket()),
  );

  app.get<{ Querystring: { token?: string; ticket?: string } }>(
    '/api/fleet/stream',
    {
      schema: {
        summary: 'Server-sent events `lockers`: {full: true, lockers} first, then {full: false, lockers} as they change',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ticket: { type: 'string', pattern: TICKET.source }, token: { type: 'string', pattern: TOKEN.source } },
        },
      },
    },
    async (request, reply) => {
      if (request.method === 'HEAD') return reply.headers(STREAM_HEADERS).send();
      const res = reply.raw;
      reply.hijack();
      res.writeHead(200, STREAM_HEADERS);
      const write = (event: string, data: unknown) => {
        if (res.destroyed || res.writableEnded) return;
        // A browser that stopped reading (a laptop asleep) is let go rather than buffered for:
        // EventSource reconnects by itself and gets the full list.
        if (res.writableLength > MAX_STREAM_BUFFER) return void res.destroy();
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      // A batch whose read began before the full list's may be older than it: dropped. One that
      // began after is sent after the full list, however the two reads finish. One full list at
      // a time: asked for again meanwhile, it is read once more after.
      let fullSeq = Infinity;
      let held: FleetLockerSummary[][] | null = null;
      let again = false;
      const full = async () => {
        if (held) {
          again = true;
          return;
        }
        try {
          do {
            again = false;
            fullSeq = reads;
            held = [];
            const lockers = await summaries();
            write('lockers', { full: true, lockers });
            for (const batch of held) write('lockers', { full: false, lockers: batch });
          } while (again);
        } finally {
          held = null;
        }
      };
      const listener: Listener = ({ seq, lockers }) => {
        if (seq <= fullSeq) return;
        if (lockers === null) {
          full().catch(() => res.destroy());
          return;
        }
        if (!lockers.length) return;
        if (held) held.push(lockers);
        else write('lockers', { full: false, lockers });
      };
      listeners.add(listener);
      streams.add(res);
      const heartbeat = setInterval(() => {
        if (!res.destroyed && !res.writableEnded) res.write(`: ${Date.now()}\n\n`);
      }, o.heartbeatMs ?? 15_000);
      const close = () => {
        clearInterval(heartbeat);
        listeners.delete(listener);
        streams.delete(res);
      };
      request.raw.on('close', close);
      res.on('close', close);
      res.write('retry: 2000\n\n');
      try {
        await full();
      } catch (err) {
        request.log.error({ err }, 'fleet stream: the locker list could not be read');
        res.end();
      }
    },
  );

  // The package's dist/ui, whether this runs from src/ (tsx) or dist/src/ (the image).
  await uiRoutes(app, { simulator: false, dir: o.uiDir ?? path.join(PACKAGE_ROOT, 'dist', 'ui'), pages: [['/', 'fleet']] });

  await app.ready();
  return app;
}
