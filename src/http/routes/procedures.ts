/** `GET /api/procedures` (kiosk, no auth): the catalogue, optionally only deposits or only results; the online-dossier entry on request. */
import type { FastifyInstance } from 'fastify';
import { sortForKiosk, type Procedure } from '../../domain/procedures.js';
import { ProcedureView } from '../../domain/api.js';
import { errorSchema } from '../errors.js';

export interface ProcedureRouteOptions {
  procedures: Procedure[];
}

/** One procedure as the API shows it (src/domain/api.ts). */
export const procedureSchema = ProcedureView;

const flag = { type: 'string', enum: ['true', 'false'] } as const;
type Flag = 'true' | 'false';

export async function procedureRoutes(app: FastifyInstance, opts: ProcedureRouteOptions) {
  // Sorted once: by field, then by Vietnamese name.
  const sorted = sortForKiosk(opts.procedures);
  const matches = (value: boolean, wanted: Flag | undefined) => wanted === undefined || String(value) === wanted;

  // The entry for dossiers filed online (ADR 0029) is not a procedure to choose: listed only when asked for.
  app.get<{ Querystring: { deposit?: Flag; result?: Flag; online?: Flag } }>(
    '/api/procedures',
    {
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { deposit: flag, result: flag, online: flag } },
        response: { 200: { type: 'array', items: procedureSchema }, 400: errorSchema },
      },
    },
    async (request): Promise<ProcedureView[]> => {
      const { deposit, result, online = 'false' } = request.query;
      return sorted.filter((p) => matches(p.deposit, deposit) && matches(p.result, result) && matches(p.online === true, online));
    },
  );
}
