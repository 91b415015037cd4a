/**
 * Admin views beyond the trays: the SMS log (failures visible, no numbers, no codes), and the
 * verification of the audit log's hash chain (docs/adr/0013-audit-hash-chain.md).
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { AuditVerdictView, SmsLogRow } from '../../domain/api.js';
import { errorSchema } from '../errors.js';
import type { AuditTrail } from '../../services/audit-trail.js';
import type { SmsService } from '../../services/sms.js';
import { type AuthHooks } from '../auth.js';

export async function adminRoutes(app: FastifyInstance, opts: { sms: SmsService; auth: AuthHooks; audit?: AuditTrail }) {
  const admin = opts.auth.admin;
  app.get<{ Querystring: { limit?: string } }>(
    '/api/admin/sms',
    {
      onRequest: admin,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'string', pattern: '^[0-9]{1,3}$' } },
        },
        response: { 200: Type.Array(SmsLogRow), 400: errorSchema },
      },
    },
    async (request) => opts.sms.recent(Math.min(Number(request.query.limit ?? 50) || 50, 500)),
  );

  const audit = opts.audit;
  if (!audit) return;
  // `head`: "<seq>:<hash>" of a head read elsewhere (the broker's retained `audit/head`).
  app.get<{ Querystring: { head?: string } }>(
    '/api/admin/audit/verify',
    {
      onRequest: admin,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { head: { type: 'string', pattern: '^[0-9]{1,15}:[0-9a-f]{64}$' } },
        },
        response: { 200: AuditVerdictView, 400: errorSchema },
      },
    },
    async (request) => {
      const given = request.query.head?.split(':');
      return audit.verify(given ? { seq: Number(given[0]), hash: given[1] } : undefined);
    },
  );
}
