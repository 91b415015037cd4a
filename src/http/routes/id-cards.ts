/**
 * Citizen ID cards scanned at the kiosk (docs/id-card.md). The kiosk's alone, like the one-time-code
 * routes (403 KIOSK_ONLY elsewhere):
 * - `POST /api/id-cards/scans`: the text a keyboard-wedge scanner typed into the kiosk page;
 * - `GET /api/id-cards/scans/stream`: server-sent events, one `scan` per card the daemon's own
 *   scanner (serial or simulated) reads.
 * Beside the simulated cabinet, `POST /api/sim/id-card` presents a card to the simulated scanner.
 * No request or answer here is logged with the card's text or number.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { ErrorAnswer } from '../../domain/api.js';
import { CardScan, CardScanRequest, SimCardPresented, SimCardRequest } from '../../domain/api-id-cards.js';
import { SAMPLE_CARD_QR } from '../../domain/citizen-id.js';
import type { IdCardScans } from '../../services/id-cards.js';
import type { SimulatedCardScanner } from '../../services/ports.js';
import { EVENT_STREAM_HEADERS, openEventStream } from '../event-stream.js';
import type { RouteGuards } from '../guards.js';

export interface IdCardRouteOptions {
  scans: IdCardScans;
  guards?: RouteGuards;
  /** The simulated scanner (beside the simulated cabinet): `POST /api/sim/id-card` is offered with it. */
  simulated?: SimulatedCardScanner;
  /** A comment line keeps proxies and the browser from closing an idle stream. */
  heartbeatMs?: number;
}

export async function idCardRoutes(fastify: FastifyInstance, opts: IdCardRouteOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { scans, simulated } = opts;
  const kioskOnly = opts.guards ? [opts.guards.kioskOnly] : [];
  const errors = { 400: ErrorAnswer, 403: ErrorAnswer };
  const streams = new Set<ServerResponse>();

  // Open streams would hold the server's close forever: end them first.
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
    streams.clear();
  });

  app.post(
    '/api/id-cards/scans',
    {
      onRequest: kioskOnly,
      schema: {
        summary: 'A citizen ID card read by the kiosk page (keyboard-wedge scanner): its number and name kept 5 minutes, in memory',
        body: CardScanRequest,
        response: { 201: CardScan, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(scans.register(request.body.text, 'keyboard')),
  );

  fastify.get(
    '/api/id-cards/scans/stream',
    {
      onRequest: kioskOnly,
      schema: {
        summary: "Each card the controller's own scanner (serial or simulated) reads, as server-sent events",
        response: {
          200: {
            description: 'Server-sent events: `scan` with a CardScan ({scanId, fullName, idNumberMasked}) for each card read.',
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
      stream.onClose(
        scans.onScan((scan, source) => {
          // A keyboard-wedge scan is the page's own: it has the answer already.
          if (source !== 'keyboard') stream.send('scan', scan);
        }),
      );
    },
  );

  if (!simulated) return;

  app.post(
    '/api/sim/id-card',
    {
      schema: {
        summary: 'Presents a citizen ID card to the simulated scanner (default: the sample card); the kiosk hears of it on its stream',
        body: SimCardRequest,
        response: { 202: SimCardPresented, ...errors },
      },
    },
    async (request, reply) => {
      simulated.present(request.body?.text ?? SAMPLE_CARD_QR);
      return reply.status(202).send({ presented: true as const });
    },
  );
}
