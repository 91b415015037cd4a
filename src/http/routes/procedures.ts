/** `GET /api/procedures`: the catalogue for the kiosk, optionally only deposits or only results. */
import type { FastifyInstance } from 'fastify';
import { sortForKiosk, type Procedure } from '../../domain/procedures.js';
import { errorSchema } from '../errors.js';

const bilingual = { type: 'object', properties: { vi: { type: 'string' }, en: { type: 'string' } } } as const;
const procedureSchema = {
  type: 'object',
  required: ['code', 'name', 'deposit', 'result', 'fee'],
  properties: {
    code: { type: 'string' },
    field: { type: 'string' },
    name: bilingual,
    short: bilingual,
    deposit: { type: 'boolean' },
    result: { type: 'boolean' },
    fee: { type: 'integer' },
    feeNote: { type: 'string' },
    traySize: { type: 'string' },
  },
} as const;

export async function procedureRoutes(app: FastifyInstance, opts: { procedures: Procedure[] }) {
  const sorted = sortForKiosk(opts.procedures);
  app.get<{ Querystring: { deposit?: 'true' | 'false'; result?: 'true' | 'false' } }>('/api/procedures', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { deposit: { enum: ['true', 'false'] }, result: { enum: ['true', 'false'] } },
      },
      response: { 200: { type: 'array', items: procedureSchema }, 400: errorSchema },
    },
  }, async (request) => {
    const { deposit, result } = request.query;
    return sorted.filter(
      (p) => (deposit === undefined || String(p.deposit) === deposit) && (result === undefined || String(p.result) === result),
    );
  });
}
