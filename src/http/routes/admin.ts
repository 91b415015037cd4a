/** Admin views beyond the trays: the SMS log (failures visible, no numbers, no codes). */
import type { FastifyInstance } from 'fastify';
import type { SmsService } from '../../services/sms.js';
import { requireRole, type FindAccount } from '../auth.js';

export async function adminRoutes(app: FastifyInstance, opts: { sms: SmsService; findAccount: FindAccount }) {
  const admin = requireRole('admin', opts.findAccount);
  app.get<{ Querystring: { limit?: string } }>(
    '/api/admin/sms',
    {
      preHandler: admin,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'string', pattern: '^[0-9]{1,3}$' } },
        },
      },
    },
    async (request) => opts.sms.recent(Math.min(Number(request.query.limit ?? 50) || 50, 500)),
  );
}
