/**
 * The fleet service's HTTP contract (docs/fleet.md): the district's view of every locker. The
 * fleet's routes validate with these schemas and the fleet dashboard imports the types (`import
 * type`: nothing of this reaches the browser).
 */
import Type, { type Static } from 'typebox';
import { Obj } from './events.js';
import type { PublishedTrayState } from './events.js';

/** A locker id as the topics carry it (`locker.id`). */
export const LOCKER_ID_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';

const Place = (description: string) => Type.String({ minLength: 1, maxLength: 120, pattern: '\\S', description });

/** Where a locker stands: `PUT /api/fleet/lockers/:lockerId/site`. */
export const FleetSiteBody = Obj(
  {
    name: Place('what the district calls it, e.g. "UBND Phường 1"'),
    district: Place('the district (quận / huyện), as the dashboard filters by it'),
    ward: Place('the ward (phường / xã)'),
    address: Type.Optional(Type.Union([Type.String({ maxLength: 300 }), Type.Null()])),
  },
  'Where a locker stands.',
);
export type FleetSite = Static<typeof FleetSiteBody>;

/** An alarm not cleared since: a door opened or held open until it closes, a board fault until it answers again. */
export interface FleetAlarm {
  id: string;
  lockerId: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export interface FleetNextRound {
  scheduledAt: string;
  status: string;
  collect: number;
  takeBack: number;
  check: number;
}

/** One locker as the list and the live stream show it. */
export interface FleetLockerSummary {
  lockerId: string;
  site: FleetSite | null;
  /** From its retained `availability` (its last will says offline); null before the first. */
  online: boolean | null;
  counts: Record<PublishedTrayState, number> | null;
  trays: number | null;
  /** When the locker read the state it published last. */
  stateAt: string | null;
  nextRound: FleetNextRound | null;
  lastEvent: { type: string; at: string | null } | null;
  /** Alarms not cleared since. */
  alarms: number;
  /** When the fleet last stored something of it (null: registered, never heard from). */
  updatedAt: string | null;
}

export interface FleetTrayView {
  number: number;
  cabinet: string;
  size: string;
  state: PublishedTrayState;
  door: string;
  at: string;
}

/** One locker: `GET /api/fleet/lockers/:lockerId`. */
export interface FleetLockerDetail extends Omit<FleetLockerSummary, 'trays'> {
  trays: FleetTrayView[];
  alarmList: FleetAlarm[];
  occupancy: unknown;
  roundNext: unknown;
}

export interface FleetTotals {
  lockers: number;
  online: number;
  offline: number;
  /** Registered or heard from, never online. */
  unknown: number;
  alarms: number;
  trays: Record<PublishedTrayState, number>;
  byDistrict: { district: string | null; lockers: number; online: number; alarms: number; trays: Record<PublishedTrayState, number> }[];
}

/** The figures of the district's report (docs/fleet.md, "Figures"). */
export interface FleetFigureCounts {
  /** Deposits completed. */
  received: number;
  /** Results loaded into the locker. */
  returned: number;
  /** Results picked up. */
  pickedUp: number;
  /** Results whose pickup deadline fell in the period (and has passed). */
  due: number;
  /** Of those, picked up by the deadline. */
  onTime: number;
  /** Of those, not picked up by the deadline. */
  unclaimed: number;
  /** onTime / due; null when none was due. */
  onTimeShare: number | null;
}

export interface FleetFigures {
  from: string;
  to: string;
  timezone: string;
  total: FleetFigureCounts;
  days: ({ day: string } & FleetFigureCounts)[];
  lockers: ({ lockerId: string; site: FleetSite | null } & FleetFigureCounts)[];
}
