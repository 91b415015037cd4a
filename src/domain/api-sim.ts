/**
 * The simulator's part of the HTTP contract (src/http/routes/simulator.ts, offered only with the
 * simulated cabinet): its answers as JSON schemas (TypeBox) with the types derived from them, for
 * the routes, the OpenAPI document and the simulator panel (`import type`).
 */
import Type, { type Static } from 'typebox';
import { Int, Nullable, Obj, OneOf, Str, Time } from './api.js';

const TrayNo = Int('tray number');
const DoorState = OneOf(['open', 'closed'] as const, "the simulated door's position");

export const SimTray = Obj({
  tray: TrayNo,
  board: Str('its lock board'),
  door: DoorState,
  latched: Type.Boolean({ description: 'the lock holds the door (false once released, until the door closes)' }),
});
export type SimTray = Static<typeof SimTray>;

export const SimBoard = Obj({
  id: Str('board id of the cabinet map'),
  unitId: Int('its Modbus unit id'),
  fault: Str('the fault injected (none: answers normally)'),
});
export type SimBoard = Static<typeof SimBoard>;

/** `GET /api/sim/cabinet` */
export const SimCabinet = Obj(
  { trays: Type.Array(SimTray), boards: Type.Array(SimBoard), clockOffsetMs: Int("the controller clock's shift, in ms") },
  'The simulated cabinet: every door, every board, the clock shift.',
);
export type SimCabinet = Static<typeof SimCabinet>;

/** One lock pulse the simulated boards received (`GET /api/sim/pulses`). */
export const SimPulse = Obj({
  tray: Nullable(Type.Integer(), 'the tray whose lock is on that channel; null for an unmapped channel'),
  board: Str(),
  channel: Int(),
  at: Time('when the pulse was received'),
});
export type SimPulse = Static<typeof SimPulse>;
export const SimPulses = Type.Array(SimPulse);

/** A text the console SMS gateway "sent" (`GET /api/sim/sms`), oldest first. */
export const SimSms = Obj({
  id: Str(),
  to: Str('E.164'),
  text: Str('the text, codes included'),
  kind: Str('otp, deposit_receipt, …'),
  at: Time('when it was "sent"'),
  segments: Type.Optional(Int('SMS segments it takes')),
  encoding: Type.Optional(OneOf(['GSM-7', 'UCS-2'] as const)),
});
export type SimSms = Static<typeof SimSms>;
export const SimSmsInbox = Type.Array(SimSms);

/** `POST /api/sim/trays/:n/door` */
export const SimDoorMoved = Obj({ tray: TrayNo, door: DoorState });
export type SimDoorMoved = Static<typeof SimDoorMoved>;

/** `POST /api/sim/boards/:id/fault` */
export const SimFaultSet = Obj({ board: Str(), fault: Str() });
export type SimFaultSet = Static<typeof SimFaultSet>;

/** `POST /api/sim/demo-token` */
export const SimDemoToken = Obj({ role: OneOf(['admin', 'staff'] as const), token: Str('the demo account bearer token') });
export type SimDemoToken = Static<typeof SimDemoToken>;

/** `POST /api/sim/clock` */
export const SimClockShifted = Obj({ offsetMs: Int(), now: Time("the controller's time now") });
export type SimClockShifted = Static<typeof SimClockShifted>;
