/**
 * Personal data that expires (docs/retention.md): `GET /api/admin/retention` (the settings, the
 * next purge and the last one, with its counts; staff and admins, as the dashboard that shows it)
 * and `POST /api/admin/retention/run` (an admin purges now).
 */
import type { FastifyInstance } from 'fastify';
import type { RetentionService } from '../../services/retention.js';
import { actorOf, type AuthHooks } from '../auth.js';
import { PurgeRunView, RetentionStatusView } from '../../domain/api.js';
import { errorSchema } from '../errors.js';

export async function retentionRoutes(app: FastifyInstance, opts: { retention: RetentionService; auth: AuthHooks }) {
  const staff = opts.auth.staff;
  const admin = opts.auth.admin;
  const errors = { 401: errorSchema, 403: errorSchema };
  app.get('/api/admin/retention', { onRequest: staff, schema: { response: { 200: RetentionStatusView, ...errors } } }, async () =>
    opts.retention.status(),
  );
  app.post('/api/admin/retention/run', { onRequest: admin, schema: { response: { 200: PurgeRunView, ...errors } } }, async (request) =>
    opts.retention.run(actorOf(request)),
  );
}
