/** What bench/fleet-load.ts and its generator process (bench/fleet/lockers.ts) say to each other over IPC. */

export const FLOWS = ['connect', 'deposit', 'result', 'pickup', 'door', 'round'] as const;
export type Flow = (typeof FLOWS)[number];

export interface TrafficPlan {
  seconds: number;
  /** Deposits, result loads and pickups started per second over all lockers. */
  rate: number;
  /** Door events (a door opened and closed outside a flow; one in four unexpected) per second. */
  doorRate: number;
  /** A locker drops (its socket destroyed: the broker sends its will) this often. */
  dropEveryMs: number;
  /** How long a dropped locker stays away, [min, max]. */
  downMs: [number, number];
  /** Pause between the steps of a deposit, result or pickup (door open, door closed, ...). */
  stepMs: number;
  /** Pause between the steps of a round (each tray's door, confirmation, ...). */
  roundStepMs: number;
  /** The rounds, as offsets into the window (ms), and how long before each the manifest is drawn. */
  roundsAtMs: number[];
  dueLeadMs: number;
}

export type Command =
  | { cmd: 'connect'; url: string; base: string; lockers: number; rampMs: number }
  | { cmd: 'traffic'; plan: TrafficPlan }
  | { cmd: 'log' }
  | { cmd: 'stop' };

export interface Counters {
  /** Messages handed to the clients / acknowledged by the broker, by kind. */
  sent: { state: number; availability: number; event: number };
  acked: { state: number; availability: number; event: number };
  errors: number;
  drops: number;
  returns: number;
}

export interface PublishLog {
  lockerIds: string[];
  /** Every `occupancy` published with a fresh `at`: locker index, at (ms), flow index. */
  states: { locker: number[]; at: number[]; flow: number[] };
  /** Every event: its id, locker index, at (ms), flow index, and whether the broker acknowledged it. */
  events: { id: string[]; locker: number[]; at: number[]; flow: number[]; acked: boolean[] };
  /** Each locker's first `online` (ms). */
  online: number[];
  /** Socket destroyed (ms), and the `online` of its return (ms, 0: not returned). */
  drops: { locker: number[]; at: number[]; back: number[] };
  counters: Counters;
}

export type Report =
  | { ev: 'connected'; firstMs: number; lastAckMs: number; counters: Counters }
  | { ev: 'progress'; counters: Counters }
  | { ev: 'trafficDone'; lastPublishMs: number; counters: Counters; ops: Record<Flow, number> }
  | { ev: 'log'; log: PublishLog }
  | { ev: 'error'; message: string };
