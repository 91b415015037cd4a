/**
 * The HTTP contract as an OpenAPI 3.1 document, generated from the route schemas themselves
 * (@fastify/swagger): served at `/openapi.json`, and browsable at `/docs` (Swagger UI, its assets
 * served by the daemon itself, nothing fetched from the Internet). Register before the routes.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

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
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: false } });
  app.get(
    '/openapi.json',
    { schema: { summary: 'This document (OpenAPI 3.1)', response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => app.swagger(),
  );
}
