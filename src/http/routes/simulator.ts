/**
 * Simulator routes, registered only when the hardware driver is the simulated cabinet: move doors,
 * inject board faults, read the pulse log, shift the clock. The demo and black-box tests use them.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { ErrorAnswer } from '../../domain/api.js';
import { SimCabinet, SimClockShifted, SimDemoToken, SimDoorMoved, SimFaultSet, SimPulses, SimSmsInbox } from '../../domain/api-sim.js';
import { AppError } from '../../domain/errors.js';
import { freeText, trayNumberParams } from '../schemas.js';
import type { SimulatorControls } from '../../services/ports.js';

export type { SimulatorControls, SimTray } from '../../services/ports.js';

const Closed = { additionalProperties: false } as const;

export async function simulatorRoutes(fastify: FastifyInstance, opts: { simulator: SimulatorControls }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const sim = opts.simulator;
  const errors = { 400: ErrorAnswer, 404: ErrorAnswer, 409: ErrorAnswer };

  app.get(
    '/api/sim/cabinet',
    { schema: { summary: 'The simulated cabinet: doors, boards, clock shift', response: { 200: SimCabinet } } },
    async () => ({
      trays: sim.trays(),
      boards: sim.boards(),
      clockOffsetMs: sim.clockOffsetMs(),
    }),
  );

  app.get(
    '/api/sim/pulses',
    { schema: { summary: 'The lock pulses the simulated boards received', response: { 200: SimPulses } } },
    async () => sim.pulses().map((p) => ({ ...p, at: p.at.toISOString() })),
  );

  app.get(
    '/api/sim/sms',
    {
      schema: {
        summary: 'The texts the console SMS gateway "sent", oldest first (optionally to one number)',
        querystring: Type.Object({ to: Type.Optional(Type.Unsafe<string>(freeText(32, 0))) }, Closed),
        response: { 200: SimSmsInbox, ...errors },
      },
    },
    async (request) => {
      if (!sim.smsInbox) throw new AppError('NOT_FOUND', 'the SMS gateway is not the console: no inbox to show');
      const digits = request.query.to?.replace(/\D/g, '').replace(/^0/, '84');
      return sim
        .smsInbox()
        .filter((m) => !digits || m.to.replace(/\D/g, '') === digits)
        .map((m) => ({ ...m, at: m.at.toISOString() }));
    },
  );

  app.post(
    '/api/sim/trays/:n/door',
    {
      schema: {
        summary: 'Opens or closes a door (a latched door only when forced)',
        params: Type.Unsafe<{ n: string }>(trayNumberParams),
        body: Type.Object({ open: Type.Boolean(), force: Type.Optional(Type.Boolean()) }, Closed),
        response: { 200: SimDoorMoved, ...errors },
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
      return { tray, door: request.body.open ? ('open' as const) : ('closed' as const) };
    },
  );

  app.post(
    '/api/sim/boards/:id/fault',
    {
      schema: {
        summary: 'Makes a lock board fail (none: answers normally again)',
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }) }),
        body: Type.Object(
          {
            fault: Type.Unsafe<string>({ enum: [...sim.faultKinds] }),
            delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
          },
          Closed,
        ),
        response: { 200: SimFaultSet, ...errors },
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

  app.post(
    '/api/sim/demo-token',
    {
      schema: {
        summary: 'Creates a demo account and answers its bearer token',
        body: Type.Object({ role: Type.Enum(['admin', 'staff']) }, Closed),
        response: { 200: SimDemoToken, ...errors },
      },
    },
    async (request) => {
      if (!sim.demoToken) throw new AppError('NOT_FOUND', 'demo accounts are not offered here');
      return { role: request.body.role, token: await sim.demoToken(request.body.role) };
    },
  );

  app.post(
    '/api/sim/clock',
    {
      schema: {
        summary: "Shifts the controller's clock",
        // up to a year either way: enough for pickup windows and holiday calendars
        body: Type.Object({ offsetMs: Type.Integer({ minimum: -31_622_400_000, maximum: 31_622_400_000 }) }, Closed),
        response: { 200: SimClockShifted, ...errors },
      },
    },
    async (request) => {
      const now = sim.setClockOffsetMs(request.body.offsetMs);
      return { offsetMs: request.body.offsetMs, now: now.toISOString() };
    },
  );
}
