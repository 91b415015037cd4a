/**
 * The HTTP contract as an OpenAPI 3.1 document, generated from the route schemas themselves
 * (@fastify/swagger): served at `/openapi.json`, and browsable at `/docs` (Swagger UI, its assets
 * served by the daemon itself, nothing fetched from the Internet). Register before the routes.
 *
 * Swagger UI and the static-file server under it are loaded on the first visit to `/docs`, in a
 * Fastify instance of their own that `/docs` forwards to, not at every start of the daemon
 * (ADR 0020): the document it shows is this instance's, taken at that first visit.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

const UI_PREFIX = '/docs';
/** Request headers that matter to a static file's answer. */
const FORWARDED_REQUEST = ['accept', 'accept-encoding', 'if-none-match', 'if-modified-since', 'range'];
/** Answer headers the outer reply sets itself. */
const OWN_HEADERS = new Set(['content-length', 'connection', 'date', 'keep-alive', 'transfer-encoding']);

export async function documentApi(app: FastifyInstance, opts: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ATM 24/7 locker controller: HTTP API',
        version: opts.version,
        description:
          'The kiosk (deposit, pickup, lookup), the staff screens (rounds, results, checks) and the admin dashboard. ' +
          'Every error is `{error: {code, message, details?}}` with a stable code (docs/api.md). Guarded routes take ' +
          '`Authorization: Bearer <token>`; their role is in `x-role`, and they answer 401/403 before anything else.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a staff or admin token, or a staff session' } },
      },
    },
  });
  app.get(
    '/openapi.json',
    { schema: { summary: 'This document (OpenAPI 3.1)', response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => app.swagger(),
  );

  let ui: Promise<FastifyInstance> | undefined;
  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    ui ??= swaggerUi(app.swagger() as Record<string, unknown>).catch((err: unknown) => {
      ui = undefined; // the next visit tries again
      throw err;
    });
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const answer = await (await ui).inject({ method: 'GET', url: request.url, headers });
    reply.code(answer.statusCode);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !OWN_HEADERS.has(name)) reply.header(name, value);
    }
    return reply.send(answer.rawPayload);
  };
  app.get(UI_PREFIX, { schema: { hide: true } }, forward);
  app.get(`${UI_PREFIX}/*`, { schema: { hide: true } }, forward);
}

/** Swagger UI over `document`, in an instance of its own. */
async function swaggerUi(document: Record<string, unknown>): Promise<FastifyInstance> {
  const { default: swaggerUiPlugin } = await import('@fastify/swagger-ui');
  const instance = Fastify({ logger: false });
  await instance.register(swagger, { mode: 'static', specification: { document: document as never } });
  await instance.register(swaggerUiPlugin, { routePrefix: UI_PREFIX, uiConfig: { docExpansion: 'list', deepLinking: false } });
  await instance.ready();
  return instance;
}
