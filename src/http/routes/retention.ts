/**
 * Personal data that expires (docs/retention.md): `GET /api/admin/retention` (the settings, the
 * next purge and the last one, with its counts; staff and admins, as the dashboard that shows it)
 * and `POST /api/admin/retention/run` (an admin purges now).
 */
import type { FastifyInstance } from 'fastify';
import type { RetentionService } from '../../services/retention.js';
import { actorOf, requireRole, type FindAccount } from '../auth.js';
import { errorSchema } from '../errors.js';

export async function retentionRoutes(app: FastifyInstance, opts: { retention: RetentionService; findAccount: FindAccount }) {
  const staff = requireRole('staff', opts.findAccount);
  const admin = requireRole('admin', opts.findAccount);
  const errors = { 401: errorSchema, 403: errorSchema };
  app.get('/api/admin/retention', { preHandler: staff, schema: { response: errors } }, async () => opts.retention.status());
  app.post('/api/admin/retention/run', { preHandler: admin, schema: { response: errors } }, async (request) =>
    opts.retention.run(actorOf(request)),
  );
}
