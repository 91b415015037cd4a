/**
 * `GET /metrics`: the controller's figures in the Prometheus text format (docs/metrics.md), and the
 * hook that times every HTTP request for them.
 *
 * Who may read them: a client on the machine itself (a loopback address: Prometheus or an exporter
 * beside the daemon) without a token, anyone else with an admin token. An anonymous remote caller
 * gets 401, a staff token 403. The client address is the socket's peer, as for every other check
 * of the API (guards.ts): no proxy header is trusted.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, onRequestHookHandler } from 'fastify';
import { addressMatcher } from '../domain/client-addresses.js';
import { requireRole, type FindAccount } from './auth.js';
import { errorSchema } from './errors.js';

/** What HTTP needs of the metrics: the exposition, and where to count each request answered. */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
  /** `route`: the pattern the request matched, undefined when it matched none. */
  request(method: string, route: string | undefined, status: number, seconds: number): void;
}

export interface MetricsRouteOptions {
  metrics: MetricsExposition;
  findAccount: FindAccount;
}

/** The loopback addresses: IPv4's whole 127/8, IPv6's ::1 (an IPv4-mapped address counts as IPv4). */
export const isLoopback = addressMatcher(['127.0.0.0/8', '::1']);

/**
 * Times every request the app answers, labelled by its route pattern. Call it on the root
 * instance (like the error handling) so that it sees every route and the not-found handler.
 */
export function observeRequests(app: FastifyInstance, metrics: Pick<MetricsExposition, 'request'>): void {
  app.addHook('onResponse', async (request: FastifyRequest, reply) => {
    metrics.request(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });
}

export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, opts) => {
  const adminOnly = requireRole('admin', opts.findAccount);
  const localOrAdmin: onRequestHookHandler = async function (request, reply) {
    if (isLoopback(request.ip)) return;
    await adminOnly.call(this, request, reply);
  };
  app.get(
    '/metrics',
    {
      onRequest: localOrAdmin,
      schema: {
        summary: "The controller's figures for Prometheus",
        description:
          'Every series of docs/metrics.md in the Prometheus text format 0.0.4. A client on the machine itself (a loopback ' +
          'address) needs no token; any other needs an admin token (401 without one, 403 with a staff token).',
        security: [{}, { bearer: [] }],
        response: {
          200: { description: 'the Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
          401: errorSchema,
          403: errorSchema,
        },
      },
    },
    async (_request, reply) => {
      const body = await opts.metrics.render();
      return reply.header('content-type', opts.metrics.contentType).header('cache-control', 'no-store').send(body);
    },
  );
};
