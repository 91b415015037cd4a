/**
 * Simulator routes, registered only when the hardware driver is the simulated cabinet: move doors,
 * inject board faults, read the pulse log, shift the clock. The demo and black-box tests use them.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';
import { errorSchema } from '../errors.js';
import { freeText, trayNumberParams } from '../schemas.js';
import type { SimulatorControls } from '../../services/ports.js';

export type { SimulatorControls, SimTray } from '../../services/ports.js';

export async function simulatorRoutes(app: FastifyInstance, opts: { simulator: SimulatorControls }) {
  const sim = opts.simulator;
  const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema };

  app.get('/api/sim/cabinet', async () => ({
    trays: sim.trays(),
    boards: sim.boards(),
    clockOffsetMs: sim.clockOffsetMs(),
  }));

  app.get('/api/sim/pulses', async () => sim.pulses());

  app.get<{ Querystring: { to?: string } }>(
    '/api/sim/sms',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { to: freeText(32, 0) },
        },
        response: errors,
      },
    },
    async (request) => {
      if (!sim.smsInbox) throw new AppError('NOT_FOUND', 'the SMS gateway is not the console: no inbox to show');
      const digits = request.query.to?.replace(/\D/g, '').replace(/^0/, '84');
      return sim.smsInbox().filter((m) => !digits || m.to.replace(/\D/g, '') === digits);
    },
  );

  app.post<{ Params: { n: string }; Body: { open: boolean; force?: boolean } }>(
    '/api/sim/trays/:n/door',
    {
      schema: {
        params: trayNumberParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['open'],
          properties: { open: { type: 'boolean' }, force: { type: 'boolean' } },
        },
        response: errors,
      },
    },
    async (request) => {
      const tray = Number(request.params.n);
      if (!sim.trays().some((t) => t.tray === tray)) throw new AppError('TRAY_NOT_FOUND', `tray ${tray} does not exist`);
      const result = sim.setDoor(tray, request.body.open, request.body.force ?? false);
      if (!result.ok) {
        throw new AppError('DOOR_LATCHED', `the door of tray ${tray} is latched: release its lock first (or force it)`, {
          tray,
          reason: result.reason ?? 'latched',
        });
      }
      return { tray, door: request.body.open ? 'open' : 'closed' };
    },
  );

  app.post<{ Params: { id: string }; Body: { fault: string; delayMs?: number } }>(
    '/api/sim/boards/:id/fault',
    {
      schema: {
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['fault'],
          properties: { fault: { enum: [...sim.faultKinds] }, delayMs: { type: 'integer', minimum: 0, maximum: 60_000 } },
        },
        response: errors,
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!sim.setFault(id, request.body.fault, request.body.delayMs)) {
        throw new AppError('NOT_FOUND', `board ${id} is not in the simulated cabinet`);
      }
      return { board: id, fault: request.body.fault };
    },
  );

  app.post<{ Body: { role: 'admin' | 'staff' } }>(
    '/api/sim/demo-token',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['role'],
          properties: { role: { enum: ['admin', 'staff'] } },
        },
        response: errors,
      },
    },
    async (request) => {
      if (!sim.demoToken) throw new AppError('NOT_FOUND', 'demo accounts are not offered here');
      return { role: request.body.role, token: await sim.demoToken(request.body.role) };
    },
  );

  app.post<{ Body: { offsetMs: number } }>(
    '/api/sim/clock',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['offsetMs'],
          // up to a year either way: enough for pickup windows and holiday calendars
          properties: { offsetMs: { type: 'integer', minimum: -31_622_400_000, maximum: 31_622_400_000 } },
        },
        response: errors,
      },
    },
    async (request) => {
      const now = sim.setClockOffsetMs(request.body.offsetMs);
      return { offsetMs: request.body.offsetMs, now: now.toISOString() };
    },
  );
}
